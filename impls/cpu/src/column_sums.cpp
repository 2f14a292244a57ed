#include "column_sums.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <span>

#include "line_aligned.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace normcheck::cpu {

namespace {

// Columns per task. Each block's partials are read as runs of 1024
// contiguous values, and the pending subtrees of a chunk (8 levels of 1024
// doubles at 128 blocks) stay in L2. A column-at-a-time tree that walked
// the blocks with a stride of a whole row of partials took 100-170 us of
// an 8192x768 backward and 500-650 us of an 8192x4096 one; this, 57-105
// and 300-380 us (bf16-f32; 128-column runs: 88 and 390 us for bf16).
constexpr std::int64_t kColumns = 1024;

// The level-by-level tree, built block by block: level k holds the pending
// complete subtree of 2^k blocks (occupied where bit k of the blocks seen
// so far is set), and adding a block merges it into the occupied levels
// below its first unset bit, left subtree plus right. What is left at the
// end is one complete subtree per set bit of `blocks`, from the left; the
// level-by-level tree adds them right to left (the last subtree into the
// one before it), and so does the final loop.
template <class T>
NC_INLINE void chunk_tree_sums(const T* parts, std::int64_t blocks, std::int64_t cols,
                               std::int64_t first, std::int64_t width, std::span<double> levels,
                               double* out) {
  const auto w = std::size_t(width);
  const auto level = [&](int k) { return levels.data() + std::size_t(k) * w; };
  // The block being added when it has a left sibling to merge into; the
  // last slot of `levels`, one past the deepest level.
  double* const incoming = level(std::bit_width(std::uint64_t(blocks)));
  for (std::int64_t b = 0; b < blocks; ++b) {
    const T* row = parts + b * cols + first;
    double* right = (b & 1) != 0 ? incoming : level(0);
    for (std::size_t c = 0; c < w; ++c) right[c] = double(row[c]);
    int k = 0;
    for (; ((b >> k) & 1) != 0; ++k) {
      double* left = level(k);
      for (std::size_t c = 0; c < w; ++c) left[c] += right[c];
      right = left;
    }
    if (right != level(k)) std::memcpy(level(k), right, w * sizeof(double));
  }
  const auto count = std::uint64_t(blocks);
  int k = std::countr_zero(count);
  double* right = level(k);
  for (++k; (count >> k) != 0; ++k)
    if (((count >> k) & 1) != 0) {
      double* left = level(k);
      for (std::size_t c = 0; c < w; ++c) left[c] += right[c];
      right = left;
    }
  std::memcpy(out + first, right, w * sizeof(double));
}

// The additions are the same in every clone (no contraction: nc_cpu builds
// with -ffp-contract=off); the clones only widen the vectors, which the
// conversions and adds of this loop are bound by: 2 doubles at a time, the
// baseline build took 100 us for the 8192x768 backward's partials.
NC_SIMD_CLONES void chunk_tree_sums_of(const float* parts, std::int64_t blocks, std::int64_t cols,
                                       std::int64_t first, std::int64_t width,
                                       std::span<double> levels, double* out) {
  chunk_tree_sums(parts, blocks, cols, first, width, levels, out);
}
NC_SIMD_CLONES void chunk_tree_sums_of(const double* parts, std::int64_t blocks, std::int64_t cols,
                                       std::int64_t first, std::int64_t width,
                                       std::span<double> levels, double* out) {
  chunk_tree_sums(parts, blocks, cols, first, width, levels, out);
}

template <class T>
std::vector<std::vector<double>> tree_sums(std::span<const T* const> arrays, std::int64_t blocks,
                                           std::int64_t cols) {
  std::vector<std::vector<double>> sums(
      arrays.size(), std::vector<double>(std::size_t(std::max<std::int64_t>(cols, 0)), 0.0));
  if (blocks <= 0 || cols <= 0) return sums;
  // Levels 0 .. bit_width(blocks) - 1, and the incoming block.
  const auto slots = std::size_t(std::bit_width(std::uint64_t(blocks))) + 1;
  const std::int64_t chunks = (cols + kColumns - 1) / kColumns;
  const auto tasks = std::int64_t(arrays.size()) * chunks;
  parallel_for(tasks, blocks * std::min(kColumns, cols), [&](std::int64_t begin, std::int64_t end) {
    LineVector<double> levels(slots * std::size_t(kColumns));
    for (std::int64_t task = begin; task < end; ++task) {
      const auto array = std::size_t(task / chunks);
      const std::int64_t first = (task % chunks) * kColumns;
      chunk_tree_sums_of(arrays[array], blocks, cols, first, std::min(kColumns, cols - first),
                         levels, sums[array].data());
    }
  });
  return sums;
}

}  // namespace

std::vector<double> column_tree_sums(const float* parts, std::int64_t blocks, std::int64_t cols) {
  return std::move(tree_sums(std::span<const float* const>(&parts, 1), blocks, cols)[0]);
}
std::vector<double> column_tree_sums(const double* parts, std::int64_t blocks, std::int64_t cols) {
  return std::move(tree_sums(std::span<const double* const>(&parts, 1), blocks, cols)[0]);
}
std::vector<std::vector<double>> column_tree_sums(std::span<const float* const> parts,
                                                  std::int64_t blocks, std::int64_t cols) {
  return tree_sums(parts, blocks, cols);
}
std::vector<std::vector<double>> column_tree_sums(std::span<const double* const> parts,
                                                  std::int64_t blocks, std::int64_t cols) {
  return tree_sums(parts, blocks, cols);
}

}  // namespace normcheck::cpu
