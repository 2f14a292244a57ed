// A forward, backward or fold call after validation: the geometry, the
// modes, and every tensor as a checked element pointer (nullptr when an
// optional tensor is absent). Both built-in backends start from these, so
// they accept and reject exactly the same calls with the same messages.
#pragma once

#include "normcheck/backend.h"
#include "normcheck/support/geometry.hpp"

namespace normcheck::support {

struct ForwardCall {
  const nc_problem* problem = nullptr;
  Geometry geo;
  bool running_stats = false;   // normalize with running_mean/var (eval, global stats)
  bool update_running = false;  // train with tracked statistics
  const void* x = nullptr;
  const void* residual = nullptr;  // ln/rms with NC_FLAG_RESIDUAL
  const void* gamma = nullptr;     // nullptr: scale 1
  const void* beta = nullptr;      // nullptr: shift 0
  void* running_mean = nullptr;    // read (running_stats) or updated (update_running)
  void* running_var = nullptr;
  void* y = nullptr;
  void* residual_out = nullptr;                 // required with the residual
  void* saved_mean = nullptr;                   // optional; never written for rms_norm
  void* saved_rstd = nullptr;                   // optional
  const nc_collectives* collectives = nullptr;  // batch norm training only
};

struct BackwardCall {
  const nc_problem* problem = nullptr;
  Geometry geo;
  bool running_stats = false;  // statistics are constants from running_mean/var
  const void* dy = nullptr;
  const void* x = nullptr;
  const void* gamma = nullptr;
  const void* saved_mean = nullptr;  // batch statistics (not for rms_norm)
  const void* saved_rstd = nullptr;
  const void* running_mean = nullptr;
  const void* running_var = nullptr;
  void* dx = nullptr;
  void* dresidual = nullptr;  // optional copy of dx
  void* dgamma = nullptr;     // optional
  void* dbeta = nullptr;      // optional
  const nc_collectives* collectives = nullptr;
};

struct FoldCall {
  std::int64_t out_channels = 0, weights_per_channel = 0;  // OC, IC * KH * KW
  DType data = DType::f32, param = DType::f32, stats = DType::f32;
  double eps = 0.0;
  const void* weight = nullptr;        // data dtype
  const void* bias = nullptr;          // data dtype; nullptr: 0
  const void* gamma = nullptr;         // param dtype; nullptr: 1
  const void* beta = nullptr;          // param dtype; nullptr: 0
  const void* running_mean = nullptr;  // stats dtype
  const void* running_var = nullptr;
  void* folded_weight = nullptr;  // data dtype
  void* folded_bias = nullptr;
};

// What supports() answers from the problem alone: throws as geometry_of()
// does (conv_bn_fold problems: the problem header checks only).
void check_problem(const nc_problem* problem);

// Throw ArgumentError / Unsupported naming the field or tensor at fault.
ForwardCall resolve_forward(const nc_problem* problem, const nc_forward_args* args);
BackwardCall resolve_backward(const nc_problem* problem, const nc_backward_args* args);
FoldCall resolve_fold(const nc_problem* problem, const nc_conv_bn_fold_args* args);

}  // namespace normcheck::support
