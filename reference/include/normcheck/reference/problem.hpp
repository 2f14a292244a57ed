#pragma once
// Inputs of a normalization problem. Every input value must be a double that
// is exactly the value the kernel under test sees (exactly representable in
// the tested dtype); the reference treats each as an exact rational.

#include <span>

#include "normcheck/reference/geometry.hpp"

namespace normcheck::reference {

// Which statistics normalize. eval and global_stats both mean "the running
// statistics are constants" (PyTorch eval(); Paddle use_global_stats=True);
// they only differ for the caller's bookkeeping. They apply to batch_norm and
// instance_norm (track_running_stats); layer/group/rms norm always use the
// statistics of the sample, whatever the mode.
enum class Mode { train, eval, global_stats };

const char* to_string(Mode m);

struct ForwardInputs {
  std::span<const double> x{};
  std::span<const double> residual{};  // ln/rms only: normalize h = x + residual
  std::span<const double> gamma{};     // empty: gamma == 1
  std::span<const double> beta{};      // empty: beta == 0
  double eps = 1e-5;
  Mode mode = Mode::train;
  std::span<const double> running_mean{};  // bn/in, per channel: used in eval/global_stats
  std::span<const double> running_var{};
};

// True when the op normalizes with running statistics in this mode.
bool uses_running_stats(NormOp op, Mode mode);

// Throws std::invalid_argument naming the offending field.
void validate(const NormGeometry& g, const ForwardInputs& in);
void validate_dy(const NormGeometry& g, std::span<const double> dy);

}  // namespace normcheck::reference
