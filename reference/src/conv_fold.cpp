// Certified conv-BN folding and exact direct convolution.

#include "normcheck/reference/conv_fold.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

#include "ball.hpp"
#include "certify_value.hpp"
#include "exact_sum.hpp"
#include "group_constants.hpp"
#include "normcheck/reference/generic.hpp"
#include "rounding.hpp"
#include "two_precision.hpp"

namespace normcheck::reference {

namespace {

using detail::Ball;
using detail::Interval;
using detail::Symbolic;

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument(field + ": " + why);
}

void validate_weights(const ConvWeights& w) {
  for (auto v : w.shape)
    if (v < 1) bad("ConvWeights.shape", "every dimension must be >= 1");
  if (static_cast<std::int64_t>(w.weight.size()) !=
      w.shape[0] * w.shape[1] * w.shape[2] * w.shape[3])
    bad("ConvWeights.weight", "size differs from shape");
  if (!w.bias.empty() && static_cast<std::int64_t>(w.bias.size()) != w.shape[0])
    bad("ConvWeights.bias", "needs OC values (or none)");
}

void validate_bn(const BnEvalParams& bn, std::int64_t oc) {
  auto check = [&](std::span<const double> v, const char* name) {
    if (static_cast<std::int64_t>(v.size()) != oc)
      bad(std::string("BnEvalParams.") + name, "needs OC values");
  };
  check(bn.gamma, "gamma");
  check(bn.beta, "beta");
  check(bn.running_mean, "running_mean");
  check(bn.running_var, "running_var");
  if (!std::isfinite(bn.eps) || bn.eps < 0) bad("BnEvalParams.eps", "must be finite and >= 0");
}

bool finite(std::span<const double> v) {
  return std::all_of(v.begin(), v.end(), [](double d) { return std::isfinite(d); });
}

// The rigorous path needs finite BN parameters and rv + eps > 0 (else the
// scale is infinite or NaN: IEEE specials, left to the generic path).
bool bn_regular(const BnEvalParams& bn) {
  if (!finite(bn.gamma) || !finite(bn.beta) || !finite(bn.running_mean) || !finite(bn.running_var))
    return false;
  return std::all_of(bn.running_var.begin(), bn.running_var.end(), [&](double v) {
    return detail::to_rational(v) + detail::to_rational(bn.eps) > 0;
  });
}

// gamma / sqrt(rv + eps) for output channel oc, in each arithmetic.
Interval scale_interval(const BnEvalParams& bn, std::int64_t oc, mpfr_prec_t p) {
  return Interval::point(bn.gamma[oc], p) *
         detail::rec_sqrt(Interval::point(bn.running_var[oc], p) + Interval::point(bn.eps, p));
}
Symbolic scale_symbolic(const BnEvalParams& bn, std::int64_t oc) {
  return Symbolic(bn.gamma[oc]) * Symbolic::inv_sqrt(oc, detail::to_rational(bn.running_var[oc]) +
                                                             detail::to_rational(bn.eps));
}

// Records one value in a certified vector: the ball when it certifies, else
// the rising-precision MPFR path.
class Collector {
 public:
  explicit Collector(std::size_t n) {
    out_.values.resize(n);
    out_.cert.precision_bits = 106;
  }
  template <class Enclose, class Exact>
  void put(std::size_t i, const std::optional<Ball>& b, Enclose&& enclose, Exact&& exact) {
    if (b)
      if (const auto v = detail::certify(*b)) {
        out_.values[i] = *v;
        return;
      }
    const detail::CertifiedValue v = detail::certify_value(enclose, exact);
    out_.values[i] = v.value;
    ++out_.cert.escalated;
    out_.cert.precision_bits = std::max(out_.cert.precision_bits, v.bits);
    if (v.exact) ++out_.cert.exact_decisions;
    if (!v.certified) {
      ++out_.cert.uncertified;
      out_.cert.all_certified = false;
    }
  }
  CertifiedVector take() { return std::move(out_); }

 private:
  CertifiedVector out_;
};

std::optional<Ball> times(const std::optional<Ball>& a, const std::optional<Ball>& b) {
  if (!a || !b) return std::nullopt;
  return *a * *b;
}

ConvShapes shapes_of(const std::array<std::int64_t, 4>& x_shape, const ConvWeights& w,
                     const Conv2dParams& p) {
  ConvShapes s;
  s.x = x_shape;
  s.w = w.shape;
  s.stride_h = p.stride_h;
  s.stride_w = p.stride_w;
  s.pad_h = p.pad_h;
  s.pad_w = p.pad_w;
  s.out();  // validates
  return s;
}

// Exact conv sums (bias included) per output element; nullopt outside the
// exact domain.
std::optional<std::vector<detail::MpfrValue>> exact_conv(std::span<const double> x,
                                                         const ConvShapes& s,
                                                         const ConvWeights& w) {
  auto dom = [](std::span<const double> v) {
    return std::all_of(v.begin(), v.end(), detail::in_exact_domain);
  };
  if (!dom(x) || !dom(w.weight) || !dom(w.bias)) return std::nullopt;
  const auto o = s.out();
  const auto [N, IC, H, W] = s.x;
  const auto [OC, IC2, KH, KW] = s.w;
  (void)IC2;
  std::vector<detail::MpfrValue> out;
  out.reserve(static_cast<std::size_t>(o[0] * o[1] * o[2] * o[3]));
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t oc = 0; oc < OC; ++oc)
      for (std::int64_t oh = 0; oh < o[2]; ++oh)
        for (std::int64_t ow = 0; ow < o[3]; ++ow) {
          detail::ExactSum acc;
          if (!w.bias.empty()) acc.add(w.bias[oc]);
          for (std::int64_t ic = 0; ic < IC; ++ic)
            for (std::int64_t kh = 0; kh < KH; ++kh) {
              const std::int64_t ih = oh * s.stride_h - s.pad_h + kh;
              if (ih < 0 || ih >= H) continue;
              for (std::int64_t kw = 0; kw < KW; ++kw) {
                const std::int64_t iw = ow * s.stride_w - s.pad_w + kw;
                if (iw < 0 || iw >= W) continue;
                acc.add_product(x[((n * IC + ic) * H + ih) * W + iw],
                                w.weight[((oc * IC + ic) * KH + kh) * KW + kw]);
              }
            }
          out.push_back(acc.to_mpfr());
        }
  return out;
}

}  // namespace

FoldedConv fold_conv_bn(const ConvWeights& w, const BnEvalParams& bn) {
  validate_weights(w);
  const std::int64_t oc_n = w.shape[0], per_oc = w.shape[1] * w.shape[2] * w.shape[3];
  validate_bn(bn, oc_n);
  if (bn_regular(bn) && finite(w.weight) && finite(w.bias)) {
    Collector weight(w.weight.size()), bias(static_cast<std::size_t>(oc_n));
    for (std::int64_t oc = 0; oc < oc_n; ++oc) {
      const std::optional<Ball> scale = detail::to_ball(scale_interval(bn, oc, 192));
      for (std::int64_t k = 0; k < per_oc; ++k) {
        const std::size_t i = static_cast<std::size_t>(oc * per_oc + k);
        const double wv = w.weight[i];
        weight.put(
            i, times(detail::exact_ball(wv), scale),
            [&](mpfr_prec_t p) { return Interval::point(wv, p) * scale_interval(bn, oc, p); },
            [&] { return Symbolic(wv) * scale_symbolic(bn, oc); });
      }
      const double b = w.bias.empty() ? 0.0 : w.bias[oc];
      const double rm = bn.running_mean[oc], beta = bn.beta[oc];
      std::optional<Ball> fb;
      if (scale) fb = (detail::exact_ball(b) - detail::exact_ball(rm)) * *scale + beta;
      bias.put(
          static_cast<std::size_t>(oc), fb,
          [&](mpfr_prec_t p) {
            return (Interval::point(b, p) - Interval::point(rm, p)) * scale_interval(bn, oc, p) +
                   Interval::point(beta, p);
          },
          [&] { return (Symbolic(b) - Symbolic(rm)) * scale_symbolic(bn, oc) + Symbolic(beta); });
    }
    return {weight.take(), bias.take()};
  }
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    auto f = generic_fold_conv_bn(
        lift<Mpfr>(w.weight), w.shape, lift<Mpfr>(w.bias), lift<Mpfr>(bn.gamma),
        lift<Mpfr>(bn.beta), lift<Mpfr>(bn.running_mean), lift<Mpfr>(bn.running_var), Mpfr(bn.eps));
    return detail::MpfrOutputs{std::move(f.weight), std::move(f.bias)};
  });
  return {std::move(out[0]), std::move(out[1])};
}

std::array<std::int64_t, 4> conv2d_output_shape(const std::array<std::int64_t, 4>& x_shape,
                                                const ConvWeights& w, const Conv2dParams& p) {
  return shapes_of(x_shape, w, p).out();
}

CertifiedVector conv2d(std::span<const double> x, const std::array<std::int64_t, 4>& x_shape,
                       const ConvWeights& w, const Conv2dParams& p) {
  validate_weights(w);
  const ConvShapes s = shapes_of(x_shape, w, p);
  if (static_cast<std::int64_t>(x.size()) != x_shape[0] * x_shape[1] * x_shape[2] * x_shape[3])
    bad("conv2d x", "size differs from x_shape");
  if (auto sums = exact_conv(x, s, w)) {
    CertifiedVector out;
    out.cert.precision_bits = 0;  // exact sums, rounded once
    for (const auto& v : *sums) out.values.push_back(detail::round_exact(v.get()));
    return out;
  }
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    return detail::MpfrOutputs{
        generic_conv2d(lift<Mpfr>(x), lift<Mpfr>(w.weight), lift<Mpfr>(w.bias), s)};
  });
  return std::move(out[0]);
}

CertifiedVector conv2d_bn_eval(std::span<const double> x,
                               const std::array<std::int64_t, 4>& x_shape, const ConvWeights& w,
                               const Conv2dParams& p, const BnEvalParams& bn) {
  validate_weights(w);
  validate_bn(bn, w.shape[0]);
  const ConvShapes s = shapes_of(x_shape, w, p);
  if (static_cast<std::int64_t>(x.size()) != x_shape[0] * x_shape[1] * x_shape[2] * x_shape[3])
    bad("conv2d_bn_eval x", "size differs from x_shape");
  const auto o = s.out();
  const std::int64_t plane = o[2] * o[3];
  std::optional<std::vector<detail::MpfrValue>> sums;
  if (bn_regular(bn)) sums = exact_conv(x, s, w);
  if (sums) {
    Collector out(sums->size());
    std::vector<std::optional<Ball>> scales;
    for (std::int64_t oc = 0; oc < o[1]; ++oc)
      scales.push_back(detail::to_ball(scale_interval(bn, oc, 192)));
    for (std::size_t i = 0; i < sums->size(); ++i) {
      const std::int64_t oc = (static_cast<std::int64_t>(i) / plane) % o[1];
      const detail::MpfrValue& sum = (*sums)[i];
      const double rm = bn.running_mean[oc], beta = bn.beta[oc];
      std::optional<Ball> b;
      if (const auto sb = detail::to_ball(Interval::enclose(sum.get(), 192)); sb && scales[oc])
        b = (*sb - detail::exact_ball(rm)) * *scales[oc] + beta;
      out.put(
          i, b,
          [&](mpfr_prec_t pr) {
            return (Interval::enclose(sum.get(), pr) - Interval::point(rm, pr)) *
                       scale_interval(bn, oc, pr) +
                   Interval::point(beta, pr);
          },
          [&] {
            return (Symbolic(detail::to_rational(sum.get())) - Symbolic(rm)) *
                       scale_symbolic(bn, oc) +
                   Symbolic(beta);
          });
    }
    return out.take();
  }
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    Problem<Mpfr> prob;
    prob.geometry.op = NormOp::batch_norm;
    prob.geometry.shape = {o[0], o[1], o[2], o[3]};
    prob.mode = Mode::eval;
    prob.eps = Mpfr(bn.eps);
    prob.x = generic_conv2d(lift<Mpfr>(x), lift<Mpfr>(w.weight), lift<Mpfr>(w.bias), s);
    prob.gamma = lift<Mpfr>(bn.gamma);
    prob.beta = lift<Mpfr>(bn.beta);
    prob.running_mean = lift<Mpfr>(bn.running_mean);
    prob.running_var = lift<Mpfr>(bn.running_var);
    return detail::MpfrOutputs{generic_forward(prob).y};
  });
  return std::move(out[0]);
}

}  // namespace normcheck::reference
