// Invariances the exact results must satisfy bit for bit (tolerance 0: both
// sides are the same exact real, rounded once), plus the generic MPFR
// definitions agreeing to 2^-240 relative where they compute the same
// quantity by different routes at 256 bits.

#include <catch2/catch.hpp>

#include "normcheck/reference/conv_fold.hpp"
#include "normcheck/reference/generic.hpp"
#include "normcheck/reference/sync_batch_norm.hpp"
#include "support.hpp"

using namespace nc_test;

namespace {

std::vector<double> slice(const std::vector<double>& v, std::size_t begin, std::size_t n) {
  return {v.begin() + static_cast<std::ptrdiff_t>(begin),
          v.begin() + static_cast<std::ptrdiff_t>(begin + n)};
}

void check_same(const std::vector<double>& a, const std::vector<double>& b,
                const std::string& what) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO(what << "[" << i << "] " << a[i] << " vs " << b[i]);
    CHECK(same_bits(a[i], b[i]));
  }
}

}  // namespace

TEST_CASE("per-sample ops ignore the rest of the batch", "[invariance]") {
  std::mt19937_64 rng(21);
  const std::vector<NormGeometry> geos{geometry(NormOp::layer_norm, {3, 2, 8}),
                                       geometry(NormOp::rms_norm, {3, 16}),
                                       geometry(NormOp::group_norm, {3, 6, 4}, false, 1, 2),
                                       geometry(NormOp::instance_norm, {3, 2, 5}),
                                       geometry(NormOp::group_norm, {3, 2, 2, 4}, true, 1, 2)};
  for (const NormGeometry& g : geos) {
    ProblemSpec s;
    s.geometry = g;
    s.shift = 2;
    const TestProblem p = make_problem(rng, s);
    const auto full = forward_backward(g, p.inputs(), p.dy);
    const std::size_t per = static_cast<std::size_t>(g.num_elements() / g.shape[0]);
    for (std::int64_t n = 0; n < g.shape[0]; ++n) {
      TestProblem one = p;
      one.g.shape[0] = 1;
      one.x = slice(p.x, n * per, per);
      one.dy = slice(p.dy, n * per, per);
      const auto part = forward_backward(one.g, one.inputs(), one.dy);
      INFO(describe(g, Mode::train) << " sample " << n);
      check_same(part.forward.y.values, slice(full.forward.y.values, n * per, per), "y");
      check_same(part.backward.dx.values, slice(full.backward.dx.values, n * per, per), "dx");
    }
  }
}

TEST_CASE("layer_norm ignores a constant shift, and positive scaling when eps = 0",
          "[invariance]") {
  std::mt19937_64 rng(22);
  ProblemSpec s;
  s.geometry = geometry(NormOp::layer_norm, {4, 32});
  s.dtype = DType::bf16;  // 8-bit values: x + 64 and 3 * x stay exact in double
  const TestProblem p = make_problem(rng, s);
  const auto base = forward_backward(p.g, p.inputs(), p.dy);
  TestProblem shifted = p;
  for (auto& v : shifted.x) v += 64;
  const auto sh = forward_backward(p.g, shifted.inputs(), p.dy);
  check_same(sh.forward.y.values, base.forward.y.values, "y shifted");
  check_same(sh.backward.dx.values, base.backward.dx.values, "dx shifted");
  check_same(sh.forward.rstd.values, base.forward.rstd.values, "rstd shifted");

  TestProblem p0 = p, scaled = p;
  p0.eps = 0;
  scaled.eps = 0;
  for (auto& v : scaled.x) v *= 3;
  const auto a = forward(p0.g, p0.inputs()), b = forward(scaled.g, scaled.inputs());
  check_same(b.y.values, a.y.values, "y scaled by 3");
}

TEST_CASE("SyncBatchNorm over any split equals batch_norm over the whole batch", "[invariance]") {
  std::mt19937_64 rng(23);
  for (bool cl : {false, true}) {
    ProblemSpec s;
    s.geometry = cl ? geometry(NormOp::batch_norm, {7, 3, 2, 3}, true)
                    : geometry(NormOp::batch_norm, {7, 3, 5});
    s.shift = 1;
    const TestProblem p = make_problem(rng, s);
    const std::vector<double> rm(3, 0.5), rv(3, 2.0);
    RunningStatsUpdate u;
    const auto whole = forward_backward(p.g, p.inputs(), p.dy);
    const auto whole_rs = update_running_stats(p.g, p.x, rm, rv, u);
    const std::size_t per = static_cast<std::size_t>(p.g.num_elements() / 7);
    for (const std::vector<std::int64_t>& split : std::vector<std::vector<std::int64_t>>{
             {7}, {1, 6}, {3, 4}, {2, 2, 3}, {1, 1, 1, 1, 1, 1, 1}}) {
      SyncBatchNormInputs in;
      in.geometry = p.g;
      in.shard_batch = split;
      std::vector<std::vector<double>> xs, dys;
      std::size_t at = 0;
      for (auto n : split) {
        xs.push_back(slice(p.x, at, n * per));
        dys.push_back(slice(p.dy, at, n * per));
        at += n * per;
      }
      for (std::size_t r = 0; r < split.size(); ++r) {
        in.x.push_back(xs[r]);
        in.dy.push_back(dys[r]);
      }
      in.gamma = p.gamma;
      in.beta = p.beta;
      in.eps = p.eps;
      in.running_mean = rm;
      in.running_var = rv;
      in.update = u;
      const SyncBatchNormResult r = sync_batch_norm(in);
      at = 0;
      for (std::size_t k = 0; k < split.size(); ++k) {
        check_same(r.y[k].values, slice(whole.forward.y.values, at, split[k] * per), "y shard");
        check_same(r.dx[k].values, slice(whole.backward.dx.values, at, split[k] * per), "dx shard");
        at += split[k] * per;
      }
      check_same(r.mean.values, whole.forward.mean.values, "mean");
      check_same(r.rstd.values, whole.forward.rstd.values, "rstd");
      check_same(r.dgamma.values, whole.backward.dgamma.values, "dgamma");
      check_same(r.dbeta.values, whole.backward.dbeta.values, "dbeta");
      check_same(r.running->mean.values, whole_rs.mean.values, "running mean");
      check_same(r.running->var.values, whole_rs.var.values, "running var");

      // The distributed generic definition (per-shard stats combined with
      // Chan's formula) against generic batch_norm on the concatenation.
      PrecisionScope scope(256);
      SyncProblem<Mpfr> sp;
      sp.geometry = p.g;
      sp.shard_batch = split;
      for (std::size_t k = 0; k < split.size(); ++k) {
        sp.x.push_back(lift<Mpfr>(xs[k]));
        sp.dy.push_back(lift<Mpfr>(dys[k]));
      }
      sp.gamma = lift<Mpfr>(p.gamma);
      sp.beta = lift<Mpfr>(p.beta);
      sp.eps = Mpfr(p.eps);
      const auto gs = generic_sync_batch_norm(sp);
      const auto q = lift_problem<Mpfr>(p.g, p.inputs());
      const auto gf = generic_forward(q);
      const auto gb = generic_backward(q, lift<Mpfr>(p.dy));
      at = 0;
      for (std::size_t k = 0; k < split.size(); ++k) {
        for (std::size_t i = 0; i < gs.y[k].size(); ++i) {
          CHECK(static_cast<double>(abs(gs.y[k][i] - gf.y[at + i])) <= 0x1p-240);
          CHECK(static_cast<double>(abs(gs.dx[k][i] - gb.dx[at + i])) <= 0x1p-240);
        }
        at += gs.y[k].size();
      }
    }
  }
}

TEST_CASE("folded conv equals conv followed by eval batch_norm", "[invariance]") {
  std::mt19937_64 rng(24);
  std::normal_distribution<double> nd;
  auto fill = [&](std::size_t n, double mu, double sd) {
    std::vector<double> v(n);
    for (auto& e : v) e = to_dtype(mu + sd * nd(rng), DType::f32);
    return v;
  };
  const std::array<std::int64_t, 4> xs{2, 3, 7, 6}, ws{4, 3, 3, 2};
  const auto x = fill(2 * 3 * 7 * 6, 0, 1), w = fill(4 * 3 * 3 * 2, 0, 0.3), b = fill(4, 0, 0.1);
  const auto gamma = fill(4, 1, 0.3), beta = fill(4, 0, 0.3), rm = fill(4, 0, 0.5);
  std::vector<double> rv = fill(4, 0, 1);
  for (auto& v : rv) v = std::abs(v) + 0.25;
  ConvWeights cw{w, ws, b};
  BnEvalParams bn{gamma, beta, rm, rv, 1e-5};
  Conv2dParams cp{2, 1, 1, 0};

  // At 256 bits: conv(x, W') + b' == BN_eval(conv(x, W) + b) to 2^-240.
  {
    PrecisionScope scope(256);
    ConvShapes s{xs, ws, 2, 1, 1, 0};
    const auto folded =
        generic_fold_conv_bn(lift<Mpfr>(w), ws, lift<Mpfr>(b), lift<Mpfr>(gamma), lift<Mpfr>(beta),
                             lift<Mpfr>(rm), lift<Mpfr>(rv), Mpfr(1e-5));
    const auto lhs = generic_conv2d(lift<Mpfr>(x), folded.weight, folded.bias, s);
    normcheck::reference::Problem<Mpfr> q;
    const auto o = s.out();
    q.geometry = geometry(NormOp::batch_norm, {o[0], o[1], o[2], o[3]});
    q.mode = Mode::eval;
    q.eps = Mpfr(1e-5);
    q.x = generic_conv2d(lift<Mpfr>(x), lift<Mpfr>(w), lift<Mpfr>(b), s);
    q.gamma = lift<Mpfr>(gamma);
    q.beta = lift<Mpfr>(beta);
    q.running_mean = lift<Mpfr>(rm);
    q.running_var = lift<Mpfr>(rv);
    const auto rhs = generic_forward(q).y;
    REQUIRE(lhs.size() == rhs.size());
    for (std::size_t i = 0; i < lhs.size(); ++i)
      CHECK(static_cast<double>(abs(lhs[i] - rhs[i])) <= 0x1p-240);
  }
  // Certified: the composite equals the generic composite rounded once; the
  // folded parameters equal the generic fold rounded once.
  const CertifiedVector composite = conv2d_bn_eval(x, xs, cw, cp, bn);
  const FoldedConv folded = fold_conv_bn(cw, bn);
  CHECK(composite.cert.all_certified);
  PrecisionScope scope(512);
  ConvShapes s{xs, ws, 2, 1, 1, 0};
  const auto gfold =
      generic_fold_conv_bn(lift<Mpfr>(w), ws, lift<Mpfr>(b), lift<Mpfr>(gamma), lift<Mpfr>(beta),
                           lift<Mpfr>(rm), lift<Mpfr>(rv), Mpfr(1e-5));
  const auto gcomp = generic_conv2d(lift<Mpfr>(x), gfold.weight, gfold.bias, s);
  for (std::size_t i = 0; i < gcomp.size(); ++i)
    CHECK(composite.values[i] == static_cast<double>(gcomp[i]));
  for (std::size_t i = 0; i < gfold.weight.size(); ++i)
    CHECK(folded.weight.values[i] == static_cast<double>(gfold.weight[i]));
  for (std::size_t i = 0; i < gfold.bias.size(); ++i)
    CHECK(folded.bias.values[i] == static_cast<double>(gfold.bias[i]));
  // And the exact conv, rounded once, against the generic conv at 512 bits.
  const CertifiedVector plain = conv2d(x, xs, cw, cp);
  const auto gplain = generic_conv2d(lift<Mpfr>(x), lift<Mpfr>(w), lift<Mpfr>(b), s);
  for (std::size_t i = 0; i < gplain.size(); ++i)
    CHECK(plain.values[i] == static_cast<double>(gplain[i]));
}
