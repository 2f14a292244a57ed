// nc_row_pass_limit: what a row-norm forward's pass structure can reach on
// this machine, apart from any normalization arithmetic. It times stripped
// f32 loops over an R x cols tensor (y = (x - mean) * s * gamma + beta with
// 64-byte streaming stores, the shape of the cpu backend's normalize pass)
// against a memcpy of the same bytes, on the same threads, in one process:
//
//   single-pass   y from x in one pass, mean fixed: the ceiling for one
//                 read and one write of every element;
//   read-only     the sum of every row, nothing written: the ceiling for a
//                 statistics pass that reads x once (bandwidth counted on
//                 the bytes read). read-only plus single-pass bounds a
//                 forward with a statistics pass over the whole tensor
//                 before its normalize (the NHWC batch norm: run with
//                 --rows N*H*W --cols C);
//   whole-two-pass  read-only over all of a thread's rows, then single-pass
//                 over them: that structure run as one loop (bytes: x read
//                 twice, y written once, as bench's traffic model counts a
//                 batch norm training forward);
//   two-pass      per row, a sum pass then the normalize pass, the next
//                 row prefetched into L2 during the normalize pass (the
//                 cpu backend's ln/rms forward where two rows do not fit
//                 in half of L1);
//   two-pass-nopf the same without software prefetch;
//   carried       the next row's sum done inside this row's normalize pass
//                 (the cpu backend's `carry` where rows are short);
//   two-pass-split  two-pass with the next row's prefetches spread over
//                 both passes (half of its lines during the sum pass), so
//                 that memory stays busy while the sum reads from L2;
//   two-pass-ahead2 two-pass prefetching the row after next instead;
//   two-pass-4rows  the sums of four rows, then their normalize passes in
//                 lockstep, block by block, prefetching the next four: four
//                 streams per thread, as glibc's large memcpy interleaves
//                 four pages;
//   carried-4rows   four rows normalized in lockstep with the sums the
//                 previous group's pass carried: each pass also sums the
//                 next four rows (from L2) and prefetches the four after,
//                 so that no phase leaves memory idle;
//   carried-4rows-l2  the same with a second read of each row from L2
//                 before its normalize (layer norm's moments pass);
//   single-pass-dealt, whole-two-pass-dealt  single-pass and whole-two-pass
//                 over the rows dealt out in chunks of rows / (8 x threads)
//                 in turn (thread p: chunks p, p + threads, ...), as the cpu
//                 backend's parallel_for split its tasks until session 15.
//                 Every other loop gives each thread a contiguous share of
//                 the rows, as parallel_for does now (TaskShares).
// split, ahead2 and 4rows ask whether better-timed prefetches or more
// concurrent streams close the gap. On the Zen 5 VM of sessions 11-12
// split and ahead2 did not; 4rows ran 1.07-1.17x two-pass while memory was
// not shared with other tenants (about even when it was), and the cpu
// backend's forward now does that where rows are not carried
// (rows_in_lockstep). The carried 4-row loops ask whether the sums' phase,
// in which memory idles, is worth hiding: in session 13 they ran at 83-89 %
// of memcpy against 84-96 % for 4rows, and 79-83 % with the L2 pass, so the
// backend does not carry sums across groups. The loops run in a rotated
// order each repetition: in a fixed order, position effects hid that
// difference.
//
// What is left between single-pass and two-pass is the cost of reading a
// row twice that no kernel with a row reduction before its normalize can
// avoid (reports/perf.md, issue 17, sessions 10 and 11). AVX-512F only;
// elsewhere it says so and exits 77.
//
// Usage: nc_row_pass_limit [--cols N] [--rows R] [--threads T] [--reps K]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "median.hpp"

namespace {

using normcheck::bench::median;

struct Options {
  long rows = 8192, cols = 4096;
  int threads = 2, reps = 9;
};

enum class Loop {
  single_pass,
  read_only,
  whole_two_pass,
  two_pass,
  two_pass_nopf,
  carried,
  two_pass_split,
  two_pass_ahead2,
  two_pass_4rows,
  carried_4rows,
  carried_4rows_l2,
  single_pass_dealt,
  whole_two_pass_dealt
};
// tensors: what a loop moves, in tensor sizes (x read and y written: 2;
// read-only: 1; whole-two-pass: 3). Bandwidths and % of memcpy are per
// these bytes.
constexpr struct {
  Loop loop;
  const char* name;
  int tensors = 2;
} kLoops[] = {{Loop::single_pass, "single-pass"},
              {Loop::read_only, "read-only", 1},
              {Loop::whole_two_pass, "whole-two-pass", 3},
              {Loop::two_pass, "two-pass"},
              {Loop::two_pass_nopf, "two-pass-nopf"},
              {Loop::carried, "carried"},
              {Loop::two_pass_split, "two-pass-split"},
              {Loop::two_pass_ahead2, "two-pass-ahead2"},
              {Loop::two_pass_4rows, "two-pass-4rows"},
              {Loop::carried_4rows, "carried-4rows"},
              {Loop::carried_4rows_l2, "carried-4rows-l2"},
              {Loop::single_pass_dealt, "single-pass-dealt"},
              {Loop::whole_two_pass_dealt, "whole-two-pass-dealt", 3}};

struct FreeAligned {
  void operator()(float* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float[], FreeAligned>;
Buffer aligned_floats(long n) {
  auto* p = static_cast<float*>(std::aligned_alloc(64, std::size_t(n) * sizeof(float)));
  if (p == nullptr) {
    std::fprintf(stderr, "nc_row_pass_limit: cannot allocate %ld floats\n", n);
    std::exit(2);
  }
  return Buffer(p);
}

struct Tensors {
  long cols;
  Buffer x, y, gamma, beta;
};

// One 32-float block of the normalize pass.
__attribute__((target("avx512f"), always_inline)) inline void normalize_block(
    const Tensors& t, const float* x, float* y, long i, __m512 mean, __m512 scale) {
  for (long h = 0; h < 32; h += 16) {
    const __m512 v = _mm512_sub_ps(_mm512_load_ps(x + i + h), mean);
    const __m512 g = _mm512_load_ps(t.gamma.get() + i + h), b = _mm512_load_ps(t.beta.get() + i + h);
    _mm512_stream_ps(y + i + h, _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(v, scale), g), b));
  }
}

// The lanes' sum (not _mm512_reduce_add_ps: GCC 12 warns inside it).
__attribute__((target("avx512f"))) float lane_sum(__m512 v) {
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, v);
  float s = 0.0f;
  for (const float l : lanes) s += l;
  return s;
}

// The sum of a row; with `next`, the first `lines` 64-byte lines of the
// next row are prefetched into L2 along the way.
__attribute__((target("avx512f"))) float row_sum(const float* x, long n,
                                                 const float* next = nullptr, long lines = 0) {
  __m512 a0 = _mm512_setzero_ps(), a1 = a0;
  const long blocks = n / 32;
  for (long i = 0; i < n; i += 32) {
    if (next != nullptr) {
      // Spread evenly: line l of the next row at block l * blocks / lines.
      for (long l = (i / 32) * lines / blocks; l < (i / 32 + 1) * lines / blocks; ++l)
        _mm_prefetch(reinterpret_cast<const char*>(next + 16 * l), _MM_HINT_T1);
    }
    a0 = _mm512_add_ps(a0, _mm512_load_ps(x + i));
    a1 = _mm512_add_ps(a1, _mm512_load_ps(x + i + 16));
  }
  return lane_sum(_mm512_add_ps(a0, a1));
}

constexpr long kLockstep = 4;

// Rows [r, r + kLockstep): their sums, then their normalize passes in
// lockstep, prefetching the next kLockstep rows when they are in range.
__attribute__((target("avx512f"))) float rows_in_lockstep(const Tensors& t, long r, long r1,
                                                          __m512 scale) {
  const long n = t.cols;
  const float* x = t.x.get() + r * n;
  float* y = t.y.get() + r * n;
  float checksum = 0.0f;
  __m512 mean[kLockstep];
  for (long k = 0; k < kLockstep; ++k) {
    const float sum = row_sum(x + k * n, n);
    checksum += sum;
    mean[k] = _mm512_set1_ps(sum / float(n));
  }
  const bool next = r + 2 * kLockstep <= r1;
  for (long i = 0; i < n; i += 32)
    for (long k = 0; k < kLockstep; ++k) {
      if (next) {
        _mm_prefetch(reinterpret_cast<const char*>(x + (kLockstep + k) * n + i), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(x + (kLockstep + k) * n + i + 16), _MM_HINT_T1);
      }
      normalize_block(t, x + k * n, y + k * n, i, mean[k], scale);
    }
  return checksum;
}

// Groups of kLockstep rows from r0 on, each normalized in lockstep with the
// sums the previous group's pass carried: that pass also sums the next group
// (loads that hit L2, where the pass before prefetched them) and prefetches
// the group after it, so no phase leaves memory idle. With `second_pass`,
// each row's sum is also read once more from L2 before the normalize (the
// shape of layer norm's centred moments pass). Returns the checksum and
// where the groups ended.
__attribute__((target("avx512f"))) std::pair<float, long> carried_groups(const Tensors& t, long r0,
                                                                           long r1, __m512 scale,
                                                                           bool second_pass) {
  const long n = t.cols;
  float checksum = 0.0f;
  float sums[kLockstep];
  if (r0 + kLockstep > r1) return {0.0f, r0};
  for (long k = 0; k < kLockstep; ++k) sums[k] = row_sum(t.x.get() + (r0 + k) * n, n);
  long r = r0;
  for (; r + kLockstep <= r1; r += kLockstep) {
    const float* x = t.x.get() + r * n;
    float* y = t.y.get() + r * n;
    __m512 mean[kLockstep];
    for (long k = 0; k < kLockstep; ++k) {
      if (second_pass) checksum += row_sum(x + k * n, n);
      checksum += sums[k];
      mean[k] = _mm512_set1_ps(sums[k] / float(n));
    }
    const bool next = r + 2 * kLockstep <= r1, after = r + 3 * kLockstep <= r1;
    __m512 a[kLockstep], b[kLockstep];
    for (long k = 0; k < kLockstep; ++k) a[k] = b[k] = _mm512_setzero_ps();
    for (long i = 0; i < n; i += 32)
      for (long k = 0; k < kLockstep; ++k) {
        if (after) {
          _mm_prefetch(reinterpret_cast<const char*>(x + (2 * kLockstep + k) * n + i), _MM_HINT_T1);
          _mm_prefetch(reinterpret_cast<const char*>(x + (2 * kLockstep + k) * n + i + 16),
                       _MM_HINT_T1);
        }
        if (next) {
          a[k] = _mm512_add_ps(a[k], _mm512_load_ps(x + (kLockstep + k) * n + i));
          b[k] = _mm512_add_ps(b[k], _mm512_load_ps(x + (kLockstep + k) * n + i + 16));
        }
        normalize_block(t, x + k * n, y + k * n, i, mean[k], scale);
      }
    for (long k = 0; k < kLockstep; ++k) sums[k] = lane_sum(_mm512_add_ps(a[k], b[k]));
  }
  return {checksum, r};
}

// Rows [r0, r1) of t through `loop`; returns a value that depends on the sums.
__attribute__((target("avx512f"))) float rows(const Tensors& t, Loop loop, long r0, long r1) {
  const long n = t.cols;
  const __m512 scale = _mm512_set1_ps(1.0009765625f);
  float checksum = 0.0f, carried_sum = 0.0f;
  if (loop == Loop::read_only || loop == Loop::whole_two_pass) {
    for (long r = r0; r < r1; ++r) checksum += row_sum(t.x.get() + r * n, n);
    if (loop == Loop::read_only) return checksum;
    loop = Loop::single_pass;
  }
  if (loop == Loop::two_pass_4rows) {
    for (; r0 + kLockstep <= r1; r0 += kLockstep) checksum += rows_in_lockstep(t, r0, r1, scale);
    loop = Loop::two_pass;  // the rows left over
  }
  if (loop == Loop::carried_4rows || loop == Loop::carried_4rows_l2) {
    const auto [sum, end] = carried_groups(t, r0, r1, scale, loop == Loop::carried_4rows_l2);
    checksum += sum;
    r0 = end;
    loop = Loop::two_pass;
  }
  // two-pass-split: the lines of the next row prefetched during the sum pass.
  const long split_lines = n / 16 / 2;
  for (long r = r0; r < r1; ++r) {
    const float* x = t.x.get() + r * n;
    float* y = t.y.get() + r * n;
    float sum = 0.0f;
    const bool next = r + 1 < r1;
    if (loop == Loop::two_pass || loop == Loop::two_pass_nopf || loop == Loop::two_pass_ahead2)
      sum = row_sum(x, n);
    else if (loop == Loop::two_pass_split)
      sum = row_sum(x, n, next ? x + n : nullptr, split_lines);
    else if (loop == Loop::carried)
      sum = r == r0 ? row_sum(x, n) : carried_sum;
    checksum += sum;
    const __m512 mean = _mm512_set1_ps(sum / float(n));
    __m512 c0 = _mm512_setzero_ps(), c1 = c0;
    for (long i = 0; i < n; i += 32) {
      if (loop == Loop::two_pass_split && next)  // the other half: one line per block
        _mm_prefetch(reinterpret_cast<const char*>(x + n + 16 * split_lines + i / 2), _MM_HINT_T1);
      if (loop == Loop::two_pass_ahead2 && r + 2 < r1) {
        _mm_prefetch(reinterpret_cast<const char*>(x + 2 * n + i), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(x + 2 * n + i + 16), _MM_HINT_T1);
      }
      if (loop == Loop::two_pass && next) {
        _mm_prefetch(reinterpret_cast<const char*>(x + n + i), _MM_HINT_T1);
        _mm_prefetch(reinterpret_cast<const char*>(x + n + i + 16), _MM_HINT_T1);
      }
      if (loop == Loop::carried && next) {
        c0 = _mm512_add_ps(c0, _mm512_load_ps(x + n + i));
        c1 = _mm512_add_ps(c1, _mm512_load_ps(x + n + i + 16));
      }
      normalize_block(t, x, y, i, mean, scale);
    }
    carried_sum = lane_sum(_mm512_add_ps(c0, c1));
  }
  _mm_sfence();
  return checksum;
}

// Seconds of one run of body(p) on each of the threads.
template <class Body>
double seconds(int threads, Body body) {
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> workers;
    for (int p = 0; p < threads; ++p) workers.emplace_back([&, p] { body(p); });
  }
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  return took.count();
}

long parse_positive(std::string_view flag, const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v <= 0) {
    std::fprintf(stderr, "nc_row_pass_limit: %.*s needs a positive integer, got '%s'\n",
                 int(flag.size()), flag.data(), text);
    std::exit(2);
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "nc_row_pass_limit: %s needs a value (--cols, --rows, --threads, --reps)\n",
                   argv[i]);
      std::exit(2);
    }
    const long v = parse_positive(flag, argv[++i]);
    if (flag == "--cols")
      o.cols = v;
    else if (flag == "--rows")
      o.rows = v;
    else if (flag == "--threads")
      o.threads = int(std::min(v, 256L));
    else if (flag == "--reps")
      o.reps = int(std::min(v, 1000L));
    else {
      std::fprintf(stderr, "nc_row_pass_limit: unknown option '%s'\n", argv[i - 1]);
      std::exit(2);
    }
  }
  if (o.cols % 32 != 0) {
    std::fprintf(stderr, "nc_row_pass_limit: --cols must be a multiple of 32, got %ld\n", o.cols);
    std::exit(2);
  }
  if (o.rows > std::numeric_limits<long>::max() / 4 / o.cols) {
    std::fprintf(stderr, "nc_row_pass_limit: --rows x --cols (%ld x %ld) is too large\n", o.rows,
                 o.cols);
    std::exit(2);
  }
  if (o.rows < o.threads) {
    std::fprintf(stderr, "nc_row_pass_limit: --rows (%ld) below --threads (%d)\n", o.rows, o.threads);
    std::exit(2);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!__builtin_cpu_supports("avx512f")) {
    std::puts("nc_row_pass_limit: skipped, this CPU has no AVX-512F");
    return 77;
  }
  const long count = o.rows * o.cols;
  Tensors t{o.cols, aligned_floats(count), aligned_floats(count), aligned_floats(o.cols),
            aligned_floats(o.cols)};
  for (long i = 0; i < count; ++i) t.x[i] = float(i % 7), t.y[i] = 0.0f;
  for (long i = 0; i < o.cols; ++i) t.gamma[i] = 1.0f, t.beta[i] = 0.0f;
  const auto first_row = [&](int p) { return o.rows * p / o.threads; };
  // The dealt loops: thread p's chunks of `chunk` rows, first through `loop`.
  const long chunk = std::max(1L, o.rows / (8L * o.threads));
  const auto dealt = [&](int p, Loop loop) {
    float checksum = 0.0f;
    for (long a = chunk * p; a < o.rows; a += chunk * o.threads)
      checksum += rows(t, loop, a, std::min(o.rows, a + chunk));
    return checksum;
  };
  const double tensor_bytes = double(count) * sizeof(float), bytes = 2.0 * tensor_bytes;

  // Every repetition runs memcpy and each loop once, in turn: this
  // machine's speed drifts by tens of percent over seconds, and a
  // comparison is fair only between times taken side by side. The order
  // rotates from one repetition to the next, because whatever runs right
  // after another loop's streaming stores can measure slower.
  constexpr std::size_t kCopy = std::size(kLoops), kEntries = kCopy + 1;
  std::vector<std::vector<double>> times(kEntries);
  std::vector<float> checksums(std::size_t(o.threads));  // so the sums are not optimized away
  for (int k = 0; k <= o.reps; ++k) {  // k == 0: warm-up
    for (std::size_t e = 0; e < kEntries; ++e) {
      const std::size_t l = (std::size_t(k) + e) % kEntries;
      const double s = seconds(o.threads, [&](int p) {
        const long a = first_row(p), b = first_row(p + 1);
        if (l == kCopy)
          std::memcpy(t.y.get() + a * o.cols, t.x.get() + a * o.cols,
                      std::size_t((b - a) * o.cols) * sizeof(float));
        else if (kLoops[l].loop == Loop::single_pass_dealt)
          checksums[std::size_t(p)] = dealt(p, Loop::single_pass);
        else if (kLoops[l].loop == Loop::whole_two_pass_dealt)
          checksums[std::size_t(p)] = dealt(p, Loop::read_only) + dealt(p, Loop::single_pass);
        else
          checksums[std::size_t(p)] = rows(t, kLoops[l].loop, a, b);
      });
      if (k > 0) times[l].push_back(s);
    }
  }
  const double copy = median(times[kCopy]);
  std::printf("%ld x %ld f32, %d threads, median of %d\n", o.rows, o.cols, o.threads, o.reps);
  std::printf("%-20s %9.3f ms %7.1f GB/s\n", "memcpy", copy * 1e3, bytes / copy / 1e9);
  for (std::size_t l = 0; l < kCopy; ++l) {
    const double s = median(times[l]);
    const double moved = kLoops[l].tensors * tensor_bytes;
    std::printf("%-20s %9.3f ms %7.1f GB/s %5.0f %% of memcpy\n", kLoops[l].name, s * 1e3,
                moved / s / 1e9, 100.0 * (moved / s) / (bytes / copy));
  }
  volatile float sink = 0.0f;
  for (const float c : checksums) sink = sink + c;
  return 0;
}
