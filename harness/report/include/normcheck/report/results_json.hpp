// results.json: reading and writing Results (schema in reports/README.md).
// Non-finite numbers, which JSON lacks, are written as null (NaN: not
// measured) or the strings "inf" / "-inf".
#pragma once

#include <filesystem>
#include <string>

#include "normcheck/report/results.hpp"

namespace normcheck::report {

std::string results_to_json(const Results& r);

// InputError naming the file: unreadable, not JSON, another schema_version,
// or a field missing or of the wrong type.
Results results_from_json(const std::string& text, const std::string& source);
Results read_results(const std::filesystem::path& path);

}  // namespace normcheck::report
