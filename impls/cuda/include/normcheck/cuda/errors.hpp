// Failures of the CUDA runtime. Malformed calls and declined problems use
// the shared support::ArgumentError / support::Unsupported
// (normcheck/support/status.hpp), so every backend maps them alike.
#pragma once

#include <stdexcept>

namespace normcheck::cuda {

// The CUDA runtime reported an error; becomes NC_INTERNAL_ERROR.
class CudaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace normcheck::cuda
