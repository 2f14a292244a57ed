// The C table of the plugin a test executable is linked with (its
// normcheck_backend_v1 entry point compiled in, as the oneDNN and libtorch
// tests do), called as the harness calls it, and the closed-form backward
// of one group those tests compare with.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "normcheck/backend.h"
#include "normcheck/testing/backend_call.hpp"

extern "C" const nc_backend_v1* normcheck_backend_v1(void);

namespace normcheck::testing::linked_plugin {

inline const nc_backend_v1& plugin() {
  return *normcheck_backend_v1();
}

struct Answer {
  nc_status status;
  std::string message;
};

inline Answer supports(const nc_problem& p) {
  char reason[512] = "untouched";
  const nc_status s = plugin().supports(&p, reason, sizeof reason);
  return {s, reason};
}

inline Answer forward(const nc_problem& p, const nc_forward_args& a) {
  char message[512] = "untouched";
  const nc_status s = plugin().forward(&p, &a, message, sizeof message);
  return {s, message};
}

// The closed-form backward of one normalized group, in double:
// dx = gamma rstd (dy - mean(dy) - xhat mean(dy xhat)), and the group's
// sum(dy) and sum(dy xhat), its share of dbeta and dgamma.
struct GroupGradients {
  std::vector<double> dx;
  double sum_dy = 0, sum_dy_xhat = 0;
};

inline GroupGradients group_gradients(std::span<const double> dy, std::span<const double> xhat,
                                      double gamma_rstd) {
  GroupGradients g;
  for (std::size_t i = 0; i < dy.size(); ++i) {
    g.sum_dy += dy[i];
    g.sum_dy_xhat += dy[i] * xhat[i];
  }
  const double n = double(dy.size());
  for (std::size_t i = 0; i < dy.size(); ++i)
    g.dx.push_back(gamma_rstd * (dy[i] - g.sum_dy / n - xhat[i] * g.sum_dy_xhat / n));
  return g;
}

inline Answer backward(const nc_problem& p, const nc_backward_args& a) {
  char message[512] = "untouched";
  const nc_status s = plugin().backward(&p, &a, message, sizeof message);
  return {s, message};
}

}  // namespace normcheck::testing::linked_plugin
