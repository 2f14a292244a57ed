#include "statistics.hpp"

#include <cmath>

namespace normcheck::onednn {

std::vector<double> rstd_from_variance(std::span<const float> variance, double eps) {
  std::vector<double> rstd(variance.size());
  for (std::size_t i = 0; i < variance.size(); ++i)
    rstd[i] = 1.0 / std::sqrt(double(variance[i]) + eps);
  return rstd;
}

std::vector<float> variance_from_rstd(std::span<const float> rstd, double eps) {
  const double eps_f = double(float(eps));
  std::vector<float> variance(rstd.size());
  for (std::size_t i = 0; i < rstd.size(); ++i) {
    const double r = double(rstd[i]);
    variance[i] = float(1.0 / (r * r) - eps_f);
  }
  return variance;
}

std::vector<double> widened(std::span<const float> values) {
  return std::vector<double>(values.begin(), values.end());
}

}  // namespace normcheck::onednn
