// Layer norm and RMS norm over rows of `hidden` contiguous elements.
//
// Every row is reduced by exactly one block whose shape (threads, vectors per
// thread) depends on `hidden` only, so a row's reduction order, and its bits,
// never depend on how many rows the call has: batch invariance. Rows are
// independent; a block walks rows blockIdx.x, blockIdx.x + gridDim.x, ...
#pragma once

#include <cstdint>

#include "device_numeric.cuh"
#include "reduce.cuh"

namespace normcheck::cuda::device {

struct RowForwardParams {
  const void* x;
  const void* residual;
  const void* gamma;
  const void* beta;
  void* y;
  void* residual_out;
  void* mean;
  void* rstd;
  std::int64_t rows;
  std::int64_t hidden;
  double eps;
  DType stats;
  bool rms;
};

struct RowBackwardParams {
  const void* dy;
  const void* x;
  const void* gamma;
  const void* mean;
  const void* rstd;
  void* dx;
  void* dresidual;
  float* partial_dgamma;  // [parts][hidden] (f64 data: double, see below)
  float* partial_dbeta;
  double* partial_dgamma_f64;
  double* partial_dbeta_f64;
  std::int64_t rows;
  std::int64_t hidden;
  DType stats;
  bool rms;
};

// A saved mean as hi + lo in the accumulation type: with f64 statistics
// and f32 arithmetic, x - mean = (x - hi) - lo keeps the digits that a
// large common offset would otherwise cost.
template <class A>
struct SplitMean {
  A hi, lo;
};
template <class A>
__device__ __forceinline__ SplitMean<A> load_mean(DType stats, const void* mean, std::int64_t row) {
  if (mean == nullptr) return {A(0), A(0)};
  const double m = load_any(stats, mean, row);
  const A hi = A(m);
  return {hi, A(m - double(hi))};
}

template <class A>
__device__ __forceinline__ A* partial_ptr(float* f32, double* f64);
template <>
__device__ __forceinline__ float* partial_ptr<float>(float* f32, double*) {
  return f32;
}
template <>
__device__ __forceinline__ double* partial_ptr<double>(float*, double* f64) {
  return f64;
}

// ---------------------------------------------------------------------------
// Forward, row in registers. Thread t holds vectors t, t + blockDim, ... of
// the row. Statistics are two-pass over the registers (the mean, then the
// centred sums), so a large common offset costs no accuracy.
template <class T, class P, int V, int K>
__global__ void __launch_bounds__(512) row_forward_cached(RowForwardParams p) {
  using A = acc_t<T>;
  __shared__ A smem[2 * kMaxWarps];
  const T* x = static_cast<const T*>(p.x);
  const T* res = static_cast<const T*>(p.residual);
  const P* gamma = static_cast<const P*>(p.gamma);
  const P* beta = static_cast<const P*>(p.beta);
  T* y = static_cast<T*>(p.y);
  T* res_out = static_cast<T*>(p.residual_out);
  const std::int64_t vectors = p.hidden / V;
  const A inv_hidden = A(1) / A(p.hidden);

  for (std::int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const std::int64_t base = row * p.hidden;
    A v[K][V];
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
      if (vi < vectors) {
        const Vec<T, V> xv = load_vec<V>(x + base + vi * V);
        if (res != nullptr) {
          const Vec<T, V> rv = load_vec<V>(res + base + vi * V);
          Vec<T, V> sum;
#pragma unroll
          for (int j = 0; j < V; ++j) {
            // The sum is rounded to the data dtype before it is normalized,
            // so the statistics are those of residual_out, the tensor the
            // backward receives.
            sum.v[j] = narrow<T>(widen(xv.v[j]) + widen(rv.v[j]));
            v[k][j] = widen(sum.v[j]);
          }
          if (res_out != nullptr) store_vec<V>(res_out + base + vi * V, sum);
        } else {
#pragma unroll
          for (int j = 0; j < V; ++j) v[k][j] = widen(xv.v[j]);
        }
      } else {
#pragma unroll
        for (int j = 0; j < V; ++j) v[k][j] = A(0);
      }
    }

    // Corrected two-pass (Chan, Golub & LeVeque): m0 = sum / H, then
    // c = sum (x - m0) / H recovers m0's rounding error, so the mean is
    // carried as m0 + c and x - mean is formed as (x - m0) - c: with a large
    // common offset the error stays O(u sigma), not O(u |mean|).
    A m0 = A(0);
    if (!p.rms) {
      A s[1] = {A(0)};
#pragma unroll
      for (int k = 0; k < K; ++k)
#pragma unroll
        for (int j = 0; j < V; ++j) s[0] += v[k][j];
      block_sum(s, smem);
      m0 = s[0] * inv_hidden;
    }
    A q[2] = {A(0), A(0)};  // sum (x - m0), sum (x - m0)^2
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
      if (vi < vectors) {
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const A d = v[k][j] - m0;
          q[0] += d;
          q[1] += d * d;
        }
      }
    }
    block_sum(q, smem);
    const A correction = p.rms ? A(0) : q[0] * inv_hidden;
    const A var = q[1] * inv_hidden - correction * correction;
    const A rstd = inverse_sqrt(clamp_rounding_negative(var) + A(p.eps));
    if (threadIdx.x == 0) {
      if (p.mean != nullptr && !p.rms)
        store_any(p.stats, p.mean, row, double(m0) + double(correction));
      if (p.rstd != nullptr) store_any(p.stats, p.rstd, row, rstd);
    }

#pragma unroll
    for (int k = 0; k < K; ++k) {
      const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
      if (vi < vectors) {
        Vec<T, V> out;
        Vec<P, V> g, b;
        if (gamma != nullptr) g = load_vec<V>(gamma + vi * V);
        if (beta != nullptr) b = load_vec<V>(beta + vi * V);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          A o = ((v[k][j] - m0) - correction) * rstd;
          if (gamma != nullptr) o *= A(widen(g.v[j]));
          if (beta != nullptr) o += A(widen(b.v[j]));
          out.v[j] = narrow<T>(o);
        }
        store_vec<V>(y + base + vi * V, out);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Forward, any row: scalar accesses, thread t takes elements t, t +
// blockDim, ... With `cache_in_smem` the row (rounded to T, so exactly the
// values the global path recomputes) is kept in dynamic shared memory for
// the second and third pass; the bits are the same either way.
template <class T, class P>
__global__ void __launch_bounds__(512) row_forward_generic(RowForwardParams p, bool cache_in_smem) {
  using A = acc_t<T>;
  __shared__ A smem[2 * kMaxWarps];
  extern __shared__ unsigned char dynamic_smem[];
  T* cache = reinterpret_cast<T*>(dynamic_smem);
  const T* x = static_cast<const T*>(p.x);
  const T* res = static_cast<const T*>(p.residual);
  const P* gamma = static_cast<const P*>(p.gamma);
  const P* beta = static_cast<const P*>(p.beta);
  T* y = static_cast<T*>(p.y);
  T* res_out = static_cast<T*>(p.residual_out);
  const A inv_hidden = A(1) / A(p.hidden);

  for (std::int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const std::int64_t base = row * p.hidden;
    // Each thread reads back only the cache slots it wrote itself, so the
    // cache needs no barrier of its own.
    auto value = [&](std::int64_t i) -> T {
      if (cache_in_smem) return cache[i];
      if (res == nullptr) return x[base + i];
      return narrow<T>(widen(x[base + i]) + widen(res[base + i]));
    };
    A s[1] = {A(0)};
#pragma unroll 4
    for (std::int64_t i = threadIdx.x; i < p.hidden; i += blockDim.x) {
      T t = res == nullptr ? x[base + i] : narrow<T>(widen(x[base + i]) + widen(res[base + i]));
      if (cache_in_smem) cache[i] = t;
      const A a = widen(t);
      s[0] += p.rms ? a * a : a;
    }
    block_sum(s, smem);
    // rms: s is the sum of squares. Layer norm: the corrected two-pass of
    // row_forward_cached.
    A m0 = A(0), correction = A(0);
    A var = s[0] * inv_hidden;
    if (!p.rms) {
      m0 = s[0] * inv_hidden;
      A q[2] = {A(0), A(0)};
#pragma unroll 4
      for (std::int64_t i = threadIdx.x; i < p.hidden; i += blockDim.x) {
        const A d = A(widen(value(i))) - m0;
        q[0] += d;
        q[1] += d * d;
      }
      block_sum(q, smem);
      correction = q[0] * inv_hidden;
      var = q[1] * inv_hidden - correction * correction;
    }
    const A rstd = inverse_sqrt(clamp_rounding_negative(var) + A(p.eps));
    if (threadIdx.x == 0) {
      if (p.mean != nullptr && !p.rms)
        store_any(p.stats, p.mean, row, double(m0) + double(correction));
      if (p.rstd != nullptr) store_any(p.stats, p.rstd, row, rstd);
    }
#pragma unroll 4
    for (std::int64_t i = threadIdx.x; i < p.hidden; i += blockDim.x) {
      const T t = value(i);
      if (res_out != nullptr) res_out[base + i] = t;
      A o = ((A(widen(t)) - m0) - correction) * rstd;
      if (gamma != nullptr) o *= A(widen(gamma[i]));
      if (beta != nullptr) o += A(widen(beta[i]));
      y[base + i] = narrow<T>(o);
    }
  }
}

// ---------------------------------------------------------------------------
// Backward, row in registers. With x-hat = (x - mean) rstd and g = gamma dy:
//   layer norm: dx = rstd (g - mean(g) - x-hat mean(g x-hat))
//   rms norm:   dx = rstd (g - x-hat mean(g x-hat)),  x-hat = x rstd
// Both sums are of centred quantities. Block b owns rows b, b + gridDim, ...
// and accumulates dgamma = sum dy x-hat and dbeta = sum dy for its columns in
// registers, writing one partial row per block (no atomics).
template <class T, class P, int V, int K>
__global__ void __launch_bounds__(512) row_backward_cached(RowBackwardParams p) {
  using A = acc_t<T>;
  __shared__ A smem[2 * kMaxWarps];
  const T* dy = static_cast<const T*>(p.dy);
  const T* x = static_cast<const T*>(p.x);
  const P* gamma = static_cast<const P*>(p.gamma);
  T* dx = static_cast<T*>(p.dx);
  T* dres = static_cast<T*>(p.dresidual);
  const std::int64_t vectors = p.hidden / V;
  const A inv_hidden = A(1) / A(p.hidden);

  A dgamma[K][V], dbeta[K][V];
#pragma unroll
  for (int k = 0; k < K; ++k)
#pragma unroll
    for (int j = 0; j < V; ++j) dgamma[k][j] = dbeta[k][j] = A(0);

  // The block's rows are a serial chain (one block_sum each), so the next
  // row's x and dy are loaded, raw, before this row is reduced: its memory
  // latency overlaps this row's work (a block per SM is all the registers
  // allow for long rows, and without this each row waited for DRAM anew).
  Vec<T, V> next_x[K], next_dy[K];
  auto load_row = [&](std::int64_t row) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
      if (row < p.rows && vi < vectors) {
        next_x[k] = load_vec<V>(x + row * p.hidden + vi * V);
        next_dy[k] = load_vec<V>(dy + row * p.hidden + vi * V);
      }
    }
  };
  load_row(blockIdx.x);
  for (std::int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const std::int64_t base = row * p.hidden;
    Vec<T, V> row_x[K], row_dy[K];
#pragma unroll
    for (int k = 0; k < K; ++k) {
      row_x[k] = next_x[k];
      row_dy[k] = next_dy[k];
    }
    load_row(row + gridDim.x);
    const SplitMean<A> mean = load_mean<A>(p.stats, p.rms ? nullptr : p.mean, row);
    const A rstd = A(load_any(p.stats, p.rstd, row));
    A xhat[K][V], g[K][V];
    A s[2] = {A(0), A(0)};
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
      if (vi < vectors) {
        const Vec<T, V>& xv = row_x[k];
        const Vec<T, V>& dyv = row_dy[k];
        Vec<P, V> gv;
        if (gamma != nullptr) gv = load_vec<V>(gamma + vi * V);
#pragma unroll
        for (int j = 0; j < V; ++j) {
          const A d = widen(dyv.v[j]);
          xhat[k][j] = ((A(widen(xv.v[j])) - mean.hi) - mean.lo) * rstd;
          g[k][j] = gamma != nullptr ? d * A(widen(gv.v[j])) : d;
          s[0] += g[k][j];
          s[1] += g[k][j] * xhat[k][j];
          dgamma[k][j] += d * xhat[k][j];
          dbeta[k][j] += d;
        }
      } else {
#pragma unroll
        for (int j = 0; j < V; ++j) xhat[k][j] = g[k][j] = A(0);
      }
    }
    block_sum(s, smem);
    const A mean_g = p.rms ? A(0) : s[0] * inv_hidden;
    const A mean_gx = s[1] * inv_hidden;
    if (dx != nullptr || dres != nullptr) {
#pragma unroll
      for (int k = 0; k < K; ++k) {
        const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
        if (vi < vectors) {
          Vec<T, V> out;
#pragma unroll
          for (int j = 0; j < V; ++j)
            out.v[j] = narrow<T>(rstd * (g[k][j] - mean_g - xhat[k][j] * mean_gx));
          if (dx != nullptr) store_vec<V>(dx + base + vi * V, out);
          if (dres != nullptr) store_vec<V>(dres + base + vi * V, out);
        }
      }
    }
  }

  A* pdg = partial_ptr<A>(p.partial_dgamma, p.partial_dgamma_f64);
  A* pdb = partial_ptr<A>(p.partial_dbeta, p.partial_dbeta_f64);
  if (pdg != nullptr) {
    const std::int64_t prow = std::int64_t(blockIdx.x) * p.hidden;
#pragma unroll
    for (int k = 0; k < K; ++k) {
      const std::int64_t vi = threadIdx.x + std::int64_t(k) * blockDim.x;
      if (vi < vectors) {
#pragma unroll
        for (int j = 0; j < V; ++j) {
          pdg[prow + vi * V + j] = dgamma[k][j];
          pdb[prow + vi * V + j] = dbeta[k][j];
        }
      }
    }
  }
}

// Backward, any row: dx only (scalar accesses, two passes over the row);
// dgamma/dbeta partials come from row_param_partials below.
template <class T, class P>
__global__ void __launch_bounds__(512) row_backward_generic(RowBackwardParams p) {
  using A = acc_t<T>;
  __shared__ A smem[2 * kMaxWarps];
  const T* dy = static_cast<const T*>(p.dy);
  const T* x = static_cast<const T*>(p.x);
  const P* gamma = static_cast<const P*>(p.gamma);
  T* dx = static_cast<T*>(p.dx);
  T* dres = static_cast<T*>(p.dresidual);
  const A inv_hidden = A(1) / A(p.hidden);

  for (std::int64_t row = blockIdx.x; row < p.rows; row += gridDim.x) {
    const std::int64_t base = row * p.hidden;
    const SplitMean<A> mean = load_mean<A>(p.stats, p.rms ? nullptr : p.mean, row);
    const A rstd = A(load_any(p.stats, p.rstd, row));
    auto terms = [&](std::int64_t i, A& g, A& xhat) {
      const A d = widen(dy[base + i]);
      g = gamma != nullptr ? d * A(widen(gamma[i])) : d;
      xhat = ((A(widen(x[base + i])) - mean.hi) - mean.lo) * rstd;
    };
    A s[2] = {A(0), A(0)};
#pragma unroll 4
    for (std::int64_t i = threadIdx.x; i < p.hidden; i += blockDim.x) {
      A g, xhat;
      terms(i, g, xhat);
      s[0] += g;
      s[1] += g * xhat;
    }
    block_sum(s, smem);
    const A mean_g = p.rms ? A(0) : s[0] * inv_hidden;
    const A mean_gx = s[1] * inv_hidden;
#pragma unroll 4
    for (std::int64_t i = threadIdx.x; i < p.hidden; i += blockDim.x) {
      A g, xhat;
      terms(i, g, xhat);
      const T out = narrow<T>(rstd * (g - mean_g - xhat * mean_gx));
      if (dx != nullptr) dx[base + i] = out;
      if (dres != nullptr) dres[base + i] = out;
    }
  }
}

// dgamma/dbeta partials for any row: block (32, 8) covers 32 columns of part
// blockIdx.y, which owns rows blockIdx.y, blockIdx.y + parts, ...; thread
// row ty takes every 8th of those rows, and the 8 sums are added in ty order.
template <class T>
__global__ void __launch_bounds__(256) row_param_partials(RowBackwardParams p, std::int64_t parts) {
  using A = acc_t<T>;
  __shared__ A sg[8][33];
  __shared__ A sb[8][33];
  const T* dy = static_cast<const T*>(p.dy);
  const T* x = static_cast<const T*>(p.x);
  const std::int64_t col = std::int64_t(blockIdx.x) * 32 + threadIdx.x;
  const std::int64_t part = blockIdx.y;
  A dg = A(0), db = A(0);
  if (col < p.hidden) {
    for (std::int64_t row = part + std::int64_t(threadIdx.y) * parts; row < p.rows;
         row += 8 * parts) {
      const SplitMean<A> mean = load_mean<A>(p.stats, p.rms ? nullptr : p.mean, row);
      const A rstd = A(load_any(p.stats, p.rstd, row));
      const A d = widen(dy[row * p.hidden + col]);
      dg += d * (((A(widen(x[row * p.hidden + col])) - mean.hi) - mean.lo) * rstd);
      db += d;
    }
  }
  sg[threadIdx.y][threadIdx.x] = dg;
  sb[threadIdx.y][threadIdx.x] = db;
  __syncthreads();
  if (threadIdx.y == 0 && col < p.hidden) {
    for (int r = 1; r < 8; ++r) {
      dg += sg[r][threadIdx.x];
      db += sb[r][threadIdx.x];
    }
    A* pdg = partial_ptr<A>(p.partial_dgamma, p.partial_dgamma_f64);
    A* pdb = partial_ptr<A>(p.partial_dbeta, p.partial_dbeta_f64);
    pdg[part * p.hidden + col] = dg;
    pdb[part * p.hidden + col] = db;
  }
}

// Sums the partial rows in part order into dgamma/dbeta: block (32,
// kPartialSumRows) takes 32 columns; thread row ty sums a fixed contiguous
// range of parts, then the range sums are added in ty order. 32 thread rows,
// not 8: a 1024-column backward has only 32 such blocks, and each thread's
// chain of loads was its running time.
constexpr int kPartialSumRows = 32;
template <class A>
__global__ void __launch_bounds__(32 * kPartialSumRows)
    reduce_param_partials(const A* partial_dgamma, const A* partial_dbeta, std::int64_t parts,
                          std::int64_t hidden, void* dgamma, void* dbeta, DType param) {
  __shared__ A sg[kPartialSumRows][33];
  __shared__ A sb[kPartialSumRows][33];
  const std::int64_t col = std::int64_t(blockIdx.x) * 32 + threadIdx.x;
  const std::int64_t per = (parts + kPartialSumRows - 1) / kPartialSumRows;
  const std::int64_t begin = std::int64_t(threadIdx.y) * per;
  const std::int64_t end = begin + per < parts ? begin + per : parts;
  A dg = A(0), db = A(0);
  if (col < hidden) {
    for (std::int64_t q = begin; q < end; ++q) {
      dg += partial_dgamma[q * hidden + col];
      db += partial_dbeta[q * hidden + col];
    }
  }
  sg[threadIdx.y][threadIdx.x] = dg;
  sb[threadIdx.y][threadIdx.x] = db;
  __syncthreads();
  if (threadIdx.y == 0 && col < hidden) {
    for (int r = 1; r < kPartialSumRows; ++r) {
      dg += sg[r][threadIdx.x];
      db += sb[r][threadIdx.x];
    }
    if (dgamma != nullptr) store_any(param, dgamma, col, dg);
    if (dbeta != nullptr) store_any(param, dbeta, col, db);
  }
}

}  // namespace normcheck::cuda::device
