// The adapter's own arithmetic on oneDNN's statistics. oneDNN saves the mean
// and the biased variance; the ABI carries rstd = 1/sqrt(var + eps). These
// conversions are the adapter's, not the library's (running statistics,
// which oneDNN does not update, go through support::update_running).
#pragma once

#include <span>
#include <vector>

namespace normcheck::onednn {

// 1/sqrt(var + eps) in double, with the problem's eps. Rounded once when
// stored, so the adapter adds at most half an ulp of the stats dtype.
std::vector<double> rstd_from_variance(std::span<const float> variance, double eps);

// The inverse, for the backward: oneDNN's backward takes a variance, the
// ABI hands over rstd. var = 1/rstd^2 - float(eps), with the f32 epsilon
// oneDNN adds back, so oneDNN recovers rstd up to its own f32 rounding. When
// var << eps the subtraction cancels, but its absolute error stays a few
// ulps of var + eps, which is all the normalization sees.
std::vector<float> variance_from_rstd(std::span<const float> rstd, double eps);

// f32 values widened for support::store_values (exact).
std::vector<double> widened(std::span<const float> values);

}  // namespace normcheck::onednn
