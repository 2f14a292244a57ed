// Every bound the harness puts on untrusted input, declared once here.
// NOT YET ENFORCED (issue 13 point 4 is open): only truncate_for_message is
// used so far (fixture reader messages); the sizes below are declared, not
// checked, and harness/README.md does not document them yet. A bound
// turns an absurd input (a 2^31-element descriptor, a suite that expands to
// millions of cases, JSON nested 100 000 deep) into one clear error, exit 2,
// instead of a minutes-long stall, a bad_alloc or a stack overflow.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace normcheck::model {

// Bytes of all tensors of one case (inputs and f64 goldens together) by
// default: 4 GiB. NORMCHECK_MAX_CASE_BYTES (a positive integer of bytes)
// overrides it for the process.
inline constexpr std::uint64_t kDefaultMaxCaseBytes = std::uint64_t(4) << 30;
inline constexpr const char* kMaxCaseBytesEnv = "NORMCHECK_MAX_CASE_BYTES";
// The effective bound: the environment variable when set, else the default.
// Throws InputError when the variable is set but not a positive integer.
std::uint64_t max_case_bytes();

// Suite files: cases after brace expansion, and braces nested in one line.
inline constexpr std::size_t kMaxSuiteCases = 100'000;
inline constexpr int kMaxBraceDepth = 8;

// JSON documents read by compare, merge and tolerances --from.
inline constexpr int kMaxJsonDepth = 64;

// User text echoed in an error message is cut to this many bytes.
inline constexpr std::size_t kMaxEchoedBytes = 200;

// Input files read whole (tolerances, results.json, manifests, suites).
inline constexpr std::uint64_t kMaxInputFileBytes = std::uint64_t(1) << 30;

// `text` as it may appear in a message: cut to kMaxEchoedBytes with a note
// of how much was left out.
std::string truncate_for_message(std::string_view text);

// a * b, or nullopt when it overflows (sizes of untrusted shapes).
std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b);
std::optional<std::uint64_t> checked_add(std::uint64_t a, std::uint64_t b);

}  // namespace normcheck::model
