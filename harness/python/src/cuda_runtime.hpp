// The CUDA runtime, found at run time, for the DLPack exchange of device
// tensors. The package is built without CUDA (CI has no GPU, and a Python
// user without one must still import it); a process that holds CUDA tensors
// has a libcudart loaded already (torch's, CuPy's), so its copy is used
// first, else one on the library path.
#pragma once

#include <cstddef>
#include <string>

namespace normcheck::python {

class CudaRuntime {
 public:
  // The process's runtime; throws std::runtime_error naming what was tried
  // when none can be loaded.
  static const CudaRuntime& get();

  // Device memory of `bytes` on `device`, freed by free(). Errors throw with
  // the runtime's own message.
  void* allocate(int device, std::size_t bytes) const;
  void free(int device, void* pointer) const noexcept;
  // Synchronous copies: to the host from device, pinned or managed memory
  // (cudaMemcpy on the legacy default stream, which waits for the work
  // queued there); to the device followed by cudaDeviceSynchronize, so the
  // DMA is complete before a consumer on any stream reads.
  void to_host(int device, void* host, const void* device_pointer, std::size_t bytes) const;
  void to_device(int device, void* device_pointer, const void* host, std::size_t bytes) const;

  const std::string& library() const { return library_; }

 private:
  CudaRuntime();
  void check(int status, const char* what) const;
  void use(int device) const;

  std::string library_;
  int (*set_device_)(int) = nullptr;
  int (*malloc_)(void**, std::size_t) = nullptr;
  int (*free_)(void*) = nullptr;
  int (*memcpy_)(void*, const void*, std::size_t, int) = nullptr;
  int (*synchronize_)() = nullptr;
  const char* (*error_string_)(int) = nullptr;
};

}  // namespace normcheck::python
