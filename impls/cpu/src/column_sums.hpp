// Column sums of per-block partials (the row backward's dgamma/dbeta): the
// partials of block b for every column, summed over the blocks in double
// in one fixed pairwise order, whatever the thread count.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace normcheck::cpu {

// sums[c] = the sum over b of parts[b * cols + c], added pairwise as a
// level-by-level tree: block b plus block b + width, for width 1, 2, 4, ...
// (b a multiple of 2 * width, b + width < blocks). Each column gets the
// same additions in the same order, so the split over threads (chunks of
// columns) never changes a bit.
std::vector<double> column_tree_sums(const float* parts, std::int64_t blocks, std::int64_t cols);
std::vector<double> column_tree_sums(const double* parts, std::int64_t blocks, std::int64_t cols);

// Several arrays of partials (dgamma's and dbeta's), each summed as above,
// in one split over the threads: at 768 columns one array alone is too
// little work to wake a second thread.
std::vector<std::vector<double>> column_tree_sums(std::span<const float* const> parts,
                                                  std::int64_t blocks, std::int64_t cols);
std::vector<std::vector<double>> column_tree_sums(std::span<const double* const> parts,
                                                  std::int64_t blocks, std::int64_t cols);

}  // namespace normcheck::cpu
