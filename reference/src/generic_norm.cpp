// The generic definition of forward, backward and condition numbers: the
// textbook two-pass formulas, evaluated in T with no cleverness at all.

#include <cmath>
#include <stdexcept>

#include "normcheck/reference/generic.hpp"

namespace normcheck::reference {

PrecisionScope::PrecisionScope(unsigned bits) : saved_digits10_(Mpfr::default_precision()) {
  // Boost speaks decimal digits; digits10_2_2(d) >= d / 0.301 >= bits.
  Mpfr::default_precision((bits * 301 + 999) / 1000);
}

PrecisionScope::~PrecisionScope() {
  Mpfr::default_precision(saved_digits10_);
}

unsigned precision_bits(const Mpfr& v) {
  return static_cast<unsigned>(mpfr_get_prec(v.backend().data()));
}

template <class T>
std::vector<T> lift(std::span<const double> v) {
  std::vector<T> out;
  out.reserve(v.size());
  for (double d : v) out.emplace_back(d);
  return out;
}

template <class T>
Problem<T> lift_problem(const NormGeometry& g, const ForwardInputs& in) {
  validate(g, in);
  Problem<T> p;
  p.geometry = g;
  p.mode = in.mode;
  p.eps = T(in.eps);
  p.x = lift<T>(in.x);
  p.residual = lift<T>(in.residual);
  p.gamma = lift<T>(in.gamma);
  p.beta = lift<T>(in.beta);
  p.running_mean = lift<T>(in.running_mean);
  p.running_var = lift<T>(in.running_var);
  return p;
}

namespace {

template <class T>
struct Stats {
  std::vector<T> mean, rstd;  // per stat group; mean == 0 for rms_norm
};

template <class T>
std::vector<T> normalized_input(const Problem<T>& p) {
  if (p.residual.empty()) return p.x;
  std::vector<T> h(p.x.size());
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = p.x[i] + p.residual[i];
  return h;
}

std::int64_t channel_of_group(const CanonicalDims& d, std::int64_t group) {
  return d.op == NormOp::instance_norm ? group % d.c : group;
}

template <class T>
Stats<T> statistics(const Problem<T>& p, const CanonicalDims& d, const std::vector<T>& h) {
  using std::sqrt;
  const std::int64_t groups = d.num_groups();
  Stats<T> st{std::vector<T>(groups, T(0)), std::vector<T>(groups, T(0))};
  const T one(1);
  if (uses_running_stats(p.geometry.op, p.mode)) {
    for (std::int64_t g = 0; g < groups; ++g) {
      const auto c = static_cast<std::size_t>(channel_of_group(d, g));
      st.mean[g] = p.running_mean[c];
      st.rstd[g] = one / sqrt(p.running_var[c] + p.eps);
    }
    return st;
  }
  const T n(static_cast<double>(d.n * d.c * d.s / groups));
  for (std::int64_t g = 0; g < groups; ++g) {
    if (p.geometry.op == NormOp::rms_norm) {
      T ss(0);
      for_each_in_group(d, g, [&](std::int64_t i, std::int64_t) { ss += h[i] * h[i]; });
      st.rstd[g] = one / sqrt(ss / n + p.eps);
    } else {
      T s(0);
      for_each_in_group(d, g, [&](std::int64_t i, std::int64_t) { s += h[i]; });
      const T mean = s / n;
      T v(0);
      for_each_in_group(d, g, [&](std::int64_t i, std::int64_t) {
        const T dev = h[i] - mean;
        v += dev * dev;
      });
      st.mean[g] = mean;
      st.rstd[g] = one / sqrt(v / n + p.eps);
    }
  }
  return st;
}

template <class T>
T param_or(const std::vector<T>& v, std::int64_t c, double dflt) {
  return v.empty() ? T(dflt) : v[static_cast<std::size_t>(c)];
}

}  // namespace

template <class T>
ForwardValues<T> generic_forward(const Problem<T>& p) {
  const CanonicalDims d = canonical_dims(p.geometry);
  const std::vector<T> h = normalized_input(p);
  const Stats<T> st = statistics(p, d, h);
  ForwardValues<T> out;
  out.y.assign(h.size(), T(0));
  for (std::int64_t g = 0; g < d.num_groups(); ++g) {
    for_each_in_group(d, g, [&](std::int64_t i, std::int64_t c) {
      out.y[i] =
          (h[i] - st.mean[g]) * st.rstd[g] * param_or(p.gamma, c, 1.0) + param_or(p.beta, c, 0.0);
    });
  }
  if (!p.residual.empty()) out.residual_out = h;
  if (p.geometry.op != NormOp::rms_norm) out.mean = st.mean;
  out.rstd = st.rstd;
  return out;
}

template <class T>
BackwardValues<T> generic_backward(const Problem<T>& p, const std::vector<T>& dy) {
  const CanonicalDims d = canonical_dims(p.geometry);
  if (dy.size() != p.x.size()) throw std::invalid_argument("dy: size differs from x");
  const std::vector<T> h = normalized_input(p);
  const Stats<T> st = statistics(p, d, h);
  const bool stats_depend_on_x = !uses_running_stats(p.geometry.op, p.mode);
  const bool rms = p.geometry.op == NormOp::rms_norm;
  const std::int64_t groups = d.num_groups();
  const T n(static_cast<double>(d.n * d.c * d.s / groups));

  BackwardValues<T> out;
  out.dx.assign(h.size(), T(0));
  std::vector<T> dgamma(static_cast<std::size_t>(d.c), T(0)), dbeta(dgamma);
  for (std::int64_t g = 0; g < groups; ++g) {
    auto xhat = [&](std::int64_t i) { return T((h[i] - st.mean[g]) * st.rstd[g]); };
    T a(0), b(0);  // mean(g*dy), mean(g*dy*xhat) over the group
    if (stats_depend_on_x) {
      for_each_in_group(d, g, [&](std::int64_t i, std::int64_t c) {
        const T gdy = param_or(p.gamma, c, 1.0) * dy[i];
        a += gdy;
        b += gdy * xhat(i);
      });
      a /= n;
      b /= n;
      if (rms) a = T(0);  // no mean subtracted, so no mean(g*dy) term
    }
    for_each_in_group(d, g, [&](std::int64_t i, std::int64_t c) {
      const T gdy = param_or(p.gamma, c, 1.0) * dy[i];
      out.dx[i] = stats_depend_on_x ? T(st.rstd[g] * (gdy - a - xhat(i) * b)) : T(st.rstd[g] * gdy);
      dgamma[c] += dy[i] * xhat(i);
      dbeta[c] += dy[i];
    });
  }
  if (!p.residual.empty()) out.dresidual = out.dx;
  if (!p.gamma.empty()) out.dgamma = std::move(dgamma);
  if (!p.beta.empty()) out.dbeta = std::move(dbeta);
  return out;
}

template <class T>
std::vector<T> generic_condition_numbers(const Problem<T>& p) {
  using std::abs;
  const CanonicalDims d = canonical_dims(p.geometry);
  const std::vector<T> h = normalized_input(p);
  const Stats<T> st = statistics(p, d, h);
  std::vector<T> kappa(st.rstd.size(), T(0));
  for (std::int64_t g = 0; g < d.num_groups(); ++g) {
    T m(0);
    for_each_in_group(d, g, [&](std::int64_t i, std::int64_t) {
      const T a = abs(h[i]);
      if (a > m) m = a;
    });
    kappa[g] = m * st.rstd[g];  // max|h| / sigma
  }
  return kappa;
}

#define NC_INSTANTIATE(T)                                                                   \
  template std::vector<T> lift<T>(std::span<const double>);                                 \
  template Problem<T> lift_problem<T>(const NormGeometry&, const ForwardInputs&);           \
  template ForwardValues<T> generic_forward<T>(const Problem<T>&);                          \
  template BackwardValues<T> generic_backward<T>(const Problem<T>&, const std::vector<T>&); \
  template std::vector<T> generic_condition_numbers<T>(const Problem<T>&);

NC_INSTANTIATE(double)
NC_INSTANTIATE(Mpfr)
#undef NC_INSTANTIATE

}  // namespace normcheck::reference
