#include "normcheck/runner/scenarios.hpp"

#include "normcheck/fixture/schema.hpp"
#include "normcheck/model/op_traits.hpp"

namespace normcheck::runner {

Scenarios scenarios_for(const fixture::Case& c) {
  const model::Problem& p = c.problem;
  Scenarios s;
  const model::OpTraits& op = model::traits(p.op);
  s.conv_bn = op.grouping == model::Grouping::none;
  if (s.conv_bn) return s;
  s.sync = !p.shards.empty();
  s.backward = c.golden.contains(fixture::names::dx) && c.inputs.contains(fixture::names::dy);
  s.trajectory = p.steps > 1 && c.golden.contains(fixture::names::eval_y) && !s.sync;
  const bool running = fixture::normalizes_with_running_stats(p);
  s.eval_single = (s.trajectory || running) && p.batch() >= 2;
  // Statistics from the batch in every mode: nothing running to switch to.
  s.train_eval_identity = p.mode == model::Mode::train && !s.sync && !p.has_running_stats();
  // Groups within one sample (or constants): each sample's output is its own.
  const bool per_sample = (op.grouping == model::Grouping::row && p.resolved_norm_axis() >= 1) ||
                          op.grouping == model::Grouping::channel_group ||
                          op.grouping == model::Grouping::instance ||
                          (op.grouping == model::Grouping::channel && running);
  s.batch_invariance = per_sample && !s.sync && p.batch() >= 2;
  s.sub_batch_first = p.batch() / 2;
  return s;
}

namespace prefix {
std::string rank(int r) {
  return "rank" + std::to_string(r) + "/";
}
}  // namespace prefix

std::int64_t shard_first_sample(const model::Problem& p, int rank) {
  std::int64_t first = 0;
  for (int r = 0; r < rank; ++r) first += p.shards[std::size_t(r)];
  return first;
}

model::Problem shard_problem(const model::Problem& p, int rank) {
  model::Problem shard = p;
  shard.shape[0] = p.shards[std::size_t(rank)];
  shard.shards.clear();
  return shard;
}

}  // namespace normcheck::runner
