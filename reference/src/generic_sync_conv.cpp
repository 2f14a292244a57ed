// The generic definitions of SyncBatchNorm (written the distributed way) and
// of conv2d / conv-BN folding.

#include <numeric>
#include <stdexcept>

#include "normcheck/reference/generic.hpp"

namespace normcheck::reference {

namespace {
[[noreturn]] void bad(const std::string& what) {
  throw std::invalid_argument(what);
}
}  // namespace

template <class T>
SyncValues<T> generic_sync_batch_norm(const SyncProblem<T>& p) {
  using std::sqrt;
  if (p.geometry.op != NormOp::batch_norm)
    bad("SyncBatchNormInputs.geometry.op: must be batch_norm");
  const CanonicalDims d = canonical_dims(p.geometry);
  const std::size_t shards = p.shard_batch.size();
  if (std::accumulate(p.shard_batch.begin(), p.shard_batch.end(), std::int64_t{0}) != d.n)
    bad("SyncBatchNormInputs.shard_batch: must sum to geometry.shape[0]");
  if (p.x.size() != shards) bad("SyncBatchNormInputs.x: one span per shard");
  const bool backward = !p.dy.empty();
  if (backward && p.dy.size() != shards) bad("SyncBatchNormInputs.dy: one span per shard");
  std::vector<CanonicalDims> sd(shards, d);
  for (std::size_t r = 0; r < shards; ++r) {
    sd[r].n = p.shard_batch[r];
    const auto sz = static_cast<std::size_t>(sd[r].n * d.c * d.s);
    if (p.shard_batch[r] < 1 || p.x[r].size() != sz || (backward && p.dy[r].size() != sz))
      bad("SyncBatchNormInputs.x/dy: shard sizes disagree with shard_batch");
  }
  auto each = [&](std::size_t r, std::int64_t c, auto&& f) {
    for (std::int64_t in = 0; in < sd[r].n; ++in)
      for (std::int64_t is = 0; is < d.s; ++is) f(sd[r].flat(in, c, is));
  };
  auto gam = [&](std::int64_t c) { return p.gamma.empty() ? T(1) : p.gamma[c]; };
  auto bet = [&](std::int64_t c) { return p.beta.empty() ? T(0) : p.beta[c]; };

  const bool train = p.mode == Mode::train;
  const T one(1);
  const T n_global(static_cast<double>(d.n * d.s));
  SyncValues<T> out;
  out.mean.assign(d.c, T(0));
  out.rstd.assign(d.c, T(0));
  std::vector<T> var_global(d.c, T(0));
  for (std::int64_t c = 0; c < d.c; ++c) {
    if (!train) {
      out.mean[c] = p.running_mean[c];
      out.rstd[c] = one / sqrt(p.running_var[c] + p.eps);
      continue;
    }
    // Each rank's local (count, mean, biased var), all-gathered and combined
    // with Chan et al.'s parallel formula (batch_norm_gather_stats_with_counts).
    std::vector<T> lm(shards), lv(shards), ln(shards);
    for (std::size_t r = 0; r < shards; ++r) {
      ln[r] = T(static_cast<double>(sd[r].n * d.s));
      T s(0);
      each(r, c, [&](std::int64_t i) { s += p.x[r][i]; });
      lm[r] = s / ln[r];
      T v(0);
      each(r, c, [&](std::int64_t i) {
        const T dev = p.x[r][i] - lm[r];
        v += dev * dev;
      });
      lv[r] = v / ln[r];
    }
    T mean(0);
    for (std::size_t r = 0; r < shards; ++r) mean += ln[r] * lm[r];
    mean /= n_global;
    T var(0);
    for (std::size_t r = 0; r < shards; ++r) {
      const T dm = lm[r] - mean;
      var += ln[r] * (lv[r] + dm * dm);
    }
    var /= n_global;
    out.mean[c] = mean;
    var_global[c] = var;
    out.rstd[c] = one / sqrt(var + p.eps);
  }

  out.y.resize(shards);
  for (std::size_t r = 0; r < shards; ++r) {
    out.y[r].assign(p.x[r].size(), T(0));
    for (std::int64_t c = 0; c < d.c; ++c)
      each(r, c, [&](std::int64_t i) {
        out.y[r][i] = (p.x[r][i] - out.mean[c]) * out.rstd[c] * gam(c) + bet(c);
      });
  }

  if (backward) {
    std::vector<T> sum_dy(d.c, T(0)), sum_dy_xmu(d.c, T(0));
    for (std::size_t r = 0; r < shards; ++r)  // local reductions, then all-reduce
      for (std::int64_t c = 0; c < d.c; ++c)
        each(r, c, [&](std::int64_t i) {
          sum_dy[c] += p.dy[r][i];
          sum_dy_xmu[c] += p.dy[r][i] * (p.x[r][i] - out.mean[c]);
        });
    out.dx.resize(shards);
    for (std::size_t r = 0; r < shards; ++r) {
      out.dx[r].assign(p.x[r].size(), T(0));
      for (std::int64_t c = 0; c < d.c; ++c) {
        const T rs = out.rstd[c];
        const T mean_dy = sum_dy[c] / n_global;
        const T mean_dy_xmu = sum_dy_xmu[c] / n_global;
        each(r, c, [&](std::int64_t i) {
          out.dx[r][i] =
              train ? T(gam(c) * rs *
                        (p.dy[r][i] - mean_dy - (p.x[r][i] - out.mean[c]) * rs * rs * mean_dy_xmu))
                    : T(gam(c) * rs * p.dy[r][i]);
        });
      }
    }
    if (!p.gamma.empty()) {
      out.dgamma.assign(d.c, T(0));
      for (std::int64_t c = 0; c < d.c; ++c) out.dgamma[c] = sum_dy_xmu[c] * out.rstd[c];
    }
    if (!p.beta.empty()) out.dbeta = sum_dy;
  }

  if (p.momentum && train) {
    const std::int64_t count = d.n * d.s;
    if (p.estimator == VarianceEstimator::unbiased && count < 2)
      bad("RunningStatsUpdate.estimator: the unbiased variance of a single element is 0/0");
    const T factor = p.estimator == VarianceEstimator::unbiased
                         ? T(n_global / T(static_cast<double>(count - 1)))
                         : T(1);
    const T m = *p.momentum;
    const T w_old = p.convention == MomentumConvention::torch ? T(one - m) : m;
    const T w_new = p.convention == MomentumConvention::torch ? m : T(one - m);
    RunningStatsValues<T> rs{std::vector<T>(d.c, T(0)), std::vector<T>(d.c, T(0))};
    for (std::int64_t c = 0; c < d.c; ++c) {
      rs.mean[c] = w_old * p.running_mean[c] + w_new * out.mean[c];
      rs.var[c] = w_old * p.running_var[c] + w_new * var_global[c] * factor;
    }
    out.running = std::move(rs);
  }
  return out;
}

std::array<std::int64_t, 4> ConvShapes::out() const {
  if (x[1] != w[1]) bad("conv: input channels of x and weight differ");
  if (stride_h < 1 || stride_w < 1 || pad_h < 0 || pad_w < 0) bad("conv: bad stride/padding");
  for (auto v : x)
    if (v < 1) bad("conv: x shape must be positive");
  for (auto v : w)
    if (v < 1) bad("conv: weight shape must be positive");
  const std::int64_t oh = (x[2] + 2 * pad_h - w[2]) / stride_h + 1;
  const std::int64_t ow = (x[3] + 2 * pad_w - w[3]) / stride_w + 1;
  if (x[2] + 2 * pad_h < w[2] || x[3] + 2 * pad_w < w[3])
    bad("conv: kernel larger than padded input");
  return {x[0], w[0], oh, ow};
}

template <class T>
std::vector<T> generic_conv2d(const std::vector<T>& x, const std::vector<T>& w,
                              const std::vector<T>& bias, const ConvShapes& s) {
  const auto o = s.out();
  const auto [N, IC, H, W] = s.x;
  const auto [OC, IC2, KH, KW] = s.w;
  (void)IC2;
  if (static_cast<std::int64_t>(x.size()) != N * IC * H * W) bad("conv: x size");
  if (static_cast<std::int64_t>(w.size()) != OC * IC * KH * KW) bad("conv: weight size");
  if (!bias.empty() && static_cast<std::int64_t>(bias.size()) != OC) bad("conv: bias size");
  std::vector<T> out(static_cast<std::size_t>(o[0] * o[1] * o[2] * o[3]), T(0));
  for (std::int64_t n = 0; n < N; ++n)
    for (std::int64_t oc = 0; oc < OC; ++oc)
      for (std::int64_t oh = 0; oh < o[2]; ++oh)
        for (std::int64_t ow = 0; ow < o[3]; ++ow) {
          T acc = bias.empty() ? T(0) : bias[oc];
          for (std::int64_t ic = 0; ic < IC; ++ic)
            for (std::int64_t kh = 0; kh < KH; ++kh) {
              const std::int64_t ih = oh * s.stride_h - s.pad_h + kh;
              if (ih < 0 || ih >= H) continue;
              for (std::int64_t kw = 0; kw < KW; ++kw) {
                const std::int64_t iw = ow * s.stride_w - s.pad_w + kw;
                if (iw < 0 || iw >= W) continue;
                acc +=
                    x[((n * IC + ic) * H + ih) * W + iw] * w[((oc * IC + ic) * KH + kh) * KW + kw];
              }
            }
          out[((n * OC + oc) * o[2] + oh) * o[3] + ow] = acc;
        }
  return out;
}

template <class T>
FoldedValues<T> generic_fold_conv_bn(const std::vector<T>& w, const std::array<std::int64_t, 4>& ws,
                                     const std::vector<T>& bias, const std::vector<T>& gamma,
                                     const std::vector<T>& beta, const std::vector<T>& running_mean,
                                     const std::vector<T>& running_var, const T& eps) {
  using std::sqrt;
  const std::int64_t oc_n = ws[0], per_oc = ws[1] * ws[2] * ws[3];
  if (static_cast<std::int64_t>(w.size()) != oc_n * per_oc) bad("fold: weight size");
  auto sized = [&](const std::vector<T>& v) { return static_cast<std::int64_t>(v.size()) == oc_n; };
  if (!sized(gamma) || !sized(beta) || !sized(running_mean) || !sized(running_var))
    bad("fold: gamma/beta/running stats need OC values");
  if (!bias.empty() && !sized(bias)) bad("fold: bias size");
  FoldedValues<T> out{std::vector<T>(w.size(), T(0)), std::vector<T>(oc_n, T(0))};
  for (std::int64_t oc = 0; oc < oc_n; ++oc) {
    const T scale = gamma[oc] / sqrt(running_var[oc] + eps);
    for (std::int64_t k = 0; k < per_oc; ++k)
      out.weight[oc * per_oc + k] = w[oc * per_oc + k] * scale;
    const T b = bias.empty() ? T(0) : bias[oc];
    out.bias[oc] = (b - running_mean[oc]) * scale + beta[oc];
  }
  return out;
}

#define NC_INSTANTIATE(T)                                                                         \
  template SyncValues<T> generic_sync_batch_norm<T>(const SyncProblem<T>&);                       \
  template std::vector<T> generic_conv2d<T>(const std::vector<T>&, const std::vector<T>&,         \
                                            const std::vector<T>&, const ConvShapes&);            \
  template FoldedValues<T> generic_fold_conv_bn<T>(                                               \
      const std::vector<T>&, const std::array<std::int64_t, 4>&, const std::vector<T>&,           \
      const std::vector<T>&, const std::vector<T>&, const std::vector<T>&, const std::vector<T>&, \
      const T&);

NC_INSTANTIATE(double)
NC_INSTANTIATE(Mpfr)
#undef NC_INSTANTIATE

}  // namespace normcheck::reference
