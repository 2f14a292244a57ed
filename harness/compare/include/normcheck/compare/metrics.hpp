// Error metrics of one output tensor against its golden values: max
// absolute, relative and ULP error, the error in units of the documented
// bound (bound_ratio), the worst element, elements never written, and where
// non-finite values disagree with the golden.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::compare {

struct WorstElement {
  std::int64_t flat = -1;
  double golden = 0.0, actual = 0.0, bound = 0.0;
};

struct TensorMetrics {
  std::int64_t elements = 0;
  std::int64_t compared = 0;   // written, less non-finite goldens matched by class
  std::int64_t unwritten = 0;  // still holding the poison the harness filled in
  std::int64_t first_unwritten = -1;
  // Golden non-finite and actual not the same class (NaN, +inf, -inf), or
  // golden finite and actual non-finite.
  std::int64_t nonfinite_mismatches = 0;
  std::int64_t first_nonfinite_mismatch = -1;
  double max_abs_err = 0.0;
  double max_rel_err = 0.0;           // over elements with a non-zero golden
  double max_ulp_err = 0.0;           // in ULPs of `dtype` at the golden value
  double bound_ratio = 0.0;           // max |actual - golden| / bound
  std::optional<WorstElement> worst;  // the element of the largest bound_ratio
};

// `unwritten` (empty, or one flag per element) marks elements the kernel
// never wrote; they are counted and left out of the error metrics. An
// element whose golden is non-finite passes when the actual is of the same
// class (NaN, +inf, -inf) and is otherwise an infinite error, as is a
// non-finite actual where the golden is finite. A bound that
// is not finite (a group whose statistics are not) admits only an exact
// result: never a silent pass.
TensorMetrics measure(std::span<const double> golden, std::span<const double> actual,
                      std::span<const double> bound, numeric::DType dtype,
                      std::span<const std::uint8_t> unwritten = {});

// Combines the metrics of several tensors of one check (running statistics
// after each step, the shards of SyncBN): maxima and sums; the worst element
// of the larger bound_ratio; *b_is_worse tells the caller which one won.
TensorMetrics combine(const TensorMetrics& a, const TensorMetrics& b, bool* b_is_worse = nullptr);

}  // namespace normcheck::compare
