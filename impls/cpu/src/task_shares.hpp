// Which tasks of a parallel_for each thread runs.
#pragma once

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <vector>

namespace normcheck::cpu {

// Thread t owns the contiguous share [t * tasks / threads, (t + 1) * tasks
// / threads) and claims it from the front, a chunk at a time; a thread
// done with its own share takes chunks from the back of the share with the
// most tasks left (the lowest thread on a tie). So a worker that wakes
// late (tens of microseconds on this VM, more when another process holds
// the other core) leaves its work to the threads already running instead
// of holding up the call at the end.
//
// Shares fixed by the thread's index, not chunks claimed in turn: so a
// thread's passes over a tensor (statistics, then normalize; the next
// call's) read the same tasks' data each time, and find in its own core's
// caches what it read last. On the 2-vCPU Zen 5 VM each core re-reads
// 24 MB it read itself at 1.4x the speed of memory, and 24 MB the other
// core read at memory speed (nc_cache_affinity). With chunks claimed in
// turn, about half of every pass read what the other core had read: with
// shares, the kernels whose tensors fit the two cores' caches took
// 0.76-0.94 of the time (bn f32 NHWC training forward 0.84-0.91), the
// others 0.92-1.02 (reports/perf.md, issue 17, session 15).
class TaskShares {
 public:
  struct Range {
    std::int64_t begin, end;
    bool empty() const { return begin >= end; }
  };

  TaskShares(std::int64_t tasks, std::int64_t threads, std::int64_t chunk) : chunk_(chunk) {
    for (std::int64_t t = 0; t < threads; ++t)
      left_.push_back({tasks * t / threads, tasks * (t + 1) / threads});
  }

  // The next chunk for thread t, in [0, threads); empty once every task
  // has been claimed.
  Range claim(std::int64_t t) {
    const std::lock_guard lock(mutex_);
    auto& own = left_[static_cast<std::size_t>(t)];
    if (!own.empty()) {
      const Range r{own.begin, std::min(own.end, own.begin + chunk_)};
      own.begin = r.end;
      return r;
    }
    auto& most = *std::max_element(left_.begin(), left_.end(), [](const Range& a, const Range& b) {
      return a.end - a.begin < b.end - b.begin;
    });
    const Range r{std::max(most.begin, most.end - chunk_), most.end};
    most.end = r.begin;
    return r;
  }

 private:
  std::mutex mutex_;
  std::vector<Range> left_;  // per thread, the part of its share not yet claimed
  const std::int64_t chunk_;
};

}  // namespace normcheck::cpu
