#include "norm_engine.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "ball.hpp"
#include "exact_sum.hpp"
#include "formulas.hpp"
#include "group_constants.hpp"
#include "rounding.hpp"

namespace normcheck::reference::detail {

namespace {

// Enough for double-word constants (2^-106) with a wide margin, cheap in MPFR.
constexpr mpfr_prec_t kBaseBits = 192;
constexpr int kDoubleWordBits = 106;

bool all_in_range(std::span<const double> v) {
  return std::all_of(v.begin(), v.end(), in_exact_domain);
}

struct Location {
  std::int64_t group, param;
};

Location locate(const CanonicalDims& d, std::int64_t i) {
  std::int64_t in, ic;
  if (d.channels_last) {
    ic = i % d.c;
    in = i / (d.c * d.s);
  } else {
    ic = (i / d.s) % d.c;
    in = i / (d.s * d.c);
  }
  return {d.group(in, ic), ic};
}

// Everything the MPFR/symbolic re-evaluation of single outputs needs.
class Fallback {
 public:
  Fallback(const EngineInputs& in, const CanonicalDims& d, const std::vector<GroupSource>& src,
           const ConstantOptions& opt)
      : in_(in), d_(d), src_(src), opt_(opt) {}

  CertifiedValue y(std::int64_t i) {
    const Location l = locate(d_, i);
    return certify_value(
        [&](mpfr_prec_t p) {
          const Constants<Interval>& k = interval(l.group, p);
          return affine(centered(h_interval(i, p), k.mean) * k.rstd, gamma_interval(l.param, p),
                        beta_interval(l.param, p));
        },
        [&] {
          const Constants<Symbolic>& k = symbolic(l.group);
          return affine(centered(h_symbolic(i), k.mean) * k.rstd, gamma_symbolic(l.param),
                        beta_symbolic(l.param));
        });
  }

  CertifiedValue dx(std::int64_t i) {
    const Location l = locate(d_, i);
    return certify_value(
        [&](mpfr_prec_t p) {
          const Constants<Interval>& k = interval(l.group, p);
          const Interval gdy = gamma_interval(l.param, p) * Interval::point(in_.dy[i], p);
          return input_grad(gdy, centered(h_interval(i, p), k.mean), k.rstd, k.k1, k.k2);
        },
        [&] {
          const Constants<Symbolic>& k = symbolic(l.group);
          const Symbolic gdy = gamma_symbolic(l.param) * Symbolic(in_.dy[i]);
          return input_grad(gdy, centered(h_symbolic(i), k.mean), k.rstd, k.k1, k.k2);
        });
  }

  CertifiedValue mean(std::int64_t g) {
    return certify_value([&](mpfr_prec_t p) { return interval(g, p).mean; },
                         [&] { return symbolic(g).mean; });
  }

  CertifiedValue rstd(std::int64_t g) {
    return certify_value([&](mpfr_prec_t p) { return interval(g, p).rstd; },
                         [&] { return symbolic(g).rstd; });
  }

  // dgamma[c] = sum over elements with param c of dy * (h - mean) * rstd.
  CertifiedValue dgamma(std::int64_t c) {
    return certify_value(
        [&](mpfr_prec_t p) {
          Interval acc(p);
          for_each_with_param(d_, c, [&](std::int64_t i, std::int64_t g) {
            const Constants<Interval>& k = interval(g, p);
            acc = acc + centered(h_interval(i, p), k.mean) * k.rstd * Interval::point(in_.dy[i], p);
          });
          return acc;
        },
        [&] {
          Symbolic acc;
          for_each_with_param(d_, c, [&](std::int64_t i, std::int64_t g) {
            const Constants<Symbolic>& k = symbolic(g);
            acc = acc + centered(h_symbolic(i), k.mean) * k.rstd * Symbolic(in_.dy[i]);
          });
          return acc;
        });
  }

  // dbeta[c] = sum of dy: an exact sum of doubles, rounded once.
  CertifiedValue dbeta(std::int64_t c) {
    ExactSum s;
    for_each_with_param(d_, c, [&](std::int64_t i, std::int64_t) { s.add(in_.dy[i]); });
    const MpfrValue v = s.to_mpfr();
    return {round_exact(v.get()), static_cast<int>(v.prec()), true, false};
  }

 private:
  const EngineInputs& in_;
  const CanonicalDims& d_;
  const std::vector<GroupSource>& src_;
  ConstantOptions opt_;
  std::map<std::pair<std::int64_t, mpfr_prec_t>, Constants<Interval>> intervals_;
  std::map<std::int64_t, Constants<Symbolic>> symbolics_;

  const Constants<Interval>& interval(std::int64_t g, mpfr_prec_t p) {
    const auto key = std::make_pair(g, p);
    auto it = intervals_.find(key);
    if (it == intervals_.end())
      it = intervals_.emplace(key, interval_constants(src_[g], opt_, p)).first;
    return it->second;
  }
  const Constants<Symbolic>& symbolic(std::int64_t g) {
    auto it = symbolics_.find(g);
    if (it == symbolics_.end()) it = symbolics_.emplace(g, symbolic_constants(src_[g], opt_)).first;
    return it->second;
  }
  Interval h_interval(std::int64_t i, mpfr_prec_t p) const {
    Interval h = Interval::point(in_.x[i], p);
    return in_.residual.empty() ? h : h + Interval::point(in_.residual[i], p);
  }
  Symbolic h_symbolic(std::int64_t i) const {
    return in_.residual.empty() ? Symbolic(in_.x[i])
                                : Symbolic(in_.x[i]) + Symbolic(in_.residual[i]);
  }
  Interval gamma_interval(std::int64_t c, mpfr_prec_t p) const {
    return Interval::point(in_.gamma.empty() ? 1.0 : in_.gamma[c], p);
  }
  Interval beta_interval(std::int64_t c, mpfr_prec_t p) const {
    return Interval::point(in_.beta.empty() ? 0.0 : in_.beta[c], p);
  }
  Symbolic gamma_symbolic(std::int64_t c) const {
    return Symbolic(in_.gamma.empty() ? 1.0 : in_.gamma[c]);
  }
  Symbolic beta_symbolic(std::int64_t c) const {
    return Symbolic(in_.beta.empty() ? 0.0 : in_.beta[c]);
  }
};

void init(EngineOutput& o, bool present, std::int64_t n, int base_bits) {
  o.present = present;
  if (present) {
    o.values.assign(static_cast<std::size_t>(n), 0.0);
    o.base_bits = base_bits;
  }
}

template <class F>
void resolve(EngineOutput& o, const std::vector<std::int64_t>& todo, F&& eval) {
  for (std::int64_t i : todo) {
    const CertifiedValue v = eval(i);
    o.values[static_cast<std::size_t>(i)] = v.value;
    o.deferred.push_back({i, v});
  }
}

}  // namespace

std::vector<Rational> to_rationals(std::span<const double> v) {
  std::vector<Rational> out;
  out.reserve(v.size());
  for (double d : v) out.push_back(to_rational(d));
  return out;
}

PreparedInputs prepare_engine_inputs(const NormGeometry& g, const ForwardInputs& in,
                                     std::span<const double> dy, bool forward, bool backward) {
  PreparedInputs p;
  EngineInputs& e = p.inputs;
  e.geometry = g;
  e.x = in.x;
  e.residual = in.residual;
  e.gamma = in.gamma;
  e.beta = in.beta;
  e.dy = dy;
  e.eps = in.eps;
  e.mode = in.mode;
  e.forward = forward;
  e.backward = backward;
  if (uses_running_stats(g.op, in.mode)) {
    // A rational cannot hold NaN or inf: such stats go to the generic path.
    auto finite = [](std::span<const double> v) {
      return std::all_of(v.begin(), v.end(), [](double d) { return std::isfinite(d); });
    };
    p.ready = finite(in.running_mean) && finite(in.running_var);
    if (p.ready) {
      e.running_mean = to_rationals(in.running_mean);
      e.running_var = to_rationals(in.running_var);
    }
  }
  return p;
}

std::optional<EngineResult> try_engine(const NormGeometry& g, const ForwardInputs& in,
                                       std::span<const double> dy, bool forward, bool backward) {
  const PreparedInputs p = prepare_engine_inputs(g, in, dy, forward, backward);
  if (!p.ready || !engine_domain(p.inputs)) return std::nullopt;
  return run_engine(p.inputs);
}

bool engine_domain(const EngineInputs& in) {
  if (!in_exact_domain(in.eps) || !all_in_range(in.x) || !all_in_range(in.residual) ||
      !all_in_range(in.gamma) || !all_in_range(in.beta) || !all_in_range(in.dy))
    return false;
  if (uses_running_stats(in.geometry.op, in.mode))
    for (const Rational& v : in.running_var)
      if (v < 0) return false;
  return true;
}

std::optional<EngineResult> run_engine(const EngineInputs& in) {
  const CanonicalDims d = canonical_dims(in.geometry);
  const std::int64_t groups = d.num_groups(), total = d.n * d.c * d.s, params = d.c;
  const std::int64_t group_n = total / groups;
  const bool rms = in.geometry.op == NormOp::rms_norm;
  const bool fixed = uses_running_stats(in.geometry.op, in.mode);
  const bool fwd = in.forward, bwd = in.backward;
  const bool has_res = !in.residual.empty(), has_g = !in.gamma.empty(), has_b = !in.beta.empty();
  const ConstantOptions opt{rms, bwd && !fixed, in.eps};
  const double* x = in.x.data();
  const double* res = in.residual.data();
  const double* gam = in.gamma.data();
  const double* bet = in.beta.data();
  const double* dy = in.dy.data();

  EngineResult r;
  init(r.y, fwd, total, kDoubleWordBits);
  init(r.residual_out, fwd && has_res, total, kDoubleWordBits);
  init(r.mean, fwd && !rms, groups, kBaseBits);
  init(r.rstd, fwd, groups, kBaseBits);
  init(r.dx, bwd, total, kDoubleWordBits);
  init(r.dgamma, bwd && has_g, params, kDoubleWordBits);
  init(r.dbeta, bwd && has_b, params, kDoubleWordBits);

  std::vector<GroupSource> src(static_cast<std::size_t>(groups));
  std::vector<Ball> dgamma_acc(bwd && has_g ? params : 0), dbeta_acc(bwd && has_b ? params : 0);
  std::vector<char> param_left(static_cast<std::size_t>(params),
                               0);  // a group skipped the fast path
  std::vector<std::int64_t> todo_y, todo_dx, todo_mean, todo_rstd, todo_dgamma, todo_dbeta;

  auto h_of = [&](std::int64_t i) { return has_res ? two_sum(x[i], res[i]) : DW{x[i], 0}; };
  auto gdy_of = [&](std::int64_t i, std::int64_t c) {
    return has_g ? two_prod(gam[c], dy[i]) : DW{dy[i], 0};
  };

  for (std::int64_t g = 0; g < groups; ++g) {
    GroupSource& s = src[static_cast<std::size_t>(g)];
    s.n = group_n;
    if (fixed) {
      const std::int64_t ch = in.geometry.op == NormOp::instance_norm ? g % d.c : g;
      s.fixed = true;
      s.atom_id = ch;
      s.mean_q = in.running_mean[static_cast<std::size_t>(ch)];
      s.var_q = in.running_var[static_cast<std::size_t>(ch)];
    } else {
      s.atom_id = g;
      ExactSum s1, s2, sgdy, sgdyx;
      for_each_in_group(d, g, [&](std::int64_t i, std::int64_t c) {
        const DW h = h_of(i);
        s1.add(h.hi);
        s2.add_product(h.hi, h.hi);
        if (h.lo != 0) {  // (hi + lo)^2 = hi^2 + 2 hi lo + lo^2, each exact
          s1.add(h.lo);
          s2.add_product(2 * h.hi, h.lo);
          s2.add_product(h.lo, h.lo);
        }
        if (opt.grad) {
          const DW gd = gdy_of(i, c);
          sgdy.add(gd.hi);
          sgdy.add(gd.lo);
          sgdyx.add_product(gd.hi, h.hi);
          sgdyx.add_product(gd.lo, h.hi);
          if (h.lo != 0) {
            sgdyx.add_product(gd.hi, h.lo);
            sgdyx.add_product(gd.lo, h.lo);
          }
        }
      });
      s.s1 = s1.to_mpfr();
      s.s2 = s2.to_mpfr();
      if (opt.grad) {
        s.sgdy = sgdy.to_mpfr();
        s.sgdyx = sgdyx.to_mpfr();
      }
    }
    if (is_degenerate(s, opt)) return std::nullopt;
    const Constants<Interval> k = interval_constants(s, opt, kBaseBits);
    if (fwd) {
      double v;
      if (!rms) {
        if (rounds_uniquely(k.mean, v))
          r.mean.values[g] = v;
        else
          todo_mean.push_back(g);
      }
      if (rounds_uniquely(k.rstd, v))
        r.rstd.values[g] = v;
      else
        todo_rstd.push_back(g);
    }
    const std::optional<Ball> mean = to_ball(k.mean), rstd = to_ball(k.rstd), k1 = to_ball(k.k1),
                              k2 = to_ball(k.k2);
    if (!(mean && rstd && k1 && k2)) {  // constants beyond double-word range
      for_each_in_group(d, g, [&](std::int64_t i, std::int64_t c) {
        if (fwd) {
          todo_y.push_back(i);
          if (has_res) r.residual_out.values[i] = canonical(h_of(i).hi);
        }
        if (bwd) todo_dx.push_back(i);
        param_left[static_cast<std::size_t>(c)] = 1;
      });
      continue;
    }
    for_each_in_group(d, g, [&](std::int64_t i, std::int64_t c) {
      const DW h = h_of(i);
      const Ball dev = centered(exact_ball(h), *mean);
      const Ball xhat = dev * *rstd;
      if (fwd) {
        if (has_res) r.residual_out.values[i] = canonical(h.hi);  // hi = RN(x + residual)
        const Ball y = affine(xhat, has_g ? gam[c] : 1.0, has_b ? bet[c] : 0.0);
        if (const auto v = certify(y))
          r.y.values[i] = *v;
        else
          todo_y.push_back(i);
      }
      if (bwd) {
        const Ball dx = input_grad(exact_ball(gdy_of(i, c)), dev, *rstd, *k1, *k2);
        if (const auto v = certify(dx))
          r.dx.values[i] = *v;
        else
          todo_dx.push_back(i);
        if (has_g) dgamma_acc[c] = dgamma_acc[c] + xhat * dy[i];
        if (has_b) dbeta_acc[c] = dbeta_acc[c] + dy[i];
      }
    });
  }

  if (bwd) {
    for (std::int64_t c = 0; c < params; ++c) {
      const bool left = param_left[static_cast<std::size_t>(c)] != 0;
      if (has_g) {
        const auto v = left ? std::nullopt : certify(dgamma_acc[c]);
        if (v)
          r.dgamma.values[c] = *v;
        else
          todo_dgamma.push_back(c);
      }
      if (has_b) {
        const auto v = left ? std::nullopt : certify(dbeta_acc[c]);
        if (v)
          r.dbeta.values[c] = *v;
        else
          todo_dbeta.push_back(c);
      }
    }
  }

  Fallback fb(in, d, src, opt);
  resolve(r.y, todo_y, [&](std::int64_t i) { return fb.y(i); });
  resolve(r.dx, todo_dx, [&](std::int64_t i) { return fb.dx(i); });
  resolve(r.mean, todo_mean, [&](std::int64_t g) { return fb.mean(g); });
  resolve(r.rstd, todo_rstd, [&](std::int64_t g) { return fb.rstd(g); });
  resolve(r.dgamma, todo_dgamma, [&](std::int64_t c) { return fb.dgamma(c); });
  resolve(r.dbeta, todo_dbeta, [&](std::int64_t c) { return fb.dbeta(c); });
  return r;
}

Certification certification_of(const EngineOutput& out, std::int64_t begin, std::int64_t end) {
  Certification c;
  c.method = CertMethod::rigorous;
  c.precision_bits = out.base_bits;
  for (const auto& d : out.deferred) {
    if (d.index < begin || d.index >= end) continue;
    ++c.escalated;
    c.precision_bits = std::max(c.precision_bits, d.result.bits);
    if (d.result.exact) ++c.exact_decisions;
    if (!d.result.certified) ++c.uncertified;
  }
  c.all_certified = c.uncertified == 0;
  return c;
}

CertifiedVector take_certified(EngineOutput& out) {
  CertifiedVector v;
  if (!out.present) return v;
  v.cert = certification_of(out, 0, static_cast<std::int64_t>(out.values.size()));
  v.values = std::move(out.values);
  return v;
}

}  // namespace normcheck::reference::detail
