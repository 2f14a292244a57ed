#include "staging.hpp"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <string>

#include "../common/cuda_check.hpp"
#include "normcheck/support/status.hpp"

namespace normcheck::cuda {

namespace {

bool is_device_memory(DLDeviceType t) {
  return t == kDLCUDA || t == kDLCUDAManaged;
}

}  // namespace

DLTensor* DeviceResidency::admit(DLTensor* t) {
  return const_cast<DLTensor*>(admit(static_cast<const DLTensor*>(t)));
}

const DLTensor* DeviceResidency::admit(const DLTensor* t) {
  if (t == nullptr || !is_device_memory(t->device.device_type)) return t;
  if (used_ == kMaxTensors)
    throw support::ArgumentError("more device tensors than an ABI call has");
  if (device_ >= 0 && t->device.device_id != device_)
    throw support::ArgumentError("device tensors on CUDA devices " + std::to_string(device_) +
                                 " and " + std::to_string(t->device.device_id) +
                                 "; one call runs on one device");
  device_ = t->device.device_id;
  DLTensor& copy = disguised_[std::size_t(used_)];
  copy = *t;
  copy.device = DLDevice{kDLCPU, 0};
  device_pointers_[std::size_t(used_)] =
      static_cast<const unsigned char*>(t->data) + t->byte_offset;
  ++used_;
  return &copy;
}

bool DeviceResidency::on_device(const void* p) const {
  // Unified virtual addressing: a host and a device pointer never compare
  // equal, so the element pointer identifies the tensor.
  const auto end = device_pointers_.begin() + used_;
  return p != nullptr && std::find(device_pointers_.begin(), end, p) != end;
}

void* Staging::stage(const void* p, std::size_t bytes, bool copy_in, bool copy_back) {
  if (p == nullptr) return nullptr;
  if (residency_.on_device(p)) return const_cast<void*>(p);
  DeviceBuffer& buffer = buffers_.emplace_back(bytes);
  if (copy_in)
    check_cuda(cudaMemcpy(buffer.get(), p, bytes, cudaMemcpyHostToDevice),
               "cudaMemcpy to the device");
  if (copy_back) copy_backs_.push_back(CopyBack{const_cast<void*>(p), buffer.get(), bytes});
  return buffer.get();
}

const void* Staging::in(const void* p, std::size_t bytes) {
  return stage(p, bytes, true, false);
}
void* Staging::out(void* p, std::size_t bytes) {
  return stage(p, bytes, false, true);
}
void* Staging::inout(void* p, std::size_t bytes) {
  return stage(p, bytes, true, true);
}

void* Staging::scratch(std::size_t bytes) {
  if (bytes == 0) return nullptr;
  return buffers_.emplace_back(bytes).get();
}

void Staging::finish() {
  // The kernels ran on the legacy default stream; synchronizing it also
  // reports a fault of any of them.
  check_cuda(cudaStreamSynchronize(nullptr), "kernel execution");
  check_cuda(cudaGetLastError(), "kernel execution");
  for (const CopyBack& c : copy_backs_)
    check_cuda(cudaMemcpy(c.host, c.device, c.bytes, cudaMemcpyDeviceToHost),
               "cudaMemcpy to the host");
}

}  // namespace normcheck::cuda
