// column_tree_sums (src/column_sums.cpp) against the level-by-level
// pairwise tree it promises, written here the plain way: one column at a
// time, width 1, 2, 4, ... Exact: the same additions in the same order give
// the same bits, so every comparison is bit for bit. The data spans 60
// binades with both signs, so another association of the same additions
// (the sequential sum below) lands on other bits.
#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "../src/column_sums.hpp"

using normcheck::cpu::column_tree_sums;

namespace {

template <class T>
std::vector<T> wide_range_values(std::int64_t count, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-30, 30), sign(0, 1);
  std::vector<T> out(static_cast<std::size_t>(count));
  for (auto& v : out) v = T(std::ldexp(mantissa(rng), exponent(rng)) * (sign(rng) != 0 ? -1 : 1));
  return out;
}

template <class T>
double level_tree_sum(const std::vector<T>& parts, std::int64_t blocks, std::int64_t cols,
                      std::int64_t c) {
  std::vector<double> tree(static_cast<std::size_t>(blocks));
  for (std::int64_t b = 0; b < blocks; ++b)
    tree[std::size_t(b)] = double(parts[std::size_t(b * cols + c)]);
  for (std::int64_t width = 1; width < blocks; width *= 2)
    for (std::int64_t b = 0; b + width < blocks; b += 2 * width)
      tree[std::size_t(b)] += tree[std::size_t(b + width)];
  return tree[0];
}

template <class T>
double sequential_sum(const std::vector<T>& parts, std::int64_t blocks, std::int64_t cols,
                      std::int64_t c) {
  double s = 0.0;
  for (std::int64_t b = 0; b < blocks; ++b) s += double(parts[std::size_t(b * cols + c)]);
  return s;
}

std::uint64_t bits(double v) {
  return std::bit_cast<std::uint64_t>(v);
}

template <class T>
void check_against_level_tree() {
  // Block counts around powers of two (the tree's shape changes there);
  // column counts below, at and past the 128-column chunks.
  for (const std::int64_t blocks : {1, 2, 3, 5, 7, 8, 9, 63, 64, 65, 127, 128, 129, 300})
    for (const std::int64_t cols : {1, 5, 128, 129, 300}) {
      const auto parts = wide_range_values<T>(blocks * cols, unsigned(blocks * 1000 + cols));
      const auto sums = column_tree_sums(parts.data(), blocks, cols);
      REQUIRE(sums.size() == std::size_t(cols));
      int differs_from_sequential = 0;
      for (std::int64_t c = 0; c < cols; ++c) {
        INFO("blocks " << blocks << ", cols " << cols << ", column " << c);
        REQUIRE(bits(sums[std::size_t(c)]) == bits(level_tree_sum(parts, blocks, cols, c)));
        differs_from_sequential +=
            bits(sums[std::size_t(c)]) != bits(sequential_sum(parts, blocks, cols, c));
      }
      // The data tells associations apart: from 4 blocks on (with 3 the
      // tree is the sequential sum, (b0 + b1) + b2), some column's bits do.
      if (blocks >= 4 && cols >= 128) CHECK(differs_from_sequential > 0);
    }
}

}  // namespace

TEST_CASE("column_tree_sums of float partials: the level-by-level tree, bit for bit") {
  check_against_level_tree<float>();
}

TEST_CASE("column_tree_sums of double partials: the level-by-level tree, bit for bit") {
  check_against_level_tree<double>();
}

TEST_CASE("column_tree_sums of no blocks or no columns") {
  CHECK(column_tree_sums(static_cast<const float*>(nullptr), 0, 4) == std::vector<double>(4, 0.0));
  CHECK(column_tree_sums(static_cast<const float*>(nullptr), 3, 0).empty());
}

TEST_CASE("column_tree_sums of several arrays gives each array's own sums") {
  // dgamma's and dbeta's partials go through in one call, split over the
  // threads together; each result must be that array's sums alone.
  for (const std::int64_t cols : {5, 768, 1500}) {
    const std::int64_t blocks = 128;
    const auto a = wide_range_values<float>(blocks * cols, 1),
               b = wide_range_values<float>(blocks * cols, 2);
    const float* const arrays[] = {a.data(), b.data()};
    const auto both = column_tree_sums(std::span<const float* const>(arrays), blocks, cols);
    REQUIRE(both.size() == 2);
    CHECK(both[0] == column_tree_sums(a.data(), blocks, cols));
    CHECK(both[1] == column_tree_sums(b.data(), blocks, cols));
    CHECK(both[0] != both[1]);
  }
}
