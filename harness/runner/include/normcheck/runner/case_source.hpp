// Where the cases of a run come from: their descriptors up front (to filter
// and shard without reading data), each case's data on demand.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "normcheck/fixture/case.hpp"
#include "normcheck/fixture/fixture_reader.hpp"

namespace normcheck::runner {

class CaseSource {
 public:
  virtual ~CaseSource() = default;
  virtual std::size_t size() const = 0;
  virtual const std::string& descriptor(std::size_t i) const = 0;
  virtual fixture::Case load(std::size_t i) const = 0;
  virtual std::string origin() const = 0;  // for the report: a folder, or "memory"
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
// descriptor. InputError when the folder does not exist or a file is not a
// readable fixture.
class FixtureDirectory : public CaseSource {
 public:
  explicit FixtureDirectory(const std::filesystem::path& dir);
  std::size_t size() const override { return index_.size(); }
  const std::string& descriptor(std::size_t i) const override;
  fixture::Case load(std::size_t i) const override;
  std::string origin() const override { return dir_.string(); }

 private:
  std::filesystem::path dir_;
  std::vector<fixture::FixtureReader> readers_;
  std::vector<std::pair<std::size_t, std::size_t>> index_;  // (reader, case within it)
};

// Which cases a run takes. A filter is a shell glob over the normalized
// descriptor ("ln:*dist=offset*"), or, prefixed with "re:", an ECMAScript
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

std::uint64_t fnv1a64(std::string_view text);

}  // namespace normcheck::runner
