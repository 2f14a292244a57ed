#include "plugin.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <stdexcept>

#include "normcheck/testing/backend_call.hpp"

namespace normcheck::cuda::testing {

void Plugin::Closer::operator()(void* handle) const {
  if (handle != nullptr) dlclose(handle);
}

namespace {

// $NC_CUDA_PLUGIN when set (binaries carried to a GPU machine, see
// scripts/gpu/), else the path of the build that made this test.
std::string plugin_path() {
  const char* env = std::getenv("NC_CUDA_PLUGIN");
  return env != nullptr && *env != '\0' ? env : NC_CUDA_PLUGIN;
}

}  // namespace

Plugin::Plugin() : handle_(dlopen(plugin_path().c_str(), RTLD_NOW | RTLD_LOCAL)) {
  if (!handle_) throw std::runtime_error("dlopen " + plugin_path() + ": " + dlerror());
  void* entry = dlsym(handle_.get(), NORMCHECK_BACKEND_ENTRY_V1);
  if (entry == nullptr) throw std::runtime_error("the plugin does not export normcheck_backend_v1");
  table_ = reinterpret_cast<nc_backend_entry_v1>(entry)();
  if (table_ == nullptr) throw std::runtime_error("normcheck_backend_v1() returned NULL");
}

std::optional<std::string> unavailable_reason(const Plugin& plugin) {
  const nc_problem p =
      normcheck::testing::make_problem(NC_OP_LAYER_NORM, {2, 8}, numeric::DType::f32);
  char reason[512] = "";
  if (plugin.table().supports(&p, reason, sizeof reason) == NC_OK) return std::nullopt;
  return std::string(reason);
}

}  // namespace normcheck::cuda::testing
