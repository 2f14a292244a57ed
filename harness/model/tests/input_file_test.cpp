#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "normcheck/model/excerpt.hpp"
#include "normcheck/model/input_file.hpp"
#include "normcheck/model/problem.hpp"

using Catch::Matchers::Contains;
using namespace normcheck::model;

namespace {
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "nc-input-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};
}  // namespace

TEST_CASE("a text file is read whole", "[input_file]") {
  TempDir dir;
  std::ofstream(dir.path / "a.txt") << "line 1\nline 2\n";
  CHECK(read_text_file(dir.path / "a.txt", "suite") == "line 1\nline 2\n");
}

TEST_CASE("only regular files are read where a file is meant", "[input_file]") {
  TempDir dir;
  // Before: /dev/zero read until std::bad_alloc, a FIFO blocked forever.
  CHECK_THROWS_WITH(read_text_file("/dev/zero", "tolerance file"),
                    Contains("tolerance file '/dev/zero'") && Contains("character device"));
  REQUIRE(::mkfifo((dir.path / "fifo").c_str(), 0600) == 0);
  CHECK_THROWS_WITH(read_text_file(dir.path / "fifo", "suite"), Contains("is a FIFO"));
  CHECK_THROWS_WITH(read_text_file(dir.path, "suite"), Contains("is a folder"));
  CHECK_THROWS_WITH(read_text_file(dir.path / "absent", "suite"),
                    Contains("cannot open") && Contains("No such file"));
}

TEST_CASE("a file larger than its cap is refused before it is read", "[input_file]") {
  TempDir dir;
  std::ofstream(dir.path / "big.txt") << std::string(2000, 'x');
  CHECK_THROWS_WITH(read_text_file(dir.path / "big.txt", "suite", 1024),
                    Contains("big.txt") && Contains("larger than 1 KiB"));
  CHECK(read_text_file(dir.path / "big.txt", "suite", 2000).size() == 2000);
}

TEST_CASE("byte counts and excerpts read well in messages", "[input_file]") {
  CHECK(format_bytes(512) == "512 bytes");
  CHECK(format_bytes(std::uintmax_t(4) << 30) == "4 GiB");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(excerpt("short") == "short");
  CHECK(excerpt("a\tb\x01") == "a?b?");
  CHECK(excerpt(std::string(1000, 'z'), 10) == "zzzzzzzzzz... (1000 bytes)");
}
