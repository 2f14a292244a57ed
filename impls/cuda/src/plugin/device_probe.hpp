// Whether this process can run the kernels: a CUDA device (the driver's
// libcuda.so is found and reports one) of compute capability 8.0 or newer.
#pragma once

#include <optional>
#include <string>

namespace normcheck::cuda {

// The reason the kernels cannot run here, e.g. "no CUDA device
// (cudaGetDeviceCount: cudaErrorInsufficientDriver (...))"; nullopt when
// they can. Never throws, never crashes without a driver.
std::optional<std::string> device_unavailable() noexcept;

// Throws support::Unsupported with device_unavailable()'s reason.
void require_device();

}  // namespace normcheck::cuda
