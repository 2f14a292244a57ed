#pragma once
// SyncBatchNorm: batch norm whose statistics span all shards of the batch.

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "normcheck/reference/certification.hpp"
#include "normcheck/reference/geometry.hpp"
#include "normcheck/reference/problem.hpp"
#include "normcheck/reference/running_stats.hpp"

namespace normcheck::reference {

struct SyncBatchNormInputs {
  // op == batch_norm; shape of the concatenated global batch, so shape[0]
  // must equal the sum of shard_batch. Shards split the batch dimension.
  NormGeometry geometry{};
  std::vector<std::int64_t> shard_batch{};    // N_r, each >= 1
  std::vector<std::span<const double>> x{};   // per shard, shape (N_r, ...)
  std::vector<std::span<const double>> dy{};  // per shard; empty: no backward
  std::span<const double> gamma{}, beta{};
  double eps = 1e-5;
  Mode mode = Mode::train;
  std::span<const double> running_mean{}, running_var{};
  std::optional<RunningStatsUpdate> update{};  // train mode: update from the global batch
};

struct SyncBatchNormResult {
  std::vector<CertifiedVector> y;   // per shard
  CertifiedVector mean, rstd;       // global, per channel
  std::vector<CertifiedVector> dx;  // per shard (when dy given)
  CertifiedVector dgamma, dbeta;    // global
  std::optional<RunningStatsResult> running;
};

SyncBatchNormResult sync_batch_norm(const SyncBatchNormInputs& in);

}  // namespace normcheck::reference
