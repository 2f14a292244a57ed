#include "bench_buffers.hpp"

#include "normcheck/model/op_traits.hpp"
#include "normcheck/model/rng.hpp"

namespace normcheck::bench {

Buffers::Buffers(const model::Problem& p) {
  const auto& shape = p.shape;
  const std::vector<std::int64_t> params = model::param_shape(p), saved = model::stat_shape(p);
  model::Rng rng_x(p.seed, 1), rng_params(p.seed, 2), rng_dy(p.seed, 3);
  x = BenchTensor(p.data, shape);
  x.fill_uniform(rng_x, -1.0, 1.0);
  gamma = BenchTensor(p.param, params);
  gamma.fill_uniform(rng_params, 0.5, 1.5);
  beta = BenchTensor(p.param, params);
  beta.fill_uniform(rng_params, -0.5, 0.5);
  if (p.has_running_stats()) {
    running_mean = BenchTensor(p.stats, model::running_stat_shape(p));
    running_var = BenchTensor(p.stats, model::running_stat_shape(p));
    running_var.fill_uniform(rng_params, 0.5, 1.5);
  }
  y = BenchTensor(p.data, shape);
  if (model::traits(p.op).has_mean) saved_mean = BenchTensor(p.stats, saved);
  saved_rstd = BenchTensor(p.stats, saved);
  dy = BenchTensor(p.data, shape);
  dy.fill_uniform(rng_dy, -1.0, 1.0);
  dx = BenchTensor(p.data, shape);
  dgamma = BenchTensor(p.param, params);
  dbeta = BenchTensor(p.param, params);

  forward.x = x.get();
  forward.gamma = gamma.get();
  forward.beta = beta.get();
  forward.running_mean = running_mean.get();
  forward.running_var = running_var.get();
  forward.y = y.get();
  forward.saved_mean = saved_mean.get();
  forward.saved_rstd = saved_rstd.get();
  backward.dy = dy.get();
  backward.x = x.get();
  backward.gamma = gamma.get();
  backward.saved_mean = saved_mean.get();
  backward.saved_rstd = saved_rstd.get();
  backward.running_mean = running_mean.get();
  backward.running_var = running_var.get();
  backward.dx = dx.get();
  backward.dgamma = dgamma.get();
  backward.dbeta = dbeta.get();
}

}  // namespace normcheck::bench
