// layer_norm and rms_norm: one task per block of rows, each row normalized
// independently (one pass for its moments or sum of squares, then the
// normalize pass from L1), so a row's bits depend on that row alone.
// dgamma/dbeta are column sums: each block of rows writes its own partial
// sums, combined afterwards in a fixed pairwise order whatever the thread
// count.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <memory>
#include <optional>
#include <span>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "column_sums.hpp"
#include "kernel_isa.hpp"
#include "kernels.hpp"
#include "normcheck/support/statistics.hpp"
#include "parallel.hpp"
#include "runs.hpp"

namespace normcheck::cpu {

using namespace support;

namespace {

constexpr std::int64_t kRowBlock = 64;

// Rows of at least 16 KiB (f32 4096 columns) fetch the next row half
// during each of their two passes instead of all of it during the second:
// the first pass (the forward's statistics, the backward's sums) otherwise
// runs with nothing in flight. On the Zen 3 machine ln / rms f32 8192x4096
// forwards took 0.82-0.95 of the time, backwards 0.90-0.93; rows of 768
// f32 columns ran 1.02-1.07 slower (half a row ahead is too short a
// distance), bf16 4096 columns 0.95-1.03 (reports/perf.md, issue 17,
// session 22). Timing only: the arithmetic is the same.
constexpr std::int64_t kSplitAheadBytes = 16 << 10;
template <class S>
constexpr bool splits_ahead(std::int64_t cols) {
  return cols * std::int64_t(sizeof(S)) >= kSplitAheadBytes;
}
// The split fetch of the row at `next` (n elements): one line of its
// first (part 0) or second half (part 1) per 128 bytes that a pass over
// the current row walks. Called at each step of that pass, i the step's
// element offset, with steps whose size divides 128 bytes.
template <class S>
NC_INLINE void fetch_half_row(const S* next, std::int64_t n, std::int64_t i, int part,
                              PrefetchTo to) {
  const std::int64_t b = i * std::int64_t(sizeof(S)) / 2;  // half the bytes walked
  if (b % 64 != 0) return;
  const std::int64_t half = n * std::int64_t(sizeof(S)) / 2;
  prefetch_line(reinterpret_cast<const char*>(next) + part * half + b, to);
}
// Rows normalized side by side where rows are not carried (rows_in_lockstep).
constexpr std::int64_t kLockstepRows = 4;

// f16 rows are widened to f32 once, into an L1-resident buffer that every
// pass then reads: the f16 conversion costs a dozen integer operations per
// 8 values (fp16 has no cheap pair form like bf16), and the forward would
// otherwise convert each value three times, the backward twice per input.
// The 64-byte builds convert f16 in hardware (wide.hpp), one instruction
// per 16 values, and read the storage directly: that took 0.63-0.75 of the
// time of widening once on the backwards, 0.71-0.92 on three of the four
// forwards (reports/perf.md, issue 17).
template <class S, class K>
inline constexpr bool kWidenOnce = std::is_same_v<S, f16_t> && !kVector64<K>;

template <class K, class S>
NC_INLINE void widen_run(const S* p, float* out, std::int64_t n) {
  std::int64_t i = 0;
  for (; i + kLanes<float> <= n; i += kLanes<float>)
    wput(out + i, wload<Wide<float, K>>(p + i), false);
  for (; i < n; ++i) out[i] = widen(p[i]);
}

struct RowForwardJob {
  DType data;
  bool rms;
  std::int64_t rows, cols;
  double eps;
  const void* x;
  const void* residual;
  void* residual_out;
  void* y;
  const void* gamma;  // compute type, cols
  const void* beta;
  // bf16 data: gamma and beta as bf16, natural order, when every value is
  // one (see packed_params); else nullptr.
  const bf16_t* gamma_bf16;
  const bf16_t* beta_bf16;
  double* mean;  // per row
  double* rstd;
  bool stream;       // y through streaming stores
  PrefetchTo ahead;  // where the next row goes while this one is normalized
  bool carry;        // the next row's pass during this one's normalize (see rows())
};

template <class S, class K>
struct RowForward {
  using T = compute_t<S>;
  using W = Wide<T, K>;
  static constexpr std::int64_t L = kLanes<T>;

  static NC_INLINE void run(const RowForwardJob& job, std::int64_t begin, std::int64_t end) {
    // The job as a local whose address no store can alias: read through
    // the caller's reference, its flags (stream, ahead) were loaded again
    // after every store of y (see Params).
    const RowForwardJob j = job;
    LineVector<float> wide(kWidenOnce<S, K> ? std::size_t(j.cols) : 0);
    const std::int64_t first = begin * kRowBlock, last = std::min(j.rows, end * kRowBlock);
    const bool packed = std::is_same_v<S, bf16_t> && j.gamma_bf16 != nullptr;
    if (j.rms)
      packed ? rows<true, true>(j, first, last, wide.data())
             : rows<true, false>(j, first, last, wide.data());
    else
      packed ? rows<false, true>(j, first, last, wide.data())
             : rows<false, false>(j, first, last, wide.data());
    if (j.stream) stream_fence();
  }

  // A row's one pass before its normalize pass: rms_norm's sum of squares,
  // layer_norm's moments (shifted_moments), as accumulators and as results.
  template <bool kRms>
  using Pass = std::conditional_t<kRms, RunSum<true, K, S>, RunMoments<K, S>>;
  template <bool kRms>
  using PassResult = std::conditional_t<kRms, T, Moments<T>>;

  // The next row's pass done during this row's normalize pass, which reads
  // that row anyway. The accumulators and the shift are those of the pass
  // done on its own (run_sum_squares, shifted_moments), so the bits are too.
  template <bool kRms>
  struct Carry {
    const S* next = nullptr;
    Pass<kRms> pass{};
    NC_INLINE void start(const S* row, std::int64_t n) {
      next = row;
      if constexpr (!kRms) pass = Pass<kRms>{shift_of<K>(row, n)};
    }
    NC_INLINE PassResult<kRms> result(std::int64_t n) const {
      if constexpr (kRms)
        return pass.total();
      else
        return pass.total_about_shift(n);
    }
    NC_INLINE void block(std::int64_t i) {
      if (next != nullptr) pass.block(next + i);
    }
    NC_INLINE void vector(std::int64_t i) {
      if (next != nullptr) pass.vector(next + i);
    }
    NC_INLINE void scalar(std::int64_t i) {
      if (next != nullptr) pass.scalar(next[i]);
    }
  };

  // Rows [first, last). Where two rows fit in half of L1 (j.carry:
  // bf16/f16 forwards 0.78-0.95 of the time, f32 8192x768 0.86-0.97; f32
  // 8192x4096, 32 KiB for two rows, ran 1.05-1.09 slower), row r's
  // normalize pass also does row r + 1's pass (rms_norm: the sum of
  // squares; layer_norm: the moments about the shift). Each row is read
  // twice: with a carried sum for the mean first (a third read) layer_norm
  // took 1.16-1.23x the time on 8192x768 and bf16 8192x4096 forwards
  // (reports/perf.md, issue 17, session 16). Not where the row is
  // normalized from somewhere else (f16 widened once, residual_out) or is
  // longer than one moments chunk. Rows that are not carried go four side
  // by side (rows_in_lockstep), those of the same two exceptions aside.
  // Carried rows stay one by one: four bf16/f16 8192x4096 rows in lockstep
  // instead of carried ran 1.08-1.32 slower.
  //
  // The lockstep only in the 64-byte builds, i.e. on AVX-512 machines,
  // where it was measured (Zen 5). On a Zen 3 VM (AVX2, the portable
  // build, 32 KiB L1d, 512 KiB L2) the same four rows side by side took
  // 1.7x the time of one row at a time: ln / rms f32 8192x4096 forwards
  // took 0.56-0.59 of the time without it in three runs (reports/perf.md,
  // issue 17, session 21). The kit stands for the machine class here; a
  // machine without AVX-512 on which the lockstep pays has not been seen.
  static constexpr bool kLockstep = kVector64<K>;
  template <bool kRms, bool kPacked>
  static NC_INLINE void rows(const RowForwardJob& j, std::int64_t first, std::int64_t last,
                             float* wide) {
    const std::int64_t n = j.cols;
    const S* x = static_cast<const S*>(j.x);
    const bool carry = j.carry && !kWidenOnce<S, K> && j.residual == nullptr && n <= kMomentsChunk;
    // The rows the normalize pass reads: this one and the one it carries.
    const std::int64_t lead = carry ? 2 : 1;
    std::optional<PassResult<kRms>> carried;  // row r's pass, done during row r - 1's
    std::int64_t r = first;
    if (kLockstep && !carry && !kWidenOnce<S, K> && j.residual == nullptr)
      for (; r + kLockstepRows <= last; r += kLockstepRows) rows_in_lockstep<kRms, kPacked>(j, r);
    for (; r < last; ++r) {
      Carry<kRms> c;
      if (carry && r + 1 < last) c.start(x + (r + 1) * n, n);
      row<kRms, kPacked>(j, r, wide, carried ? &*carried : nullptr, c, r + lead);
      carried.reset();
      if (c.next != nullptr) carried = c.result(n);
    }
  }

  // Row r. carried: its pass when done during the previous row's (else
  // nullptr); carry: what this row's normalize pass accumulates for the
  // next row; ahead_row: the row fetched meanwhile.
  template <bool kRms, bool kPacked>
  static NC_INLINE void row(const RowForwardJob& j, std::int64_t r, float* wide,
                            const PassResult<kRms>* carried, Carry<kRms>& carry,
                            std::int64_t ahead_row) {
    const std::int64_t n = j.cols;
    const S* x = static_cast<const S*>(j.x);
    const S* src = x + r * n;
    if (j.residual != nullptr) {
      // residual_out is rounded to the data dtype, and that rounded value is
      // what gets normalized (and what the backward receives as x).
      const S* res = static_cast<const S*>(j.residual) + r * n;
      S* out = static_cast<S*>(j.residual_out) + r * n;
      std::int64_t i = 0;
      for (; i + L <= n; i += L) wput(out + i, wload<W>(src + i) + wload<W>(res + i), false);
      for (; i < n; ++i) out[i] = narrow<S>(widen(src[i]) + widen(res[i]));
      src = out;
    }
    // A row ahead (past those the normalize pass reads) is fetched during
    // the normalize pass. Issued during layer_norm's moments pass (short,
    // from L1) the 256 prefetches of a 4096-column row came in a burst the
    // core could not keep in flight: that pass and the next row's first
    // pass took 48 % of the samples (perf, one thread, 8192x4096), 26 %
    // with the prefetches spread over the normalize pass and its streaming
    // stores. Rows of splits_ahead's length issue half of them during the
    // moments pass, one line per 128 bytes walked, and the other half during the
    // normalize pass (pass_fetching_half).
    const S* ahead = ahead_row < j.rows ? x + ahead_row * n : src;
    if constexpr (kWidenOnce<S, K>) {
      widen_run<K>(src, wide, n);
      normalize<kRms, kPacked>(j, r, static_cast<const float*>(wide), ahead, carried, carry, false);
    } else {
      const bool split = splits_ahead<S>(n) && carried == nullptr && carry.next == nullptr &&
                         j.residual == nullptr && n % (2 * L) == 0 && n <= kMomentsChunk;
      normalize<kRms, kPacked>(j, r, src, ahead, carried, carry, split);
    }
  }

  // Mean and rstd of row r from src (the row, or the row widened to f32:
  // the same values in the same lanes, so the same bits), or from its
  // carried pass where given; also stored as its saved statistics.
  template <bool kRms, class R>
  static NC_INLINE std::pair<T, T> statistics(const RowForwardJob& j, std::int64_t r, const R* src,
                                              const PassResult<kRms>* carried) {
    const std::int64_t n = j.cols;
    T mean = T(0);
    double var = 0.0;
    if constexpr (kRms) {
      const T squares = carried != nullptr ? *carried : run_sum_squares<K>(src, n);
      var = double(squares) / double(n);  // the mean square
    } else {
      // Nothing ahead during this moments pass: see row().
      const auto m = carried != nullptr ? *carried : shifted_moments<K>(src, n, src);
      mean = m.mean;
      var = double(m.m2) / double(n);
    }
    const double rstd_exact = 1.0 / std::sqrt(var + j.eps);
    j.mean[r] = double(mean);
    j.rstd[r] = rstd_exact;
    return {mean, T(rstd_exact)};
  }

  // gamma and beta, taken from the job once per row: read through j inside
  // the block loop they are loaded again every block, since the stores
  // may alias j (ln bf16 8192x768 forward 1.05-1.07 of the time).
  struct Params {
    const T* gamma;
    const T* beta;
    const bf16_t* gamma_bf16;
    const bf16_t* beta_bf16;
  };
  static NC_INLINE Params params(const RowForwardJob& j) {
    return {static_cast<const T*>(j.gamma), static_cast<const T*>(j.beta), j.gamma_bf16,
            j.beta_bf16};
  }

  // y of the L values v at column `at`: (x - mean) * rstd * gamma + beta.
  static NC_INLINE W y_of(const Params& p, std::int64_t at, W v, W vm, W vr) {
    return ((v - vm) * vr) * wload<W>(p.gamma + at) + wload<W>(p.beta + at);
  }

  // y of the 2 L elements at i of one row. kLines: f32 y streams in whole
  // lines (wput_line), where this thread writes one row at a time.
  template <bool kPacked, bool kLines, class R>
  static NC_INLINE void normalize_block(const RowForwardJob& j, const Params& p, const R* src,
                                        S* y, std::int64_t i, W vm, W vr) {
    if constexpr (std::is_same_v<R, bf16_t> && kPacked) {
      // gamma and beta as bf16 pairs: the values of the pair-order arrays
      // (bf16 widens exactly), in half the bytes.
      const auto v = wload_pair<W>(src + i);
      const auto gm = wload_pair<W>(p.gamma_bf16 + i), bt = wload_pair<W>(p.beta_bf16 + i);
      wput_pair<K>(y + i, ((v.even - vm) * vr) * gm.even + bt.even,
                   ((v.odd - vm) * vr) * gm.odd + bt.odd, j.stream);
    } else if constexpr (std::is_same_v<R, bf16_t>) {  // gamma and beta in pair order
      const auto v = wload_pair<W>(src + i);
      wput_pair<K>(y + i, y_of(p, i, v.even, vm, vr), y_of(p, i + L, v.odd, vm, vr), j.stream);
    } else if constexpr (kLines) {
      wput_line(y + i, y_of(p, i, wload<W>(src + i), vm, vr), j.stream);
      wput_line(y + i + L, y_of(p, i + L, wload<W>(src + i + L), vm, vr), j.stream);
    } else {
      wput(y + i, y_of(p, i, wload<W>(src + i), vm, vr), j.stream);
      wput(y + i + L, y_of(p, i + L, wload<W>(src + i + L), vm, vr), j.stream);
    }
  }

  // y of the elements from i on, fewer than 2 L of them.
  template <bool kRms, class R>
  static NC_INLINE void normalize_tail(const RowForwardJob& j, const Params& p, const R* src,
                                       S* y, std::int64_t i, T mean, T rstd, const S* ahead,
                                       Carry<kRms>& carry) {
    const std::int64_t n = j.cols;
    if (i + L <= n) {
      prefetch_elements<L>(ahead + i, j.ahead);
      carry.vector(i);
      wput(y + i, y_of(p, i, wload<W>(src + i), wsplat<W>(mean), wsplat<W>(rstd)), j.stream);
      i += L;
    }
    for (; i < n; ++i) {
      carry.scalar(i);
      y[i] = narrow<S>(((widen(src[i]) - mean) * rstd) * p.gamma[i] + p.beta[i]);
    }
  }

  // Row src's one pass (splits_ahead: whole blocks only) with the first
  // half of the row at `ahead` fetched meanwhile (fetch_half_row); its
  // normalize pass fetches the other half. Carry's accumulators and order,
  // so the bits of the pass on its own.
  template <bool kRms>
  static NC_INLINE PassResult<kRms> pass_fetching_half(const RowForwardJob& j, const S* src,
                                                       const S* ahead) {
    const std::int64_t n = j.cols;
    Carry<kRms> c;
    c.start(src, n);
    for (std::int64_t i = 0; i < n; i += 2 * L) {
      fetch_half_row(ahead, n, i, 0, j.ahead);
      c.block(i);
    }
    return c.result(n);
  }

  // Moments and y of row r, reading its values from src.
  template <bool kRms, bool kPacked, class R>
  static NC_INLINE void normalize(const RowForwardJob& j, std::int64_t r, const R* src,
                                  const S* ahead, const PassResult<kRms>* carried,
                                  Carry<kRms>& carry, bool split) {
    const std::int64_t n = j.cols;
    std::optional<PassResult<kRms>> own;  // this row's pass, fetching half of the next row
    if constexpr (std::is_same_v<R, S>)
      if (split) own = pass_fetching_half<kRms>(j, src, ahead);
    const auto [mean, rstd] = statistics<kRms>(j, r, src, own ? &*own : carried);
    S* y = static_cast<S*>(j.y) + r * n;
    const W vm = wsplat<W>(mean), vr = wsplat<W>(rstd);
    const Params p = params(j);
    std::int64_t i = 0;
    if (split) {
      for (; i + 2 * L <= n; i += 2 * L) {
        fetch_half_row(ahead, n, i, 1, j.ahead);
        normalize_block<kPacked, true>(j, p, src, y, i, vm, vr);
      }
    }
    for (; i + 2 * L <= n; i += 2 * L) {
      prefetch_elements<2 * L>(ahead + i, j.ahead);
      carry.block(i);
      normalize_block<kPacked, true>(j, p, src, y, i, vm, vr);
    }
    normalize_tail<kRms>(j, p, src, y, i, mean, rstd, ahead, carry);
  }

  // Rows [r, r + kLockstepRows) of the rows that are not carried: their
  // statistics one after the other (from L2, where the previous group's
  // pass put them), then their normalize passes in lockstep, block by
  // block, fetching the next kLockstepRows rows meanwhile. Four streams per
  // thread instead of one keep more of memory busy (as glibc's large memcpy
  // interleaves four pages): nc_row_pass_limit's two-pass-4rows ran 1.07-
  // 1.17x the two-pass loop on 8192x4096 f32 while memory was not shared
  // with other tenants (reports/perf.md, issue 17, sessions 11 and 12).
  // Each row's arithmetic is that of normalize(), so the bits.
  template <bool kRms, bool kPacked>
  static NC_INLINE void rows_in_lockstep(const RowForwardJob& j, std::int64_t r) {
    const std::int64_t n = j.cols;
    const S* x = static_cast<const S*>(j.x);
    S* y = static_cast<S*>(j.y);
    std::array<T, kLockstepRows> mean, rstd;
    std::array<W, kLockstepRows> vm, vr;
    std::array<const S*, kLockstepRows> ahead;
    for (std::int64_t k = 0; k < kLockstepRows; ++k) {
      std::tie(mean[k], rstd[k]) = statistics<kRms>(j, r + k, x + (r + k) * n, nullptr);
      vm[k] = wsplat<W>(mean[k]);
      vr[k] = wsplat<W>(rstd[k]);
      const std::int64_t a = r + kLockstepRows + k;
      ahead[k] = a < j.rows ? x + a * n : x + (r + k) * n;
    }
    const Params p = params(j);
    std::int64_t i = 0;
    for (; i + 2 * L <= n; i += 2 * L)
      for (std::int64_t k = 0; k < kLockstepRows; ++k) {
        prefetch_elements<2 * L>(ahead[k] + i, j.ahead);
        normalize_block<kPacked, false>(j, p, x + (r + k) * n, y + (r + k) * n, i, vm[k], vr[k]);
      }
    Carry<kRms> none;
    for (std::int64_t k = 0; k < kLockstepRows; ++k)
      normalize_tail<kRms>(j, p, x + (r + k) * n, y + (r + k) * n, i, mean[k], rstd[k],
                           ahead[k], none);
  }
};

NC_KERNEL_BUILDS(kForward, RowForwardJob, RowForward, j.data);

struct RowBackwardJob {
  DType data;
  bool rms;
  std::int64_t rows, cols;
  const void* x;
  const void* dy;
  void* dx;
  void* dresidual;
  const void* gamma;  // compute type, cols
  const void* mean;   // compute type, rows
  const void* rstd;
  void* dgamma_part;  // compute type, [blocks][cols], or nullptr; zeroed by the tasks
  void* dbeta_part;
  bool stream;       // dx (and dresidual) through streaming stores
  PrefetchTo ahead;  // where the next row's x and dy go during the dx pass
  bool keep_terms;   // the first pass keeps g and d for the dx pass (kKeepTerms builds)
};

template <class S, class K>
struct RowBackward {
  using T = compute_t<S>;
  using W = Wide<T, K>;
  static constexpr std::int64_t L = kLanes<T>;

  // Rows in pairs where the kit has the registers for two rows' sums (the
  // 64-byte builds: 32 vector registers; the portable build's AVX2 clone
  // has 16): the first pass then reads and writes the dgamma/dbeta
  // partials once per two rows. Each column still gets row r's
  // contribution and then row r + 1's, so the bits are those of single rows.
  static constexpr bool kPairRows = kVector64<K> && !kWidenOnce<S, K>;
  // bf16 in the portable build: where the job says so (keep_terms), the
  // first pass keeps each value's g = gamma * dy and d = x - mean (f32, pair
  // order, in `wide`) and the dx pass reads them back (dx_pass<true>) instead
  // of loading x, dy and gamma and widening x and dy again: 4 of its 8
  // arithmetic operations per 8 values, for 2 stores in the first pass. The
  // same values, so the same bits. On the Zen 3 VM (AVX2, 32 KiB L1d) ln /
  // rms bf16 backwards of 768 and 1024 columns took 0.86-0.90 of the time
  // in cache; 2048 and 4096, whose 16-32 KiB of kept values spill L1, took
  // 1.03-1.28x (reports/perf.md, issue 17, session 25). The 64-byte builds
  // (pairs of rows, AVX-512 conversions) were not measured with it.
  // f16 in the portable build always keeps them (kWidenOnce: it would
  // otherwise keep its widened x and dy there, in the same bytes).
  static constexpr bool kKeepTerms =
      (std::is_same_v<S, bf16_t> && std::is_same_v<W, Halves>) || kWidenOnce<S, K>;

  static NC_INLINE void run(const RowBackwardJob& job, std::int64_t begin, std::int64_t end) {
    const RowBackwardJob j = job;  // see RowForward::run
    const bool keep = kWidenOnce<S, K> || (kKeepTerms && j.keep_terms);
    LineVector<float> wide(keep ? std::size_t(2 * j.cols) : 0);
    for (std::int64_t b = begin; b < end; ++b) {
      T* dgamma = j.dgamma_part ? static_cast<T*>(j.dgamma_part) + b * j.cols : nullptr;
      T* dbeta = j.dbeta_part ? static_cast<T*>(j.dbeta_part) + b * j.cols : nullptr;
      if (dgamma != nullptr) std::fill(dgamma, dgamma + j.cols, T(0));
      if (dbeta != nullptr) std::fill(dbeta, dbeta + j.cols, T(0));
      const std::int64_t last = std::min(j.rows, (b + 1) * kRowBlock);
      std::int64_t r = b * kRowBlock;
      if constexpr (kPairRows)
        for (; r + 2 <= last; r += 2) {
          const auto c = first_pass_pair(j, r, dgamma, dbeta);
          dx_pass(j, r, c[0], nullptr, r + 2);
          dx_pass(j, r + 1, c[1], nullptr, r + 3);
        }
      for (; r < last; ++r) {
        // Row r + 1 fetched half during row r's first pass, half during its
        // dx pass (see split_prefetch).
        const bool split = r + 1 < j.rows && splits_ahead<S>(j.cols);
        if constexpr (kKeepTerms)
          if (keep) {
            const auto c = first_pass<true>(j, r, dgamma, dbeta, wide.data(), split);
            dx_pass<true>(j, r, c, wide.data(), r + 1, split);
            continue;
          }
        const auto c = first_pass(j, r, dgamma, dbeta, wide.data(), split);
        dx_pass(j, r, c, nullptr, r + 1, split);
      }
    }
    if (j.stream) stream_fence();
  }

  // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gamma * dy and
  // xhat = d * rstd, d = x - mean; written as rstd * g + c0 + d * c1.
  struct Coefficients {
    T c0, c1;
  };
  static NC_INLINE Coefficients coefficients(const RowBackwardJob& j, T rstd, T sum_g, T sum_gd) {
    const double rs = double(rstd), n = double(j.cols);
    return {j.rms ? T(0) : T(-rs * double(sum_g) / n), T(-rs * rs * rs * double(sum_gd) / n)};
  }
  static NC_INLINE T mean_of(const RowBackwardJob& j, std::int64_t r) {
    return j.rms ? T(0) : static_cast<const T*>(j.mean)[r];
  }
  static NC_INLINE T rstd_of(const RowBackwardJob& j, std::int64_t r) {
    return static_cast<const T*>(j.rstd)[r];
  }

  // fetch_half_row of row r + 1's x and dy, at step i of a pass over row r.
  static NC_INLINE void split_prefetch(const RowBackwardJob& j, const S* x, const S* dy,
                                       std::int64_t i, int part) {
    fetch_half_row(x + j.cols, j.cols, i, part, j.ahead);
    fetch_half_row(dy + j.cols, j.cols, i, part, j.ahead);
  }

  // The first pass over row r: sum(g), sum(g * d) and the row's dgamma/dbeta
  // contributions. kKeep: g and d are kept in `wide` (2 * cols) for
  // dx_pass<true> (see kKeepTerms). split: the first half of row r + 1
  // fetched meanwhile.
  template <bool kKeep = false>
  static NC_INLINE Coefficients first_pass(const RowBackwardJob& j, std::int64_t r, T* dgamma,
                                           T* dbeta, float* wide, bool split = false) {
    const std::int64_t n = j.cols;
    const S* x = static_cast<const S*>(j.x) + r * n;
    const S* dy = static_cast<const S*>(j.dy) + r * n;
    const T* gamma = static_cast<const T*>(j.gamma);
    const T mean = mean_of(j, r), rstd = rstd_of(j, r);
    const W vm = wsplat<W>(mean), vr = wsplat<W>(rstd);
    W sg = wsplat<W>(T(0)), sgd = sg;
    // One vector of x and dy whose per-column values sit at `at`, into the
    // sums s and sd (sg and sgd, or one half of each: see below).
    const auto accumulate_into = [&](std::int64_t at, auto xv, auto dyv, auto m, auto rs, auto& s,
                                     auto& sd) NC_LAMBDA {
      using V = decltype(xv);
      const V d = xv - m, g = wload<V>(gamma + at) * dyv;
      if constexpr (kKeep) {
        wput(wide + at, g, false);
        wput(wide + n + at, d, false);
      }
      s += g;
      sd += g * d;
      if (dgamma != nullptr) wput(dgamma + at, wload<V>(dgamma + at) + dyv * (d * rs), false);
      if (dbeta != nullptr) wput(dbeta + at, wload<V>(dbeta + at) + dyv, false);
    };
    const auto accumulate = [&](std::int64_t at, W xv, W dyv) NC_LAMBDA {
      accumulate_into(at, xv, dyv, vm, vr, sg, sgd);
    };
    std::int64_t i = 0;
    if constexpr (std::is_same_v<S, bf16_t> && std::is_same_v<W, Halves>)
      // Kit32 a 16-value word of x and of dy at a time, lanes 0-7 of every
      // sum, then lanes 8-15: the same operations per lane in the same
      // order as the pair loop below. Loading whole pairs first kept eight
      // vectors live with the sums, and GCC 12 kept sgd on the stack in the
      // AVX2 clone (16 registers), a store and a reload in its chain every
      // block (bf16 backwards 0.92-0.96 of the time without it, same bits:
      // reports/perf.md, issue 17, session 22).
      for (; i + 2 * L <= n; i += 2 * L) {
        if (split) split_prefetch(j, x, dy, i, 0);
        const auto word = [&](std::int64_t h, F8& s, F8& sd) NC_LAMBDA {
          const U8 xw = load_words8(x + i + 16 * h), dw = load_words8(dy + i + 16 * h);
          const std::int64_t at = i + 8 * h;
          const F8 m = vm.lo, rs = vr.lo;  // splats: both halves alike
          accumulate_into(at, bf16_even8(xw), bf16_even8(dw), m, rs, s, sd);
          accumulate_into(at + L, bf16_odd8(xw), bf16_odd8(dw), m, rs, s, sd);
        };
        word(0, sg.lo, sgd.lo);
        word(1, sg.hi, sgd.hi);
      }
    else if constexpr (std::is_same_v<S, bf16_t>)
      for (; i + 2 * L <= n; i += 2 * L) {  // per-column arrays in pair order
        if (split) split_prefetch(j, x, dy, i, 0);
        const auto xv = wload_pair<W>(x + i), dyv = wload_pair<W>(dy + i);
        accumulate(i, xv.even, dyv.even);
        accumulate(i + L, xv.odd, dyv.odd);
      }
    for (; i + L <= n; i += L) {
      if (split) split_prefetch(j, x, dy, i, 0);
      accumulate(i, wload<W>(x + i), wload<W>(dy + i));
    }
    T tg = T(0), tgd = T(0);
    for (; i < n; ++i) {
      const T d = widen(x[i]) - mean, dyv = widen(dy[i]), g = gamma[i] * dyv;
      if constexpr (kKeep) {
        wide[i] = g;
        wide[n + i] = d;
      }
      tg += g;
      tgd += g * d;
      if (dgamma != nullptr) dgamma[i] += dyv * (d * rstd);
      if (dbeta != nullptr) dbeta[i] += dyv;
    }
    return coefficients(j, rstd, wsum(sg) + tg, wsum(sgd) + tgd);
  }

  // first_pass of rows r and r + 1 together (kPairRows): the same
  // operations per row, the partials loaded and stored once.
  static NC_INLINE std::array<Coefficients, 2> first_pass_pair(const RowBackwardJob& j,
                                                               std::int64_t r, T* dgamma,
                                                               T* dbeta) {
    const std::int64_t n = j.cols;
    const S* x0 = static_cast<const S*>(j.x) + r * n;
    const S* dy0 = static_cast<const S*>(j.dy) + r * n;
    const S* x1 = x0 + n;
    const S* dy1 = dy0 + n;
    const T* gamma = static_cast<const T*>(j.gamma);
    const T mean0 = mean_of(j, r), rstd0 = rstd_of(j, r);
    const T mean1 = mean_of(j, r + 1), rstd1 = rstd_of(j, r + 1);
    const W vm0 = wsplat<W>(mean0), vr0 = wsplat<W>(rstd0);
    const W vm1 = wsplat<W>(mean1), vr1 = wsplat<W>(rstd1);
    W sg0 = wsplat<W>(T(0)), sgd0 = sg0, sg1 = sg0, sgd1 = sg0;
    const auto accumulate = [&](std::int64_t at, W xv0, W dyv0, W xv1, W dyv1) NC_LAMBDA {
      const W gm = wload<W>(gamma + at);
      const W d0 = xv0 - vm0, g0 = gm * dyv0, d1 = xv1 - vm1, g1 = gm * dyv1;
      sg0 += g0;
      sgd0 += g0 * d0;
      sg1 += g1;
      sgd1 += g1 * d1;
      if (dgamma != nullptr)
        wput(dgamma + at, (wload<W>(dgamma + at) + dyv0 * (d0 * vr0)) + dyv1 * (d1 * vr1), false);
      if (dbeta != nullptr) wput(dbeta + at, (wload<W>(dbeta + at) + dyv0) + dyv1, false);
    };
    std::int64_t i = 0;
    if constexpr (std::is_same_v<S, bf16_t>)
      for (; i + 2 * L <= n; i += 2 * L) {
        const auto xv0 = wload_pair<W>(x0 + i), dyv0 = wload_pair<W>(dy0 + i);
        const auto xv1 = wload_pair<W>(x1 + i), dyv1 = wload_pair<W>(dy1 + i);
        accumulate(i, xv0.even, dyv0.even, xv1.even, dyv1.even);
        accumulate(i + L, xv0.odd, dyv0.odd, xv1.odd, dyv1.odd);
      }
    for (; i + L <= n; i += L)
      accumulate(i, wload<W>(x0 + i), wload<W>(dy0 + i), wload<W>(x1 + i), wload<W>(dy1 + i));
    T tg0 = T(0), tgd0 = T(0), tg1 = T(0), tgd1 = T(0);
    for (; i < n; ++i) {
      const T d0 = widen(x0[i]) - mean0, dyv0 = widen(dy0[i]), g0 = gamma[i] * dyv0;
      const T d1 = widen(x1[i]) - mean1, dyv1 = widen(dy1[i]), g1 = gamma[i] * dyv1;
      tg0 += g0;
      tgd0 += g0 * d0;
      tg1 += g1;
      tgd1 += g1 * d1;
      if (dgamma != nullptr) dgamma[i] = (dgamma[i] + dyv0 * (d0 * rstd0)) + dyv1 * (d1 * rstd1);
      if (dbeta != nullptr) dbeta[i] = (dbeta[i] + dyv0) + dyv1;
    }
    return {coefficients(j, rstd0, wsum(sg0) + tg0, wsum(sgd0) + tgd0),
            coefficients(j, rstd1, wsum(sg1) + tg1, wsum(sgd1) + tgd1)};
  }

  // dx of one vector or value from its g = gamma * dy and d = x - mean.
  template <class V>
  static NC_INLINE V dx_value(V g, V d, V rstd, V c0, V c1) {
    return (rstd * g + c0) + d * c1;
  }

  // dx (and dresidual) of row r from its coefficients. This pass works from
  // L1; row `ahead_row`'s x and dy are fetched meanwhile (split: the second
  // half of row r + 1's, see split_prefetch). kKept: g and d are read from
  // `kept`, where the first pass left them (kKeepTerms: bf16's in pair order
  // for each whole block of 2 L columns, as gamma), instead of computed from
  // x, dy and gamma; the same values, so the same bits.
  template <bool kKept = false>
  static NC_INLINE void dx_pass(const RowBackwardJob& j, std::int64_t r, Coefficients c,
                                [[maybe_unused]] const float* kept, std::int64_t ahead_row,
                                bool split = false) {
    const std::int64_t n = j.cols;
    const S* x = static_cast<const S*>(j.x) + r * n;
    const S* dy = static_cast<const S*>(j.dy) + r * n;
    const T* gamma = static_cast<const T*>(j.gamma);
    const T mean = mean_of(j, r), rstd = rstd_of(j, r);
    const W vm = wsplat<W>(mean), vr = wsplat<W>(rstd);
    S* dx = static_cast<S*>(j.dx) + r * n;
    S* dres = j.dresidual ? static_cast<S*>(j.dresidual) + r * n : nullptr;
    const W v0 = wsplat<W>(c.c0), v1 = wsplat<W>(c.c1);
    const std::int64_t next = ahead_row < j.rows ? (ahead_row - r) * n : 0;
    [[maybe_unused]] const float* kept_d = kKept ? kept + n : nullptr;
    const auto dx_of = [&](std::int64_t at, W xv, W dyv) NC_LAMBDA {
      return dx_value(wload<W>(gamma + at) * dyv, xv - vm, vr, v0, v1);
    };
    // Generic, so that its body exists only where kKept (the kept values
    // are f32; f64 rows never keep).
    const auto kept_dx_of = [&](auto at) NC_LAMBDA {
      return dx_value(wload<W>(kept + at), wload<W>(kept_d + at), vr, v0, v1);
    };
    std::int64_t i = 0;
    if constexpr (std::is_same_v<S, bf16_t>)
      for (; i + 2 * L <= n; i += 2 * L) {
        if (split) {
          split_prefetch(j, x, dy, i, 1);
        } else {
          prefetch_elements<2 * L>(x + next + i, j.ahead);
          prefetch_elements<2 * L>(dy + next + i, j.ahead);
        }
        // Not a pair returned from a lambda: GCC 12 moved such nested copies
        // of Halves through the stack (see load_pair_halves_as).
        W even, odd;
        if constexpr (kKept) {
          even = kept_dx_of(i);
          odd = kept_dx_of(i + L);
        } else {
          const auto xv = wload_pair<W>(x + i), dyv = wload_pair<W>(dy + i);
          even = dx_of(i, xv.even, dyv.even);
          odd = dx_of(i + L, xv.odd, dyv.odd);
        }
        wput_pair<K>(dx + i, even, odd, j.stream);
        if (dres != nullptr) wput_pair<K>(dres + i, even, odd, j.stream);
      }
    for (; i + L <= n; i += L) {
      if (split) {
        split_prefetch(j, x, dy, i, 1);
      } else {
        prefetch_line(x + next + i, j.ahead);
        prefetch_line(dy + next + i, j.ahead);
      }
      W out;
      if constexpr (kKept)
        out = kept_dx_of(i);
      else
        out = dx_of(i, wload<W>(x + i), wload<W>(dy + i));
      wput(dx + i, out, j.stream);
      if (dres != nullptr) wput(dres + i, out, j.stream);
    }
    for (; i < n; ++i) {
      T value;
      if constexpr (kKept)
        value = dx_value(kept[i], kept_d[i], rstd, c.c0, c.c1);
      else
        value = dx_value(gamma[i] * widen(dy[i]), widen(x[i]) - mean, rstd, c.c0, c.c1);
      const S out = narrow<S>(value);
      dx[i] = out;
      if (dres != nullptr) dres[i] = out;
    }
  }
};

NC_KERNEL_BUILDS(kBackward, RowBackwardJob, RowBackward, j.data);

// The per-block dgamma/dbeta partials [blocks][cols] in the compute type,
// left uninitialized: each block's task zeroes its own partials, in
// parallel and on the thread that then adds to them, where zeroing them all
// here (and faulting in their pages) was serial time. Kept by the calling
// thread between calls (line_buffer).
class BlockPartials {
 public:
  BlockPartials(DType data, std::int64_t count)
      : wide_(data == DType::f64),
        storage_(count > 0 ? line_buffer<double>(std::size_t(wide_ ? count : (count + 1) / 2))
                           : nullptr) {}
  void* data() const { return storage_.get(); }
  // Each one's partials summed over the blocks, per column pairwise, in
  // double; all of them in one split over the threads.
  static std::vector<std::vector<double>> combine(std::span<const BlockPartials* const> parts,
                                                  std::int64_t blocks, std::int64_t cols) {
    if (parts.empty()) return {};
    if (parts.front()->wide_) return column_tree_sums(typed<double>(parts), blocks, cols);
    return column_tree_sums(typed<float>(parts), blocks, cols);
  }

 private:
  template <class T>
  static std::vector<const T*> typed(std::span<const BlockPartials* const> parts) {
    std::vector<const T*> out;
    for (const auto* p : parts) out.push_back(static_cast<const T*>(p->data()));
    return out;
  }

  bool wide_;
  LineBuffer<double> storage_;
};

std::int64_t compute_bytes(DType data) {
  return data == DType::f64 ? 8 : 4;
}

std::int64_t block_count(std::int64_t rows) {
  return (rows + kRowBlock - 1) / kRowBlock;
}

// Per-column values in the order the bf16 kernels read them (vload_pair):
// each full block of 32 columns as its 16 even columns, then its 16 odd
// ones; and back.
constexpr std::size_t kPairBlock = 2 * std::size_t(kLanes<float>);
std::vector<double> pair_order(DType data, std::vector<double> values) {
  if (data != DType::bf16) return values;
  const std::vector<double> natural = values;
  for (std::size_t b = 0; b + kPairBlock <= values.size(); b += kPairBlock)
    for (std::size_t k = 0; k < kPairBlock / 2; ++k) {
      values[b + k] = natural[b + 2 * k];
      values[b + kPairBlock / 2 + k] = natural[b + 2 * k + 1];
    }
  return values;
}
std::vector<double> natural_order(DType data, std::vector<double> values) {
  if (data != DType::bf16) return values;
  const std::vector<double> paired = values;
  for (std::size_t b = 0; b + kPairBlock <= values.size(); b += kPairBlock)
    for (std::size_t k = 0; k < kPairBlock / 2; ++k) {
      values[b + 2 * k] = paired[b + k];
      values[b + 2 * k + 1] = paired[b + kPairBlock / 2 + k];
    }
  return values;
}

// The values as bf16 for bf16 data when every one is a bf16 (as a float:
// the compute type's value), else empty. The forward's normalize pass then
// reads gamma and beta in half the bytes: at 4096 columns, a row, the next
// one and f32 gamma and beta (48 KiB) filled this machine's 48 KiB L1.
LineVector<bf16_t> packed_params(DType data, const std::vector<double>& values) {
  if (data != DType::bf16) return {};
  LineVector<bf16_t> out(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float f = float(values[i]);
    out[i] = narrow<bf16_t>(f);
    if (std::bit_cast<std::uint32_t>(widen(out[i])) != std::bit_cast<std::uint32_t>(f)) return {};
  }
  return out;
}

// Per-row saved statistics (zeros where `saved` is null: rms's mean) in
// the compute type, in a buffer the calling thread keeps (line_buffer).
LineBuffer<double> saved_in_compute_type(const Geometry& g, const void* saved) {
  const auto rows = std::size_t(g.rows);
  const bool wide = g.data == DType::f64;
  auto storage = line_buffer<double>(wide ? rows : (rows + 1) / 2);
  for (std::size_t i = 0; i < rows; ++i) {
    const double v = saved != nullptr ? numeric::load(g.stats, saved, i) : 0.0;
    if (wide)
      storage[i] = v;
    else
      reinterpret_cast<float*>(storage.get())[i] = float(v);
  }
  return storage;
}

}  // namespace

void forward_rows(const ForwardCall& call) {
  const auto& g = call.geo;
  const auto& p = *call.problem;
  const auto cols = std::size_t(g.cols);
  const auto gamma_values = param_values<double>(g.param, call.gamma, g.cols, 1.0);
  const auto beta_values = param_values<double>(g.param, call.beta, g.cols, 0.0);
  const ComputeArray gamma(g.data, pair_order(g.data, gamma_values));
  const ComputeArray beta(g.data, pair_order(g.data, beta_values));
  // Every row's task writes its row's mean and rstd.
  const auto rows = std::size_t(g.rows);
  const auto mean_storage = line_buffer<double>(rows), rstd_storage = line_buffer<double>(rows);
  const std::span<double> mean(mean_storage.get(), rows), rstd(rstd_storage.get(), rows);
  const auto row_bytes = g.cols * std::int64_t(numeric::dtype_size(g.data));
  // This row and the next, gamma and beta, and f16's widened row.
  const std::int64_t wide_params = 2 * g.cols * compute_bytes(g.data),
                     rows_bytes = 2 * row_bytes + (g.data == DType::f16 ? g.cols * 4 : 0);
  // bf16 gamma and beta only where the f32 ones crowd L1 (ln/rms bf16
  // 8192x4096 forwards 0.87-0.90 of the time); where they fit, the two
  // conversions per pair cost more than they save (8192x768: 1.08-1.12
  // slower packed). Measured with the 64-byte builds (Zen 5); the portable
  // build widens 8 lanes per operation, not 16, and there the conversions
  // cost more than the L1 misses they save: on a Zen 3 VM (AVX2, 32 KiB
  // L1d) ln / rms bf16 4096-column forwards took 0.76-0.92 of the time
  // with f32 gamma and beta (reports/perf.md, issue 17, session 23).
  const KernelIsa isa = kernel_isa();
  const bool pack = isa != KernelIsa::portable && !fits_half_of_l1(rows_bytes + wide_params);
  const auto gamma_bf16 = pack ? packed_params(g.data, gamma_values) : LineVector<bf16_t>{};
  const auto beta_bf16 = pack ? packed_params(g.data, beta_values) : LineVector<bf16_t>{};
  const bool packed = !gamma_bf16.empty() && !beta_bf16.empty();
  const std::int64_t working_set = rows_bytes + (packed ? wide_params / 2 : wide_params);
  const RowForwardJob job{g.data,
                          p.op == NC_OP_RMS_NORM,
                          g.rows,
                          g.cols,
                          p.eps,
                          call.x,
                          call.residual,
                          call.residual_out,
                          call.y,
                          gamma.data(),
                          beta.data(),
                          packed ? gamma_bf16.data() : nullptr,
                          packed ? beta_bf16.data() : nullptr,
                          mean.data(),
                          rstd.data(),
                          should_stream(call.y, g.rows * row_bytes, call.residual ? 4 : 2,
                                        row_bytes),  // x, y (residual, residual_out)
                          prefetch_level(working_set),
                          fits_half_of_l1(2 * row_bytes)};
  const auto task = kForward.at(isa);
  parallel_for(block_count(g.rows), kRowBlock * std::int64_t(cols),
               [&](std::int64_t b, std::int64_t e) { task(job, b, e); });
  store_saved(call, mean, rstd);
}

void backward_rows(const BackwardCall& call) {
  const auto& g = call.geo;
  const bool rms = call.problem->op == NC_OP_RMS_NORM;
  const ComputeArray gamma(
      g.data, pair_order(g.data, param_values<double>(g.param, call.gamma, g.cols, 1.0)));
  const auto mean = saved_in_compute_type(g, rms ? nullptr : call.saved_mean);
  const auto rstd = saved_in_compute_type(g, call.saved_rstd);
  const std::int64_t blocks = block_count(g.rows);
  const auto row_bytes = g.cols * std::int64_t(numeric::dtype_size(g.data));
  const bool want_params = call.dgamma != nullptr || call.dbeta != nullptr;
  const BlockPartials dgamma_part(g.data, want_params ? blocks * g.cols : 0);
  const BlockPartials dbeta_part(g.data, want_params ? blocks * g.cols : 0);
  // x and dy of this row and the next, gamma, the dgamma/dbeta partials, and
  // f16's kept g and d (see kKeepTerms).
  const std::int64_t working_set = 4 * row_bytes +
                                   (want_params ? 3 : 1) * g.cols * compute_bytes(g.data) +
                                   (g.data == DType::f16 ? 2 * g.cols * 4 : 0);
  const std::int64_t arrays = call.dresidual ? 4 : 3;  // x, dy, dx (dresidual): should_stream
  const RowBackwardJob job{g.data,
                           rms,
                           g.rows,
                           g.cols,
                           call.x,
                           call.dy,
                           call.dx,
                           call.dresidual,
                           gamma.data(),
                           mean.get(),
                           rstd.get(),
                           want_params ? dgamma_part.data() : nullptr,
                           want_params ? dbeta_part.data() : nullptr,
                           should_stream(call.dx, g.rows * row_bytes, arrays, row_bytes) &&
                               (call.dresidual == nullptr ||
                                should_stream(call.dresidual, g.rows * row_bytes, arrays, row_bytes)),
                           prefetch_level(working_set),
                           // g and d, 8 bytes a column: see kKeepTerms.
                           g.data == DType::bf16 && fits_l1(working_set + 8 * g.cols)};
  const auto task = kBackward.at(kernel_isa());
  parallel_for(blocks, kRowBlock * g.cols,
               [&](std::int64_t b, std::int64_t e) { task(job, b, e); });
  std::vector<const BlockPartials*> wanted;
  std::vector<void*> outputs;
  for (const auto& [part, output] :
       {std::pair{&dgamma_part, call.dgamma}, std::pair{&dbeta_part, call.dbeta}})
    if (output != nullptr) {
      wanted.push_back(part);
      outputs.push_back(output);
    }
  const auto sums = BlockPartials::combine(wanted, blocks, g.cols);
  for (std::size_t i = 0; i < sums.size(); ++i)
    store_values(g.param, outputs[i], natural_order(g.data, sums[i]));
}

}  // namespace normcheck::cpu
