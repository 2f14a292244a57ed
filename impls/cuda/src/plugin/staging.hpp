// Host and device tensors behind one ABI call.
//
// The harness hands host tensors (kDLCPU, kDLCUDAHost); a caller may also
// hand device tensors (kDLCUDA, kDLCUDAManaged). DeviceResidency lets the
// shared checks (support::resolve_*) validate both alike, and Staging turns
// every tensor into a device pointer: host memory is copied into a fresh
// device buffer (inputs), given one (outputs) and copied back by finish();
// device memory is used in place.
#pragma once

#include <dlpack/dlpack.h>

#include <array>
#include <cstddef>
#include <vector>

#include "device_memory.hpp"

namespace normcheck::cuda {

class DeviceResidency {
 public:
  // A device tensor comes back as a copy whose device reads kDLCPU (same
  // data, shape and strides), so host-only checks accept it; its element
  // pointer is remembered as device memory. Host tensors and NULL pass
  // through. Throws support::ArgumentError when device tensors sit on two
  // different devices, support::Unsupported for other device types.
  const DLTensor* admit(const DLTensor* t);
  DLTensor* admit(DLTensor* t);

  bool on_device(const void* element_pointer) const;
  int device() const { return device_; }  // -1 when no tensor is on a device

 private:
  static constexpr int kMaxTensors = 16;
  std::array<DLTensor, kMaxTensors> disguised_{};
  std::array<const void*, kMaxTensors> device_pointers_{};
  int used_ = 0;
  int device_ = -1;
};

class Staging {
 public:
  explicit Staging(const DeviceResidency& residency) : residency_(residency) {}

  const void* in(const void* p, std::size_t bytes);  // read by the kernels
  void* out(void* p, std::size_t bytes);             // written by the kernels
  void* inout(void* p, std::size_t bytes);           // read and written (running stats)
  void* scratch(std::size_t bytes);                  // workspace

  // Waits for the kernels, surfaces any asynchronous error, and copies the
  // outputs back to host memory. Throws CudaError.
  void finish();

 private:
  struct CopyBack {
    void* host;
    const void* device;
    std::size_t bytes;
  };
  void* stage(const void* p, std::size_t bytes, bool copy_in, bool copy_back);

  const DeviceResidency& residency_;
  std::vector<DeviceBuffer> buffers_;
  std::vector<CopyBack> copy_backs_;
};

}  // namespace normcheck::cuda
