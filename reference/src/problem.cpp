#include "normcheck/reference/problem.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "normcheck/reference/certification.hpp"

namespace normcheck::reference {

namespace {
[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument("ForwardInputs." + field + ": " + why);
}

void check_size(const char* field, std::size_t got, std::int64_t want, bool optional) {
  if (optional && got == 0) return;
  if (static_cast<std::int64_t>(got) != want)
    bad(field, "has " + std::to_string(got) + " values, expected " + std::to_string(want) +
                   (optional ? " (or none)" : ""));
}
}  // namespace

const char* to_string(Mode m) {
  switch (m) {
    case Mode::train:
      return "train";
    case Mode::eval:
      return "eval";
    case Mode::global_stats:
      return "global_stats";
  }
  return "unknown";
}

const char* to_string(CertMethod m) {
  switch (m) {
    case CertMethod::rigorous:
      return "rigorous";
    case CertMethod::two_precision:
      return "two_precision";
  }
  return "unknown";
}

void Certification::merge(const Certification& o) {
  if (o.method == CertMethod::two_precision) method = CertMethod::two_precision;
  precision_bits = std::max(precision_bits, o.precision_bits);
  all_certified = all_certified && o.all_certified;
  escalated += o.escalated;
  exact_decisions += o.exact_decisions;
  uncertified += o.uncertified;
}

bool uses_running_stats(NormOp op, Mode mode) {
  return mode != Mode::train && (op == NormOp::batch_norm || op == NormOp::instance_norm);
}

void validate(const NormGeometry& g, const ForwardInputs& in) {
  g.validate();
  if (in.mode != Mode::train && in.mode != Mode::eval && in.mode != Mode::global_stats)
    bad("mode", "not a Mode value");
  const std::int64_t n = g.num_elements();
  check_size("x", in.x.size(), n, false);
  if (!in.residual.empty() && g.op != NormOp::layer_norm && g.op != NormOp::rms_norm)
    bad("residual", "only layer_norm and rms_norm take a residual");
  check_size("residual", in.residual.size(), n, true);
  check_size("gamma", in.gamma.size(), g.num_params(), true);
  check_size("beta", in.beta.size(), g.num_params(), true);
  if (!std::isfinite(in.eps) || in.eps < 0) bad("eps", "must be finite and >= 0");
  if (uses_running_stats(g.op, in.mode)) {
    check_size("running_mean", in.running_mean.size(), g.channels(), false);
    check_size("running_var", in.running_var.size(), g.channels(), false);
  }
}

void validate_dy(const NormGeometry& g, std::span<const double> dy) {
  check_size("dy", dy.size(), g.num_elements(), false);
}

}  // namespace normcheck::reference
