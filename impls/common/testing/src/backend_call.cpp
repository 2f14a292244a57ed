#include "normcheck/testing/backend_call.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace normcheck::testing {

HostTensor::HostTensor(DType t, std::vector<std::int64_t> dims, const std::vector<double>& values)
    : dtype(t), shape(std::move(dims)) {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  bytes.assign(std::size_t(n) * numeric::dtype_size(t), 0);
  if (!values.empty()) {
    if (std::int64_t(values.size()) != count())
      throw std::invalid_argument("HostTensor: value count");
    for (std::size_t i = 0; i < values.size(); ++i) set(std::int64_t(i), values[i]);
  }
}

std::int64_t HostTensor::count() const {
  if (bytes.empty()) return 0;  // default-constructed: no tensor
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::vector<double> HostTensor::values() const {
  std::vector<double> v(static_cast<std::size_t>(count()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = at(std::int64_t(i));
  return v;
}

DLTensor* HostTensor::view() {
  if (bytes.empty()) return nullptr;
  dl = DLTensor{};
  dl.data = bytes.data();
  dl.device = DLDevice{kDLCPU, 0};
  dl.ndim = int(shape.size());
  dl.dtype = numeric::to_dlpack(dtype);
  dl.shape = shape.data();
  dl.strides = nullptr;
  dl.byte_offset = 0;
  return &dl;
}

nc_problem make_problem(nc_op op, std::vector<std::int64_t> shape, DType data) {
  nc_problem p{};
  p.struct_size = sizeof(nc_problem);
  p.op = op;
  p.layout = NC_LAYOUT_NCHW;
  p.ndim = int(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i) p.shape[i] = shape[i];
  p.norm_axis = p.ndim - 1;
  p.groups = 1;
  const DType stats = numeric::dtype_size(data) == 2 ? DType::f32 : data;
  set_dtypes(p, data, data, stats);
  p.eps = 1e-5;
  p.momentum = 0.1;
  p.momentum_convention = NC_MOMENTUM_TORCH;
  p.running_var_estimator = NC_VARIANCE_UNBIASED;
  p.mode = NC_MODE_TRAIN;
  p.flags = NC_FLAG_SCALE | NC_FLAG_SHIFT;
  if (op == NC_OP_BATCH_NORM) p.flags |= NC_FLAG_TRACK_RUNNING_STATS;
  return p;
}

namespace {

HostTensor random_tensor(DType t, const std::vector<std::int64_t>& shape, std::mt19937_64& gen,
                         double lo, double hi, double offset = 0.0) {
  HostTensor out(t, shape);
  std::uniform_real_distribution<double> u(lo, hi);
  for (std::int64_t i = 0; i < out.count(); ++i) out.set(i, offset + u(gen));
  return out;
}

}  // namespace

Inputs random_inputs(const nc_problem& p, std::uint64_t seed, double offset, double spread) {
  const auto g = support::geometry_of(&p);
  std::mt19937_64 gen(seed);
  Inputs in;
  in.x = random_tensor(g.data, g.data_shape, gen, -spread, spread, offset);
  if (p.flags & NC_FLAG_RESIDUAL) in.residual = random_tensor(g.data, g.data_shape, gen, -1.0, 1.0);
  if (p.flags & NC_FLAG_SCALE) in.gamma = random_tensor(g.param, g.param_shape, gen, -1.0, 1.0);
  if (p.flags & NC_FLAG_SHIFT) in.beta = random_tensor(g.param, g.param_shape, gen, -1.0, 1.0);
  if (!g.running_shape.empty()) {
    in.running_mean = random_tensor(g.stats, g.running_shape, gen, -1.0, 1.0);
    in.running_var = random_tensor(g.stats, g.running_shape, gen, 0.5, 1.5);
  }
  in.dy = random_tensor(g.data, g.data_shape, gen, -1.0, 1.0);
  return in;
}

ForwardResult run_forward(const nc_backend_v1& backend, const nc_problem& p, Inputs in,
                          const nc_collectives* collectives) {
  const auto g = support::geometry_of(&p);
  ForwardResult r;
  r.y = HostTensor(g.data, g.data_shape);
  if (p.flags & NC_FLAG_RESIDUAL) r.residual_out = HostTensor(g.data, g.data_shape);
  if (p.op != NC_OP_RMS_NORM) r.saved_mean = HostTensor(g.stats, g.saved_shape);
  r.saved_rstd = HostTensor(g.stats, g.saved_shape);
  r.running_mean = in.running_mean;
  r.running_var = in.running_var;
  nc_forward_args a{};
  a.x = in.x.view();
  a.residual = in.residual.view();
  a.gamma = in.gamma.view();
  a.beta = in.beta.view();
  a.running_mean = r.running_mean.view();
  a.running_var = r.running_var.view();
  a.y = r.y.view();
  a.residual_out = r.residual_out.view();
  a.saved_mean = r.saved_mean.view();
  a.saved_rstd = r.saved_rstd.view();
  a.collectives = collectives;
  char message[512] = "unset";
  r.status = backend.forward(&p, &a, message, sizeof message);
  r.message = message;
  return r;
}

BackwardResult run_backward(const nc_backend_v1& backend, const nc_problem& p, Inputs in,
                            ForwardResult& fwd, const nc_collectives* collectives) {
  const auto g = support::geometry_of(&p);
  BackwardResult r;
  r.dx = HostTensor(g.data, g.data_shape);
  if (p.flags & NC_FLAG_RESIDUAL) r.dresidual = HostTensor(g.data, g.data_shape);
  r.dgamma = HostTensor(g.param, g.param_shape);
  r.dbeta = HostTensor(g.param, g.param_shape);
  nc_backward_args a{};
  a.dy = in.dy.view();
  a.x = (p.flags & NC_FLAG_RESIDUAL) ? fwd.residual_out.view() : in.x.view();
  a.gamma = in.gamma.view();
  a.saved_mean = fwd.saved_mean.view();
  a.saved_rstd = fwd.saved_rstd.view();
  a.running_mean = in.running_mean.view();
  a.running_var = in.running_var.view();
  a.dx = r.dx.view();
  a.dresidual = r.dresidual.view();
  a.dgamma = r.dgamma.view();
  a.dbeta = r.dbeta.view();
  a.collectives = collectives;
  char message[512] = "unset";
  r.status = backend.backward(&p, &a, message, sizeof message);
  r.message = message;
  return r;
}

double max_relative_error(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return INFINITY;
  double worst = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double e = std::fabs(a[i] - b[i]) / std::max(1.0, std::fabs(b[i]));
    if (std::isnan(e)) return INFINITY;
    worst = std::max(worst, e);
  }
  return worst;
}

}  // namespace normcheck::testing
