#include "host_reference.hpp"

#include <cmath>

namespace normcheck::cuda::testing {

namespace {

double at_or(const Values& v, std::int64_t i, double absent) {
  return v.empty() ? absent : v[std::size_t(i)];
}

}  // namespace

RowForwardReference row_forward(const Values& x, const Values& residual, DType data,
                                std::int64_t rows, std::int64_t hidden, const Values& gamma,
                                const Values& beta, double eps, bool rms) {
  RowForwardReference r;
  Values h = x;
  if (!residual.empty()) {
    for (std::size_t i = 0; i < h.size(); ++i) h[i] = numeric::round_to(data, x[i] + residual[i]);
    r.residual_out = h;
  }
  r.y.resize(h.size());
  for (std::int64_t row = 0; row < rows; ++row) {
    const double* v = h.data() + row * hidden;
    // The reference must be more accurate than the f64 kernel it checks:
    // with a common offset of 1e4 a plain double sum of 65,536 terms is off
    // by ~1e-9 sigma, above the 1e-12 tolerance, while the kernel's
    // corrected two-pass is not. So: sums in long double (64-bit mantissa
    // on x86-64), and the mean corrected by the mean of the deviations.
    long double mean = 0.0L;
    if (!rms) {
      long double sum = 0.0L, dev = 0.0L;
      for (std::int64_t j = 0; j < hidden; ++j) sum += v[j];
      const long double m0 = sum / hidden;
      for (std::int64_t j = 0; j < hidden; ++j) dev += v[j] - m0;
      mean = m0 + dev / hidden;
    }
    long double ss = 0.0L;
    for (std::int64_t j = 0; j < hidden; ++j) ss += (v[j] - mean) * (v[j] - mean);
    const double rstd = double(1.0L / std::sqrt(ss / hidden + eps));
    r.mean.push_back(double(mean));
    r.rstd.push_back(rstd);
    for (std::int64_t j = 0; j < hidden; ++j)
      r.y[std::size_t(row * hidden + j)] =
          double((v[j] - mean) * rstd) * at_or(gamma, j, 1.0) + at_or(beta, j, 0.0);
  }
  return r;
}

GradReference row_backward(const Values& dy, const Values& x, const Values& gamma,
                           const Values& mean, const Values& rstd, std::int64_t rows,
                           std::int64_t hidden, bool rms) {
  GradReference g;
  g.dx.resize(x.size());
  g.dgamma.assign(std::size_t(hidden), 0.0);
  g.dbeta.assign(std::size_t(hidden), 0.0);
  for (std::int64_t row = 0; row < rows; ++row) {
    const double m = rms ? 0.0 : mean[std::size_t(row)];
    const double r = rstd[std::size_t(row)];
    double sum_g = 0.0, sum_gx = 0.0;
    for (std::int64_t j = 0; j < hidden; ++j) {
      const auto i = std::size_t(row * hidden + j);
      const double xhat = (x[i] - m) * r;
      const double gd = dy[i] * at_or(gamma, j, 1.0);
      sum_g += gd;
      sum_gx += gd * xhat;
      g.dgamma[std::size_t(j)] += dy[i] * xhat;
      g.dbeta[std::size_t(j)] += dy[i];
    }
    const double mean_g = rms ? 0.0 : sum_g / double(hidden);
    const double mean_gx = sum_gx / double(hidden);
    for (std::int64_t j = 0; j < hidden; ++j) {
      const auto i = std::size_t(row * hidden + j);
      const double xhat = (x[i] - m) * r;
      g.dx[i] = r * (dy[i] * at_or(gamma, j, 1.0) - mean_g - xhat * mean_gx);
    }
  }
  return g;
}

std::int64_t ChannelShape::group(std::int64_t in, std::int64_t ic) const {
  switch (op) {
    case ChannelOp::batch:
      return ic;
    case ChannelOp::instance:
      return in * c + ic;
    case ChannelOp::group:
      return in * groups + ic / (c / groups);
  }
  return 0;
}

std::int64_t ChannelShape::group_count() const {
  return op == ChannelOp::batch ? c : op == ChannelOp::instance ? n * c : n * groups;
}

std::int64_t ChannelShape::group_size() const {
  return n * c * s / group_count();
}

ChannelForwardReference channel_forward(const Values& x, const ChannelShape& sh,
                                        const Values& gamma, const Values& beta, double eps,
                                        bool use_running, const Values& running_mean,
                                        const Values& running_var, bool update,
                                        const RunningUpdate& rule) {
  const auto groups = std::size_t(sh.group_count());
  ChannelForwardReference r;
  r.mean.assign(groups, 0.0);
  Values var(groups, 0.0);
  r.running_mean = running_mean;
  r.running_var = running_var;
  auto for_each = [&](auto&& f) {
    for (std::int64_t in = 0; in < sh.n; ++in)
      for (std::int64_t ic = 0; ic < sh.c; ++ic)
        for (std::int64_t is = 0; is < sh.s; ++is)
          f(std::size_t(sh.flat(in, ic, is)), std::size_t(sh.group(in, ic)), ic, in);
  };
  const double m_count = double(sh.group_size());
  if (use_running) {
    for (std::size_t g = 0; g < groups; ++g) {
      const std::size_t ch = g % std::size_t(sh.c);
      r.mean[g] = running_mean[ch];
      var[g] = running_var[ch];
    }
  } else {
    for_each([&](std::size_t i, std::size_t g, std::int64_t, std::int64_t) { r.mean[g] += x[i]; });
    for (auto& m : r.mean) m /= m_count;
    for_each([&](std::size_t i, std::size_t g, std::int64_t, std::int64_t) {
      var[g] += (x[i] - r.mean[g]) * (x[i] - r.mean[g]);
    });
    for (auto& v : var) v /= m_count;
  }
  r.rstd.resize(groups);
  for (std::size_t g = 0; g < groups; ++g) r.rstd[g] = 1.0 / std::sqrt(var[g] + eps);
  r.y.resize(x.size());
  for_each([&](std::size_t i, std::size_t g, std::int64_t ic, std::int64_t) {
    r.y[i] = (x[i] - r.mean[g]) * r.rstd[g] * at_or(gamma, ic, 1.0) + at_or(beta, ic, 0.0);
  });
  if (update && !use_running) {
    // Per channel: the batch average of its groups' statistics (batch norm
    // has one group per channel; tracked instance norm one per sample).
    const double scale = rule.unbiased ? m_count / (m_count - 1.0) : 1.0;
    const std::int64_t per_channel = sh.op == ChannelOp::batch ? 1 : sh.n;
    for (std::int64_t ic = 0; ic < sh.c; ++ic) {
      double bm = 0.0, bv = 0.0;
      for (std::int64_t in = 0; in < per_channel; ++in) {
        bm += r.mean[std::size_t(sh.group(in, ic))];
        bv += var[std::size_t(sh.group(in, ic))] * scale;
      }
      bm /= double(per_channel);
      bv /= double(per_channel);
      const auto c = std::size_t(ic);
      const double keep = rule.paddle ? rule.momentum : 1.0 - rule.momentum;
      r.running_mean[c] = keep * running_mean[c] + (1.0 - keep) * bm;
      r.running_var[c] = keep * running_var[c] + (1.0 - keep) * bv;
    }
  }
  return r;
}

GradReference channel_backward(const Values& dy, const Values& x, const ChannelShape& sh,
                               const Values& gamma, const Values& mean, const Values& rstd,
                               bool constant_stats) {
  const auto groups = std::size_t(sh.group_count());
  GradReference g;
  g.dx.resize(x.size());
  g.dgamma.assign(std::size_t(sh.c), 0.0);
  g.dbeta.assign(std::size_t(sh.c), 0.0);
  Values sum_g(groups, 0.0), sum_gx(groups, 0.0);
  for (std::int64_t in = 0; in < sh.n; ++in)
    for (std::int64_t ic = 0; ic < sh.c; ++ic)
      for (std::int64_t is = 0; is < sh.s; ++is) {
        const auto i = std::size_t(sh.flat(in, ic, is));
        const auto grp = std::size_t(sh.group(in, ic));
        const double xhat = (x[i] - mean[grp]) * rstd[grp];
        const double gd = dy[i] * at_or(gamma, ic, 1.0);
        sum_g[grp] += gd;
        sum_gx[grp] += gd * xhat;
        g.dgamma[std::size_t(ic)] += dy[i] * xhat;
        g.dbeta[std::size_t(ic)] += dy[i];
      }
  const double m_count = double(sh.group_size());
  for (std::int64_t in = 0; in < sh.n; ++in)
    for (std::int64_t ic = 0; ic < sh.c; ++ic)
      for (std::int64_t is = 0; is < sh.s; ++is) {
        const auto i = std::size_t(sh.flat(in, ic, is));
        const auto grp = std::size_t(sh.group(in, ic));
        const double xhat = (x[i] - mean[grp]) * rstd[grp];
        const double gd = dy[i] * at_or(gamma, ic, 1.0);
        g.dx[i] = constant_stats
                      ? rstd[grp] * gd
                      : rstd[grp] * (gd - sum_g[grp] / m_count - xhat * sum_gx[grp] / m_count);
      }
  return g;
}

}  // namespace normcheck::cuda::testing
