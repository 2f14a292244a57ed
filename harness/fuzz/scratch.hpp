// A scratch folder for targets whose code under test reads a path, not a
// buffer: memory-backed (/dev/shm) when it can be, removed at exit. Each
// input is written to the same file in it.
#pragma once

#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "rule.hpp"

namespace normcheck::fuzz {

class ScratchFile {
 public:
  ScratchFile(const char* target, const std::string& file_name) : target_(target) {
    const auto base = std::filesystem::exists("/dev/shm") ? std::filesystem::path("/dev/shm")
                                                          : std::filesystem::temp_directory_path();
    std::string name = (base / "normcheck-fuzz-XXXXXX").string();
    if (mkdtemp(name.data()) == nullptr) rule_broken(target_, "cannot create a scratch folder");
    dir_ = name;
    file_ = dir_ / file_name;
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  const std::filesystem::path& dir() const { return dir_; }
  const std::filesystem::path& write(const std::uint8_t* data, std::size_t size) const {
    std::ofstream out(file_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    if (!out) rule_broken(target_, "cannot write the input to " + file_.string());
    return file_;
  }

 private:
  const char* target_;
  std::filesystem::path dir_, file_;
};

}  // namespace normcheck::fuzz
