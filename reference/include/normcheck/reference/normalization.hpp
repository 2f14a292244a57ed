#pragma once
// Certified forward and backward of batch/instance/group/layer/rms norm.
// Each returned double is the exact mathematical result rounded once to
// nearest (see certification.hpp); formulas and conventions: README.md.

#include <span>
#include <vector>

#include "normcheck/reference/certification.hpp"
#include "normcheck/reference/geometry.hpp"
#include "normcheck/reference/problem.hpp"

namespace normcheck::reference {

struct ForwardResult {
  CertifiedVector y;             // num_elements
  CertifiedVector residual_out;  // h = x + residual (empty without residual)
  CertifiedVector mean;          // per stat group; empty for rms_norm
  CertifiedVector rstd;          // per stat group: 1/sqrt(var + eps) (rms: 1/sqrt(mean(h^2) + eps))
};

struct BackwardResult {
  CertifiedVector dx;
  CertifiedVector dresidual;  // == dx when a residual was given, else empty
  CertifiedVector dgamma;     // num_params; empty without gamma
  CertifiedVector dbeta;      // num_params; empty without beta
};

struct ForwardBackwardResult {
  ForwardResult forward;
  BackwardResult backward;
};

ForwardResult forward(const NormGeometry& g, const ForwardInputs& in);
BackwardResult backward(const NormGeometry& g, const ForwardInputs& in, std::span<const double> dy);
// Both at once; the exact per-group sums are shared, so this is the fast way.
ForwardBackwardResult forward_backward(const NormGeometry& g, const ForwardInputs& in,
                                       std::span<const double> dy);

// The same results from the generic MPFR definition, certified by agreement
// of two precisions (CertMethod::two_precision). Slow; for cross-checks and
// for inputs outside the rigorous path's domain (used automatically there).
ForwardResult forward_two_precision(const NormGeometry& g, const ForwardInputs& in);
BackwardResult backward_two_precision(const NormGeometry& g, const ForwardInputs& in,
                                      std::span<const double> dy);

// True when the inputs lie in the rigorous fast path's domain (all finite,
// |v| in {0} U [2^-300, 2^300], running variances >= 0). A group with
// var + eps == 0 exactly still sends the problem to the generic path;
// Certification::method always says which path produced a value.
bool rigorous_path_applies(const NormGeometry& g, const ForwardInputs& in,
                           std::span<const double> dy = {});

// Per stat group: kappa = max|h| / sqrt(var + eps) (rms: max|h| / sqrt(mean(h^2) + eps)),
// with the statistics actually used (running ones in eval). A kernel that
// forms h - mean in working precision u errs by about u * max|h| there, so
// its y has relative error about u * kappa (README.md, "Conditioning").
// Not certified: a 128-bit estimate rounded to double.
std::vector<double> condition_numbers(const NormGeometry& g, const ForwardInputs& in);

}  // namespace normcheck::reference
