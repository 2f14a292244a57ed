// An example normcheck backend: layer_norm and rms_norm, forward and
// backward, in f32 or f64, on dense host tensors. Everything else is
// declined with a reason. Simple, correct, and single-threaded: a starting
// point to copy, not a fast kernel. The ABI is described in impls/README.md.
#include <normcheck/backend.h>

#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <vector>

namespace {

// Writes a printf-style message into the caller's buffer (which may be NULL
// or empty) and returns the status, so errors read `return fail(...)`.
nc_status fail(nc_status status, char* buffer, size_t size, const char* format, ...) {
  if (buffer != nullptr && size > 0) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(buffer, size, format, args);
    va_end(args);
  }
  return status;
}

bool is_float(DLDataType d, int bits) {
  return d.code == kDLFloat && d.bits == bits && d.lanes == 1;
}

struct Rows {
  int64_t rows = 1, cols = 1;  // rows = prod(shape[:axis]), cols = prod(shape[axis:])
};

// What this backend implements, judged from the problem alone.
nc_status check_problem(const nc_problem* p, Rows* rows, char* msg, size_t n) {
  if (p == nullptr) return fail(NC_INVALID_ARGUMENT, msg, n, "problem is NULL");
  if (p->struct_size < sizeof(nc_problem))
    return fail(NC_INVALID_ARGUMENT, msg, n, "problem: struct_size %u is too small",
                p->struct_size);
  if (p->op != NC_OP_LAYER_NORM && p->op != NC_OP_RMS_NORM)
    return fail(NC_UNSUPPORTED, msg, n, "this example implements layer_norm and rms_norm only");
  if (!is_float(p->data_dtype, 32) && !is_float(p->data_dtype, 64))
    return fail(NC_UNSUPPORTED, msg, n, "data dtype: f32 and f64 only");
  if (p->param_dtype.bits != p->data_dtype.bits || p->param_dtype.code != p->data_dtype.code ||
      p->stats_dtype.bits != p->data_dtype.bits || p->stats_dtype.code != p->data_dtype.code)
    return fail(NC_UNSUPPORTED, msg, n, "mixed dtypes: param and stats must match the data dtype");
  if (p->flags & NC_FLAG_RESIDUAL)
    return fail(NC_UNSUPPORTED, msg, n, "fused residual not implemented");
  if (p->ndim < 1 || p->ndim > NC_MAX_DIMS || p->norm_axis < 0 || p->norm_axis >= p->ndim)
    return fail(NC_INVALID_ARGUMENT, msg, n, "problem: ndim %d / norm_axis %d", p->ndim,
                p->norm_axis);
  Rows r;
  for (int i = 0; i < p->ndim; ++i) {
    if (p->shape[i] <= 0) return fail(NC_INVALID_ARGUMENT, msg, n, "problem: shape[%d] <= 0", i);
    (i < p->norm_axis ? r.rows : r.cols) *= p->shape[i];
  }
  if (rows != nullptr) *rows = r;
  return NC_OK;
}

// A tensor this backend can read: present (unless optional), host memory,
// the expected dtype, dense, `count` elements. *data receives its elements.
nc_status check_tensor(const DLTensor* t, const char* name, DLDataType dtype, int64_t count,
                       bool required, void** data, char* msg, size_t n) {
  *data = nullptr;
  if (t == nullptr) return required ? fail(NC_INVALID_ARGUMENT, msg, n, "%s is NULL", name) : NC_OK;
  if (t->device.device_type != kDLCPU)
    return fail(NC_UNSUPPORTED, msg, n, "%s: host (kDLCPU) tensors only", name);
  if (t->dtype.code != dtype.code || t->dtype.bits != dtype.bits || t->dtype.lanes != 1)
    return fail(NC_INVALID_ARGUMENT, msg, n, "%s: wrong dtype", name);
  int64_t elements = 1, stride = 1;
  for (int i = t->ndim - 1; i >= 0; --i) {
    if (t->strides != nullptr && t->shape[i] != 1 && t->strides[i] != stride)
      return fail(NC_UNSUPPORTED, msg, n, "%s: dense row-major tensors only", name);
    stride *= t->shape[i];
    elements *= t->shape[i];
  }
  if (elements != count)
    return fail(NC_INVALID_ARGUMENT, msg, n, "%s: %lld elements, expected %lld", name,
                (long long)elements, (long long)count);
  if (t->data == nullptr) return fail(NC_INVALID_ARGUMENT, msg, n, "%s: data is NULL", name);
  *data = static_cast<char*>(t->data) + t->byte_offset;
  return NC_OK;
}

#define CHECK_OK(call)                    \
  do {                                    \
    const nc_status status_ = (call);     \
    if (status_ != NC_OK) return status_; \
  } while (0)

// Per row: mean and biased variance in double (two passes), then
// y = (x - mean) * rstd * gamma + beta. rms_norm: mean 0, rstd from mean(x^2).
template <class T>
void forward_rows(bool rms, double eps, Rows r, const T* x, const T* gamma, const T* beta, T* y,
                  T* saved_mean, T* saved_rstd) {
  for (int64_t row = 0; row < r.rows; ++row) {
    const T* xr = x + row * r.cols;
    double mean = 0.0, var = 0.0;
    if (!rms) {
      for (int64_t j = 0; j < r.cols; ++j) mean += xr[j];
      mean /= double(r.cols);
    }
    for (int64_t j = 0; j < r.cols; ++j) var += (xr[j] - mean) * (xr[j] - mean);
    var /= double(r.cols);
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t j = 0; j < r.cols; ++j) {
      const double g = gamma ? double(gamma[j]) : 1.0, b = beta ? double(beta[j]) : 0.0;
      y[row * r.cols + j] = T((xr[j] - mean) * rstd * g + b);
    }
    if (saved_mean != nullptr && !rms) saved_mean[row] = T(mean);
    if (saved_rstd != nullptr) saved_rstd[row] = T(rstd);
  }
}

// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gamma * dy,
// xhat = (x - mean) * rstd (rms_norm: no mean(g) term, mean 0).
template <class T>
void backward_rows(bool rms, Rows r, const T* x, const T* dy, const T* gamma, const T* saved_mean,
                   const T* saved_rstd, T* dx, T* dgamma, T* dbeta) {
  std::vector<double> dg(size_t(r.cols), 0.0), db(size_t(r.cols), 0.0);
  for (int64_t row = 0; row < r.rows; ++row) {
    const T* xr = x + row * r.cols;
    const T* dyr = dy + row * r.cols;
    const double mean = rms ? 0.0 : double(saved_mean[row]), rstd = double(saved_rstd[row]);
    double sum_g = 0.0, sum_g_xhat = 0.0;
    for (int64_t j = 0; j < r.cols; ++j) {
      const double xhat = (xr[j] - mean) * rstd, g = (gamma ? double(gamma[j]) : 1.0) * dyr[j];
      sum_g += g;
      sum_g_xhat += g * xhat;
      dg[size_t(j)] += dyr[j] * xhat;
      db[size_t(j)] += dyr[j];
    }
    const double mean_g = rms ? 0.0 : sum_g / double(r.cols),
                 mean_g_xhat = sum_g_xhat / double(r.cols);
    for (int64_t j = 0; j < r.cols; ++j) {
      const double xhat = (xr[j] - mean) * rstd, g = (gamma ? double(gamma[j]) : 1.0) * dyr[j];
      dx[row * r.cols + j] = T(rstd * (g - mean_g - xhat * mean_g_xhat));
    }
  }
  for (int64_t j = 0; j < r.cols; ++j) {
    if (dgamma != nullptr) dgamma[j] = T(dg[size_t(j)]);
    if (dbeta != nullptr) dbeta[j] = T(db[size_t(j)]);
  }
}

nc_status supports(const nc_problem* p, char* reason, size_t size) {
  return check_problem(p, nullptr, reason, size);
}

nc_status forward(const nc_problem* p, const nc_forward_args* a, char* msg, size_t n) {
  Rows r;
  CHECK_OK(check_problem(p, &r, msg, n));
  if (a == nullptr) return fail(NC_INVALID_ARGUMENT, msg, n, "args is NULL");
  const DLDataType t = p->data_dtype;
  const bool rms = p->op == NC_OP_RMS_NORM;
  void *x, *gamma, *beta, *y, *mean, *rstd;
  CHECK_OK(check_tensor(a->x, "x", t, r.rows * r.cols, true, &x, msg, n));
  CHECK_OK(check_tensor(a->y, "y", t, r.rows * r.cols, true, &y, msg, n));
  CHECK_OK(check_tensor(a->gamma, "gamma", t, r.cols, p->flags & NC_FLAG_SCALE, &gamma, msg, n));
  CHECK_OK(check_tensor(a->beta, "beta", t, r.cols, p->flags & NC_FLAG_SHIFT, &beta, msg, n));
  CHECK_OK(
      check_tensor(rms ? nullptr : a->saved_mean, "saved_mean", t, r.rows, false, &mean, msg, n));
  CHECK_OK(check_tensor(a->saved_rstd, "saved_rstd", t, r.rows, false, &rstd, msg, n));
  if (!(p->flags & NC_FLAG_SCALE)) gamma = nullptr;
  if (!(p->flags & NC_FLAG_SHIFT)) beta = nullptr;
  if (t.bits == 64)
    forward_rows<double>(rms, p->eps, r, (double*)x, (double*)gamma, (double*)beta, (double*)y,
                         (double*)mean, (double*)rstd);
  else
    forward_rows<float>(rms, p->eps, r, (float*)x, (float*)gamma, (float*)beta, (float*)y,
                        (float*)mean, (float*)rstd);
  return fail(NC_OK, msg, n, "");
}

nc_status backward(const nc_problem* p, const nc_backward_args* a, char* msg, size_t n) {
  Rows r;
  CHECK_OK(check_problem(p, &r, msg, n));
  if (a == nullptr) return fail(NC_INVALID_ARGUMENT, msg, n, "args is NULL");
  const DLDataType t = p->data_dtype;
  const bool rms = p->op == NC_OP_RMS_NORM;
  void *x, *dy, *gamma, *mean, *rstd, *dx, *dgamma, *dbeta;
  CHECK_OK(check_tensor(a->x, "x", t, r.rows * r.cols, true, &x, msg, n));
  CHECK_OK(check_tensor(a->dy, "dy", t, r.rows * r.cols, true, &dy, msg, n));
  CHECK_OK(check_tensor(a->dx, "dx", t, r.rows * r.cols, true, &dx, msg, n));
  CHECK_OK(check_tensor(a->gamma, "gamma", t, r.cols, p->flags & NC_FLAG_SCALE, &gamma, msg, n));
  CHECK_OK(
      check_tensor(rms ? nullptr : a->saved_mean, "saved_mean", t, r.rows, !rms, &mean, msg, n));
  CHECK_OK(check_tensor(a->saved_rstd, "saved_rstd", t, r.rows, true, &rstd, msg, n));
  CHECK_OK(check_tensor(a->dgamma, "dgamma", t, r.cols, false, &dgamma, msg, n));
  CHECK_OK(check_tensor(a->dbeta, "dbeta", t, r.cols, false, &dbeta, msg, n));
  if (!(p->flags & NC_FLAG_SCALE)) gamma = nullptr;
  if (t.bits == 64)
    backward_rows<double>(rms, r, (double*)x, (double*)dy, (double*)gamma, (double*)mean,
                          (double*)rstd, (double*)dx, (double*)dgamma, (double*)dbeta);
  else
    backward_rows<float>(rms, r, (float*)x, (float*)dy, (float*)gamma, (float*)mean, (float*)rstd,
                         (float*)dx, (float*)dgamma, (float*)dbeta);
  return fail(NC_OK, msg, n, "");
}

nc_status conv_bn_fold(const nc_problem*, const nc_conv_bn_fold_args*, char* msg, size_t n) {
  return fail(NC_UNSUPPORTED, msg, n, "this example does not implement Conv-BN folding");
}

}  // namespace

extern "C" __attribute__((visibility("default"))) const nc_backend_v1* normcheck_backend_v1(void) {
  static const nc_backend_v1 table = {NORMCHECK_BACKEND_ABI_VERSION,
                                      "mykernels",
                                      "0.1.0",
                                      supports,
                                      forward,
                                      backward,
                                      conv_bn_fold};
  return &table;
}
