#include "normcheck/runner/case_source.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <memory>
#include <regex>
#include <set>
#include <stdexcept>
#include <cerrno>
#include <cstring>
#include <chrono>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "normcheck/fixture/fixture_reader.hpp"

#include "normcheck/compare/tolerances.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::runner {

MemoryCases::MemoryCases(std::vector<fixture::Case> cases) : cases_(std::move(cases)) {
  for (const auto& c : cases_) descriptors_.push_back(c.descriptor());
}

namespace {

std::string one_line(std::string text) {
  for (char& ch : text)
    if (ch == '\t' || ch == '\n' || ch == '\r') ch = ' ';
  return text;
}

std::string relative_name(const std::filesystem::path& base, const std::filesystem::path& file) {
  return file.lexically_relative(base).generic_string();
}

// In the lister child: one line per file, from `first` on; never returns.
[[noreturn]] void list_files_child(const std::vector<std::filesystem::path>& files,
                                   std::size_t first, int out, pid_t harness) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != harness) _exit(112);
  for (std::size_t k = first; k < files.size(); ++k) {
    std::string line;
    try {
      const fixture::FixtureReader reader(files[k]);
      line = fmt::format("OK\t{}", k);
      for (const auto& d : reader.descriptors()) {
        line += '\t';
        line += one_line(d);
      }
    } catch (const std::exception& e) {
      line = fmt::format("ERR\t{}\t{}", k, one_line(e.what()));
    }
    line += '\n';
    const char* p = line.data();
    std::size_t left = line.size();
    while (left > 0) {
      const ssize_t n = ::write(out, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) _exit(1);
      p += n;
      left -= std::size_t(n);
    }
  }
  _exit(0);
}

std::string describe_wait_status(int status) {
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return fmt::format("the reader died of SIG{}", name != nullptr ? name : "?");
  }
  return fmt::format("the reader exited with code {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

}  // namespace

Listing list_fixture_files(const std::filesystem::path& base,
                           const std::vector<std::filesystem::path>& files,
                           double timeout_seconds) {
  Listing listing;
  std::size_t next = 0;  // the first file not yet accounted for
  while (next < files.size()) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
      throw std::runtime_error(fmt::format("cannot create a pipe: {}", std::strerror(errno)));
    std::fflush(nullptr);
    const pid_t harness = getpid();
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork failed: {}", std::strerror(errno)));
    if (pid == 0) {
      ::close(fds[0]);
      list_files_child(files, next, fds[1], harness);
    }
    ::close(fds[1]);
    std::string buffer;
    auto last = std::chrono::steady_clock::now();
    bool hung = false;
    while (true) {
      pollfd p{fds[0], POLLIN, 0};
      const int ready = poll(&p, 1, 100);
      if (ready > 0) {
        char chunk[65536];
        const ssize_t n = ::read(fds[0], chunk, sizeof chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the child ended (or died)
        buffer.append(chunk, std::size_t(n));
        std::size_t newline;
        while ((newline = buffer.find('\n')) != std::string::npos) {
          const std::string line = buffer.substr(0, newline);
          buffer.erase(0, newline + 1);
          std::vector<std::string> fields;
          std::size_t start = 0;
          while (true) {
            const auto tab = line.find('\t', start);
            fields.push_back(line.substr(start, tab - start));
            if (tab == std::string::npos) break;
            start = tab + 1;
          }
          if (fields.size() < 2) continue;
          const std::size_t k = std::stoul(fields[1]);
          if (k >= files.size()) continue;
          if (fields[0] == "OK") {
            for (std::size_t c = 2; c < fields.size(); ++c)
              listing.entries.push_back({relative_name(base, files[k]), c - 2, fields[c]});
          } else {
            listing.damaged.push_back({files[k], fields.size() > 2 ? fields[2] : "unreadable"});
          }
          next = k + 1;
          last = std::chrono::steady_clock::now();
        }
      } else if (ready < 0 && errno != EINTR) {
        break;
      }
      if (timeout_seconds > 0 &&
          std::chrono::duration<double>(std::chrono::steady_clock::now() - last).count() >
              timeout_seconds) {
        kill(pid, SIGKILL);
        hung = true;
        break;
      }
    }
    ::close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (next < files.size()) {
      // The child stopped before reporting file `next`: that file did it.
      listing.damaged.push_back(
          {files[next], hung ? fmt::format("reading it did not finish within {} s (HDF5 hung on "
                                           "the file?)",
                                           timeout_seconds)
                             : fmt::format("{} while reading it (a damaged file can crash HDF5)",
                                           describe_wait_status(status))});
      ++next;
    }
  }
  return listing;
}

FixtureDirectory::FixtureDirectory(const std::filesystem::path& dir, double list_timeout_seconds,
                                   std::uint64_t max_case_bytes)
    : dir_(dir), max_case_bytes_(max_case_bytes) {
  const auto files = fixture::fixture_files(dir);
  std::vector<fixture::IndexEntry> indexed = fixture::read_fixture_index(dir);
  std::set<std::string> present;
  for (const auto& f : files) present.insert(relative_name(dir, f));
  std::set<std::string> in_index;
  for (auto& e : indexed) {
    if (!present.contains(e.file)) continue;  // removed since: the index is only a hint
    in_index.insert(e.file);
    entries_.push_back(std::move(e));
  }
  std::vector<std::filesystem::path> unlisted;
  for (const auto& f : files)
    if (!in_index.contains(relative_name(dir, f))) unlisted.push_back(f);
  if (!unlisted.empty()) {
    Listing l = list_fixture_files(dir, unlisted, list_timeout_seconds);
    listed_ = unlisted.size();
    for (auto& e : l.entries) entries_.push_back(std::move(e));
    damaged_ = std::move(l.damaged);
  }
  // By descriptor: reports read in a sensible order whatever the file names.
  std::stable_sort(entries_.begin(), entries_.end(),
                   [](const auto& a, const auto& b) { return a.descriptor < b.descriptor; });
}

const std::string& FixtureDirectory::descriptor(std::size_t i) const {
  return entries_[i].descriptor;
}

std::string FixtureDirectory::location(std::size_t i) const {
  return (dir_ / entries_[i].file).string();
}

fixture::Case FixtureDirectory::load(std::size_t i) const {
  const auto& e = entries_[i];
  const fixture::FixtureReader reader(dir_ / e.file, max_case_bytes_);
  if (e.case_number >= reader.size())
    throw model::InputError(fmt::format("{}: holds {} case(s); the index names case {}",
                                        location(i), reader.size(), e.case_number));
  fixture::Case c = reader.read(e.case_number);
  if (c.descriptor() != e.descriptor)
    throw model::InputError(fmt::format("{}: holds '{}' where the index names '{}'", location(i),
                                        c.descriptor(), e.descriptor));
  return c;
}

std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Selection parse_shard(std::string_view text, Selection s) {
  const auto slash = text.find('/');
  int k = 0, n = 0;
  const auto parse = [](std::string_view part, int& v) {
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    return ec == std::errc() && p == part.data() + part.size() && !part.empty();
  };
  if (slash == std::string_view::npos || !parse(text.substr(0, slash), k) ||
      !parse(text.substr(slash + 1), n) || n < 1 || k < 1 || k > n)
    throw model::InputError(
        fmt::format("--shard '{}': expected K/N with 1 <= K <= N, e.g. 2/4", text));
  s.shard = k;
  s.shards = n;
  return s;
}

std::optional<std::string> filter_descriptor(std::string_view filter) {
  if (filter.empty() || filter.starts_with("re:") ||
      filter.find_first_of("*?[") != std::string_view::npos)
    return std::nullopt;
  try {
    return model::to_descriptor(model::parse_descriptor(filter));
  } catch (const model::InputError&) {
    return std::nullopt;  // not a descriptor: a plain glob (that matches itself only)
  }
}

std::vector<std::size_t> select_cases(const CaseSource& cases, const Selection& selection) {
  std::function<bool(const std::string&)> matches = [](const std::string&) { return true; };
  if (auto exact = filter_descriptor(selection.filter)) {
    matches = [d = std::move(*exact)](const std::string& c) { return c == d; };
  } else if (selection.filter.starts_with("re:")) {
    std::shared_ptr<std::regex> re;
    try {
      re = std::make_shared<std::regex>(selection.filter.substr(3), std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      throw model::InputError(
          fmt::format("--filter '{}': not a regular expression: {}", selection.filter, e.what()));
    }
    matches = [re](const std::string& d) { return std::regex_search(d, *re); };
  } else if (!selection.filter.empty()) {
    matches = [pattern = selection.filter](const std::string& d) {
      return compare::glob_match(pattern, d);
    };
  }
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string& d = cases.descriptor(i);
    if (!matches(d)) continue;
    if (selection.shards > 1 &&
        fnv1a64(d) % std::uint64_t(selection.shards) != std::uint64_t(selection.shard - 1))
      continue;
    out.push_back(i);
  }
  return out;
}

}  // namespace normcheck::runner
