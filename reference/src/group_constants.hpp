#pragma once
// A stat group's exact definition and its constants (mean, rstd, k1, k2; see
// formulas.hpp) in each arithmetic.

#include <cstdint>
#include <optional>

#include "ball.hpp"
#include "interval.hpp"
#include "mpfr_value.hpp"
#include "rational.hpp"
#include "symbolic.hpp"

namespace normcheck::reference::detail {

struct GroupSource {
  bool fixed = false;        // running statistics (eval) instead of batch sums
  std::int64_t n = 0;        // elements in the group
  std::int64_t atom_id = 0;  // identifies rstd exactly: group (batch) or channel (fixed)
  // Batch: exact sums of h, h^2, g*dy, g*dy*h over the group.
  MpfrValue s1{MPFR_PREC_MIN}, s2{MPFR_PREC_MIN}, sgdy{MPFR_PREC_MIN}, sgdyx{MPFR_PREC_MIN};
  // Fixed: running mean and variance (exact rationals; a trajectory's are not dyadic).
  Rational mean_q, var_q;
};

struct ConstantOptions {
  bool rms = false;   // no mean: v = mean(h^2) + eps
  bool grad = false;  // k1, k2 of the training-mode input gradient are needed
  double eps = 0;
};

template <class A>
struct Constants {
  A mean, rstd, k1, k2;
};

// v == 0 exactly (zero variance and eps == 0): rstd is +inf and every output
// is an IEEE special; the caller leaves such problems to the generic path.
bool is_degenerate(const GroupSource& s, const ConstantOptions& o);

Constants<Interval> interval_constants(const GroupSource& s, const ConstantOptions& o,
                                       mpfr_prec_t prec);
Constants<Symbolic> symbolic_constants(const GroupSource& s, const ConstantOptions& o);

// Nearest double word to an enclosure with a radius covering it; nullopt when
// the value is not a finite number of moderate size (|v| <= 2^900).
std::optional<Ball> to_ball(const Interval& v);

}  // namespace normcheck::reference::detail
