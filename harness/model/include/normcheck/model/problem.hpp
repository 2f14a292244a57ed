// The problem model shared by every part of the harness: what is normalized
// (op, shape, layout), in which dtypes, with which parameters and flags, how
// running statistics are updated, and which inputs a fixture draws.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/numeric/dtype.hpp"

namespace normcheck::model {

using numeric::DType;

enum class Op { batch_norm, layer_norm, rms_norm, group_norm, instance_norm, conv_bn };
enum class Layout { nchw, nhwc };  // channels first / channels last, any spatial rank
enum class Mode { train, eval, global_stats };
enum class MomentumConvention { torch, paddle };
enum class VarianceEstimator { unbiased, biased };

// Input distribution families (see harness/README.md for what each targets).
enum class Dist {
  normal,        // standard normal
  uniform,       // uniform on [-1, 1)
  offset,        // mean 1e4*sigma (1e2*sigma for f16/bf16): breaks E[x^2]-E[x]^2
  tiny_var,      // variance near eps
  constant,      // every group constant (variance exactly 0)
  heavy,         // heavy tails with a few large outliers
  f16_overflow,  // |x| > 256, so x^2 overflows f16
  subnormal,     // values at the subnormal scale of the data dtype
  nonfinite      // NaN / +-inf sprinkled into a few groups
};

// Distribution of gamma (beta always draws from normal).
enum class ParamDist { normal, ones, signed_zeros };

struct ConvGeometry {
  std::int64_t out_channels = 0;
  std::int64_t kernel_h = 0, kernel_w = 0;
  std::int64_t stride = 1, pad = 0;
  friend bool operator==(const ConvGeometry&, const ConvGeometry&) = default;
};

struct Problem {
  Op op = Op::layer_norm;
  DType data = DType::f32;   // x, residual, y, dy, dx
  DType param = DType::f32;  // gamma, beta, dgamma, dbeta
  DType stats = DType::f32;  // saved and running statistics
  std::vector<std::int64_t> shape;  // memory order of `layout`
  Layout layout = Layout::nchw;
  int norm_axis = -1;        // layer/rms norm; -1 = last dim
  std::int64_t groups = 1;   // group norm
  double eps = 1e-5;
  Mode mode = Mode::train;
  bool scale = true, shift = true;
  bool residual = false;     // fused x + residual (layer/rms norm)
  bool track_running_stats = false;
  double momentum = 0.1;
  MomentumConvention momentum_convention = MomentumConvention::torch;
  VarianceEstimator running_var_estimator = VarianceEstimator::unbiased;
  Dist dist = Dist::normal;
  Dist dy_dist = Dist::normal;
  ParamDist gamma_dist = ParamDist::normal;
  std::uint64_t seed = 1;
  int steps = 1;                      // training steps in a trajectory (bn / in tracked)
  std::vector<std::int64_t> shards;   // SyncBN: batch size of each shard (sum = N)
  ConvGeometry conv;                  // conv_bn

  // Derived quantities (valid after validate()).
  std::int64_t batch() const { return shape.empty() ? 0 : shape.front(); }
  std::int64_t channels() const;        // bn/in/gn/conv_bn
  std::int64_t spatial_size() const;    // product of spatial dims
  std::int64_t element_count() const;
  int resolved_norm_axis() const;       // ln/rms
  std::int64_t stat_group_count() const;
  std::int64_t stat_group_size() const; // elements reduced per statistic
  std::int64_t param_count() const;     // elements of gamma / beta
  bool has_running_stats() const;       // bn, or in with track_running_stats

  friend bool operator==(const Problem&, const Problem&) = default;
};

// Bad input of any kind (descriptor, file, command line): the CLI prints the
// message and exits with code 2.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A problem that cannot be: names the offending field.
class ProblemError : public InputError {
 public:
  ProblemError(std::string field, const std::string& message)
      : InputError(field + ": " + message), field_(std::move(field)) {}
  const std::string& field() const { return field_; }

 private:
  std::string field_;
};

// Bounds that keep a problem's derived sizes small and overflow-free
// whatever a descriptor says (the nightly uses at most 5 steps).
inline constexpr int kMaxSteps = 100;
inline constexpr std::int64_t kMaxConvParameter = std::int64_t(1) << 31;  // oc, k, stride, pad

// Throws ProblemError naming the field when the problem is impossible.
void validate(const Problem& p);

// The compact text descriptor (grammar in harness/README.md).
// parse_descriptor validates; to_descriptor prints the normalized form, and
// parse_descriptor(to_descriptor(p)) == p.
Problem parse_descriptor(std::string_view text);
std::string to_descriptor(const Problem& p);

// Field-by-field description for `normcheck describe`.
std::string describe(const Problem& p);

std::string_view op_name(Op op);       // long name: "layer_norm"
std::string_view op_short_name(Op op); // descriptor name: "ln"
std::string_view dist_name(Dist d);
std::string_view param_dist_name(ParamDist d);
std::string_view mode_name(Mode m);

}  // namespace normcheck::model
