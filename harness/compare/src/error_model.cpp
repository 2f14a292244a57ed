#include "normcheck/compare/error_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "normcheck/compare/precision.hpp"
#include "normcheck/model/op_traits.hpp"
#include "normcheck/fixture/schema.hpp"

namespace normcheck::compare {

namespace names = fixture::names;
using model::Op;

namespace {

const std::vector<double> kNone;

// The error of rounding v once to dtype t, gradual underflow included.
double rounding_error(DType t, double v) {
  return numeric::unit_roundoff(t) * std::fabs(v) + smallest_subnormal(t);
}

}  // namespace

// The roundoff units every bound is built from.
struct ErrorModel::Units {
  double acc, tiny_acc, data;
  explicit Units(const model::Problem& p)
      : acc(numeric::unit_roundoff(numeric::accumulation_dtype(p.data))),
        tiny_acc(smallest_subnormal(numeric::accumulation_dtype(p.data))),
        data(numeric::unit_roundoff(p.data)) {}
};

ErrorModel::ErrorModel(const fixture::Case& c) : problem_(c.problem) {
  for (const auto& [name, t] : c.inputs) inputs_.emplace(name, t.to_doubles());
  for (const auto& [name, t] : c.golden) golden_.emplace(name, t.to_doubles());
  if (model::traits(problem_.op).grouping == model::Grouping::none) return;
  map_.emplace(problem_);
  h_ = input(names::x);
  const auto& residual = input(names::residual);
  for (std::size_t i = 0; i < residual.size() && i < h_.size(); ++i) h_[i] += residual[i];
  from_running_ = fixture::normalizes_with_running_stats(problem_);
  stats_ = from_running_ ? running_group_stats(map(), h_, input(names::running_mean),
                                               input(names::running_var), problem_.eps)
                         : batch_group_stats(map(), h_, problem_.eps, !model::traits(problem_.op).has_mean);
}

const std::vector<double>& ErrorModel::golden(std::string_view name) const {
  const auto it = golden_.find(name);
  if (it == golden_.end())
    throw model::InputError(
        fmt::format("case {} has no golden '{}'", model::to_descriptor(problem_), name));
  return it->second;
}

const model::ElementMap& ErrorModel::map() const {
  if (!map_)
    throw model::InputError(fmt::format("case {}: a conv_bn case has no statistic groups to bound",
                                        model::to_descriptor(problem_)));
  return *map_;
}

const std::vector<double>& ErrorModel::input(std::string_view name) const {
  const auto it = inputs_.find(name);
  return it == inputs_.end() ? kNone : it->second;
}

double ErrorModel::gamma_at(std::int64_t param) const {
  const auto& g = input(names::gamma);
  return g.empty() ? 1.0 : g[std::size_t(param)];
}

double ErrorModel::beta_at(std::int64_t param) const {
  const auto& b = input(names::beta);
  return b.empty() ? 0.0 : b[std::size_t(param)];
}

numeric::DType ErrorModel::dtype_of(std::string_view name) const {
  const GoldenOwner owner = owner_of_golden(name);
  return compare::dtype_of(owner.check != nullptr ? owner.check->role : Role::data, problem_);
}

double ErrorModel::xhat_error(const GroupStats& s, std::int64_t group, double h,
                              bool from_running) const {
  const Units u(problem_);
  const auto g = std::size_t(group);
  const double xhat = std::fabs((h - s.mean[g]) * s.rstd[g]);
  if (from_running)  // no reduction: a few roundings of h, the mean and rstd
    return 4.0 * u.acc * (std::fabs(h) + std::fabs(s.mean[g])) * s.rstd[g] +
           2.0 * u.tiny_acc * s.rstd[g];
  const double red = reduction_factor(map().group_size());
  double e = u.acc * red * s.kappa[g] * (1.0 + xhat) + u.tiny_acc * red * s.rstd[g];
  // A fused add may normalize x + residual as rounded to the data dtype (as
  // the unfused framework code does): that input is off by u_data * |h|.
  if (problem_.residual) e += u.data * s.kappa[g];
  return e;
}

std::vector<double> ErrorModel::forward_bound(const GroupStats& s, std::span<const double> h,
                                              std::span<const double> y, bool from_running) const {
  const Units u(problem_);
  const DType out = problem_.data;
  std::vector<double> b(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) {
    const std::int64_t g = map().group_of(std::int64_t(i)), c = map().param_of(std::int64_t(i));
    const double gamma = std::fabs(gamma_at(c)), beta = std::fabs(beta_at(c));
    const double xhat = std::fabs((h[i] - s.mean[std::size_t(g)]) * s.rstd[std::size_t(g)]);
    b[i] = rounding_error(out, y[i]) + gamma * xhat_error(s, g, h[i], from_running) +
           2.0 * u.acc * (gamma * xhat + beta);
  }
  return b;
}

std::vector<double> ErrorModel::saved_mean_bound(std::span<const double> mean, int) const {
  const Units u(problem_);
  const DType out = problem_.stats;
  const double red = reduction_factor(map().group_size());
  std::vector<double> b(mean.size());
  for (std::size_t g = 0; g < mean.size(); ++g) {
    b[g] = rounding_error(out, mean[g]) + u.acc * red * stats_.max_abs[g] + u.tiny_acc * red;
    if (problem_.residual) b[g] += u.data * stats_.max_abs[g];
  }
  return b;
}

std::vector<double> ErrorModel::saved_rstd_bound(std::span<const double> rstd, int) const {
  const Units u(problem_);
  const DType out = problem_.stats;
  const double red = reduction_factor(map().group_size());
  std::vector<double> b(rstd.size());
  for (std::size_t g = 0; g < rstd.size(); ++g) {
    // Welford's update errs by u * n_eff * kappa relative to var + eps; a
    // two-pass variance by less. 2u more for the sqrt and the division.
    double rel = u.acc * red * stats_.kappa[g] + 2.0 * u.acc;
    if (problem_.residual) rel += u.data * stats_.kappa[g];
    b[g] = rounding_error(out, rstd[g]) + std::fabs(rstd[g]) * rel;
  }
  return b;
}

std::vector<double> ErrorModel::dx_bound(std::span<const double> dx, int) const {
  const Units u(problem_);
  const DType out = problem_.data;
  const auto& dy = input(names::dy);
  std::vector<double> b(dx.size());
  if (from_running_) {  // statistics are constants: dx = gamma * rstd * dy
    for (std::size_t i = 0; i < dx.size(); ++i) {
      const std::int64_t g = map().group_of(std::int64_t(i)), c = map().param_of(std::int64_t(i));
      b[i] = rounding_error(out, dx[i]) + u.tiny_acc +
             3.0 * u.acc * std::fabs(gamma_at(c) * stats_.rstd[std::size_t(g)] * dy[i]);
    }
    return b;
  }
  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g = dy * gamma.
  const auto groups = std::size_t(map().groups());
  std::vector<double> mean_g(groups, 0.0), mean_gx(groups, 0.0);
  for (std::size_t i = 0; i < dx.size(); ++i) {
    const auto g = std::size_t(map().group_of(std::int64_t(i)));
    const double gi = std::fabs(dy[i] * gamma_at(map().param_of(std::int64_t(i))));
    mean_g[g] += gi;
    mean_gx[g] += gi * std::fabs((h_[i] - stats_.mean[g]) * stats_.rstd[g]);
  }
  const double n = double(map().group_size()), red = reduction_factor(map().group_size());
  for (std::size_t g = 0; g < groups; ++g) {
    mean_g[g] /= n;
    mean_gx[g] /= n;
  }
  for (std::size_t i = 0; i < dx.size(); ++i) {
    const std::int64_t grp = map().group_of(std::int64_t(i));
    const auto g = std::size_t(grp);
    const double gi = std::fabs(dy[i] * gamma_at(map().param_of(std::int64_t(i))));
    const double xhat = std::fabs((h_[i] - stats_.mean[g]) * stats_.rstd[g]);
    const double terms = gi + mean_g[g] + mean_gx[g];
    const double sums = u.acc * red * (1.0 + xhat) + xhat_error(stats_, grp, h_[i], false);
    b[i] =
        rounding_error(out, dx[i]) + u.tiny_acc * red * stats_.rstd[g] +
        stats_.rstd[g] * (2.0 * sums * terms + 4.0 * u.acc * (gi + mean_g[g] + xhat * mean_gx[g]));
  }
  return b;
}

namespace {

// Extra roundings when SyncBN ranks each reduce their shard and the harness
// sums the per-rank parameter gradients (PyTorch's convention).
double shard_count(const model::Problem& p) {
  return p.shards.empty() ? 0.0 : double(p.shards.size());
}

}  // namespace

std::vector<double> ErrorModel::dgamma_bound(std::span<const double> dgamma, int) const {
  const Units u(problem_);
  const DType out = problem_.param;
  const auto& dy = input(names::dy);
  const double red = reduction_factor(map().param_reduction()) + shard_count(problem_);
  std::vector<double> b(dgamma.size(), 0.0);
  for (std::size_t i = 0; i < dy.size(); ++i) {
    const std::int64_t g = map().group_of(std::int64_t(i));
    const double xhat =
        std::fabs((h_[i] - stats_.mean[std::size_t(g)]) * stats_.rstd[std::size_t(g)]);
    b[std::size_t(map().param_of(std::int64_t(i)))] +=
        std::fabs(dy[i]) *
        (u.acc * (red + 2.0) * xhat + xhat_error(stats_, g, h_[i], from_running_));
  }
  for (std::size_t c = 0; c < b.size(); ++c) b[c] += rounding_error(out, dgamma[c]);
  return b;
}

std::vector<double> ErrorModel::dbeta_bound(std::span<const double> dbeta, int) const {
  const Units u(problem_);
  const DType out = problem_.param;
  const auto& dy = input(names::dy);
  const double red = reduction_factor(map().param_reduction()) + shard_count(problem_);
  std::vector<double> b(dbeta.size(), 0.0);
  for (std::size_t i = 0; i < dy.size(); ++i)
    b[std::size_t(map().param_of(std::int64_t(i)))] += u.acc * red * std::fabs(dy[i]);
  for (std::size_t c = 0; c < b.size(); ++c) b[c] += rounding_error(out, dbeta[c]);
  return b;
}

void ErrorModel::running_bounds() const {
  if (!running_mean_bounds_.empty()) return;
  const Units u(problem_);
  const DType out = problem_.stats;
  const double m = problem_.momentum;
  const bool torch = problem_.momentum_convention == model::MomentumConvention::torch;
  const double w_old = torch ? 1.0 - m : m, w_new = torch ? m : 1.0 - m;
  const model::ElementMap& map = this->map();
  const auto channels = std::size_t(map.channels());
  const double n = double(map.group_size()), red = reduction_factor(map.group_size());
  const double unbias =
      problem_.running_var_estimator == model::VarianceEstimator::unbiased && n > 1 ? n / (n - 1)
                                                                                    : 1.0;
  // Instance norm averages its per-instance statistics over the batch.
  const bool per_instance = model::traits(problem_.op).grouping == model::Grouping::instance;
  const double instances = per_instance ? double(map.samples()) : 1.0;
  const double red_instances = per_instance ? reduction_factor(map.samples()) : 0.0;

  std::vector<double> prev_mean_bound(channels, 0.0), prev_var_bound(channels, 0.0);
  for (int k = 1; k <= problem_.steps; ++k) {
    const auto& batch = k == 1 ? input(names::x) : input(names::x_step(k - 1));
    const GroupStats s = batch_group_stats(map, batch, problem_.eps, false);
    std::vector<double> d_mean(channels, 0.0), d_var(channels, 0.0), mean(channels, 0.0),
        var(channels, 0.0);
    for (std::size_t g = 0; g < s.mean.size(); ++g) {
      const auto c = std::size_t(map.channel_of_group(std::int64_t(g)));
      const double dm = u.acc * red * s.max_abs[g] + u.tiny_acc * red;
      const double sigma2 = s.sigma[g] * s.sigma[g];
      // Welford / two-pass variance: u * n_eff * max|x| * sigma, plus the
      // square of the mean's error for a constant group.
      const double dv = 2.0 * dm * (s.sigma[g] + dm) + 2.0 * u.acc * sigma2;
      d_mean[c] += dm / instances + u.acc * red_instances * std::fabs(s.mean[g]) / instances;
      d_var[c] += dv * unbias / instances + u.acc * red_instances * sigma2 * unbias / instances;
      mean[c] += s.mean[g] / instances;
      var[c] += sigma2 * unbias / instances;
    }
    const auto& old_mean =
        k == 1 ? input(names::running_mean) : golden(names::running_mean_step(k - 1));
    const auto& old_var =
        k == 1 ? input(names::running_var) : golden(names::running_var_step(k - 1));
    const auto& new_mean = golden(names::running_mean_step(k));
    const auto& new_var = golden(names::running_var_step(k));
    std::vector<double> mean_bound(channels), var_bound(channels);
    for (std::size_t c = 0; c < channels; ++c) {
      mean_bound[c] = w_old * prev_mean_bound[c] + w_new * d_mean[c] +
                      rounding_error(out, new_mean[c]) +
                      2.0 * u.acc * (w_old * std::fabs(old_mean[c]) + w_new * std::fabs(mean[c]));
      var_bound[c] = w_old * prev_var_bound[c] + w_new * d_var[c] +
                     rounding_error(out, new_var[c]) +
                     2.0 * u.acc * (w_old * std::fabs(old_var[c]) + w_new * var[c]);
    }
    running_mean_bounds_.push_back(mean_bound);
    running_var_bounds_.push_back(var_bound);
    prev_mean_bound = std::move(mean_bound);
    prev_var_bound = std::move(var_bound);
  }
}

std::vector<double> ErrorModel::eval_y_bound(std::span<const double> y, int) const {
  running_bounds();
  const int k = problem_.steps;
  const auto& rm = golden(names::running_mean_step(k));
  const auto& rv = golden(names::running_var_step(k));
  const auto& eval_x = input(names::eval_x);
  const GroupStats s = running_group_stats(map(), eval_x, rm, rv, problem_.eps);
  std::vector<double> b = forward_bound(s, eval_x, y, true);
  // The backend normalizes with its own running statistics, each off by up
  // to its bound: d(y) = gamma * rstd * (d(mean) + xhat * d(var) * rstd^2 / 2).
  const auto& bm = running_mean_bounds_.back();
  const auto& bv = running_var_bounds_.back();
  for (std::size_t i = 0; i < y.size(); ++i) {
    const std::int64_t g = map().group_of(std::int64_t(i));
    const auto c = std::size_t(map().channel_of_group(g));
    const double r = s.rstd[std::size_t(g)];
    const double xhat = std::fabs((eval_x[i] - s.mean[std::size_t(g)]) * r);
    b[i] += std::fabs(gamma_at(map().param_of(std::int64_t(i)))) * r *
            (bm[c] + xhat * bv[c] * r * r / 2.0);
  }
  return b;
}

std::vector<double> ErrorModel::folded_weight_bound(std::span<const double> w, int) const {
  const Units u(problem_);
  const DType out = problem_.data;
  // W * gamma / sqrt(rv + eps): an add, a sqrt, a division and two products.
  std::vector<double> b(w.size());
  for (std::size_t i = 0; i < w.size(); ++i)
    b[i] = rounding_error(out, w[i]) + 5.0 * u.acc * std::fabs(w[i]);
  return b;
}

std::vector<double> ErrorModel::folded_bias_bound(std::span<const double> bias, int) const {
  const Units u(problem_);
  const DType out = problem_.data;
  const auto& b0 = input(names::conv_bias);
  const auto& rm = input(names::running_mean);
  const auto& rv = input(names::running_var);
  std::vector<double> b(bias.size());
  for (std::size_t o = 0; o < bias.size(); ++o) {
    const double r = 1.0 / std::sqrt(rv[o] + problem_.eps);
    const double conv_bias = b0.empty() ? 0.0 : b0[o];
    b[o] = rounding_error(out, bias[o]) +
           5.0 * u.acc * (std::fabs(conv_bias) + std::fabs(rm[o])) *
               std::fabs(gamma_at(std::int64_t(o))) * r +
           2.0 * u.acc * std::fabs(beta_at(std::int64_t(o)));
  }
  return b;
}

ErrorModel::ConvResult ErrorModel::folded_conv(std::span<const double> w,
                                               std::span<const double> bias) const {
  const auto& x = input(names::x);
  const auto& shape = problem_.shape;  // N, IC, H, W
  const auto& cv = problem_.conv;
  const std::int64_t n = shape[0], ic = shape[1], height = shape[2], width = shape[3];
  const std::int64_t oc = cv.out_channels, kh = cv.kernel_h, kw = cv.kernel_w;
  const std::int64_t oh = (height + 2 * cv.pad - kh) / cv.stride + 1;
  const std::int64_t ow = (width + 2 * cv.pad - kw) / cv.stride + 1;
  const std::vector<double> w_bound = folded_weight_bound(golden(names::folded_weight), 0);
  const std::vector<double> b_bound = folded_bias_bound(golden(names::folded_bias), 0);
  const double u64 = numeric::unit_roundoff(numeric::DType::f64);
  const double terms = double(ic * kh * kw + 1);
  ConvResult r;
  r.y.assign(std::size_t(n * oc * oh * ow), 0.0);
  r.bound.assign(r.y.size(), 0.0);
  for (std::int64_t in = 0; in < n; ++in)
    for (std::int64_t o = 0; o < oc; ++o)
      for (std::int64_t y0 = 0; y0 < oh; ++y0)
        for (std::int64_t x0 = 0; x0 < ow; ++x0) {
          double sum = bias[std::size_t(o)], magnitude = std::fabs(bias[std::size_t(o)]);
          double propagated = b_bound[std::size_t(o)];
          for (std::int64_t c = 0; c < ic; ++c)
            for (std::int64_t i = 0; i < kh; ++i)
              for (std::int64_t j = 0; j < kw; ++j) {
                const std::int64_t yy = y0 * cv.stride - cv.pad + i,
                                   xx = x0 * cv.stride - cv.pad + j;
                if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
                const double xv = x[std::size_t(((in * ic + c) * height + yy) * width + xx)];
                const auto wi = std::size_t(((o * ic + c) * kh + i) * kw + j);
                sum += xv * w[wi];
                magnitude += std::fabs(xv * w[wi]);
                propagated += std::fabs(xv) * w_bound[wi];
              }
          const auto out = std::size_t(((in * oc + o) * oh + y0) * ow + x0);
          r.y[out] = sum;
          r.bound[out] = propagated + 2.0 * terms * u64 * magnitude;
        }
  return r;
}

std::vector<double> ErrorModel::y_bound(std::span<const double> y, int) const {
  return forward_bound(stats_, h_, y, from_running_);
}

std::vector<double> ErrorModel::residual_out_bound(std::span<const double> r, int) const {
  std::vector<double> b(r.size());  // x + residual, rounded once
  for (std::size_t i = 0; i < r.size(); ++i) b[i] = rounding_error(problem_.data, r[i]);
  return b;
}

const std::vector<double>& ErrorModel::running_step(
    const std::vector<std::vector<double>>& bounds, int step) const {
  running_bounds();
  if (step < 1 || step > int(bounds.size()))
    throw model::InputError(fmt::format("case {} has no training step {}",
                                        model::to_descriptor(problem_), step));
  return bounds[std::size_t(step - 1)];
}

std::vector<double> ErrorModel::running_mean_bound(std::span<const double>, int step) const {
  return running_step(running_mean_bounds_, step);
}

std::vector<double> ErrorModel::running_var_bound(std::span<const double>, int step) const {
  return running_step(running_var_bounds_, step);
}

std::vector<double> ErrorModel::bound(std::string_view name) const {
  const auto& g = golden(name);
  const GoldenOwner owner = owner_of_golden(name);
  if (owner.check == nullptr)
    throw model::InputError(fmt::format("no error bound is defined for golden '{}'", name));
  return (this->*owner.check->bound)(g, owner.step);
}

std::optional<GroupContext> ErrorModel::context(std::string_view name, std::int64_t flat) const {
  if (!map_) return std::nullopt;
  const auto& kappa = golden_.find(names::kappa);
  const auto from = [&](std::int64_t group) {
    const auto g = std::size_t(group);
    const bool fixture_kappa = kappa != golden_.end() && g < kappa->second.size();
    return GroupContext{group, stats_.mean[g], stats_.rstd[g],
                        fixture_kappa ? kappa->second[g] : stats_.kappa[g]};
  };
  const GoldenOwner owner = owner_of_golden(name);
  switch (owner.check != nullptr ? owner.check->context : Context::none) {
    case Context::element:
      return from(map_->group_of(flat));
    case Context::group:
      return from(flat);
    case Context::eval_after_steps: {
      const int k = problem_.steps;
      const GroupStats s =
          running_group_stats(*map_, input(names::eval_x), golden(names::running_mean_step(k)),
                              golden(names::running_var_step(k)), problem_.eps);
      const auto g = std::size_t(map_->group_of(flat));
      return GroupContext{std::int64_t(g), s.mean[g], s.rstd[g], s.kappa[g]};
    }
    case Context::none:
      break;
  }
  return std::nullopt;
}

double ErrorModel::max_kappa() const {
  double m = 0.0;
  const auto it = golden_.find(names::kappa);
  const auto& values = it != golden_.end() ? it->second : stats_.kappa;
  for (double k : values)
    if (k > m) m = k;  // NaN groups (non-finite inputs) are skipped
  return m;
}

}  // namespace normcheck::compare
