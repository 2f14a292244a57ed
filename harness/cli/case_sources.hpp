// Where `normcheck run` takes its cases from besides a fixture folder: single
// descriptors computed in memory by the certified reference, and suite files
// generated once into a cache folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "normcheck/fixture/case.hpp"
#include "normcheck/fixture/case_size.hpp"
#include "normcheck/fixture/suite.hpp"

namespace normcheck::cli {

// The golden cases of `descriptors`, computed in this process (InputError
// naming a descriptor that does not parse, cannot be, or is larger than
// `max_case_bytes`, checked before anything is allocated).
std::vector<fixture::Case> golden_cases(const std::vector<std::string>& descriptors,
                                        std::uint64_t max_case_bytes);

// Writes cases as fixture files into `dir` (one per case, as generate does,
// with index.tsv) so a later `run --fixtures DIR` reads them.
void save_cases(const std::vector<fixture::Case>& cases, const std::filesystem::path& dir);

// The existing file of a case, when it is valid, holds exactly that case and
// fits `max_case_bytes`.
std::optional<fixture::Case> existing_case(
    const std::filesystem::path& file, const std::string& descriptor,
    std::uint64_t max_case_bytes = fixture::kDefaultMaxCaseBytes);

// The cache folder of a suite's fixtures: $NORMCHECK_CACHE_DIR, else
// $XDG_CACHE_HOME/normcheck, else ~/.cache/normcheck; then
// fixtures/NAME-HASH, the hash over the suite's normalized descriptors (an
// edited suite gets a folder of its own).
std::filesystem::path suite_cache_dir(const fixture::Suite& suite);

// Generates the cases of `suite` missing from its cache folder (in worker
// processes, as generate does) and returns the folder. Progress on stderr.
// A case larger than `max_case_bytes` is bad input before any is generated.
std::filesystem::path cached_suite_fixtures(const fixture::Suite& suite, unsigned jobs,
                                            std::uint64_t max_case_bytes);

}  // namespace normcheck::cli
