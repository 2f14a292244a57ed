#pragma once
// Conv + eval-BatchNorm folding, and an exact direct 2-D convolution so that
// conv(x, W') + b' can be compared with BN_eval(conv(x, W) + b).

#include <array>
#include <cstdint>
#include <span>

#include "normcheck/reference/certification.hpp"

namespace normcheck::reference {

struct ConvWeights {
  std::span<const double> weight{};     // (OC, IC, KH, KW), row-major
  std::array<std::int64_t, 4> shape{};  // OC, IC, KH, KW
  std::span<const double> bias{};       // OC, or empty (no bias)
};

struct BnEvalParams {
  std::span<const double> gamma{}, beta{}, running_mean{}, running_var{};  // OC each
  double eps = 1e-5;
};

struct Conv2dParams {
  std::int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0;  // zero padding
};

struct FoldedConv {
  CertifiedVector weight;  // W' = W * gamma / sqrt(rv + eps), shape of W
  CertifiedVector bias;    // b' = (b - rm) * gamma / sqrt(rv + eps) + beta, OC
};

FoldedConv fold_conv_bn(const ConvWeights& w, const BnEvalParams& bn);

// Output shape (N, OC, OH, OW) of conv2d on x of shape (N, IC, H, W).
std::array<std::int64_t, 4> conv2d_output_shape(const std::array<std::int64_t, 4>& x_shape,
                                                const ConvWeights& w, const Conv2dParams& p);

// Exact sum of exact products plus bias, rounded once.
CertifiedVector conv2d(std::span<const double> x, const std::array<std::int64_t, 4>& x_shape,
                       const ConvWeights& w, const Conv2dParams& p);

// BN_eval(conv(x, W) + b), the exact composite rounded once. Mathematically
// equal to conv(x, W') + b' with the exact (unrounded) folded parameters.
CertifiedVector conv2d_bn_eval(std::span<const double> x,
                               const std::array<std::int64_t, 4>& x_shape, const ConvWeights& w,
                               const Conv2dParams& p, const BnEvalParams& bn);

}  // namespace normcheck::reference
