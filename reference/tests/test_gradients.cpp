// Gradients of the generic MPFR definition against central finite
// differences of its own forward, for every op and mode, with h = 2^-60 at
// 320 bits. Truncation error is about h^2 * |L'''| ~ 1e-36 relative and
// rounding error about 2^-320 * |L| / h ~ 2^-250, so agreement to 25
// significant digits (tolerance 1e-25 of the gradient's scale) leaves room
// while catching any formula error. Then the certified doubles must be the
// finite-difference value rounded: within half an ulp (+1e-25 relative).

#include <catch2/catch.hpp>

#include "normcheck/reference/generic.hpp"
#include "support.hpp"

using namespace nc_test;

namespace {

constexpr unsigned kBits = 320;

// L = sum(dy * y): its gradient w.r.t. any input is what backward returns.
Mpfr loss(const normcheck::reference::Problem<Mpfr>& q, const std::vector<Mpfr>& dy) {
  const auto f = generic_forward(q);
  Mpfr s = 0;
  for (std::size_t i = 0; i < dy.size(); ++i) s += dy[i] * f.y[i];
  return s;
}

// Central difference of L along direction dir applied to one input vector.
Mpfr central_difference(const normcheck::reference::Problem<Mpfr>& q,
                        std::vector<Mpfr> normcheck::reference::Problem<Mpfr>::*field,
                        const std::vector<Mpfr>& dir, const std::vector<Mpfr>& dy) {
  const Mpfr h = boost::multiprecision::ldexp(Mpfr(1), -60);
  auto plus = q, minus = q;
  for (std::size_t i = 0; i < dir.size(); ++i) {
    (plus.*field)[i] += h * dir[i];
    (minus.*field)[i] -= h * dir[i];
  }
  return (loss(plus, dy) - loss(minus, dy)) / (2 * h);
}

Mpfr dot(const std::vector<Mpfr>& a, const std::vector<Mpfr>& b) {
  Mpfr s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

double max_abs(const std::vector<Mpfr>& v) {
  double m = 0;
  for (const auto& e : v) m = std::max(m, std::abs(static_cast<double>(e)));
  return m;
}

void check_close(const Mpfr& fd, const Mpfr& an, double scale, const std::string& what) {
  INFO(what << " fd=" << static_cast<double>(fd) << " analytic=" << static_cast<double>(an));
  CHECK(static_cast<double>(abs(fd - an)) <= 1e-25 * scale);
}

// The certified double of an exact gradient g must be g rounded: |d - g| <= ulp/2.
void check_rounded(double certified, const Mpfr& fd, double scale, const std::string& what) {
  const double f = static_cast<double>(fd);
  const double half_ulp = 0.5 * (std::nextafter(std::abs(f), INFINITY) - std::abs(f));
  INFO(what << " certified=" << certified << " fd=" << f);
  CHECK(static_cast<double>(abs(Mpfr(certified) - fd)) <= half_ulp * (1 + 1e-9) + 1e-25 * scale);
}

struct GradCase {
  ProblemSpec spec;
  bool per_element;  // else: random directions
};

void run_case(std::mt19937_64& rng, const GradCase& c) {
  const TestProblem p = make_problem(rng, c.spec);
  INFO(describe(p.g, p.mode) << " residual=" << !p.residual.empty());
  PrecisionScope scope(kBits);
  const auto q = normcheck::reference::lift_problem<Mpfr>(p.g, p.inputs());
  const auto dy = lift<Mpfr>(p.dy);
  const auto an = generic_backward(q, dy);
  const auto cert = normcheck::reference::backward(p.g, p.inputs(), p.dy);
  using Q = normcheck::reference::Problem<Mpfr>;
  struct Input {
    const char* name;
    std::vector<Mpfr> Q::*field;
    const std::vector<Mpfr>* grad;
    const std::vector<double>* certified;
  };
  std::vector<Input> inputs{{"x", &Q::x, &an.dx, &cert.dx.values}};
  if (!p.residual.empty())
    inputs.push_back({"residual", &Q::residual, &an.dresidual, &cert.dresidual.values});
  if (!p.gamma.empty()) inputs.push_back({"gamma", &Q::gamma, &an.dgamma, &cert.dgamma.values});
  if (!p.beta.empty()) inputs.push_back({"beta", &Q::beta, &an.dbeta, &cert.dbeta.values});
  for (const Input& in : inputs) {
    const std::vector<Mpfr>& grad = *in.grad;
    const double scale = std::max(max_abs(grad), 1e-300);
    if (c.per_element) {
      for (std::size_t i = 0; i < grad.size(); ++i) {
        std::vector<Mpfr> e(grad.size(), Mpfr(0));
        e[i] = 1;
        const Mpfr fd = central_difference(q, in.field, e, dy);
        const std::string what = std::string(in.name) + "[" + std::to_string(i) + "]";
        check_close(fd, grad[i], scale, what);
        check_rounded((*in.certified)[i], fd, scale, what);
      }
    } else {
      std::normal_distribution<double> nd;
      for (int k = 0; k < 3; ++k) {
        std::vector<Mpfr> dir(grad.size());
        for (auto& v : dir) v = nd(rng);
        const Mpfr fd = central_difference(q, in.field, dir, dy);
        check_close(fd, dot(grad, dir), scale * std::sqrt(double(grad.size())),
                    std::string(in.name) + " along random direction");
      }
    }
  }
}

}  // namespace

TEST_CASE("gradients match finite differences per element, every op and mode", "[gradients]") {
  std::mt19937_64 rng(11);
  for (const NormGeometry& g : small_geometries())
    for (Mode m : {Mode::train, Mode::eval, Mode::global_stats}) {
      ProblemSpec s;
      s.geometry = g;
      s.mode = m;
      s.residual = g.op == NormOp::layer_norm || g.op == NormOp::rms_norm;
      run_case(rng, {s, true});
    }
}

TEST_CASE("gradients match finite differences along random directions", "[gradients]") {
  std::mt19937_64 rng(12);
  const std::vector<NormGeometry> larger{
      geometry(NormOp::batch_norm, {6, 8, 9}),
      geometry(NormOp::batch_norm, {4, 5, 6, 8}, true),
      geometry(NormOp::instance_norm, {3, 4, 5, 5}),
      geometry(NormOp::group_norm, {3, 8, 20}, false, 1, 4),
      geometry(NormOp::layer_norm, {8, 96}),
      geometry(NormOp::rms_norm, {8, 96}),
  };
  for (const NormGeometry& g : larger)
    for (Mode m : {Mode::train, Mode::eval}) {
      ProblemSpec s;
      s.geometry = g;
      s.mode = m;
      s.shift = 3;  // mildly ill-conditioned, so mean terms matter
      s.residual = g.op == NormOp::layer_norm;
      run_case(rng, {s, false});
    }
}
