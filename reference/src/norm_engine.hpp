#pragma once
// The rigorous fast path for forward and backward of every op:
//  1. per stat group, exact sums of h, h^2, g*dy, g*dy*h (ExactSum);
//  2. group constants (mean, rstd, k1, k2) enclosed in MPFR at 192 bits from
//     the exact sums, then held as double-word balls;
//  3. every element evaluated in double-word ball arithmetic and certified
//     when its ball lies inside one rounding interval;
//  4. the rest re-enclosed in MPFR intervals at rising precision, with exact
//     symbolic comparison for values sitting on a boundary (certify_value).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "certify_value.hpp"
#include "normcheck/reference/certification.hpp"
#include "normcheck/reference/geometry.hpp"
#include "normcheck/reference/problem.hpp"
#include "rational.hpp"

namespace normcheck::reference::detail {

struct EngineInputs {
  NormGeometry geometry;
  std::span<const double> x, residual, gamma, beta, dy;
  double eps = 0;
  Mode mode = Mode::train;
  std::vector<Rational> running_mean, running_var;  // per channel, when the mode uses them
  bool forward = true;
  bool backward = false;
};

struct EngineOutput {
  bool present = false;
  std::vector<double> values;
  int base_bits = 0;  // precision of the first evaluation
  struct Deferred {
    std::int64_t index;
    CertifiedValue result;
  };
  std::vector<Deferred> deferred;  // elements that needed the MPFR path, by index
};

struct EngineResult {
  EngineOutput y, residual_out, mean, rstd, dx, dgamma, dbeta;
};

// Engine inputs for a public problem; running stats become exact rationals.
// ready is false when the mode needs running stats that are not all finite.
struct PreparedInputs {
  EngineInputs inputs;
  bool ready = true;
};
PreparedInputs prepare_engine_inputs(const NormGeometry& g, const ForwardInputs& in,
                                     std::span<const double> dy, bool forward, bool backward);

// The engine on a public problem: nullopt when outside its domain or degenerate.
std::optional<EngineResult> try_engine(const NormGeometry& g, const ForwardInputs& in,
                                       std::span<const double> dy, bool forward, bool backward);

std::vector<Rational> to_rationals(std::span<const double> v);

// True when every input is finite and zero or of magnitude in [2^-300, 2^300]
// (so all products in the exact sums are exact TwoProducts) and running
// variances are >= 0.
bool engine_domain(const EngineInputs& in);

// nullopt when some group has v == var + eps == 0 exactly (IEEE specials,
// left to the generic path).
std::optional<EngineResult> run_engine(const EngineInputs& in);

// Certification of out.values[begin, end).
Certification certification_of(const EngineOutput& out, std::int64_t begin, std::int64_t end);

// Moves an engine output into a public certified vector (empty if absent).
CertifiedVector take_certified(EngineOutput& out);

}  // namespace normcheck::reference::detail
