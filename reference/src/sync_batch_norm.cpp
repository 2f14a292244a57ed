// Certified SyncBatchNorm: shards split the batch dimension, which is the
// outermost in both NCHW and NHWC layouts, so the global batch is the plain
// concatenation of the shard buffers and the rigorous engine runs on it.

#include "normcheck/reference/sync_batch_norm.hpp"

#include <numeric>
#include <stdexcept>

#include "norm_engine.hpp"
#include "normcheck/reference/generic.hpp"
#include "two_precision.hpp"

namespace normcheck::reference {

namespace {

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw std::invalid_argument("SyncBatchNormInputs." + field + ": " + why);
}

void validate_sync(const SyncBatchNormInputs& in) {
  in.geometry.validate();
  if (in.geometry.op != NormOp::batch_norm) bad("geometry.op", "must be batch_norm");
  if (in.shard_batch.empty()) bad("shard_batch", "needs at least one shard");
  for (std::int64_t n : in.shard_batch)
    if (n < 1) bad("shard_batch", "every shard needs N_r >= 1");
  if (std::accumulate(in.shard_batch.begin(), in.shard_batch.end(), std::int64_t{0}) !=
      in.geometry.batch())
    bad("shard_batch", "must sum to geometry.shape[0]");
  const std::int64_t per_sample = in.geometry.num_elements() / in.geometry.batch();
  if (in.x.size() != in.shard_batch.size()) bad("x", "one span per shard");
  if (!in.dy.empty() && in.dy.size() != in.shard_batch.size())
    bad("dy", "one span per shard (or none)");
  for (std::size_t r = 0; r < in.shard_batch.size(); ++r) {
    const auto want = static_cast<std::size_t>(in.shard_batch[r] * per_sample);
    if (in.x[r].size() != want) bad("x", "shard " + std::to_string(r) + " has the wrong size");
    if (!in.dy.empty() && in.dy[r].size() != want)
      bad("dy", "shard " + std::to_string(r) + " has the wrong size");
  }
  if (in.update && in.mode != Mode::train) bad("update", "running stats update in train mode only");
}

std::vector<double> concat(const std::vector<std::span<const double>>& parts) {
  std::vector<double> out;
  for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

CertifiedVector slice(const detail::EngineOutput& o, std::int64_t begin, std::int64_t end) {
  CertifiedVector v;
  v.values.assign(o.values.begin() + begin, o.values.begin() + end);
  v.cert = detail::certification_of(o, begin, end);
  return v;
}

CertifiedVector whole(const detail::EngineOutput& o) {
  return o.present ? slice(o, 0, static_cast<std::int64_t>(o.values.size())) : CertifiedVector{};
}

SyncBatchNormResult two_precision_sync(const SyncBatchNormInputs& in) {
  const std::size_t shards = in.shard_batch.size();
  const bool bwd = !in.dy.empty();
  auto out = detail::certify_two_precision([&](unsigned bits) {
    PrecisionScope scope(bits);
    SyncProblem<Mpfr> p;
    p.geometry = in.geometry;
    p.shard_batch = in.shard_batch;
    for (auto x : in.x) p.x.push_back(lift<Mpfr>(x));
    for (auto dy : in.dy) p.dy.push_back(lift<Mpfr>(dy));
    p.gamma = lift<Mpfr>(in.gamma);
    p.beta = lift<Mpfr>(in.beta);
    p.running_mean = lift<Mpfr>(in.running_mean);
    p.running_var = lift<Mpfr>(in.running_var);
    p.eps = Mpfr(in.eps);
    p.mode = in.mode;
    SyncValues<Mpfr> v = generic_sync_batch_norm(p);
    detail::MpfrOutputs o;
    for (auto& y : v.y) o.push_back(std::move(y));
    for (auto& dx : v.dx) o.push_back(std::move(dx));
    o.push_back(std::move(v.mean));
    o.push_back(std::move(v.rstd));
    o.push_back(std::move(v.dgamma));
    o.push_back(std::move(v.dbeta));
    return o;
  });
  SyncBatchNormResult r;
  std::size_t k = 0;
  for (std::size_t s = 0; s < shards; ++s) r.y.push_back(std::move(out[k++]));
  if (bwd)
    for (std::size_t s = 0; s < shards; ++s) r.dx.push_back(std::move(out[k++]));
  r.mean = std::move(out[k++]);
  r.rstd = std::move(out[k++]);
  r.dgamma = std::move(out[k++]);
  r.dbeta = std::move(out[k++]);
  return r;
}

}  // namespace

SyncBatchNormResult sync_batch_norm(const SyncBatchNormInputs& in) {
  validate_sync(in);
  const std::vector<double> x = concat(in.x), dy = concat(in.dy);
  ForwardInputs f;
  f.x = x;
  f.gamma = in.gamma;
  f.beta = in.beta;
  f.eps = in.eps;
  f.mode = in.mode;
  f.running_mean = in.running_mean;
  f.running_var = in.running_var;
  validate(in.geometry, f);

  SyncBatchNormResult r;
  const bool bwd = !in.dy.empty();
  if (auto e = detail::try_engine(in.geometry, f, dy, true, bwd)) {
    const std::int64_t per_sample = in.geometry.num_elements() / in.geometry.batch();
    std::int64_t begin = 0;
    for (std::int64_t n : in.shard_batch) {
      const std::int64_t end = begin + n * per_sample;
      r.y.push_back(slice(e->y, begin, end));
      if (bwd) r.dx.push_back(slice(e->dx, begin, end));
      begin = end;
    }
    r.mean = whole(e->mean);
    r.rstd = whole(e->rstd);
    r.dgamma = whole(e->dgamma);
    r.dbeta = whole(e->dbeta);
  } else {
    r = two_precision_sync(in);
  }
  // The update sees the global batch: count = sum N_r * spatial.
  if (in.update)
    r.running = update_running_stats(in.geometry, x, in.running_mean, in.running_var, *in.update);
  return r;
}

}  // namespace normcheck::reference
