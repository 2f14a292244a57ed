#include "normcheck/runner/case_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <memory>
#include <regex>

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::runner {

MemoryCases::MemoryCases(std::vector<fixture::Case> cases) : cases_(std::move(cases)) {
  for (const auto& c : cases_) descriptors_.push_back(c.descriptor());
}

FixtureDirectory::FixtureDirectory(const std::filesystem::path& dir) : dir_(dir) {
  for (const auto& file : fixture::fixture_files(dir)) {
    readers_.emplace_back(file);
    for (std::size_t k = 0; k < readers_.back().size(); ++k)
      index_.emplace_back(readers_.size() - 1, k);
  }
  // By descriptor: reports read in a sensible order whatever the file names.
  std::stable_sort(index_.begin(), index_.end(), [this](const auto& a, const auto& b) {
    return readers_[a.first].descriptors()[a.second] < readers_[b.first].descriptors()[b.second];
  });
}

const std::string& FixtureDirectory::descriptor(std::size_t i) const {
  const auto [reader, k] = index_[i];
  return readers_[reader].descriptors()[k];
}

fixture::Case FixtureDirectory::load(std::size_t i) const {
  const auto [reader, k] = index_[i];
  return readers_[reader].read(k);
}

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Selection parse_shard(std::string_view text, Selection s) {
  const auto slash = text.find('/');
  int k = 0, n = 0;
  const auto parse = [](std::string_view part, int& v) {
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    return ec == std::errc() && p == part.data() + part.size() && !part.empty();
  };
  if (slash == std::string_view::npos || !parse(text.substr(0, slash), k) ||
      !parse(text.substr(slash + 1), n) || n < 1 || k < 1 || k > n)
    throw model::InputError(
        fmt::format("--shard '{}': expected K/N with 1 <= K <= N, e.g. 2/4", text));
  s.shard = k;
  s.shards = n;
  return s;
}

std::vector<std::size_t> select_cases(const CaseSource& cases, const Selection& selection) {
  std::function<bool(const std::string&)> matches = [](const std::string&) { return true; };
  if (selection.filter.starts_with("re:")) {
    std::shared_ptr<std::regex> re;
    try {
      re = std::make_shared<std::regex>(selection.filter.substr(3), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw model::InputError(
          fmt::format("--filter '{}': not a regular expression: {}", selection.filter, e.what()));
    }
    matches = [re](const std::string& d) { return std::regex_search(d, *re); };
  } else if (!selection.filter.empty()) {
    matches = [pattern = selection.filter](const std::string& d) {
      return compare::glob_match(pattern, d);
    };
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string& d = cases.descriptor(i);
    if (!matches(d)) continue;
    if (selection.shards > 1 &&
        fnv1a64(d) % std::uint64_t(selection.shards) != std::uint64_t(selection.shard - 1))
      continue;
    out.push_back(i);
  }
  return out;
}

}  // namespace normcheck::runner
