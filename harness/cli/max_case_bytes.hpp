// --max-case-bytes, shared by every command that reads or generates cases:
// the bound on one case's tensors (fixture/case_size.hpp). The option wins,
// else $NORMCHECK_MAX_CASE_BYTES, else 4 GiB.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace normcheck::cli {

inline constexpr const char* kMaxCaseBytesEnv = "NORMCHECK_MAX_CASE_BYTES";

// Bytes as a positive integer with an optional binary unit: "4GiB", "512M",
// "1073741824" (K, M, G, T with or without "iB"/"B", any case). InputError
// naming `what` for anything else.
std::uint64_t parse_byte_size(std::string_view text, std::string_view what);

// Registers --max-case-bytes on `cmd`. resolve() belongs in the command's
// callback: it reads the environment and throws InputError there, where bad
// input becomes exit 2.
class MaxCaseBytes {
 public:
  explicit MaxCaseBytes(CLI::App* cmd);
  std::uint64_t resolve() const;

 private:
  std::shared_ptr<std::string> text_ = std::make_shared<std::string>();
};

}  // namespace normcheck::cli
