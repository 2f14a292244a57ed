// Deterministic reductions: every tree below has a fixed shape given the
// block size, so the same inputs give the same bits on every run, and no
// atomics are used anywhere.
#pragma once

#include <cstdint>

namespace normcheck::cuda::device {

constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kMaxWarps = 16;  // blocks of at most 512 threads

// Sums K values over the block; every thread receives the K sums. The warp
// stage is a butterfly (a + b == b + a, so all lanes agree bit for bit);
// the block stage adds the warp sums in warp order. `smem` holds K *
// kMaxWarps values; blockDim.x is a multiple of 32. Contains __syncthreads,
// so every thread of the block must call it.
template <int K, class A>
__device__ __forceinline__ void block_sum(A (&v)[K], A* smem) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] += __shfl_xor_sync(kFullMask, v[k], offset);
  }
  const int warp = int(threadIdx.x) / kWarp;
  const int lane = int(threadIdx.x) % kWarp;
  if (lane == 0) {
#pragma unroll
    for (int k = 0; k < K; ++k) smem[k * kMaxWarps + warp] = v[k];
  }
  __syncthreads();
  const int warps = int(blockDim.x) / kWarp;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    A s = smem[k * kMaxWarps];
    for (int w = 1; w < warps; ++w) s += smem[k * kMaxWarps + w];
    v[k] = s;
  }
  __syncthreads();  // smem may be reused by the next call
}

// Sums K values over the warp with a butterfly: every lane gets the sums.
template <int K, class A>
__device__ __forceinline__ void warp_sum(A (&v)[K]) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
#pragma unroll
    for (int k = 0; k < K; ++k) v[k] += __shfl_xor_sync(kFullMask, v[k], offset);
  }
}

// Running statistics of a set of values: count, mean and the sum of squared
// deviations from the mean (m2). Merging two sets is Chan et al.'s
// pairwise update, which never forms the cancelling sum of squares.
template <class A>
struct Welford {
  A count = 0;
  A mean = 0;
  A m2 = 0;
};

template <class A>
__device__ __forceinline__ Welford<A> merge(const Welford<A>& a, const Welford<A>& b) {
  if (b.count == A(0)) return a;
  if (a.count == A(0)) return b;
  Welford<A> r;
  r.count = a.count + b.count;
  const A delta = b.mean - a.mean;
  const A wb = b.count / r.count;
  r.mean = a.mean + delta * wb;
  r.m2 = a.m2 + b.m2 + delta * delta * a.count * wb;
  return r;
}

// Statistics of N values held in registers: exact two-pass (mean, then
// centred squares), merged into the running state once per N values, so
// the division of the update is paid once per vector, not per element.
template <int N, class A>
__device__ __forceinline__ Welford<A> welford_of(const A (&v)[N], int valid) {
  Welford<A> w;
  if (valid <= 0) return w;
  A sum = 0;
#pragma unroll
  for (int i = 0; i < N; ++i)
    if (i < valid) sum += v[i];
  w.count = A(valid);
  w.mean = sum / w.count;
  A m2 = 0;
#pragma unroll
  for (int i = 0; i < N; ++i) {
    if (i < valid) {
      const A d = v[i] - w.mean;
      m2 += d * d;
    }
  }
  w.m2 = m2;
  return w;
}

// Merges the lanes' states down a fixed tree (lane i takes lane i +
// offset); lane 0 holds the warp's state.
template <class A>
__device__ __forceinline__ Welford<A> warp_merge(Welford<A> w) {
#pragma unroll
  for (int offset = kWarp / 2; offset > 0; offset /= 2) {
    Welford<A> other;
    other.count = __shfl_down_sync(kFullMask, w.count, offset);
    other.mean = __shfl_down_sync(kFullMask, w.mean, offset);
    other.m2 = __shfl_down_sync(kFullMask, w.m2, offset);
    w = merge(w, other);
  }
  return w;
}

}  // namespace normcheck::cuda::device
