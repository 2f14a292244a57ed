// Public forward/backward: the rigorous engine where it applies, else the
// generic definition certified by two-precision agreement.

#include "normcheck/reference/normalization.hpp"

#include "norm_engine.hpp"
#include "normcheck/reference/generic.hpp"
#include "two_precision.hpp"

namespace normcheck::reference {

namespace {

using detail::try_engine;

ForwardResult forward_of(detail::EngineResult& r) {
  return {detail::take_certified(r.y), detail::take_certified(r.residual_out),
          detail::take_certified(r.mean), detail::take_certified(r.rstd)};
}

BackwardResult backward_of(detail::EngineResult& r, bool has_residual) {
  BackwardResult b;
  b.dx = detail::take_certified(r.dx);
  if (has_residual) b.dresidual = b.dx;
  b.dgamma = detail::take_certified(r.dgamma);
  b.dbeta = detail::take_certified(r.dbeta);
  return b;
}

}  // namespace

bool rigorous_path_applies(const NormGeometry& g, const ForwardInputs& in,
                           std::span<const double> dy) {
  validate(g, in);
  const detail::PreparedInputs p = detail::prepare_engine_inputs(g, in, dy, true, !dy.empty());
  return p.ready && detail::engine_domain(p.inputs);
}

ForwardResult forward(const NormGeometry& g, const ForwardInputs& in) {
  validate(g, in);
  if (auto r = try_engine(g, in, {}, true, false)) return forward_of(*r);
  return forward_two_precision(g, in);
}

BackwardResult backward(const NormGeometry& g, const ForwardInputs& in,
                        std::span<const double> dy) {
  validate(g, in);
  validate_dy(g, dy);
  if (auto r = try_engine(g, in, dy, false, true)) return backward_of(*r, !in.residual.empty());
  return backward_two_precision(g, in, dy);
}

ForwardBackwardResult forward_backward(const NormGeometry& g, const ForwardInputs& in,
                                       std::span<const double> dy) {
  validate(g, in);
  validate_dy(g, dy);
  if (auto r = try_engine(g, in, dy, true, true))
    return {forward_of(*r), backward_of(*r, !in.residual.empty())};
  return {forward_two_precision(g, in), backward_two_precision(g, in, dy)};
}

ForwardResult forward_two_precision(const NormGeometry& g, const ForwardInputs& in) {
  validate(g, in);
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    ForwardValues<Mpfr> v = generic_forward(lift_problem<Mpfr>(g, in));
    return detail::MpfrOutputs{std::move(v.y), std::move(v.residual_out), std::move(v.mean),
                               std::move(v.rstd)};
  });
  return {std::move(out[0]), std::move(out[1]), std::move(out[2]), std::move(out[3])};
}

BackwardResult backward_two_precision(const NormGeometry& g, const ForwardInputs& in,
                                      std::span<const double> dy) {
  validate(g, in);
  validate_dy(g, dy);
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    BackwardValues<Mpfr> v = generic_backward(lift_problem<Mpfr>(g, in), lift<Mpfr>(dy));
    return detail::MpfrOutputs{std::move(v.dx), std::move(v.dresidual), std::move(v.dgamma),
                               std::move(v.dbeta)};
  });
  return {std::move(out[0]), std::move(out[1]), std::move(out[2]), std::move(out[3])};
}

std::vector<double> condition_numbers(const NormGeometry& g, const ForwardInputs& in) {
  PrecisionScope scope(128);
  const std::vector<Mpfr> k = generic_condition_numbers(lift_problem<Mpfr>(g, in));
  std::vector<double> out;
  out.reserve(k.size());
  for (const Mpfr& v : k) out.push_back(detail::round_to_double(v));
  return out;
}

}  // namespace normcheck::reference
