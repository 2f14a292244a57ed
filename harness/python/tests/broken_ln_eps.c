/* A deliberately broken layer norm for one test: eps added outside the
 * square root, rstd = 1 / (sqrt(var) + eps). The C twin of the broken Python
 * layer norm in test_broken_layer_norm.py: both must fail with the same worst
 * element. f32 and f64 data, no residual, forward only (the backward is
 * declined), the two-pass formulas in double. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "normcheck/backend.h"

static int float_dtype(DLDataType t) {
  return t.code == kDLFloat && (t.bits == 32 || t.bits == 64) && t.lanes == 1;
}

static double load(const DLTensor* t, int64_t i) {
  const char* base = (const char*)t->data + t->byte_offset;
  return t->dtype.bits == 64 ? ((const double*)base)[i] : (double)((const float*)base)[i];
}

static void store(DLTensor* t, int64_t i, double v) {
  char* base = (char*)t->data + t->byte_offset;
  if (t->dtype.bits == 64)
    ((double*)base)[i] = v;
  else
    ((float*)base)[i] = (float)v;
}

static nc_status supports(const nc_problem* p, char* reason, size_t size) {
  if (p->op != NC_OP_LAYER_NORM || (p->flags & NC_FLAG_RESIDUAL) || !float_dtype(p->data_dtype) ||
      !float_dtype(p->param_dtype) || !float_dtype(p->stats_dtype)) {
    snprintf(reason, size, "broken_ln_eps: f32/f64 layer norm without residual only");
    return NC_UNSUPPORTED;
  }
  return NC_OK;
}

static nc_status forward(const nc_problem* p, const nc_forward_args* a, char* message,
                         size_t size) {
  (void)message;
  (void)size;
  int64_t rows = 1, cols = 1;
  for (int d = 0; d < p->ndim; ++d) {
    if (d < p->norm_axis)
      rows *= p->shape[d];
    else
      cols *= p->shape[d];
  }
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0.0, m2 = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += load(a->x, r * cols + c);
    const double mean = sum / (double)cols;
    for (int64_t c = 0; c < cols; ++c) {
      const double d = load(a->x, r * cols + c) - mean;
      m2 += d * d;
    }
    const double rstd = 1.0 / (sqrt(m2 / (double)cols) + p->eps); /* the bug */
    for (int64_t c = 0; c < cols; ++c) {
      double v = (load(a->x, r * cols + c) - mean) * rstd;
      if (a->gamma) v *= load(a->gamma, c);
      if (a->beta) v += load(a->beta, c);
      store(a->y, r * cols + c, v);
    }
    if (a->saved_mean) store(a->saved_mean, r, mean);
    if (a->saved_rstd) store(a->saved_rstd, r, rstd);
  }
  return NC_OK;
}

static nc_status backward(const nc_problem* p, const nc_backward_args* a, char* message,
                          size_t size) {
  (void)p;
  (void)a;
  snprintf(message, size, "broken_ln_eps: no backward");
  return NC_UNSUPPORTED;
}

static const nc_backend_v1 table = {
    NORMCHECK_BACKEND_ABI_VERSION, "broken_ln_eps", "1", supports, forward, backward, NULL};

__attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  return &table;
}
