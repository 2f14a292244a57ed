#include "normcheck/runner/in_process_group.hpp"

#include <algorithm>
#include <stdexcept>

namespace normcheck::runner {

InProcessGroup::InProcessGroup(int size) : size_(size), inputs_(std::size_t(size), nullptr) {
  if (size < 1) throw std::invalid_argument("InProcessGroup: size must be >= 1");
  contexts_.reserve(std::size_t(size));
  for (int r = 0; r < size; ++r) contexts_.push_back({this, r});
  for (int r = 0; r < size; ++r)
    tables_.push_back(
        nc_collectives{&contexts_[std::size_t(r)], r, size, &InProcessGroup::allreduce_entry});
}

int InProcessGroup::allreduce_entry(void* context, double* data, std::int64_t count) {
  auto* c = static_cast<RankContext*>(context);
  return c->group->allreduce(c->rank, data, count);
}

void InProcessGroup::leave(int /*rank*/) {
  std::lock_guard lock(mutex_);
  ++left_;
  if (arrived_ > 0) {
    failed_ = true;
    changed_.notify_all();
  }
}

int InProcessGroup::allreduce(int rank, double* data, std::int64_t count) {
  if (rank < 0 || rank >= size_ || count < 0 || (data == nullptr && count > 0)) return -1;
  std::unique_lock lock(mutex_);
  // A rank already gone can never arrive: this all-reduce cannot complete.
  if (failed_ || left_ > 0) {
    failed_ = true;
    changed_.notify_all();
    return -1;
  }
  if (arrived_ == 0) count_ = count;
  if (count != count_) {
    failed_ = true;
    changed_.notify_all();
    return -1;
  }
  inputs_[std::size_t(rank)] = data;
  const std::uint64_t generation = generation_;
  if (++arrived_ == size_) {
    sum_.assign(std::size_t(count), 0.0);
    for (int r = 0; r < size_; ++r)  // rank order: the same bits every time
      for (std::int64_t i = 0; i < count; ++i) sum_[std::size_t(i)] += inputs_[std::size_t(r)][i];
    arrived_ = 0;
    ++generation_;
    changed_.notify_all();
  } else {
    changed_.wait(lock, [&] { return generation_ != generation || failed_; });
    if (generation_ == generation) return -1;  // failed while waiting
  }
  // Everyone of this generation copies before any rank can arrive at the
  // next all-reduce and overwrite sum_: that needs all ranks, this one too.
  std::copy(sum_.begin(), sum_.end(), data);
  return 0;
}

}  // namespace normcheck::runner
