// A test backend that gets layer norm and RMS norm right (sums in long
// double, one rounding to the output dtype), so the harness's pass path is
// tested without depending on the real backends. Built in variants
// (NC_VARIANT, harness/tests/CMakeLists.txt) that each break one thing the
// harness must notice:
//
//   exact             correct, deterministic, batch invariant
//   fragile           forward statistics in f32 as E[h^2] - E[h]^2 (the
//                     textbook formula): must fail on offset data
//   nondeterministic  every second forward differs in the last bits of y
//   batch_variant     y depends in its last bits on the batch size
//   eval_differs      eval mode differs in the last bits of y from train mode
//   nan_skipping      statistics over the finite elements only, and 0 written
//                     for a non-finite input: finite y and statistics where
//                     the golden is NaN (must fail the value checks, not only
//                     the advisory nan_placement property)
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "normcheck/backend.h"
#include "normcheck/numeric/dtype.hpp"

namespace {

using normcheck::numeric::DType;

bool variant(const char* name) {
  return std::strcmp(NC_VARIANT, name) == 0;
}

DType dtype_of(const DLTensor* t) {
  return *normcheck::numeric::from_dlpack(t->dtype);
}

long double at(const DLTensor* t, std::size_t i) {
  return t == nullptr ? 0.0L
                      : static_cast<long double>(normcheck::numeric::load(dtype_of(t), t->data, i));
}

void put(DLTensor* t, std::size_t i, long double v) {
  if (t != nullptr) normcheck::numeric::store(dtype_of(t), t->data, i, double(v));
}

struct Shape {
  std::size_t rows = 1, n = 1, batch = 1;
  explicit Shape(const nc_problem* p) : batch(std::size_t(p->shape[0])) {
    for (int i = 0; i < p->ndim; ++i) (i < p->norm_axis ? rows : n) *= std::size_t(p->shape[i]);
  }
};

// Mean and rstd of row r of h (x, or x + residual).
struct RowStats {
  long double mean = 0, rstd = 0;
};

RowStats row_stats(const nc_problem* p, const std::vector<long double>& h, std::size_t r,
                   std::size_t n) {
  const bool rms = p->op == NC_OP_RMS_NORM;
  RowStats s;
  if (variant("fragile") && !rms) {
    float sum = 0.0f, sq = 0.0f;
    for (std::size_t i = 0; i < n; ++i) {
      const float v = float(h[r * n + i]);
      sum += v;
      sq += v * v;
    }
    const float mean = sum / float(n);
    const float var = std::fmax(sq / float(n) - mean * mean, 0.0f);
    return {mean, 1.0L / std::sqrt(static_cast<long double>(var) + p->eps)};
  }
  const bool skip = variant("nan_skipping");
  const auto counted = [&](std::size_t i) { return !skip || std::isfinite(h[r * n + i]); };
  long double sum = 0, count = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (counted(i)) sum += h[r * n + i], count += 1;
  if (count == 0) count = 1;
  s.mean = rms ? 0.0L : sum / count;
  long double sq = 0;
  for (std::size_t i = 0; i < n; ++i)
    if (counted(i)) sq += (h[r * n + i] - s.mean) * (h[r * n + i] - s.mean);
  s.rstd = 1.0L / std::sqrt(sq / count + p->eps);
  return s;
}

nc_status supports(const nc_problem* p, char* reason, std::size_t size) {
  if (p->op == NC_OP_LAYER_NORM || p->op == NC_OP_RMS_NORM) return NC_OK;
  std::strncpy(reason, "exact_ln implements layer_norm and rms_norm only", size - 1);
  return NC_UNSUPPORTED;
}

// The (mode, batch) of every forward call this worker process has made:
// the nondeterministic variant changes its bits when it sees the same call
// again (the harness reruns each case to test determinism).
std::vector<std::pair<int, std::int64_t>> g_calls_seen;

bool seen_before(const nc_problem* p) {
  const std::pair<int, std::int64_t> key{int(p->mode), p->shape[0]};
  for (const auto& k : g_calls_seen)
    if (k == key) return true;
  g_calls_seen.push_back(key);
  return false;
}

nc_status forward(const nc_problem* p, const nc_forward_args* a, char*, std::size_t) {
  const Shape s(p);
  std::vector<long double> h(s.rows * s.n);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = at(a->x, i) + at(a->residual, i);
  long double wobble = 1.0L;
  if (variant("nondeterministic") && seen_before(p)) wobble = 1.0L + 0x1p-22L;
  if (variant("batch_variant")) wobble = 1.0L + 0x1p-24L * static_cast<long double>(s.batch);
  if (variant("eval_differs") && p->mode == NC_MODE_EVAL) wobble = 1.0L + 0x1p-22L;
  for (std::size_t r = 0; r < s.rows; ++r) {
    const RowStats st = row_stats(p, h, r, s.n);
    put(a->saved_mean, r, st.mean);
    put(a->saved_rstd, r, st.rstd);
    for (std::size_t i = 0; i < s.n; ++i) {
      const std::size_t k = r * s.n + i;
      const long double g = (p->flags & NC_FLAG_SCALE) ? at(a->gamma, i) : 1.0L;
      const long double b = (p->flags & NC_FLAG_SHIFT) ? at(a->beta, i) : 0.0L;
      const long double hk = variant("nan_skipping") && !std::isfinite(h[k]) ? 0.0L : h[k];
      put(a->y, k, ((hk - st.mean) * st.rstd * g + b) * wobble);
      put(a->residual_out, k, h[k]);
    }
  }
  return NC_OK;
}

nc_status backward(const nc_problem* p, const nc_backward_args* a, char*, std::size_t) {
  const Shape s(p);
  const bool rms = p->op == NC_OP_RMS_NORM;
  std::vector<long double> h(s.rows * s.n), dgamma(s.n, 0.0L), dbeta(s.n, 0.0L);
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = at(a->x, i);
  for (std::size_t r = 0; r < s.rows; ++r) {
    const RowStats st = row_stats(p, h, r, s.n);
    long double mean_g = 0, mean_gx = 0;
    for (std::size_t i = 0; i < s.n; ++i) {
      const std::size_t k = r * s.n + i;
      const long double g = at(a->dy, k) * ((p->flags & NC_FLAG_SCALE) ? at(a->gamma, i) : 1.0L);
      const long double xhat = (h[k] - st.mean) * st.rstd;
      mean_g += g;
      mean_gx += g * xhat;
      dgamma[i] += at(a->dy, k) * xhat;
      dbeta[i] += at(a->dy, k);
    }
    mean_g = rms ? 0.0L : mean_g / s.n;
    mean_gx /= s.n;
    for (std::size_t i = 0; i < s.n; ++i) {
      const std::size_t k = r * s.n + i;
      const long double g = at(a->dy, k) * ((p->flags & NC_FLAG_SCALE) ? at(a->gamma, i) : 1.0L);
      const long double xhat = (h[k] - st.mean) * st.rstd;
      const long double dx = st.rstd * (g - mean_g - xhat * mean_gx);
      put(a->dx, k, dx);
      put(a->dresidual, k, dx);
    }
  }
  for (std::size_t i = 0; i < s.n; ++i) {
    put(a->dgamma, i, dgamma[i]);
    put(a->dbeta, i, dbeta[i]);
  }
  return NC_OK;
}

const nc_backend_v1 kTable = {NORMCHECK_BACKEND_ABI_VERSION,
                              "exact_ln_" NC_VARIANT,
                              "1",
                              supports,
                              forward,
                              backward,
                              nullptr};

}  // namespace

extern "C" __attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  return &kTable;
}
