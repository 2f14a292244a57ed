#include "cuda_runtime.hpp"

#include <dlfcn.h>

#include <array>
#include <stdexcept>

namespace normcheck::python {
namespace {

// cudaMemcpyKind values of the runtime API (stable since CUDA 4).
constexpr int kHostToDevice = 1;
constexpr int kDefault = 4;  // the kind inferred from the pointers (unified addressing)

// Sonames a framework's wheel or the toolkit installs, newest first. With
// RTLD_NOLOAD the first pass only finds one already in the process (the one
// whose context the tensors live in); the second loads one.
constexpr std::array kNames = {"libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0",
                               "libcudart.so"};

template <typename F>
F symbol(void* library, const char* name, const std::string& path) {
  void* s = dlsym(library, name);
  if (s == nullptr) throw std::runtime_error(path + " has no " + name);
  return reinterpret_cast<F>(s);
}

}  // namespace

CudaRuntime::CudaRuntime() {
  void* library = nullptr;
  for (const int flags : {RTLD_NOW | RTLD_NOLOAD, RTLD_NOW}) {
    for (const char* name : kNames) {
      library = dlopen(name, flags);
      if (library != nullptr) {
        library_ = name;
        break;
      }
    }
    if (library != nullptr) break;
  }
  if (library == nullptr)
    throw std::runtime_error(
        "CUDA tensors need the CUDA runtime, and none is loaded or on the library path "
        "(tried libcudart.so.13, .so.12, .so.11.0, .so)");
  // Never dlclose'd: device memory handed to a consumer is freed through it
  // for as long as the process lives.
  set_device_ = symbol<decltype(set_device_)>(library, "cudaSetDevice", library_);
  malloc_ = symbol<decltype(malloc_)>(library, "cudaMalloc", library_);
  free_ = symbol<decltype(free_)>(library, "cudaFree", library_);
  memcpy_ = symbol<decltype(memcpy_)>(library, "cudaMemcpy", library_);
  synchronize_ = symbol<decltype(synchronize_)>(library, "cudaDeviceSynchronize", library_);
  error_string_ = symbol<decltype(error_string_)>(library, "cudaGetErrorString", library_);
}

const CudaRuntime& CudaRuntime::get() {
  static const CudaRuntime runtime;  // immutable once loaded
  return runtime;
}

void CudaRuntime::check(int status, const char* what) const {
  if (status != 0)
    throw std::runtime_error(std::string(what) + " failed: " + error_string_(status) + " (" +
                             library_ + ")");
}

void CudaRuntime::use(int device) const {
  check(set_device_(device), "cudaSetDevice");
}

void* CudaRuntime::allocate(int device, std::size_t bytes) const {
  use(device);
  void* p = nullptr;
  check(malloc_(&p, bytes == 0 ? 1 : bytes), "cudaMalloc");
  return p;
}

void CudaRuntime::free(int device, void* pointer) const noexcept {
  if (pointer == nullptr) return;
  set_device_(device);
  free_(pointer);
}

void CudaRuntime::to_host(int device, void* host, const void* device_pointer,
                          std::size_t bytes) const {
  use(device);
  check(memcpy_(host, device_pointer, bytes, kDefault), "cudaMemcpy (to the host)");
}

void CudaRuntime::to_device(int device, void* device_pointer, const void* host,
                            std::size_t bytes) const {
  use(device);
  check(memcpy_(device_pointer, host, bytes, kHostToDevice), "cudaMemcpy (host to device)");
  check(synchronize_(), "cudaDeviceSynchronize");
}

}  // namespace normcheck::python
