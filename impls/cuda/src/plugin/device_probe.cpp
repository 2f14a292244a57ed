#include "device_probe.hpp"

#include <cuda_runtime_api.h>

#include "../common/cuda_check.hpp"
#include "normcheck/support/status.hpp"

namespace normcheck::cuda {

std::optional<std::string> device_unavailable() noexcept {
  try {
    int count = 0;
    const cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
      (void)cudaGetLastError();  // not sticky; leave the thread's error state clean
      return "no CUDA device (cudaGetDeviceCount: " + cuda_error_text(e) + ")";
    }
    if (count == 0) return std::string("no CUDA device (cudaGetDeviceCount: 0 devices)");
    int device = 0, major = 0, minor = 0;
    if (cudaGetDevice(&device) != cudaSuccess ||
        cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess ||
        cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, device) != cudaSuccess) {
      (void)cudaGetLastError();
      return "CUDA device " + std::to_string(device) + " could not be queried";
    }
    if (major < 8)
      return "CUDA device " + std::to_string(device) + " has compute capability " +
             std::to_string(major) + "." + std::to_string(minor) +
             "; the cuda backend is built for sm_80 and sm_90 (8.0 or newer)";
    return std::nullopt;
  } catch (...) {
    return std::string("no CUDA device (the probe failed)");
  }
}

void require_device() {
  if (auto reason = device_unavailable()) throw support::Unsupported(*reason);
}

}  // namespace normcheck::cuda
