#include "normcheck/backend/loaded_backend.hpp"

#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>

#include <cstdlib>

#include "normcheck/model/problem.hpp"

namespace normcheck::backend {

void LoadedBackend::Closer::operator()(void* handle) const {
  if (handle != nullptr) dlclose(handle);
}

bool names_a_path(std::string_view s) {
  return s.find('/') != std::string_view::npos || (s.size() > 3 && s.substr(s.size() - 3) == ".so");
}

namespace {
constexpr std::string_view kBuiltinPrefix = "libnormcheck_backend_", kBuiltinSuffix = ".so";
}  // namespace

std::filesystem::path builtin_backend_path(std::string_view name) {
  return builtin_backend_dir() / fmt::format("{}{}{}", kBuiltinPrefix, name, kBuiltinSuffix);
}

std::vector<std::string> builtin_backend_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(builtin_backend_dir(), ec)) {
    const auto file = entry.path().filename().string();
    if (file.starts_with(kBuiltinPrefix) && file.ends_with(kBuiltinSuffix))
      names.push_back(file.substr(kBuiltinPrefix.size(),
                                  file.size() - kBuiltinPrefix.size() - kBuiltinSuffix.size()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::filesystem::path builtin_backend_dir() {
  if (const char* env = std::getenv("NORMCHECK_BACKEND_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "backends";
  // Build tree: build/backends beside build/normcheck. Installed: bin/ and
  // <prefix>/${NORMCHECK_BACKEND_INSTALL_DIR} (cmake/NormcheckInstall.cmake).
  const auto beside = exe.parent_path() / "backends";
  const auto installed = exe.parent_path().parent_path() / NORMCHECK_INSTALLED_BACKEND_DIR;
  if (!std::filesystem::is_directory(beside, ec) && std::filesystem::is_directory(installed, ec))
    return installed;
  return beside;
}

LoadedBackend LoadedBackend::load(std::string_view name_or_path) {
  LoadedBackend b;
  if (names_a_path(name_or_path)) {
    b.path_ = std::filesystem::absolute(std::filesystem::path(name_or_path));
    if (!std::filesystem::exists(b.path_))
      throw model::InputError(fmt::format("backend '{}': no such file", name_or_path));
  } else {
    b.path_ = builtin_backend_path(name_or_path);
    if (!std::filesystem::exists(b.path_)) {
      std::string known;
      for (const auto& name : builtin_backend_names()) known += (known.empty() ? "" : ", ") + name;
      throw model::InputError(fmt::format("unknown backend '{}' (built-in backends: {}; or give a path to a plugin .so)",
                                          name_or_path, known.empty() ? "none found in " + builtin_backend_dir().string() : known));
    }
  }
  b.handle_.reset(dlopen(b.path_.c_str(), RTLD_NOW | RTLD_LOCAL));
  if (!b.handle_) throw model::InputError(fmt::format("backend '{}': cannot load: {}", name_or_path, dlerror()));
  void* symbol = dlsym(b.handle_.get(), NORMCHECK_BACKEND_ENTRY_V1);
  if (symbol == nullptr)
    throw model::InputError(fmt::format("backend '{}': {} does not export {}() - not a normcheck backend",
                                        name_or_path, b.path_.string(), NORMCHECK_BACKEND_ENTRY_V1));
  const auto entry = reinterpret_cast<nc_backend_entry_v1>(symbol);
  b.table_ = entry();
  if (b.table_ == nullptr) throw model::InputError(fmt::format("backend '{}': {}() returned NULL", name_or_path, NORMCHECK_BACKEND_ENTRY_V1));
  if (b.table_->abi_version != NORMCHECK_BACKEND_ABI_VERSION)
    throw model::InputError(fmt::format("backend '{}': built for backend ABI version {}, this normcheck speaks version {}; rebuild it against this normcheck's backend.h",
                                        name_or_path, b.table_->abi_version, NORMCHECK_BACKEND_ABI_VERSION));
  if (b.table_->name == nullptr || b.table_->supports == nullptr || b.table_->forward == nullptr)
    throw model::InputError(fmt::format("backend '{}': its table lacks a name, supports() or forward()", name_or_path));
  b.name_ = b.table_->name;
  return b;
}

}  // namespace normcheck::backend
