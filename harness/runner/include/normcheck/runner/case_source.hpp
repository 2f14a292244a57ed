// Where the cases of a run come from: their descriptors up front (to filter
// and shard without reading data), each case's data on demand.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "normcheck/fixture/case.hpp"
#include "normcheck/fixture/case_size.hpp"
#include "normcheck/fixture/fixture_index.hpp"

namespace normcheck::runner {

class CaseSource {
 public:
  virtual ~CaseSource() = default;
  virtual std::size_t size() const = 0;
  virtual const std::string& descriptor(std::size_t i) const = 0;
  // Reads case i. For fixture files this is untrusted work (HDF5 may crash
  // or hang on a damaged file): the runner calls it only inside a worker.
  virtual fixture::Case load(std::size_t i) const = 0;
  // Where case i is read from (a file), or "" when it is held in memory.
  virtual std::string location(std::size_t) const { return {}; }
  virtual std::string origin() const = 0;  // for the report: a folder, or "memory"
};

// A fixture file that could not even be listed (its cases are unknown).
struct DamagedFile {
  std::filesystem::path path;
  std::string message;
};

// Cases held in memory (tests, and callers that build cases themselves).
class MemoryCases : public CaseSource {
 public:
  explicit MemoryCases(std::vector<fixture::Case> cases);
  std::size_t size() const override { return cases_.size(); }
  const std::string& descriptor(std::size_t i) const override { return descriptors_[i]; }
  fixture::Case load(std::size_t i) const override { return cases_[i]; }
  std::string origin() const override { return "memory"; }

 private:
  std::vector<fixture::Case> cases_;
  std::vector<std::string> descriptors_;
};

// Every case of every fixture file under a folder (recursively), sorted by
// descriptor, found without reading fixture data: the folder's index.tsv
// (fixture_index.hpp) names the cases of the files it lists; the files it
// does not list are opened one at a time by a lister process, so a file
// that crashes or hangs HDF5 costs that file (damaged()), not the run, and
// at most one file is open at any time whatever the suite's size.
// InputError when the folder does not exist or its index is malformed.
// load() refuses a case larger than `max_case_bytes` (fixture/case_size.hpp)
// before reading any of its data.
class FixtureDirectory : public CaseSource {
 public:
  explicit FixtureDirectory(const std::filesystem::path& dir, double list_timeout_seconds = 30.0,
                            std::uint64_t max_case_bytes = fixture::kDefaultMaxCaseBytes);
  std::size_t size() const override { return entries_.size(); }
  const std::string& descriptor(std::size_t i) const override;
  // Opens the file, reads and verifies the case, closes the file; an
  // InputError when the file does not hold what the index promised.
  fixture::Case load(std::size_t i) const override;
  std::string location(std::size_t i) const override;
  std::string origin() const override { return dir_.string(); }

  const std::vector<DamagedFile>& damaged() const { return damaged_; }
  std::size_t files_listed() const { return listed_; }  // opened because the index lacked them

 private:
  std::filesystem::path dir_;
  std::vector<fixture::IndexEntry> entries_;
  std::vector<DamagedFile> damaged_;
  std::size_t listed_ = 0;
  std::uint64_t max_case_bytes_;
};

// The cases of `files`, listed in a child process (one file open at a
// time); a file the child could not list, or on which it crashed or ran
// past `timeout_seconds`, is returned in `damaged`.
struct Listing {
  std::vector<fixture::IndexEntry> entries;  // file: relative to `base`
  std::vector<DamagedFile> damaged;
};
Listing list_fixture_files(const std::filesystem::path& base,
                           const std::vector<std::filesystem::path>& files,
                           double timeout_seconds);

// Which cases a run takes. A filter is a descriptor in any form the grammar
// accepts ("ln:f32:4x64:eps=0.01": defaults filled, keys in any order), which
// selects exactly that case; or a shell glob over the normalized
// descriptor ("ln:*dist=offset*"); or, prefixed with "re:", an ECMAScript
// regular expression searched anywhere in it ("re:^(ln|rms):bf16"). A shard
// K/N keeps the cases whose descriptor hashes (FNV-1a, 64 bit) to K-1
// modulo N: the same split on every machine, and adding a case never moves
// the others between shards. InputError for a bad pattern or shard.
struct Selection {
  std::string filter;  // empty: all
  int shard = 1, shards = 1;
};

// Parses "K/N" (1 <= K <= N).
Selection parse_shard(std::string_view text, Selection s = {});

std::vector<std::size_t> select_cases(const CaseSource& cases, const Selection& selection);

// The normalized descriptor a filter names, when it is a descriptor (no glob
// character, not "re:", and it parses); otherwise nullopt.
std::optional<std::string> filter_descriptor(std::string_view filter);

std::uint64_t fnv1a64(std::string_view text);

}  // namespace normcheck::runner
