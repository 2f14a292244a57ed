// Batch, instance and group norm on the canonical (N, C, S) view.
//
// A statistic group is a set of (n, c) cells: batch norm's group c is the
// cells (*, c); instance norm's group (n, c) one cell; group norm's group
// (n, k) the cells (n, k*Cg .. k*Cg+Cg-1). Stage one reduces fixed pieces of
// cells to partial results (run view: a warp per chunk of a contiguous
// (n, c) run; column view: a 32x8 block per 32 channels of a chunk of rows);
// stage two merges a group's partials in (n, c, part) order with a fixed
// tree. No atomics; the pieces depend on the shape only.
#pragma once

#include <cstdint>

#include "device_numeric.cuh"
#include "normcheck/cuda/fast_divmod.hpp"
#include "reduce.cuh"

namespace normcheck::cuda::device {

// Where partial (n, c, part) lives, and which cells form a group.
struct GroupMap {
  std::int64_t segments;  // n range of the partials (1 for column-view batch norm)
  std::int64_t channels;
  std::int64_t parts;
  std::int64_t n_stride, c_stride, part_stride;
  bool per_channel;                 // batch norm: group c = cells (*, c)
  std::int64_t groups_per_sample;   // K: C (instance) or G (group)
  std::int64_t channels_per_group;  // Cg
};

struct CellRange {
  std::int64_t n0, n_count, c0, c_count;
};

__device__ __forceinline__ CellRange cells_of_group(const GroupMap& m, std::int64_t group) {
  if (m.per_channel) return {0, m.segments, group, 1};
  const std::int64_t n = group / m.groups_per_sample;
  const std::int64_t k = group - n * m.groups_per_sample;
  return {n, 1, k * m.channels_per_group, m.channels_per_group};
}

// Index of (n, c)'s statistic group in the per-group arrays.
struct StatsIndex {
  bool per_channel;
  std::int64_t groups_per_sample;
  FastDivmod channels_per_group;
  __device__ __forceinline__ std::int64_t operator()(std::int64_t n, std::int64_t c) const {
    if (per_channel) return c;
    return n * groups_per_sample + std::int64_t(channels_per_group.quotient(std::uint64_t(c)));
  }
};

// Stage two's enumeration: this thread's fixed contiguous share of the
// group's partials in (n, c, part) order; calls f(index, c) for each.
template <class F>
__device__ __forceinline__ void for_thread_partials(const GroupMap& map, const CellRange& cr,
                                                    F&& f) {
  const std::int64_t entries = cr.n_count * cr.c_count * map.parts;
  const std::int64_t per = (entries + blockDim.x - 1) / blockDim.x;
  const std::int64_t begin = std::int64_t(threadIdx.x) * per;
  const std::int64_t end = begin + per < entries ? begin + per : entries;
  for (std::int64_t e = begin; e < end; ++e) {
    const std::int64_t part = e % map.parts;
    const std::int64_t t = e / map.parts;
    const std::int64_t c = cr.c0 + t % cr.c_count;
    const std::int64_t n = cr.n0 + t / cr.c_count;
    f(n * map.n_stride + c * map.c_stride + part * map.part_stride, c);
  }
}

// Stage one's run-view work item: warp w of the grid takes item w =
// (cell, part), elements [begin, end) of the run of cell (n, c).
struct RunItem {
  std::int64_t item, cell, begin, end;
  int lane;
};

__device__ __forceinline__ bool run_item(std::int64_t cells, std::int64_t length,
                                         std::int64_t chunk, std::int64_t parts, RunItem& r) {
  r.item = std::int64_t(blockIdx.x) * (blockDim.x / kWarp) + threadIdx.x / kWarp;
  r.lane = int(threadIdx.x) % kWarp;
  if (r.item >= cells * parts) return false;  // whole warps leave together
  r.cell = r.item / parts;
  r.begin = (r.item - r.cell * parts) * chunk;
  r.end = r.begin + chunk < length ? r.begin + chunk : length;
  return true;
}

template <class A>
struct Partials {
  A* a;  // Welford: count;  backward: sum dy
  A* b;  // Welford: mean;   backward: sum dy x-hat
  A* c;  // Welford: m2;     backward: unused
};

// ---------------------------------------------------------------------------
// Stage one, forward: Welford partials.

// Vector loads each lane of the run-view kernels issues before using any.
constexpr int kUnroll = 4;

// Run view: warp w of the grid takes item w = (cell, part); cell (n, c) is
// the run x[cell * length, (cell + 1) * length). W divides length and chunk,
// so no vector straddles a chunk's end.
template <class T, int W>
__global__ void __launch_bounds__(256)
    run_welford_partials(const T* x, std::int64_t cells, std::int64_t length, std::int64_t chunk,
                         std::int64_t parts, Partials<acc_t<T>> out) {
  using A = acc_t<T>;
  RunItem r;
  if (!run_item(cells, length, chunk, parts, r)) return;
  const std::int64_t end = r.end;
  const T* run = x + r.cell * length;
  Welford<A> w;
  // kUnroll independent vector loads in flight per lane before any merge.
  constexpr std::int64_t step = std::int64_t(kWarp) * W;
  for (std::int64_t i0 = r.begin + std::int64_t(r.lane) * W; i0 < end; i0 += kUnroll * step) {
    Vec<T, W> v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      if (i0 + u * step < end) v[u] = load_vec<W>(run + i0 + u * step);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (i0 + u * step < end) {
        A a[W];
#pragma unroll
        for (int j = 0; j < W; ++j) a[j] = widen(v[u].v[j]);
        w = merge(w, welford_of<W>(a, W));
      }
    }
  }
  w = warp_merge(w);
  if (r.lane == 0) {  // run layout: index (n, c, part) == cell * parts + part == item
    out.a[r.item] = w.count;
    out.b[r.item] = w.mean;
    out.c[r.item] = w.m2;
  }
}

// Column view: segment `seg` is rows x C channels; block (32, 8) takes
// channels blockIdx.y*32 .. +31 of rows [part*chunk, part*chunk + chunk);
// thread row ty takes rows ty, ty+8, ... in groups of 4, and the 8 states
// are merged in ty order.
template <class T>
__global__ void __launch_bounds__(256)
    column_welford_partials(const T* x, std::int64_t channels, std::int64_t rows,
                            std::int64_t chunk, std::int64_t parts, Partials<acc_t<T>> out) {
  using A = acc_t<T>;
  __shared__ A sn[8][33], sm[8][33], s2[8][33];
  const std::int64_t seg = blockIdx.x / parts;
  const std::int64_t part = blockIdx.x - seg * parts;
  const std::int64_t c = std::int64_t(blockIdx.y) * 32 + threadIdx.x;
  const std::int64_t r0 = part * chunk;
  const std::int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
  const T* base = x + seg * rows * channels;
  Welford<A> w;
  if (c < channels) {
    for (std::int64_t r = r0 + threadIdx.y; r < r1; r += 32) {
      A a[4];
      int valid = 0;
#pragma unroll
      for (int u = 0; u < 4; ++u) {
        const std::int64_t rr = r + 8 * u;
        a[u] = rr < r1 ? A(widen(base[rr * channels + c])) : A(0);
        valid += rr < r1 ? 1 : 0;
      }
      w = merge(w, welford_of<4>(a, valid));
    }
  }
  sn[threadIdx.y][threadIdx.x] = w.count;
  sm[threadIdx.y][threadIdx.x] = w.mean;
  s2[threadIdx.y][threadIdx.x] = w.m2;
  __syncthreads();
  if (threadIdx.y == 0 && c < channels) {
    for (int r = 1; r < 8; ++r)
      w = merge(w, Welford<A>{sn[r][threadIdx.x], sm[r][threadIdx.x], s2[r][threadIdx.x]});
    const std::int64_t idx = (seg * parts + part) * channels + c;
    out.a[idx] = w.count;
    out.b[idx] = w.mean;
    out.c[idx] = w.m2;
  }
}

// ---------------------------------------------------------------------------
// Stage two, forward: one 128-thread block per statistic group merges the
// group's partials (thread t a fixed contiguous range of them in (n, c,
// part) order, then a fixed tree), and thread 0 finalizes.
struct FinalizeParams {
  std::int64_t group_size;  // elements per group, exact (the merged count is a float)
  double eps;
  double momentum;
  bool paddle_momentum;
  bool unbiased;
  DType stats;
  void* saved_mean;
  void* saved_rstd;
  void* running_mean;  // updated here for batch norm
  void* running_var;
  double* instance_mean;  // tracked instance norm: per-group batch mean / variance for
  double* instance_var;   // update_instance_running below
};

__device__ __forceinline__ double momentum_update(double old, double batch, double m, bool paddle) {
  return paddle ? m * old + (1.0 - m) * batch : (1.0 - m) * old + m * batch;
}

template <class A>
__global__ void __launch_bounds__(128)
    merge_group_stats(Partials<A> in, GroupMap map, FinalizeParams f, A* group_mean,
                      A* group_rstd) {
  __shared__ A sn[4], sm[4], s2[4];
  const std::int64_t group = blockIdx.x;
  Welford<A> w;
  for_thread_partials(map, cells_of_group(map, group), [&](std::int64_t idx, std::int64_t) {
    w = merge(w, Welford<A>{in.a[idx], in.b[idx], in.c[idx]});
  });
  w = warp_merge(w);
  const int warp = int(threadIdx.x) / kWarp;
  if (threadIdx.x % kWarp == 0) {
    sn[warp] = w.count;
    sm[warp] = w.mean;
    s2[warp] = w.m2;
  }
  __syncthreads();
  if (threadIdx.x != 0) return;
  for (int k = 1; k < int(blockDim.x) / kWarp; ++k) w = merge(w, Welford<A>{sn[k], sm[k], s2[k]});

  const double n = double(f.group_size);
  const double mean = double(w.mean);
  const double m2 = clamp_rounding_negative(double(w.m2));
  const double var = m2 / n;
  const double rstd = 1.0 / sqrt(var + f.eps);
  group_mean[group] = A(mean);
  group_rstd[group] = A(rstd);
  if (f.saved_mean != nullptr) store_any(f.stats, f.saved_mean, group, mean);
  if (f.saved_rstd != nullptr) store_any(f.stats, f.saved_rstd, group, rstd);
  const double batch_var = f.unbiased ? m2 / (n - 1.0) : var;
  if (f.running_mean != nullptr) {  // batch norm: group == channel
    const double old_mean = load_any(f.stats, f.running_mean, group);
    const double old_var = load_any(f.stats, f.running_var, group);
    store_any(f.stats, f.running_mean, group,
              momentum_update(old_mean, mean, f.momentum, f.paddle_momentum));
    store_any(f.stats, f.running_var, group,
              momentum_update(old_var, batch_var, f.momentum, f.paddle_momentum));
  }
  if (f.instance_mean != nullptr) {
    f.instance_mean[group] = mean;
    f.instance_var[group] = batch_var;
  }
}

// Tracked instance norm: the running statistics of channel c move towards
// the batch average of the per-instance statistics (PyTorch's convention),
// averaged over n in order.
__global__ void __launch_bounds__(256)
    update_instance_running(const double* instance_mean, const double* instance_var, std::int64_t n,
                            std::int64_t channels, FinalizeParams f) {
  const std::int64_t c = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  double sm = 0.0, sv = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    sm += instance_mean[i * channels + c];
    sv += instance_var[i * channels + c];
  }
  const double old_mean = load_any(f.stats, f.running_mean, c);
  const double old_var = load_any(f.stats, f.running_var, c);
  store_any(f.stats, f.running_mean, c,
            momentum_update(old_mean, sm / double(n), f.momentum, f.paddle_momentum));
  store_any(f.stats, f.running_var, c,
            momentum_update(old_var, sv / double(n), f.momentum, f.paddle_momentum));
}

// Eval / global stats: group g of sample n uses channel c's running
// statistics (batch norm: g == c; tracked instance norm: g == n*C + c).
template <class A>
__global__ void __launch_bounds__(256)
    stats_from_running(const void* running_mean, const void* running_var, DType stats, double eps,
                       std::int64_t groups, std::int64_t channels, A* group_mean, A* group_rstd,
                       void* saved_mean, void* saved_rstd) {
  const std::int64_t g = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= groups) return;
  const std::int64_t c = g % channels;
  const double mean = load_any(stats, running_mean, c);
  const double rstd = 1.0 / sqrt(load_any(stats, running_var, c) + eps);
  group_mean[g] = A(mean);
  group_rstd[g] = A(rstd);
  if (saved_mean != nullptr) store_any(stats, saved_mean, g, mean);
  if (saved_rstd != nullptr) store_any(stats, saved_rstd, g, rstd);
}

// Backward with batch statistics: the group arrays from what forward saved.
template <class A>
__global__ void __launch_bounds__(256)
    stats_from_saved(const void* saved_mean, const void* saved_rstd, DType stats,
                     std::int64_t groups, A* group_mean, A* group_rstd) {
  const std::int64_t g = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= groups) return;
  group_mean[g] = A(load_any(stats, saved_mean, g));
  group_rstd[g] = A(load_any(stats, saved_rstd, g));
}

// gamma / beta of any dtype to the accumulation type (absent: 1 / 0).
template <class A>
__global__ void __launch_bounds__(256)
    prepare_channel_params(const void* gamma, const void* beta, DType param, std::int64_t channels,
                           A* g, A* b) {
  const std::int64_t c = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= channels) return;
  g[c] = gamma != nullptr ? A(load_any(param, gamma, c)) : A(1);
  if (b != nullptr) b[c] = beta != nullptr ? A(load_any(param, beta, c)) : A(0);
}

// ---------------------------------------------------------------------------
// Elementwise kernels. Vector v covers elements [v*W, v*W + W): within one
// (n, c) run (channels first, W | S) or W consecutive channels of one
// position (channels last, W | C).
struct ElementIndex {
  bool channels_last;
  FastDivmod spatial;   // S
  FastDivmod channels;  // C
};

// Calls f(j, n, c) for the W elements of the vector starting at element e.
template <int W, class F>
__device__ __forceinline__ void for_vector_elements(const ElementIndex& ix, std::int64_t e, F&& f) {
  if (!ix.channels_last) {
    const std::uint64_t cell = ix.spatial.quotient(std::uint64_t(e));
    const std::uint64_t n = ix.channels.quotient(cell);
    const std::int64_t c = std::int64_t(cell - n * ix.channels.divisor());
#pragma unroll
    for (int j = 0; j < W; ++j) f(j, std::int64_t(n), c);
  } else {
    const std::uint64_t row = ix.channels.quotient(std::uint64_t(e));
    const std::int64_t c0 = std::int64_t(std::uint64_t(e) - row * ix.channels.divisor());
    const std::int64_t n = std::int64_t(ix.spatial.quotient(row));
#pragma unroll
    for (int j = 0; j < W; ++j) f(j, n, c0 + j);
  }
}

// y = (x - mean) rstd gamma + beta.
template <class T, int W>
__global__ void __launch_bounds__(256)
    channel_apply_forward(const T* x, T* y, std::int64_t vectors, ElementIndex ix, StatsIndex si,
                          const acc_t<T>* group_mean, const acc_t<T>* group_rstd, const acc_t<T>* g,
                          const acc_t<T>* b) {
  using A = acc_t<T>;
  for (std::int64_t v = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; v < vectors;
       v += std::int64_t(gridDim.x) * blockDim.x) {
    const Vec<T, W> xv = load_vec<W>(x + v * W);
    Vec<T, W> out;
    for_vector_elements<W>(ix, v * W, [&](int j, std::int64_t n, std::int64_t c) {
      const std::int64_t grp = si(n, c);
      const A o = (A(widen(xv.v[j])) - group_mean[grp]) * group_rstd[grp] * g[c] + b[c];
      out.v[j] = narrow<T>(o);
    });
    store_vec<W>(y + v * W, out);
  }
}

// dx = rstd (gamma dy - ca - x-hat cb), with per-group ca = mean over the
// group of gamma dy and cb = mean of gamma dy x-hat (both 0 when the
// statistics are constants: eval / global stats).
template <class T, int W>
__global__ void __launch_bounds__(256)
    channel_apply_backward(const T* dy, const T* x, T* dx, std::int64_t vectors, ElementIndex ix,
                           StatsIndex si, const acc_t<T>* group_mean, const acc_t<T>* group_rstd,
                           const acc_t<T>* g, const acc_t<T>* ca, const acc_t<T>* cb) {
  using A = acc_t<T>;
  for (std::int64_t v = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; v < vectors;
       v += std::int64_t(gridDim.x) * blockDim.x) {
    const Vec<T, W> xv = load_vec<W>(x + v * W);
    const Vec<T, W> dyv = load_vec<W>(dy + v * W);
    Vec<T, W> out;
    for_vector_elements<W>(ix, v * W, [&](int j, std::int64_t n, std::int64_t c) {
      const std::int64_t grp = si(n, c);
      const A rstd = group_rstd[grp];
      const A xhat = (A(widen(xv.v[j])) - group_mean[grp]) * rstd;
      // With constant statistics (ca = cb = 0) dx does not depend on x:
      // skip the term rather than multiply a NaN/inf x-hat by zero. With
      // batch statistics a finite group gives the same bits either way.
      const A xhat_term = (ca[grp] == A(0) && cb[grp] == A(0)) ? A(0) : xhat * cb[grp];
      out.v[j] = narrow<T>(rstd * (g[c] * A(widen(dyv.v[j])) - ca[grp] - xhat_term));
    });
    store_vec<W>(dx + v * W, out);
  }
}

// ---------------------------------------------------------------------------
// Stage one, backward: partial sums of dy and dy x-hat per (n, c, part),
// x-hat from the (n, c) cell's group statistics.

template <class T, int W>
__global__ void __launch_bounds__(256)
    run_grad_partials(const T* dy, const T* x, std::int64_t cells, std::int64_t channels,
                      std::int64_t length, std::int64_t chunk, std::int64_t parts, StatsIndex si,
                      const acc_t<T>* group_mean, const acc_t<T>* group_rstd,
                      Partials<acc_t<T>> out) {
  using A = acc_t<T>;
  RunItem r;
  if (!run_item(cells, length, chunk, parts, r)) return;
  const std::int64_t end = r.end;
  const std::int64_t n = r.cell / channels;
  const std::int64_t grp = si(n, r.cell - n * channels);
  const A mean = group_mean[grp];
  const A rstd = group_rstd[grp];
  const T* xrun = x + r.cell * length;
  const T* dyrun = dy + r.cell * length;
  A s[2] = {A(0), A(0)};
  constexpr std::int64_t step = std::int64_t(kWarp) * W;
  for (std::int64_t i0 = r.begin + std::int64_t(r.lane) * W; i0 < end; i0 += kUnroll * step) {
    Vec<T, W> xv[kUnroll], dyv[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (i0 + u * step < end) {
        xv[u] = load_vec<W>(xrun + i0 + u * step);
        dyv[u] = load_vec<W>(dyrun + i0 + u * step);
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (i0 + u * step < end) {
#pragma unroll
        for (int j = 0; j < W; ++j) {
          const A d = widen(dyv[u].v[j]);
          s[0] += d;
          s[1] += d * ((A(widen(xv[u].v[j])) - mean) * rstd);
        }
      }
    }
  }
  warp_sum(s);
  if (r.lane == 0) {
    out.a[r.item] = s[0];
    out.b[r.item] = s[1];
  }
}

template <class T>
__global__ void __launch_bounds__(256)
    column_grad_partials(const T* dy, const T* x, std::int64_t channels, std::int64_t rows,
                         std::int64_t chunk, std::int64_t parts, StatsIndex si,
                         const acc_t<T>* group_mean, const acc_t<T>* group_rstd,
                         Partials<acc_t<T>> out) {
  using A = acc_t<T>;
  __shared__ A sa[8][33], sb[8][33];
  const std::int64_t seg = blockIdx.x / parts;
  const std::int64_t part = blockIdx.x - seg * parts;
  const std::int64_t c = std::int64_t(blockIdx.y) * 32 + threadIdx.x;
  const std::int64_t r0 = part * chunk;
  const std::int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
  const std::int64_t base = seg * rows * channels;
  A sum_dy = A(0), sum_dyx = A(0);
  if (c < channels) {
    // Segments are samples, except batch norm's single segment, whose
    // statistics are per channel, so si ignores the sample there.
    const std::int64_t grp = si(seg, c);
    const A mean = group_mean[grp];
    const A rstd = group_rstd[grp];
    for (std::int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const A d = widen(dy[base + r * channels + c]);
      sum_dy += d;
      sum_dyx += d * ((A(widen(x[base + r * channels + c])) - mean) * rstd);
    }
  }
  sa[threadIdx.y][threadIdx.x] = sum_dy;
  sb[threadIdx.y][threadIdx.x] = sum_dyx;
  __syncthreads();
  if (threadIdx.y == 0 && c < channels) {
    for (int r = 1; r < 8; ++r) {
      sum_dy += sa[r][threadIdx.x];
      sum_dyx += sb[r][threadIdx.x];
    }
    const std::int64_t idx = (seg * parts + part) * channels + c;
    out.a[idx] = sum_dy;
    out.b[idx] = sum_dyx;
  }
}

// ---------------------------------------------------------------------------
// Stage two, backward. Sums partials over cells n in [n0, n0 + n_count),
// c in [c0, c0 + c_count) and all parts, each weighted by w[c] when w is
// given: thread t a fixed contiguous range in (n, c, part) order, then a
// warp butterfly and the 4 warps in order. Every thread gets the sums.
template <class A>
__device__ __forceinline__ void block_sum_cells(const Partials<A>& in, const GroupMap& map,
                                                CellRange cr, const A* w, A (&s)[2], A* smem) {
  s[0] = s[1] = A(0);
  for_thread_partials(map, cr, [&](std::int64_t idx, std::int64_t c) {
    const A weight = w != nullptr ? w[c] : A(1);
    s[0] += weight * in.a[idx];
    s[1] += weight * in.b[idx];
  });
  block_sum(s, smem);
}

// Per channel: dbeta = sum dy, dgamma = sum dy x-hat over every cell of the
// channel. Batch norm also gets its backward coefficients here (its group
// is the channel): ca = gamma * dbeta / M, cb = gamma * dgamma / M.
template <class A>
__global__ void __launch_bounds__(128)
    channel_grad_totals(Partials<A> in, GroupMap map, void* dgamma, void* dbeta, DType param,
                        const A* g, bool batch_stats, std::int64_t group_size, A* ca, A* cb) {
  __shared__ A smem[2 * kMaxWarps];
  const std::int64_t c = blockIdx.x;
  A s[2];
  block_sum_cells(in, map, CellRange{0, map.segments, c, 1}, static_cast<const A*>(nullptr), s,
                  smem);
  if (threadIdx.x != 0) return;
  if (dbeta != nullptr) store_any(param, dbeta, c, s[0]);
  if (dgamma != nullptr) store_any(param, dgamma, c, s[1]);
  if (map.per_channel) {
    // Constant statistics: exactly zero, not 0 * sum, which is NaN when x
    // holds an inf or NaN that dx must not depend on.
    const A scale = g[c] / A(group_size);
    ca[c] = batch_stats ? scale * s[0] : A(0);
    cb[c] = batch_stats ? scale * s[1] : A(0);
  }
}

// Instance / group norm: per group (n, k), ca = sum over the group's
// channels of gamma_c * sum dy, divided by the group size; likewise cb.
template <class A>
__global__ void __launch_bounds__(128)
    group_grad_coefficients(Partials<A> in, GroupMap map, const A* g, bool batch_stats,
                            std::int64_t group_size, A* ca, A* cb) {
  __shared__ A smem[2 * kMaxWarps];
  const std::int64_t group = blockIdx.x;
  A s[2];
  block_sum_cells(in, map, cells_of_group(map, group), g, s, smem);
  if (threadIdx.x != 0) return;
  const A scale = A(1) / A(group_size);
  ca[group] = batch_stats ? scale * s[0] : A(0);  // as channel_grad_totals
  cb[group] = batch_stats ? scale * s[1] : A(0);
}

}  // namespace normcheck::cuda::device
