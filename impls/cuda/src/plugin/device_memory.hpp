// RAII over the CUDA runtime: a device allocation, and the calling thread's
// current device set for the length of a call and restored after it.
#pragma once

#include <cstddef>

namespace normcheck::cuda {

class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t bytes);  // throws CudaError
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& other) noexcept : data_(other.data_) { other.data_ = nullptr; }
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* get() const { return data_; }

 private:
  void* data_ = nullptr;
};

class CurrentDevice {
 public:
  // device < 0: keep the thread's current device.
  explicit CurrentDevice(int device);
  ~CurrentDevice();
  CurrentDevice(const CurrentDevice&) = delete;
  CurrentDevice& operator=(const CurrentDevice&) = delete;

 private:
  int previous_ = -1;
};

}  // namespace normcheck::cuda
