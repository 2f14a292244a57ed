#include "device_memory.hpp"

#include <cuda_runtime_api.h>

#include "../common/cuda_check.hpp"

namespace normcheck::cuda {

DeviceBuffer::DeviceBuffer(std::size_t bytes) {
  if (bytes > 0) check_cuda(cudaMalloc(&data_, bytes), "cudaMalloc");
}

DeviceBuffer::~DeviceBuffer() {
  if (data_ != nullptr) (void)cudaFree(data_);
}

CurrentDevice::CurrentDevice(int device) {
  if (device < 0) return;
  check_cuda(cudaGetDevice(&previous_), "cudaGetDevice");
  check_cuda(cudaSetDevice(device), "cudaSetDevice");
}

CurrentDevice::~CurrentDevice() {
  if (previous_ >= 0) (void)cudaSetDevice(previous_);
}

}  // namespace normcheck::cuda
