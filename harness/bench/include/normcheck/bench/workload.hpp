// The benchmark's workloads (model-sized shapes) and the traffic model: the
// bytes an operation must read and write.
//
//   ln / rms forward:   read x, write y                      2 tensors
//   ln / rms backward:  read x and dy, write dx              3 tensors
//   bn / gn training forward: a statistics pass reading x, then a
//       normalize pass reading x and writing y               3 tensors
//   bn / gn training backward: a reduction pass reading x and dy, then a
//       dx pass reading x and dy and writing dx              5 tensors
// plus the small parameter and statistics tensors (gamma, beta, saved and
// running statistics, dgamma, dbeta). Caches are not credited: the shapes
// are chosen larger than the last-level cache where possible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "normcheck/model/problem.hpp"

namespace normcheck::bench {

enum class Direction { forward, backward };

struct Workload {
  model::Problem problem;
  Direction direction = Direction::forward;
  std::string shape_label;  // "8192x768", "32x256x28x28 nhwc"
  double bytes = 0.0;       // traffic model
};

// Every (shape, direction) of `op` in `dtype`: ln/rms 8192x768 and
// 8192x4096; bn/gn/in N=32 C=256 H=W=28 in NCHW and NHWC (gn: 32 groups);
// training mode. `scale` divides the batch dimension.
std::vector<Workload> workloads_for(model::Op op, numeric::DType dtype, int scale = 1);

// The problem every workload starts from (training; bf16/f16 with f32
// statistics; bn tracking running statistics; gn in 32 groups), before its
// shape and layout are set.
model::Problem bench_problem(model::Op op, numeric::DType dtype);

// The traffic model above for one problem and direction.
double traffic_bytes(const model::Problem& p, Direction direction);

std::string_view direction_name(Direction d);

}  // namespace normcheck::bench
