// The built cuda plugin, dlopen'ed the way the harness loads backends
// ($NC_CUDA_PLUGIN, or the path CMake compiled in as NC_CUDA_PLUGIN).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "normcheck/backend.h"

namespace normcheck::cuda::testing {

class Plugin {
 public:
  // Throws std::runtime_error when the library or its entry point is missing.
  Plugin();
  const nc_backend_v1& table() const { return *table_; }

 private:
  struct Closer {
    void operator()(void* handle) const;
  };
  std::unique_ptr<void, Closer> handle_;
  const nc_backend_v1* table_ = nullptr;
};

// supports() on a small layer norm problem: the reason when the plugin
// cannot run here (no device, or a device too old), nullopt when it can.
std::optional<std::string> unavailable_reason(const Plugin& plugin);

}  // namespace normcheck::cuda::testing
