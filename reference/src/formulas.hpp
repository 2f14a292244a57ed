#pragma once
// The per-element formulas of the certified path, written once and evaluated
// in three arithmetics: Ball (double word + radius, the fast path), Interval
// (MPFR, rising precision) and Symbolic (exact). Per stat group the constants
// are mean, rstd = 1/sqrt(v) (v = var + eps, or mean(h^2) + eps for rms), and
// for the training-mode input gradient
//   k1 = rstd * mean(g*dy)                      (0 for rms)
//   k2 = rstd^3 * mean(g*dy*(h - mean)),
// so that dx = rstd*(g*dy - mean(g*dy) - xhat*mean(g*dy*xhat)) becomes
//   dx = rstd*(g*dy) - k1 - k2*(h - mean).
// With constant (running) statistics k1 = k2 = 0 and dx = rstd*(g*dy).

namespace normcheck::reference::detail {

template <class A>
A centered(const A& h, const A& mean) {
  return h - mean;  // h - mean, exact inputs: the only cancellation-prone step
}

template <class A, class S>
A affine(const A& xhat, const S& gamma, const S& beta) {
  return xhat * gamma + beta;
}

template <class A>
A input_grad(const A& gdy, const A& d, const A& rstd, const A& k1, const A& k2) {
  return rstd * gdy - k1 - k2 * d;
}

}  // namespace normcheck::reference::detail
