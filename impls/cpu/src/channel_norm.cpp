// batch_norm, instance_norm and group_norm over NCHW or NHWC data.
//
// Everything is built from per-plane quantities, a plane being the spatial
// elements of one (sample n, channel c):
//   NCHW: a plane is contiguous; one task per plane.
//   NHWC: a plane is strided by C; one task per chunk of a sample's spatial
//         rows (equal chunks of at most kMaxChunkRows), vectorized across
//         channels. The reductions work in blocks of kRowBlock rows, read
//         in address order while the next block is fetched; block results
//         are combined in block order within the chunk, and chunk results
//         in chunk order afterwards.
// Planes combine into statistic groups in a fixed order (bn: over n; gn:
// over the channels of a group; in: a plane is a group), in double. Per
// sample work never depends on the batch size or the thread split, so
// instance and group norm are batch-invariant and all three deterministic.
#include <cmath>
#include <type_traits>

#include "channel_tiles.hpp"
#include "kernel_isa.hpp"
#include "kernels.hpp"
#include "normcheck/support/statistics.hpp"
#include "parallel.hpp"
#include "runs.hpp"

namespace normcheck::cpu {

using namespace support;

namespace {

// The per-call arrays of a call's planes and groups (8192 of each in a
// 32x256 batch) come from the blocks the thread keeps (line_aligned.hpp).
using Doubles = LineVector<double>;
using GroupMoments = LineVector<Moments<double>>;
Doubles doubles(const std::vector<double>& values) {
  return {values.begin(), values.end()};
}

// 32 rows of 256 f32 channels are 32 KiB, fetched during the block before.
// The statistics' one pass about a shift per block needs blocks of at most
// 64 rows (see kBlockShiftRows).
constexpr std::int64_t kRowBlock = 32;
static_assert(kRowBlock <= 16 * kBlockShiftRows);
// A sample's rows go to tasks in equal chunks of at most 32 blocks: enough
// work per task that the per-(task, channel) results stay small next to the
// tensor, enough tasks for the threads where images are large, and no short
// tail chunk. On the bn/gn channels-last benchmark rows (784 rows a
// sample), one chunk per sample took 0.92-0.95 of the time of chunks of 8
// blocks (256, 256, 256 and 16 rows) on the forwards and the bf16
// backwards, the statistics pass most; two chunks of 392 rows did as well
// (reports/perf.md, issue 17, session 18).
constexpr std::int64_t kMaxChunkRows = 32 * kRowBlock;

struct Planes {
  DType data;
  nc_layout layout;
  std::int64_t batch, channels, spatial;
  std::int64_t chunks_per_sample() const { return (spatial + kMaxChunkRows - 1) / kMaxChunkRows; }
  // Rows of every chunk but the last, which has as many or fewer (never
  // none: chunk_rows() <= kMaxChunkRows, and (chunks - 1) kMaxChunkRows < spatial).
  std::int64_t chunk_rows() const {
    const std::int64_t k = chunks_per_sample();
    return k == 0 ? 0 : (spatial + k - 1) / k;
  }
  std::int64_t count() const { return batch * channels; }
  // NHWC tasks are (sample, chunk) pairs; NCHW tasks are planes.
  std::int64_t tasks() const {
    return layout == NC_LAYOUT_NCHW ? count() : batch * chunks_per_sample();
  }
  std::int64_t rows_in_chunk(std::int64_t k) const {
    return std::min(spatial, (k + 1) * chunk_rows()) - k * chunk_rows();
  }
  // An NHWC task: sample n, rows [k * chunk_rows(), + rows) starting at element `first`.
  struct Chunk {
    std::int64_t n, k, rows, first;
  };
  Chunk chunk(std::int64_t task) const {
    const std::int64_t n = task / chunks_per_sample(), k = task % chunks_per_sample();
    return {n, k, rows_in_chunk(k), (n * spatial + k * chunk_rows()) * channels};
  }
  // Where channel c sits in the kernels' per-channel arrays: bf16 NHWC rows
  // are walked in pairs (see each_storage_channel).
  std::int64_t slot(std::int64_t c) const {
    return data == DType::bf16 && layout == NC_LAYOUT_NHWC ? pair_slot(c, channels) : c;
  }
};

// The blocks of an NHWC chunk: f(first element, rows, the block after it
// (where prefetching goes), its rows (0 at the end of the tensor)).
template <class F>
NC_INLINE void each_block(const Planes& pl, const Planes::Chunk& ch, F&& f) {
  const std::int64_t C = pl.channels;
  const std::int64_t rows_left = (pl.batch * pl.spatial) - ch.first / C;  // rows from `first` on
  for (std::int64_t r = 0; r < ch.rows; r += kRowBlock) {
    const std::int64_t rows = std::min(kRowBlock, ch.rows - r);
    const std::int64_t ahead = std::min(kRowBlock, rows_left - r - rows);
    f(ch.first + r * C, rows, ch.first + (r + rows) * C, ahead);
  }
}

// ---------------------------------------------------------------- stats
struct StatsJob {
  Planes planes;
  const void* x;
  void* mean;  // NCHW: compute type, per plane
  void* m2;
  double* chunk_mean;  // NHWC: per (task, channel slot)
  double* chunk_m2;
};

template <class S, class K>
struct PlaneStats {
  using T = compute_t<S>;
  static constexpr std::int64_t L = kLanes<T>;

  static NC_INLINE void run(const StatsJob& j, std::int64_t begin, std::int64_t end) {
    const auto& pl = j.planes;
    const S* x = static_cast<const S*>(j.x);
    if (pl.layout == NC_LAYOUT_NCHW) {
      T* mean = static_cast<T*>(j.mean);
      T* m2 = static_cast<T*>(j.m2);
      // One pass about the mean of the plane's first values, as layer_norm's
      // rows (runs.hpp, shift_of: its error bound holds for each chunk of
      // up to kMomentsChunk values, and so for their merge): the mean's
      // own pass cost the bf16 forwards 0.80-0.87 of their time
      // (reports/perf.md, issue 17, session 24).
      for (std::int64_t t = begin; t < end; ++t) {
        const S* plane = x + t * pl.spatial;
        const auto m =
            shifted_moments<K>(plane, pl.spatial, t + 1 < pl.tasks() ? plane + pl.spatial : plane);
        mean[t] = m.mean;
        m2[t] = m.m2;
      }
      return;
    }
    LineVector<T> block_mean(static_cast<std::size_t>(pl.channels)),
        block_m2(static_cast<std::size_t>(2 * pl.channels));
    for (std::int64_t t = begin; t < end; ++t)
      chunk(pl, x, t, j.chunk_mean + t * pl.channels, j.chunk_m2 + t * pl.channels,
            block_mean.data(), block_m2.data());
  }

  // Moments of every channel over the rows of one chunk: each block's
  // moments about its shift, merged in block order (Chan) in double.
  static NC_INLINE void chunk(const Planes& pl, const S* x, std::int64_t task, double* mean,
                              double* m2, T* block_mean, T* block_m2) {
    const std::int64_t C = pl.channels;
    std::int64_t count = 0;
    each_block(pl, pl.chunk(task),
               [&](std::int64_t first, std::int64_t rows, std::int64_t ahead,
                   std::int64_t ahead_rows) NC_LAMBDA {
                 block(x + first, rows, C, x + ahead, ahead_rows, block_mean, block_m2);
                 merge_each(count, mean, m2, rows, block_mean, block_m2, C);
                 count += rows;
               });
  }

  // Moments of every channel over the rows of one block in one pass about
  // the mean of its first kBlockShiftRows rows (see block_moments): whole
  // tiles of 32 channels by block_moments (channel_tiles.hpp), the rest
  // (and f16, f64) walked row by row with per-channel accumulators in
  // `mean`, `m2` and `sum_d`. Either way each channel is summed over the
  // rows in row order. The next block (at `ahead`) is fetched meanwhile.
  static NC_INLINE void block(const S* base, std::int64_t rows, std::int64_t C, const S* ahead,
                              std::int64_t ahead_rows, T* mean, T* m2) {
    const T inv = T(1) / T(rows);
    std::int64_t tiled = 0;
    if constexpr (kHasTiles<S>) {
      tiled = C / kTileChannels * kTileChannels;
      // Steps of the pass (see block_moments).
      RangePrefetch prefetch(ahead, ahead_rows * C * std::int64_t(sizeof(S)),
                             (rows / 4 + rows % 4) * (tiled / kTileChannels));
      block_moments<K>(base, rows, C, tiled, prefetch, mean, m2, m2 + C);
    }
    if (tiled == C) return;
    T* sum_d = m2 + C;  // scratch: the caller's arrays hold 2 C
    for (std::int64_t c = tiled; c < C; ++c) mean[c] = m2[c] = sum_d[c] = T(0);
    const std::int64_t k_rows = std::min(rows, kBlockShiftRows);
    for (std::int64_t r = 0; r < k_rows; ++r)
      each_storage_channel<S, K>(
          C,
          [&](std::int64_t c, auto one) NC_LAMBDA {
            store_like(one, mean + c, load_like(one, mean + c) + load_like(one, base + r * C + c));
          },
          tiled);
    const T inv_k = T(1) / T(k_rows);
    each_storage_channel<S, K>(
        C,
        [&](std::int64_t c, auto one)
            NC_LAMBDA { store_like(one, mean + c, load_like(one, mean + c) * inv_k); },
        tiled);
    for (std::int64_t r = 0; r < rows; ++r)
      each_storage_channel<S, K>(
          C,
          [&](std::int64_t c, auto one) NC_LAMBDA {
            if constexpr (!std::is_same_v<decltype(one), ScalarLane>)
              if (r < ahead_rows) prefetch_line(ahead + r * C + c);
            const auto d = load_like(one, base + r * C + c) - load_like(one, mean + c);
            store_like(one, sum_d + c, load_like(one, sum_d + c) + d);
            store_like(one, m2 + c, load_like(one, m2 + c) + d * d);
          },
          tiled);
    // The corrected form about the shift (see RunMoments).
    each_storage_channel<S, K>(
        C,
        [&](std::int64_t c, auto one) NC_LAMBDA {
          const auto sd = load_like(one, sum_d + c);
          store_like(one, mean + c, load_like(one, mean + c) + sd * inv);
          store_like(one, m2 + c, clamp_like(one, load_like(one, m2 + c) - sd * sd * inv));
        },
        tiled);
  }
};

NC_KERNEL_BUILDS(kStats, StatsJob, PlaneStats, j.planes.data);

// ---------------------------------------------------------------- normalize
// y = (x - mean) * scale + shift with per-plane constants.
struct AffineJob {
  Planes planes;
  const void* x;
  void* y;
  const void* mean;  // compute type, per plane (n * C + c)
  const void* scale;
  const void* shift;
  bool stream;  // y through streaming stores
};

template <class S, class K>
struct PlaneAffine {
  using T = compute_t<S>;
  static constexpr std::int64_t L = kLanes<T>;

  static NC_INLINE void run(const AffineJob& j, std::int64_t begin, std::int64_t end) {
    const auto& pl = j.planes;
    const S* x = static_cast<const S*>(j.x);
    S* y = static_cast<S*>(j.y);
    const T* mean = static_cast<const T*>(j.mean);
    const T* scale = static_cast<const T*>(j.scale);
    const T* shift = static_cast<const T*>(j.shift);
    for (std::int64_t t = begin; t < end; ++t) {
      if (pl.layout == NC_LAYOUT_NCHW) {
        run_affine<K>(x + t * pl.spatial, y + t * pl.spatial, pl.spatial, mean[t], scale[t],
                      shift[t], j.stream);
        continue;
      }
      const auto ch = pl.chunk(t);
      const std::int64_t n = ch.n, C = pl.channels, first = ch.first;
      const T* m = mean + n * C;
      const T* a = scale + n * C;
      const T* s = shift + n * C;
      const std::int64_t tiled = kHasTiles<S> ? C / kTileChannels * kTileChannels : 0;
      for (std::int64_t r = 0; r < ch.rows; ++r) {
        const S* xr = x + first + r * C;
        S* yr = y + first + r * C;
        if constexpr (kHasTiles<S>)
          for (std::int64_t c = 0; c < tiled; c += kTileChannels)
            tile_affine<K>(xr + c, yr + c, m + c, a + c, s + c, j.stream);
        each_storage_channel<S, K>(
            C,
            [&](std::int64_t c, auto one) NC_LAMBDA {
              put_like(one, yr + c,
                       (load_like(one, xr + c) - load_like(one, m + c)) * load_like(one, a + c) +
                           load_like(one, s + c),
                       j.stream);
            },
            tiled);
      }
    }
    if (j.stream) stream_fence();
  }
};

NC_KERNEL_BUILDS(kAffine, AffineJob, PlaneAffine, j.planes.data);

// ---------------------------------------------------------------- backward
struct SumsJob {
  Planes planes;
  const void* dy;
  const void* x;
  const void* mean;      // compute type, per plane
  void* sum_dy;          // NCHW: compute type, per plane
  void* sum_dy_d;        // sum of dy * (x - mean)
  double* chunk_sum_dy;  // NHWC: per (task, channel slot)
  double* chunk_sum_dy_d;
};

template <class S, class K>
struct PlaneSums {
  using T = compute_t<S>;
  static constexpr std::int64_t L = kLanes<T>;

  static NC_INLINE void run(const SumsJob& j, std::int64_t begin, std::int64_t end) {
    const auto& pl = j.planes;
    const S* dy = static_cast<const S*>(j.dy);
    const S* x = static_cast<const S*>(j.x);
    const T* mean = static_cast<const T*>(j.mean);
    if (pl.layout == NC_LAYOUT_NCHW) {
      T* s1 = static_cast<T*>(j.sum_dy);
      T* s2 = static_cast<T*>(j.sum_dy_d);
      for (std::int64_t t = begin; t < end; ++t) {
        const std::int64_t first = t * pl.spatial;
        run_backward_sums<K>(dy + first, x + first, pl.spatial, mean[t], s1[t], s2[t]);
      }
      return;
    }
    const std::int64_t C = pl.channels;
    LineVector<T> block_s1(static_cast<std::size_t>(C)), block_s2(block_s1);
    for (std::int64_t t = begin; t < end; ++t) {
      const auto ch = pl.chunk(t);
      const T* m = mean + ch.n * C;
      double* o1 = j.chunk_sum_dy + t * C;
      double* o2 = j.chunk_sum_dy_d + t * C;
      for (std::int64_t c = 0; c < C; ++c) o1[c] = o2[c] = 0.0;
      each_block(pl, ch,
                 [&](std::int64_t first, std::int64_t rows, std::int64_t ahead,
                     std::int64_t ahead_rows) NC_LAMBDA {
                   block(dy + first, x + first, rows, C, m, dy + ahead, x + ahead, ahead_rows,
                         block_s1.data(), block_s2.data());
                   // Block sums in f32, added up over the blocks in double.
                   for (std::int64_t c = 0; c < C; ++c) {
                     o1[c] += double(block_s1[std::size_t(c)]);
                     o2[c] += double(block_s2[std::size_t(c)]);
                   }
                 });
    }
  }

  // sum(dy) and sum(dy * (x - mean)) of every channel over the rows of one
  // block: whole tiles by block_backward_sums, the rest row by row (see
  // PlaneStats::block); the next block of dy and x is fetched meanwhile.
  static NC_INLINE void block(const S* dy, const S* x, std::int64_t rows, std::int64_t C,
                              const T* m, [[maybe_unused]] const S* dy_ahead,
                              [[maybe_unused]] const S* x_ahead,
                              [[maybe_unused]] std::int64_t ahead_rows, T* s1, T* s2) {
    std::int64_t tiled = 0;
    if constexpr (kHasTiles<S>) {
      tiled = C / kTileChannels * kTileChannels;
      constexpr std::int64_t per_visit = kBackwardSumsRows<S>;
      const std::int64_t bytes = ahead_rows * C * std::int64_t(sizeof(S)),
                         steps = (rows / per_visit + rows % per_visit) * (tiled / kTileChannels);
      RangePrefetch dy_prefetch(dy_ahead, bytes, steps), x_prefetch(x_ahead, bytes, steps);
      block_backward_sums<K>(dy, x, rows, C, tiled, m, dy_prefetch, x_prefetch, s1, s2);
    }
    if (tiled == C) return;
    for (std::int64_t c = tiled; c < C; ++c) s1[c] = s2[c] = T(0);
    for (std::int64_t r = 0; r < rows; ++r) {
      const S* dyr = dy + r * C;
      const S* xr = x + r * C;
      each_storage_channel<S, K>(
          C,
          [&](std::int64_t c, auto one) NC_LAMBDA {
            const auto g = load_like(one, dyr + c);
            store_like(one, s1 + c, load_like(one, s1 + c) + g);
            store_like(
                one, s2 + c,
                load_like(one, s2 + c) + g * (load_like(one, xr + c) - load_like(one, m + c)));
          },
          tiled);
    }
  }
};

NC_KERNEL_BUILDS(kSums, SumsJob, PlaneSums, j.planes.data);

// dx = a * dy + c0 + (x - mean) * c1 with per-plane constants.
struct DxJob {
  Planes planes;
  const void* dy;
  const void* x;
  void* dx;
  const void* mean;  // compute type, per plane
  const void* a;
  const void* c0;
  const void* c1;
  bool stream;          // dx through streaming stores
  bool constant_stats;  // running statistics: dx = a * dy + c0, no x term (see run_dx)
};

template <class S, class K>
struct PlaneDx {
  using T = compute_t<S>;
  static constexpr std::int64_t L = kLanes<T>;

  static NC_INLINE void run(const DxJob& j, std::int64_t begin, std::int64_t end) {
    if (j.constant_stats)
      run_typed<false>(j, begin, end);
    else
      run_typed<true>(j, begin, end);
  }

  template <bool kWithX>
  static NC_INLINE void run_typed(const DxJob& j, std::int64_t begin, std::int64_t end) {
    const auto& pl = j.planes;
    const S* dy = static_cast<const S*>(j.dy);
    const S* x = static_cast<const S*>(j.x);
    S* dx = static_cast<S*>(j.dx);
    const T* mean = static_cast<const T*>(j.mean);
    const T* a = static_cast<const T*>(j.a);
    const T* c0 = static_cast<const T*>(j.c0);
    const T* c1 = static_cast<const T*>(j.c1);
    for (std::int64_t t = begin; t < end; ++t) {
      if (pl.layout == NC_LAYOUT_NCHW) {
        const std::int64_t f = t * pl.spatial;
        run_dx<kWithX, K>(dy + f, x + f, dx + f, pl.spatial, mean[t], a[t], c0[t], c1[t], j.stream);
        continue;
      }
      const auto ch = pl.chunk(t);
      const std::int64_t n = ch.n, C = pl.channels, first = ch.first;
      const T *m = mean + n * C, *va = a + n * C, *v0 = c0 + n * C, *v1 = c1 + n * C;
      const std::int64_t tiled = kHasTiles<S> ? C / kTileChannels * kTileChannels : 0;
      for (std::int64_t r = 0; r < ch.rows; ++r) {
        const std::int64_t row = first + r * C;
        if constexpr (kHasTiles<S>)
          for (std::int64_t c = 0; c < tiled; c += kTileChannels)
            tile_dx<kWithX, K>(dy + row + c, x + row + c, dx + row + c, m + c, va + c, v0 + c,
                               v1 + c, j.stream);
        each_storage_channel<S, K>(
            C,
            [&](std::int64_t c, auto one) NC_LAMBDA {
              const auto base =
                  load_like(one, va + c) * load_like(one, dy + row + c) + load_like(one, v0 + c);
              if constexpr (kWithX)
                put_like(one, dx + row + c,
                         base + (load_like(one, x + row + c) - load_like(one, m + c)) *
                                    load_like(one, v1 + c),
                         j.stream);
              else
                put_like(one, dx + row + c, base, j.stream);
            },
            tiled);
      }
    }
    if (j.stream) stream_fence();
  }
};

NC_KERNEL_BUILDS(kDx, DxJob, PlaneDx, j.planes.data);

// ---------------------------------------------------------------- planning
Planes planes_of(const Geometry& g) {
  return {g.data, g.layout, g.batch, g.channels, g.spatial};
}

std::int64_t group_of(const Geometry& g, std::int64_t n, std::int64_t c) {
  switch (g.op) {
    case NC_OP_BATCH_NORM:
      return c;
    case NC_OP_INSTANCE_NORM:
      return n * g.channels + c;
    default:
      return n * g.groups + c / g.channels_per_group();
  }
}

std::int64_t elements_per_task(const Planes& pl) {
  return pl.layout == NC_LAYOUT_NCHW ? pl.spatial : pl.chunk_rows() * pl.channels;
}

// arrays: of the output's size, read or written by the call (should_stream).
bool stream_output(const Planes& pl, const void* out, std::int64_t arrays) {
  const auto size = std::int64_t(numeric::dtype_size(pl.data));
  const std::int64_t run = pl.layout == NC_LAYOUT_NCHW ? pl.spatial : pl.channels;
  return should_stream(out, pl.count() * pl.spatial * size, arrays, run * size);
}

// Per-plane moments in double: every plane has `spatial` elements.
struct PlaneMoments {
  std::int64_t count;
  Doubles mean, m2;  // [sample][channel]
};

// Where the statistics and the backward sums tasks leave their results:
// per plane in the compute type (NCHW), per (task, channel slot) in double
// (NHWC). The sizes of those arrays; the other layout's are empty.
std::size_t plane_results(const Planes& pl) {
  return std::size_t(pl.layout == NC_LAYOUT_NCHW ? pl.count() : 0);
}
std::size_t chunk_results(const Planes& pl) {
  return std::size_t(pl.layout == NC_LAYOUT_NCHW ? 0 : pl.tasks() * pl.channels);
}

// The statistics tasks' results (see plane_results).
struct StatsResults {
  ComputeArray mean, m2;
  Doubles chunk_mean, chunk_m2;
  explicit StatsResults(const Planes& pl)
      : mean(pl.data, plane_results(pl)),
        m2(mean),
        chunk_mean(chunk_results(pl)),
        chunk_m2(chunk_mean) {}
  StatsJob job(const Planes& pl, const void* x) {
    return {pl, x, mean.data(), m2.data(), chunk_mean.data(), chunk_m2.data()};
  }
};

// The tasks of sample n: its planes (NCHW) or its chunks of rows (NHWC).
std::pair<std::int64_t, std::int64_t> sample_tasks(const Planes& pl, std::int64_t n) {
  const std::int64_t per = pl.tasks() / pl.batch;
  return {n * per, (n + 1) * per};
}

// Sample n's plane moments from the statistics tasks' results: NHWC chunks
// merged in chunk order, in slot order, then put in channel order.
void sample_plane_moments(const Planes& pl, const StatsResults& r, std::int64_t n,
                          PlaneMoments& planes) {
  const auto C = pl.channels;
  if (pl.layout == NC_LAYOUT_NCHW) {
    for (auto i = std::size_t(n * C); i < std::size_t((n + 1) * C); ++i) {
      planes.mean[i] = r.mean.get(i);
      planes.m2[i] = r.m2.get(i);
    }
    return;
  }
  const auto nk = pl.chunks_per_sample();
  std::vector<double> slot_mean(static_cast<std::size_t>(C)), slot_m2(slot_mean);
  std::int64_t count = 0;
  for (std::int64_t k = 0; k < nk; ++k) {
    const auto i = std::size_t((n * nk + k) * C);
    merge_each(count, slot_mean.data(), slot_m2.data(), pl.rows_in_chunk(k), &r.chunk_mean[i],
               &r.chunk_m2[i], C);
    count += pl.rows_in_chunk(k);
  }
  for (std::int64_t c = 0; c < C; ++c) {
    planes.mean[std::size_t(n * C + c)] = slot_mean[std::size_t(pl.slot(c))];
    planes.m2[std::size_t(n * C + c)] = slot_m2[std::size_t(pl.slot(c))];
  }
}

// group and instance norm: sample n's planes merged into its groups, in
// channel order.
void merge_sample_groups(const Geometry& g, const PlaneMoments& planes, std::int64_t n,
                         GroupMoments& groups) {
  for (std::int64_t c = 0; c < g.channels; ++c) {
    const auto i = std::size_t(n * g.channels + c);
    auto& group = groups[std::size_t(group_of(g, n, c))];
    group = merge(group, Moments<double>{planes.count, planes.mean[i], planes.m2[i]});
  }
}

// batch_norm: channel c's planes over the samples, in sample order.
void merge_batch_groups(const Geometry& g, const PlaneMoments& planes,
                        GroupMoments& groups) {
  const auto C = g.channels;
  std::vector<double> mean(static_cast<std::size_t>(C)), m2(mean);
  for (std::int64_t n = 0; n < g.batch; ++n)
    merge_each(n * planes.count, mean.data(), m2.data(), planes.count,
               &planes.mean[std::size_t(n * C)], &planes.m2[std::size_t(n * C)], C);
  for (std::int64_t c = 0; c < C; ++c)
    groups[std::size_t(c)] = {g.batch * planes.count, mean[std::size_t(c)], m2[std::size_t(c)]};
}

// SyncBN: combines each channel's moments over the ranks exactly: first the
// global mean from the sums, then every rank's m2 moved to that mean.
void moments_over_ranks(const nc_collectives& coll, GroupMoments& groups) {
  const auto C = groups.size();
  std::vector<double> sums(2 * C);
  for (std::size_t c = 0; c < C; ++c) {
    sums[c] = groups[c].mean * double(groups[c].count);
    sums[C + c] = double(groups[c].count);
  }
  allreduce_sum(coll, sums);
  std::vector<double> m2(C);
  for (std::size_t c = 0; c < C; ++c) {
    const double global_mean = sums[c] / sums[C + c];
    const double shift = groups[c].mean - global_mean;
    m2[c] = groups[c].m2 + double(groups[c].count) * shift * shift;
    groups[c].mean = global_mean;
    groups[c].count = std::int64_t(sums[C + c]);
  }
  allreduce_sum(coll, m2);
  for (std::size_t c = 0; c < C; ++c) groups[c].m2 = m2[c];
}

struct GroupStats {
  Doubles mean, rstd;
};

GroupStats rstd_from_running(const Geometry& g, DType stats, const void* rm, const void* rv,
                             double eps) {
  auto running = running_moments_per_group(g, stats, rm, rv);
  GroupStats s{doubles(running.mean), doubles(running.var)};
  for (auto& v : s.rstd) v = 1.0 / std::sqrt(v + eps);
  return s;
}

// A forward's per-group statistics and the per-plane constants of its
// normalize pass, y = (x - mean) * scale + shift.
struct ForwardPlan {
  GroupStats stats;
  Doubles var;  // training: the groups' biased variances
  std::int64_t count = 0;   // training: the elements of each group (over the ranks for SyncBN)
  std::vector<double> gamma, beta;
  ComputeArray mean, scale, shift;
  ForwardPlan(const ForwardCall& call, const Planes& pl)
      : gamma(param_values<double>(call.geo.param, call.gamma, call.geo.channels, 1.0)),
        beta(param_values<double>(call.geo.param, call.beta, call.geo.channels, 0.0)),
        mean(pl.data, std::size_t(pl.count())),
        scale(mean),
        shift(mean) {}
  // Group k's statistics from its moments.
  void set_group(std::size_t k, const Moments<double>& m, double eps) {
    stats.mean[k] = m.mean;
    var[k] = m.m2 / double(m.count);
    stats.rstd[k] = 1.0 / std::sqrt(var[k] + eps);
  }
  // Sample n's per-plane constants, in slot order.
  void set_sample(const Geometry& g, const Planes& pl, std::int64_t n) {
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const auto k = std::size_t(group_of(g, n, c)), i = std::size_t(n * g.channels + pl.slot(c));
      mean.set(i, stats.mean[k]);
      scale.set(i, stats.rstd[k] * gamma[std::size_t(c)]);
      shift.set(i, beta[std::size_t(c)]);
    }
  }
  AffineJob job(const ForwardCall& call, const Planes& pl) {
    return {
        pl, call.x, call.y, mean.data(), scale.data(), shift.data(), stream_output(pl, call.y, 2)};
  }
};

// group and instance norm in training: a sample's groups lie within it, so
// one task per sample takes its statistics (backward: its sums) and
// normalizes it (its dx) at once, while the sample is still in L2/L3,
// instead of a pass over the whole tensor for the statistics and another
// for the normalize. Every step is the one of the two-pass path in the
// same order, so the bits are too (determinism_test runs both). Two
// samples per thread at least, so the threads stay busy.
template <class Call>
bool fuse_samples(const Call& call, const Planes& pl) {
  return call.geo.op != NC_OP_BATCH_NORM && !call.running_stats && call.collectives == nullptr &&
         pl.batch >= 2 * std::int64_t(thread_count());
}

void forward_fused(const ForwardCall& call, const Planes& pl, ForwardPlan& plan) {
  const auto& g = call.geo;
  StatsResults results(pl);
  const StatsJob stats_job = results.job(pl, call.x);
  const AffineJob affine_job = plan.job(call, pl);
  const auto stats_task = kStats.at(kernel_isa());
  const auto affine_task = kAffine.at(kernel_isa());
  PlaneMoments planes{pl.spatial, Doubles(std::size_t(pl.count())),
                      Doubles(std::size_t(pl.count()))};
  const std::int64_t groups_per_sample = g.group_count / g.batch;
  plan.count = g.group_size;  // no ranks here
  parallel_for(pl.batch, pl.channels * pl.spatial, [&](std::int64_t b, std::int64_t e) {
    GroupMoments groups(std::size_t(g.group_count));
    for (std::int64_t n = b; n < e; ++n) {
      const auto [first, last] = sample_tasks(pl, n);
      stats_task(stats_job, first, last);
      sample_plane_moments(pl, results, n, planes);
      merge_sample_groups(g, planes, n, groups);
      for (auto k = std::size_t(n * groups_per_sample);
           k < std::size_t((n + 1) * groups_per_sample); ++k)
        plan.set_group(k, groups[k], call.problem->eps);
      plan.set_sample(g, pl, n);
      affine_task(affine_job, first, last);
    }
  });
}

void forward_in_passes(const ForwardCall& call, const Planes& pl, ForwardPlan& plan) {
  const auto& g = call.geo;
  if (!call.running_stats) {
    StatsResults results(pl);
    const StatsJob job = results.job(pl, call.x);
    const auto task = kStats.at(kernel_isa());
    parallel_for(pl.tasks(), elements_per_task(pl),
                 [&](std::int64_t b, std::int64_t e) { task(job, b, e); });
    PlaneMoments planes{pl.spatial, Doubles(std::size_t(pl.count())),
                        Doubles(std::size_t(pl.count()))};
    for (std::int64_t n = 0; n < pl.batch; ++n) sample_plane_moments(pl, results, n, planes);
    GroupMoments groups(std::size_t(g.group_count));
    if (g.op == NC_OP_BATCH_NORM)
      merge_batch_groups(g, planes, groups);
    else
      for (std::int64_t n = 0; n < g.batch; ++n) merge_sample_groups(g, planes, n, groups);
    if (call.collectives != nullptr) moments_over_ranks(*call.collectives, groups);
    for (std::size_t k = 0; k < groups.size(); ++k) plan.set_group(k, groups[k], call.problem->eps);
    plan.count = groups.empty() ? 0 : groups[0].count;
  }
  for (std::int64_t n = 0; n < g.batch; ++n) plan.set_sample(g, pl, n);
  const AffineJob job = plan.job(call, pl);
  const auto task = kAffine.at(kernel_isa());
  parallel_for(pl.tasks(), elements_per_task(pl),
               [&](std::int64_t b, std::int64_t e) { task(job, b, e); });
}

// The backward sums tasks' results (see plane_results).
struct SumsResults {
  ComputeArray s1, s2;
  Doubles chunk_s1, chunk_s2;
  explicit SumsResults(const Planes& pl)
      : s1(pl.data, plane_results(pl)), s2(s1), chunk_s1(chunk_results(pl)), chunk_s2(chunk_s1) {}
  SumsJob job(const Planes& pl, const BackwardCall& call, const void* mean) {
    return {pl, call.dy, call.x, mean, s1.data(), s2.data(), chunk_s1.data(), chunk_s2.data()};
  }
};

// A backward's per-plane sums sum(dy) and sum(dy * (x - mean)), and the
// per-plane constants of dx = a * dy + c0 + (x - mean) * c1, from the
// per-group ones of dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), g =
// gamma * dy: c0 = -rstd * mean(g), c1 = -rstd^3 * mean(g * (x - mean)).
struct BackwardPlan {
  GroupStats stats;
  std::vector<double> gamma;
  Doubles sum_dy, sum_dy_d;  // per plane [sample][channel]
  Doubles group_sums;        // sum(g), then sum(g * (x - mean)), per group
  Doubles c0, c1;            // per group
  ComputeArray mean, a, k0, k1;          // per plane, in slot order
  BackwardPlan(const BackwardCall& call, const Planes& pl)
      : gamma(param_values<double>(call.geo.param, call.gamma, call.geo.channels, 1.0)),
        sum_dy(std::size_t(pl.count()), 0.0),
        sum_dy_d(sum_dy),
        group_sums(2 * std::size_t(call.geo.group_count), 0.0),
        c0(std::size_t(call.geo.group_count), 0.0),
        c1(c0),
        mean(pl.data, std::size_t(pl.count())),
        a(mean),
        k0(mean),
        k1(mean) {}
  void set_sample_mean(const Geometry& g, const Planes& pl, std::int64_t n) {
    for (std::int64_t c = 0; c < g.channels; ++c)
      mean.set(std::size_t(n * g.channels + pl.slot(c)),
               stats.mean[std::size_t(group_of(g, n, c))]);
  }
  // Sample n's per-plane sums from the sums tasks' results: NHWC chunks
  // added in chunk order.
  void set_sample_sums(const Planes& pl, const SumsResults& r, std::int64_t n) {
    const auto C = pl.channels;
    if (pl.layout == NC_LAYOUT_NCHW) {
      for (auto i = std::size_t(n * C); i < std::size_t((n + 1) * C); ++i) {
        sum_dy[i] = r.s1.get(i);
        sum_dy_d[i] = r.s2.get(i);
      }
      return;
    }
    const auto nk = pl.chunks_per_sample();
    for (std::int64_t k = 0; k < nk; ++k)
      for (std::int64_t c = 0; c < C; ++c) {
        const auto at = std::size_t((n * nk + k) * C + pl.slot(c)), i = std::size_t(n * C + c);
        sum_dy[i] += r.chunk_s1[at];
        sum_dy_d[i] += r.chunk_s2[at];
      }
  }
  // Sample n's planes added to their groups' sums, in channel order.
  void add_sample_group_sums(const Geometry& g, std::int64_t n) {
    const auto groups = std::size_t(g.group_count);
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const auto k = std::size_t(group_of(g, n, c)), i = std::size_t(n * g.channels + c);
      group_sums[k] += gamma[std::size_t(c)] * sum_dy[i];
      group_sums[groups + k] += gamma[std::size_t(c)] * sum_dy_d[i];
    }
  }
  void set_group_constants(std::size_t k, double count) {
    const double r = stats.rstd[k];
    c0[k] = -r * group_sums[k] / count;
    c1[k] = -r * r * r * group_sums[c0.size() + k] / count;
  }
  void set_sample_constants(const Geometry& g, const Planes& pl, std::int64_t n) {
    for (std::int64_t c = 0; c < g.channels; ++c) {
      const auto k = std::size_t(group_of(g, n, c)), i = std::size_t(n * g.channels + pl.slot(c));
      a.set(i, gamma[std::size_t(c)] * stats.rstd[k]);
      k0.set(i, c0[k]);
      k1.set(i, c1[k]);
    }
  }
  DxJob job(const BackwardCall& call, const Planes& pl) {
    return {pl,
            call.dy,
            call.x,
            call.dx,
            mean.data(),
            a.data(),
            k0.data(),
            k1.data(),
            stream_output(pl, call.dx, 3),  // x, dy, dx
            call.running_stats};
  }
};

// As the forward's (fuse_samples): sample n's sums, its groups' constants
// and its dx in one task, the same steps in the same order as
// backward_in_passes.
void backward_fused(const BackwardCall& call, const Planes& pl, BackwardPlan& plan) {
  const auto& g = call.geo;
  SumsResults results(pl);
  const SumsJob sums_job = results.job(pl, call, plan.mean.data());
  const DxJob dx_job = plan.job(call, pl);
  const auto sums_task = kSums.at(kernel_isa());
  const auto dx_task = kDx.at(kernel_isa());
  const std::int64_t groups_per_sample = g.group_count / g.batch;
  parallel_for(pl.batch, pl.channels * pl.spatial, [&](std::int64_t b, std::int64_t e) {
    for (std::int64_t n = b; n < e; ++n) {
      const auto [first, last] = sample_tasks(pl, n);
      sums_task(sums_job, first, last);
      plan.set_sample_sums(pl, results, n);
      plan.add_sample_group_sums(g, n);
      for (auto k = std::size_t(n * groups_per_sample);
           k < std::size_t((n + 1) * groups_per_sample); ++k)
        plan.set_group_constants(k, double(g.group_size));  // no ranks here
      plan.set_sample_constants(g, pl, n);
      dx_task(dx_job, first, last);
    }
  });
}

void backward_in_passes(const BackwardCall& call, const Planes& pl, BackwardPlan& plan) {
  const auto& g = call.geo;
  // Per-plane sums: needed through the batch statistics, and for dgamma/dbeta.
  if (!call.running_stats || call.dgamma != nullptr || call.dbeta != nullptr) {
    SumsResults results(pl);
    const SumsJob job = results.job(pl, call, plan.mean.data());
    const auto task = kSums.at(kernel_isa());
    parallel_for(pl.tasks(), elements_per_task(pl),
                 [&](std::int64_t b, std::int64_t e) { task(job, b, e); });
    for (std::int64_t n = 0; n < g.batch; ++n) plan.set_sample_sums(pl, results, n);
  }
  if (!call.running_stats) {
    for (std::int64_t n = 0; n < g.batch; ++n) plan.add_sample_group_sums(g, n);
    double count = double(g.group_size);
    if (call.collectives != nullptr) {
      plan.group_sums.push_back(count);
      allreduce_sum(*call.collectives, plan.group_sums);
      count = plan.group_sums.back();
    }
    for (std::size_t k = 0; k < plan.c0.size(); ++k) plan.set_group_constants(k, count);
  }
  for (std::int64_t n = 0; n < g.batch; ++n) plan.set_sample_constants(g, pl, n);
  const DxJob job = plan.job(call, pl);
  const auto task = kDx.at(kernel_isa());
  parallel_for(pl.tasks(), elements_per_task(pl),
               [&](std::int64_t b, std::int64_t e) { task(job, b, e); });
}

}  // namespace

void forward_channels(const ForwardCall& call) {
  const auto& g = call.geo;
  const auto& p = *call.problem;
  const auto pl = planes_of(g);
  ForwardPlan plan(call, pl);
  const auto groups = std::size_t(g.group_count);
  if (call.running_stats) {
    plan.stats = rstd_from_running(g, g.stats, call.running_mean, call.running_var, p.eps);
  } else {
    plan.stats = {Doubles(groups), Doubles(groups)};
    plan.var.resize(groups);
  }
  if (fuse_samples(call, pl))
    forward_fused(call, pl, plan);
  else
    forward_in_passes(call, pl, plan);
  if (!call.running_stats) {
    store_saved(call, plan.stats.mean, plan.stats.rstd);
    update_running(call, plan.stats.mean, plan.var, plan.count);
  }
}

void backward_channels(const BackwardCall& call) {
  const auto& g = call.geo;
  const auto& p = *call.problem;
  const auto pl = planes_of(g);
  BackwardPlan plan(call, pl);
  if (call.running_stats) {
    plan.stats = rstd_from_running(g, g.stats, call.running_mean, call.running_var, p.eps);
  } else {
    plan.stats.mean = doubles(load_values(g.stats, call.saved_mean, g.group_count));
    plan.stats.rstd = doubles(load_values(g.stats, call.saved_rstd, g.group_count));
  }
  for (std::int64_t n = 0; n < g.batch; ++n) plan.set_sample_mean(g, pl, n);
  if (fuse_samples(call, pl))
    backward_fused(call, pl, plan);
  else
    backward_in_passes(call, pl, plan);

  if (call.dgamma != nullptr || call.dbeta != nullptr) {
    // This rank's contributions (SyncBN leaves their sum to the gradient allreduce).
    std::vector<double> dgamma(std::size_t(g.channels), 0.0), dbeta(std::size_t(g.channels), 0.0);
    for (std::int64_t n = 0; n < g.batch; ++n)
      for (std::int64_t c = 0; c < g.channels; ++c) {
        const auto k = std::size_t(group_of(g, n, c)), i = std::size_t(n * g.channels + c);
        dgamma[std::size_t(c)] += plan.stats.rstd[k] * plan.sum_dy_d[i];
        dbeta[std::size_t(c)] += plan.sum_dy[i];
      }
    if (call.dgamma != nullptr) store_values(g.param, call.dgamma, dgamma);
    if (call.dbeta != nullptr) store_values(g.param, call.dbeta, dbeta);
  }
}

}  // namespace normcheck::cpu
