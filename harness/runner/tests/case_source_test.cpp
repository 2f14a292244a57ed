#include <catch2/catch.hpp>
#include <set>

#include "normcheck/model/problem.hpp"
#include "normcheck/runner/case_source.hpp"

using Catch::Matchers::Contains;
using namespace normcheck::runner;

namespace {

MemoryCases cases(const std::vector<std::string>& descriptors) {
  std::vector<normcheck::fixture::Case> c;
  for (const auto& d : descriptors) {
    normcheck::fixture::Case x;
    x.problem = normcheck::model::parse_descriptor(d);
    c.push_back(x);
  }
  return MemoryCases(c);
}

const std::vector<std::string> kDescriptors{"ln:f32:4x64",      "ln:f32:4x64:dist=offset",
                                            "rms:bf16:2x8",     "bn:f32:4x3x5",
                                            "gn:f32:2x4x3:g=2", "ln:f16:8x8:dist=offset"};

}  // namespace

TEST_CASE("a glob filter matches the whole normalized descriptor") {
  const auto c = cases(kDescriptors);
  CHECK(select_cases(c, {"ln:*", 1, 1}) == std::vector<std::size_t>{0, 1, 5});
  CHECK(select_cases(c, {"*dist=offset*", 1, 1}) == std::vector<std::size_t>{1, 5});
  CHECK(select_cases(c, {"ln", 1, 1}).empty());
  CHECK(select_cases(c, {"", 1, 1}).size() == kDescriptors.size());
}

TEST_CASE("a descriptor in short form, keys in any order, selects exactly its case") {
  const auto c = cases(kDescriptors);
  CHECK(select_cases(c, {"ln:f32:4x64", 1, 1}) == std::vector<std::size_t>{0});
  CHECK(select_cases(c, {"ln:f32:4x64:dist=offset:eps=1e-5", 1, 1}) == std::vector<std::size_t>{1});
  CHECK(select_cases(c, {"layer_norm:f32:f32:4x64:dist=offset", 1, 1}) ==
        std::vector<std::size_t>{1});
  CHECK(select_cases(c, {"ln:f32:4x64:eps=0.01", 1, 1}).empty());
  CHECK(filter_descriptor("ln:f32:4x64") == "ln:f32:f32:4x64:eps=1e-5:dist=normal");
  CHECK_FALSE(filter_descriptor("ln:*"));
  CHECK_FALSE(filter_descriptor("re:ln"));
  CHECK_FALSE(filter_descriptor("ln:f32:4x64:epsilon=1"));  // not a descriptor: a glob
}

TEST_CASE("a re: filter is a regular expression searched in the descriptor") {
  const auto c = cases(kDescriptors);
  CHECK(select_cases(c, {"re:^(rms|gn):", 1, 1}) == std::vector<std::size_t>{2, 4});
  CHECK(select_cases(c, {"re::f16:", 1, 1}) == std::vector<std::size_t>{5});
  CHECK_THROWS_WITH(select_cases(c, {"re:(", 1, 1}), Contains("not a regular expression"));
}

TEST_CASE("shards split the cases into disjoint, complete, stable parts") {
  std::vector<std::string> many;
  for (int n = 1; n <= 40; ++n) many.push_back("ln:f32:4x" + std::to_string(n));
  const auto c = cases(many);
  std::set<std::size_t> seen;
  for (int k = 1; k <= 3; ++k) {
    const auto part = select_cases(c, parse_shard(std::to_string(k) + "/3"));
    CHECK_FALSE(part.empty());
    for (auto i : part) CHECK(seen.insert(i).second);
  }
  CHECK(seen.size() == many.size());
  // Stable: a case's shard depends on its descriptor only.
  CHECK(fnv1a64("ln:f32:f32:4x1:eps=1e-5:dist=normal") ==
        fnv1a64("ln:f32:f32:4x1:eps=1e-5:dist=normal"));
  CHECK(fnv1a64("") == 0xcbf29ce484222325ull);
  CHECK(fnv1a64("a") == 0xaf63dc4c8601ec8cull);  // FNV-1a test vector
}

TEST_CASE("bad shards are rejected") {
  for (const char* bad : {"0/2", "3/2", "1", "a/b", "1/0", "1/2/3", "/2"})
    CHECK_THROWS_WITH(parse_shard(bad), Contains("expected K/N"));
  CHECK(parse_shard("2/5").shard == 2);
}
