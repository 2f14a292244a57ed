#include "normcheck/model/limits.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cstdlib>

#include "normcheck/model/problem.hpp"

namespace normcheck::model {

std::uint64_t max_case_bytes() {
  const char* text = std::getenv(kMaxCaseBytesEnv);
  if (text == nullptr || *text == '\0') return kDefaultMaxCaseBytes;
  const std::string_view s(text);
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size() || value == 0)
    throw InputError(fmt::format("{}='{}': must be a positive integer number of bytes",
                                 kMaxCaseBytesEnv, truncate_for_message(s)));
  return value;
}

std::string truncate_for_message(std::string_view text) {
  if (text.size() <= kMaxEchoedBytes) return std::string(text);
  return fmt::format("{}... ({} more bytes)", text.substr(0, kMaxEchoedBytes),
                     text.size() - kMaxEchoedBytes);
}

std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return std::nullopt;
  return r;
}

}  // namespace normcheck::model
