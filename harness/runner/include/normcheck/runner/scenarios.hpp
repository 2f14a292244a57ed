// Which backend calls a case needs beyond the main forward (and backward),
// decided once from the case so that the worker (which makes the calls)
// and the judge (which expects their outputs) agree.
#pragma once

#include <cstdint>
#include <string>

#include "normcheck/fixture/case.hpp"

namespace normcheck::runner {

struct Scenarios {
  bool conv_bn = false;     // conv_bn_fold only
  bool sync = false;        // SyncBN: one rank per shard, in threads
  bool backward = false;    // the case holds golden dx
  bool trajectory = false;  // steps > 1: later training batches, then an eval forward
  // The eval output of one sample alone equals its slice of the golden
  // (trajectory: of eval_y; eval-mode case: of y).
  bool eval_single = false;
  // ln/rms/gn and untracked in normalize with batch statistics in any mode:
  // a train-mode case rerun in eval mode must give the same bits.
  bool train_eval_identity = false;
  // Each sample's output depends only on that sample: rerun the second
  // half of the batch and expect the same bits.
  bool batch_invariance = false;
  std::int64_t sub_batch_first = 0;  // first sample of the sub-batch
};

Scenarios scenarios_for(const fixture::Case& c);

// Output names: the worker emits "<prefix><tensor>"; these prefixes mark
// the extra runs (the main run has none; SyncBN ranks add "rank<r>/").
namespace prefix {
inline constexpr const char* rerun = "rerun/";         // determinism
inline constexpr const char* sub = "sub/";             // batch invariance
inline constexpr const char* eval = "eval/";           // trajectory: eval forward
inline constexpr const char* single = "single/";       // one sample in eval mode
inline constexpr const char* eval_mode = "evalmode/";  // train/eval identity
std::string rank(int r);                               // "rank<r>/"
}  // namespace prefix

// SyncBN: rank `rank` holds samples [sum(shards[:rank]), sum(shards[:rank+1]))
// of the batch, so the ranks' outputs concatenated in rank order are the
// output over the whole batch. The first sample of its shard, and the
// problem its kernel sees (its shard as the batch, no shards).
std::int64_t shard_first_sample(const model::Problem& p, int rank);
model::Problem shard_problem(const model::Problem& p, int rank);

}  // namespace normcheck::runner
