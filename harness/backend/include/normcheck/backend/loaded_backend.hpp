// A backend shared library loaded into this process: built-in backends by
// name (build/backends/libnormcheck_backend_NAME.so), any other by path.
// The ABI version is checked on load; a mismatch is refused with a message.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/backend.h"

namespace normcheck::backend {

class LoadedBackend {
 public:
  // Throws model::InputError when the backend cannot be found or loaded, has
  // no entry point, or carries another ABI version.
  static LoadedBackend load(std::string_view name_or_path);

  const nc_backend_v1& table() const { return *table_; }
  const std::string& name() const { return name_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  struct Closer { void operator()(void* handle) const; };
  std::unique_ptr<void, Closer> handle_;
  const nc_backend_v1* table_ = nullptr;
  std::string name_;
  std::filesystem::path path_;
};

// The folder the built-in backends are installed in, next to the running
// executable (build/backends), or for an installed CLI <prefix>/lib/normcheck/backends
// (relative to <prefix>/bin), or $NORMCHECK_BACKEND_DIR when set.
std::filesystem::path builtin_backend_dir();

// The names of the built-in backends found there, sorted, and where one lives.
std::vector<std::string> builtin_backend_names();
std::filesystem::path builtin_backend_path(std::string_view name);

// A name is a path when it contains a '/' or ends in ".so".
bool names_a_path(std::string_view name_or_path);

}  // namespace normcheck::backend
