// results.json: reading and writing Results (schema in reports/README.md).
// Non-finite numbers, which JSON lacks, are written as null (NaN: not
// measured) or the strings "inf" / "-inf".
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "normcheck/report/results.hpp"

namespace normcheck::report {

std::string results_to_json(const Results& r);

// A results file is untrusted input: its nesting and size are bounded (the
// nightly's is about 80 MB and 5 deep).
inline constexpr std::size_t kMaxJsonDepth = 64;
inline constexpr std::uintmax_t kMaxResultsFileBytes = std::uintmax_t(1) << 30;

// InputError naming the file: unreadable or not a regular file, larger than
// kMaxResultsFileBytes, nested deeper than kMaxJsonDepth, not JSON (a number
// that overflows a double included), another schema_version, or a field
// missing or of the wrong type.
Results results_from_json(const std::string& text, const std::string& source);
Results read_results(const std::filesystem::path& path);

}  // namespace normcheck::report
