#pragma once
// Shared helpers for the reference tests: random problems whose values are
// exactly representable in a tested dtype, and bitwise comparisons.

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "normcheck/reference/normalization.hpp"

namespace nc_test {

using namespace normcheck::reference;

enum class DType { f64, f32, bf16, f16 };

// Round to nearest-even with `bits` significant bits and quantum >= min_q:
// the values a kernel of that dtype actually sees.
inline double round_sig(double v, int bits, double min_q) {
  if (v == 0 || !std::isfinite(v)) return v;
  int e;
  std::frexp(v, &e);
  const double q = std::max(std::ldexp(1.0, e - bits), min_q);
  return std::nearbyint(v / q) * q;
}

inline double to_dtype(double v, DType t) {
  switch (t) {
    case DType::f64:
      return v;
    case DType::f32:
      return round_sig(v, 24, 0x1p-149);
    case DType::bf16:
      return round_sig(v, 8, 0x1p-133);
    case DType::f16:
      return round_sig(v, 11, 0x1p-24);
  }
  return v;
}

inline bool same_bits(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

struct ProblemSpec {
  NormGeometry geometry;
  Mode mode = Mode::train;
  DType dtype = DType::f32;
  bool residual = false, gamma = true, beta = true;
  double shift = 0;  // added to x: mean / sigma of the data, the conditioning knob
  double scale = 1;
  double eps = 1e-5;
};

struct TestProblem {
  NormGeometry g;
  std::vector<double> x, residual, gamma, beta, dy, running_mean, running_var;
  double eps = 1e-5;
  Mode mode = Mode::train;

  ForwardInputs inputs() const {
    ForwardInputs in;
    in.x = x;
    in.residual = residual;
    in.gamma = gamma;
    in.beta = beta;
    in.eps = eps;
    in.mode = mode;
    in.running_mean = running_mean;
    in.running_var = running_var;
    return in;
  }
};

inline TestProblem make_problem(std::mt19937_64& rng, const ProblemSpec& s) {
  std::normal_distribution<double> nd;
  TestProblem p;
  p.g = s.geometry;
  p.eps = s.eps;
  p.mode = s.mode;
  const auto n = static_cast<std::size_t>(p.g.num_elements());
  const auto np = static_cast<std::size_t>(p.g.num_params());
  auto fill = [&](std::vector<double>& v, std::size_t k, double mu, double sd) {
    v.resize(k);
    for (auto& e : v) e = to_dtype(mu + sd * nd(rng), s.dtype);
  };
  fill(p.x, n, s.shift, s.scale);
  if (s.residual) fill(p.residual, n, 0, 0.1 * s.scale);
  if (s.gamma) fill(p.gamma, np, 1, 0.5);
  if (s.beta) fill(p.beta, np, 0, 0.5);
  fill(p.dy, n, 0, 1);
  if (uses_running_stats(p.g.op, p.mode)) {
    const auto c = static_cast<std::size_t>(p.g.channels());
    fill(p.running_mean, c, s.shift, 0.5 * s.scale);
    p.running_var.resize(c);
    for (auto& v : p.running_var)
      v = to_dtype(s.scale * s.scale * (0.5 + std::abs(nd(rng))), s.dtype);
  }
  return p;
}

inline NormGeometry geometry(NormOp op, std::vector<std::int64_t> shape, bool channels_last = false,
                             int norm_axis = 1, std::int64_t groups = 1) {
  NormGeometry g;
  g.op = op;
  g.shape = std::move(shape);
  g.channels_last = channels_last;
  g.norm_axis = norm_axis;
  g.groups = groups;
  return g;
}

inline std::string describe(const NormGeometry& g, Mode m) {
  std::string s = std::string(to_string(g.op)) + " [";
  for (auto d : g.shape) s += std::to_string(d) + ",";
  s += "] cl=" + std::to_string(g.channels_last) + " axis=" + std::to_string(g.norm_axis) +
       " G=" + std::to_string(g.groups) + " mode=" + to_string(m);
  return s;
}

// A representative geometry per op, small enough for MPFR evaluations.
inline std::vector<NormGeometry> small_geometries() {
  return {
      geometry(NormOp::batch_norm, {3, 4, 5}),
      geometry(NormOp::batch_norm, {2, 3, 2, 3}, true),
      geometry(NormOp::batch_norm, {4, 3}),
      geometry(NormOp::batch_norm, {2, 2, 2, 2, 3}, true),  // NDHWC
      geometry(NormOp::instance_norm, {2, 3, 7}),
      geometry(NormOp::instance_norm, {2, 2, 3, 2}, true),
      geometry(NormOp::instance_norm, {1, 2, 2, 3, 2}),  // NCDHW
      geometry(NormOp::group_norm, {2, 6, 5}, false, 1, 3),
      geometry(NormOp::group_norm, {2, 2, 2, 4}, true, 1, 2),
      geometry(NormOp::layer_norm, {3, 16}),
      geometry(NormOp::layer_norm, {2, 3, 4, 2}, false, 2),
      geometry(NormOp::rms_norm, {3, 16}),
      geometry(NormOp::rms_norm, {2, 5, 6}, false, 1),
  };
}

}  // namespace nc_test
