#include "max_case_bytes.hpp"

#include <fmt/format.h>

#include <array>
#include <cctype>
#include <charconv>
#include <cstdlib>

#include "normcheck/fixture/case_size.hpp"
#include "normcheck/model/excerpt.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::cli {

namespace {

// Binary units, as the limit is about memory; "GB" is read as GiB too.
struct Unit {
  std::string_view name;
  unsigned shift;
};
constexpr std::array<Unit, 14> kUnits{{{"", 0},
                                       {"b", 0},
                                       {"k", 10},
                                       {"kb", 10},
                                       {"kib", 10},
                                       {"m", 20},
                                       {"mb", 20},
                                       {"mib", 20},
                                       {"g", 30},
                                       {"gb", 30},
                                       {"gib", 30},
                                       {"t", 40},
                                       {"tb", 40},
                                       {"tib", 40}}};

}  // namespace

std::uint64_t parse_byte_size(std::string_view text, std::string_view what) {
  const auto bad = [&] {
    return model::InputError(fmt::format(
        "{} '{}': expected a positive number of bytes with an optional unit (K, M, G, T or "
        "KiB, MiB, GiB, TiB: powers of 1024), e.g. 8GiB",
        what, model::excerpt(text)));
  };
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end == text.data()) throw bad();
  std::string unit(end, text.data() + text.size());
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& u : kUnits) {
    if (u.name != unit) continue;
    if (value == 0 || value > (~std::uint64_t(0) >> u.shift)) throw bad();
    return value << u.shift;
  }
  throw bad();
}

MaxCaseBytes::MaxCaseBytes(CLI::App* cmd) {
  cmd->add_option("--max-case-bytes", *text_,
                  fmt::format("Largest case, inputs and goldens together, that is read or "
                              "generated (default: ${}, else {} GiB); e.g. 16GiB",
                              kMaxCaseBytesEnv, fixture::kDefaultMaxCaseBytes >> 30));
}

std::uint64_t MaxCaseBytes::resolve() const {
  if (!text_->empty()) return parse_byte_size(*text_, "--max-case-bytes");
  if (const char* env = std::getenv(kMaxCaseBytesEnv); env != nullptr && *env != '\0')
    return parse_byte_size(env, fmt::format("${}", kMaxCaseBytesEnv));
  return fixture::kDefaultMaxCaseBytes;
}

}  // namespace normcheck::cli
