// The nc_backend_v1 table of a built-in backend from its kernels: every
// entry validates the call (calls.hpp) and maps exceptions to a status and
// message (status.hpp), so a backend supplies only the arithmetic.
//
//   struct Kernels {
//     static constexpr const char* name = "...", *version = "...";
//     static void forward(const ForwardCall&);
//     static void backward(const BackwardCall&);
//     static void conv_bn_fold(const FoldCall&);
//   };
#pragma once

#include "normcheck/backend.h"
#include "normcheck/support/calls.hpp"
#include "normcheck/support/status.hpp"

// The one symbol a backend library exports (everything else is hidden).
#define NC_BACKEND_EXPORT extern "C" __attribute__((visibility("default")))

namespace normcheck::support {

template <class Kernels>
struct BackendTable {
  static nc_status supports(const nc_problem* problem, char* reason, size_t reason_size) noexcept {
    return guarded(reason, reason_size, [&] { check_problem(problem); });
  }
  static nc_status forward(const nc_problem* problem, const nc_forward_args* args, char* message,
                           size_t message_size) noexcept {
    return guarded(message, message_size, [&] {
      if (problem != nullptr && problem->op == NC_OP_CONV_BN_FOLD)
        throw ArgumentError("problem: op conv_bn_fold is called through conv_bn_fold() only");
      Kernels::forward(resolve_forward(problem, args));
    });
  }
  static nc_status backward(const nc_problem* problem, const nc_backward_args* args, char* message,
                            size_t message_size) noexcept {
    return guarded(message, message_size,
                   [&] { Kernels::backward(resolve_backward(problem, args)); });
  }
  static nc_status conv_bn_fold(const nc_problem* problem, const nc_conv_bn_fold_args* args,
                                char* message, size_t message_size) noexcept {
    return guarded(message, message_size,
                   [&] { Kernels::conv_bn_fold(resolve_fold(problem, args)); });
  }

  static constexpr nc_backend_v1 table{NORMCHECK_BACKEND_ABI_VERSION,
                                       Kernels::name,
                                       Kernels::version,
                                       &supports,
                                       &forward,
                                       &backward,
                                       &conv_bn_fold};
};

}  // namespace normcheck::support
