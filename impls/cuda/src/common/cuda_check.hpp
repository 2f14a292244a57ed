// Turns a CUDA runtime status into a CudaError naming the failed step.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "normcheck/cuda/errors.hpp"

namespace normcheck::cuda {

inline std::string cuda_error_text(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

inline void check_cuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw CudaError(std::string(what) + ": " + cuda_error_text(e));
}

}  // namespace normcheck::cuda
