// Splitting independent tasks over threads. Results never depend on the
// split: every task computes the same thing whichever thread runs it, and
// reductions across tasks happen afterwards in a fixed order. So the thread
// count (NORMCHECK_CPU_THREADS, default: all cores) changes speed only.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace normcheck::cpu {

// NORMCHECK_CPU_THREADS when set (an integer in [1, 1024]; anything else is
// an ArgumentError), else std::thread::hardware_concurrency().
int thread_count();

// Runs body(begin, end) over [0, tasks) in contiguous chunks: each thread
// runs its own share of the tasks first, then helps with the largest share
// left (TaskShares, task_shares.hpp), so which thread runs which chunk
// varies only where one finishes early. `elements_per_task` sizes the
// split: tiny problems stay on the calling thread, where waking threads
// would cost more than the work.
void parallel_for(std::int64_t tasks, std::int64_t elements_per_task,
                  const std::function<void(std::int64_t, std::int64_t)>& body);

}  // namespace normcheck::cpu
