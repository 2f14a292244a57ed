#include "group_constants.hpp"

#include <cmath>

#include "exact_mpfr.hpp"

namespace normcheck::reference::detail {

namespace {

Interval zero_interval(mpfr_prec_t p) {
  return Interval(p);
}

Interval enclose_quotient(const MpfrValue& num, const MpfrValue& den, mpfr_prec_t p) {
  Interval r(p);
  mpfr_div(r.lo(), num.get(), den.get(), MPFR_RNDD);
  mpfr_div(r.hi(), num.get(), den.get(), MPFR_RNDU);
  return r;
}

// n * sum(h^2) - (sum h)^2 = n^2 * var, exactly (no mean term for rms).
MpfrValue variance_numerator(const GroupSource& s, const ConstantOptions& o) {
  const MpfrValue n_s2 = exact_mul(exact_int(s.n), s.s2);
  return o.rms ? n_s2 : exact_sub(n_s2, exact_mul(s.s1, s.s1));
}

// n * sum(g*dy*h) - sum(h) * sum(g*dy) = n^2 * mean(g*dy*(h - mean)), exactly.
MpfrValue gradient_numerator(const GroupSource& s, const ConstantOptions& o) {
  const MpfrValue n_x = exact_mul(exact_int(s.n), s.sgdyx);
  return o.rms ? n_x : exact_sub(n_x, exact_mul(s.s1, s.sgdy));
}

}  // namespace

bool is_degenerate(const GroupSource& s, const ConstantOptions& o) {
  if (s.fixed) return s.var_q + to_rational(o.eps) == 0;
  return o.eps == 0 && is_zero(variance_numerator(s, o));
}

Constants<Interval> interval_constants(const GroupSource& s, const ConstantOptions& o,
                                       mpfr_prec_t p) {
  if (s.fixed) {
    Interval v = Interval::enclose(Rational(s.var_q + to_rational(o.eps)), p);
    return {Interval::enclose(s.mean_q, p), rec_sqrt(v), zero_interval(p), zero_interval(p)};
  }
  const MpfrValue n = exact_int(s.n);
  const MpfrValue n2 = exact_mul(n, n);
  Interval mean = o.rms ? zero_interval(p) : enclose_quotient(s.s1, n, p);
  Interval rstd =
      rec_sqrt(enclose_quotient(variance_numerator(s, o), n2, p) + Interval::point(o.eps, p));
  Interval k1 = zero_interval(p), k2 = zero_interval(p);
  if (o.grad) {
    if (!o.rms) k1 = rstd * enclose_quotient(s.sgdy, n, p);
    k2 = rstd * rstd * rstd * enclose_quotient(gradient_numerator(s, o), n2, p);
  }
  return {std::move(mean), std::move(rstd), std::move(k1), std::move(k2)};
}

Constants<Symbolic> symbolic_constants(const GroupSource& s, const ConstantOptions& o) {
  const Rational eps = to_rational(o.eps);
  if (s.fixed)
    return {Symbolic(s.mean_q), Symbolic::inv_sqrt(s.atom_id, Rational(s.var_q + eps)), Symbolic(),
            Symbolic()};
  const Rational n(s.n);
  const Rational s1 = o.rms ? Rational(0) : to_rational(s.s1.get());
  const Rational s2 = to_rational(s.s2.get());
  const Rational var = (n * s2 - s1 * s1) / (n * n);
  Constants<Symbolic> c{Symbolic(Rational(s1 / n)),
                        Symbolic::inv_sqrt(s.atom_id, Rational(var + eps)), Symbolic(), Symbolic()};
  if (o.grad) {
    const Rational g = to_rational(s.sgdy.get()), x = to_rational(s.sgdyx.get());
    if (!o.rms) c.k1 = c.rstd * Symbolic(Rational(g / n));
    c.k2 = c.rstd * c.rstd * c.rstd * Symbolic(Rational((n * x - s1 * g) / (n * n)));
  }
  return c;
}

std::optional<Ball> to_ball(const Interval& v) {
  if (v.has_nan() || !mpfr_number_p(v.lo()) || !mpfr_number_p(v.hi())) return std::nullopt;
  const mpfr_prec_t p = v.prec() + 2;
  MpfrValue mid(p), t(p + 64);
  mpfr_add(mid.get(), v.lo(), v.hi(), MPFR_RNDN);
  mpfr_div_2ui(mid.get(), mid.get(), 1, MPFR_RNDN);
  const double hi = mpfr_get_d(mid.get(), MPFR_RNDN);
  if (!std::isfinite(hi) || std::abs(hi) > 0x1p900) return std::nullopt;
  mpfr_sub_d(t.get(), mid.get(), hi, MPFR_RNDN);
  const double lo = mpfr_get_d(t.get(), MPFR_RNDN);
  const DW w = fast_two_sum(hi, lo);  // renormalize: |lo| <= ulp(hi)/2
  // Radius: max(v.hi - (w.hi + w.lo), (w.hi + w.lo) - v.lo), each side
  // computed with upward rounding so it can only grow.
  MpfrValue up(p + 64), down(p + 64);
  mpfr_sub_d(up.get(), v.hi(), w.hi, MPFR_RNDU);
  mpfr_sub_d(up.get(), up.get(), w.lo, MPFR_RNDU);
  mpfr_sub_d(down.get(), v.lo(), w.hi, MPFR_RNDD);
  mpfr_sub_d(down.get(), down.get(), w.lo, MPFR_RNDD);
  mpfr_neg(down.get(), down.get(), MPFR_RNDU);
  if (mpfr_less_p(up.get(), down.get())) mpfr_swap(up.get(), down.get());
  const double rad = mpfr_sgn(up.get()) > 0 ? mpfr_get_d(up.get(), MPFR_RNDU) : 0.0;
  return Ball{w, rad};
}

}  // namespace normcheck::reference::detail
