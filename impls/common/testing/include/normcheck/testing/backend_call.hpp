// Test-only helpers for calling a backend table directly: host tensors
// built from doubles, problems with sensible defaults, and forward/backward
// calls that allocate every output the problem implies.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "normcheck/backend.h"
#include "normcheck/numeric/dtype.hpp"
#include "normcheck/support/geometry.hpp"

namespace normcheck::testing {

using numeric::DType;

// A dense host tensor that owns its bytes. view() points a DLTensor at them.
struct HostTensor {
  DType dtype = DType::f64;
  std::vector<std::int64_t> shape;
  std::vector<unsigned char> bytes;
  DLTensor dl{};

  HostTensor() = default;
  HostTensor(DType t, std::vector<std::int64_t> dims, const std::vector<double>& values = {});
  HostTensor(const HostTensor& other)
      : dtype(other.dtype), shape(other.shape), bytes(other.bytes) {}
  HostTensor& operator=(const HostTensor& other) {
    dtype = other.dtype;
    shape = other.shape;
    bytes = other.bytes;
    return *this;
  }

  bool empty() const { return bytes.empty(); }
  std::int64_t count() const;
  double at(std::int64_t i) const { return numeric::load(dtype, bytes.data(), std::size_t(i)); }
  void set(std::int64_t i, double v) { numeric::store(dtype, bytes.data(), std::size_t(i), v); }
  std::vector<double> values() const;
  DLTensor* view();  // nullptr when empty
  const DLTensor* cview() { return view(); }
};

// Defaults: NCHW, last axis normalized, eps 1e-5, momentum 0.1 (torch,
// unbiased), train, gamma and beta, tracked running stats for bn; param
// dtype = data dtype; stats f32 for f16/bf16 data, else the data dtype.
nc_problem make_problem(nc_op op, std::vector<std::int64_t> shape, DType data = DType::f64);
inline void set_dtypes(nc_problem& p, DType data, DType param, DType stats) {
  p.data_dtype = numeric::to_dlpack(data);
  p.param_dtype = numeric::to_dlpack(param);
  p.stats_dtype = numeric::to_dlpack(stats);
}

struct Inputs {
  HostTensor x, residual, gamma, beta, running_mean, running_var, dy;
};

// Random inputs for the problem: x ~ offset + U(-1, 1) * spread, gamma,
// beta, dy ~ U(-1, 1), running_mean ~ U(-1, 1), running_var ~ U(0.5, 1.5).
// Every value is representable in its dtype.
Inputs random_inputs(const nc_problem& p, std::uint64_t seed, double offset = 0.0,
                     double spread = 1.0);

struct ForwardResult {
  nc_status status = NC_INTERNAL_ERROR;
  std::string message;
  HostTensor y, residual_out, saved_mean, saved_rstd, running_mean, running_var;
};

struct BackwardResult {
  nc_status status = NC_INTERNAL_ERROR;
  std::string message;
  HostTensor dx, dresidual, dgamma, dbeta;
};

// Allocates every output the problem implies (running stats start as the
// inputs' copies) and calls forward.
ForwardResult run_forward(const nc_backend_v1& backend, const nc_problem& p, Inputs in,
                          const nc_collectives* collectives = nullptr);

// Backward with the saved statistics of `fwd` (train) or the inputs'
// running statistics (eval / global stats). x is residual_out when fused.
BackwardResult run_backward(const nc_backend_v1& backend, const nc_problem& p, Inputs in,
                            ForwardResult& fwd, const nc_collectives* collectives = nullptr);

// Largest |a - b| / max(1, |b|) over two equally long vectors.
double max_relative_error(const std::vector<double>& a, const std::vector<double>& b);

// True when both tensors hold the same bytes.
inline bool bit_identical(const HostTensor& a, const HostTensor& b) {
  return a.bytes == b.bytes;
}

}  // namespace normcheck::testing
