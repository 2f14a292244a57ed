#include "normcheck/mpi/rank_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace normcheck::mpi {

namespace {

// Raw host values: the bytes only travel between ranks of one job.
template <class T>
void put(std::string& s, T v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_text(std::string& s, std::string_view text) {
  put(s, std::uint64_t(text.size()));
  s.append(text);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}
  template <class T>
  T get() {
    T v{};
    need(sizeof v);
    std::memcpy(&v, rest_.data(), sizeof v);
    rest_.remove_prefix(sizeof v);
    return v;
  }
  std::string text() {
    const auto n = get<std::uint64_t>();
    need(n);
    std::string s(rest_.substr(0, std::size_t(n)));
    rest_.remove_prefix(std::size_t(n));
    return s;
  }
  bool done() const { return rest_.empty(); }

 private:
  void need(std::uint64_t n) const {
    if (rest_.size() < n) throw std::runtime_error("a rank's result arrived truncated");
  }
  std::string_view rest_;
};

std::string by_rank(std::size_t rank, std::size_t ranks, std::string_view text) {
  return ranks > 1 ? fmt::format("rank {}: {}", rank, text) : std::string(text);
}

runner::CallRecord merge_call(const std::vector<runner::ChildReport>& reports, std::size_t k) {
  const std::size_t ranks = reports.size();
  runner::CallRecord m;
  m.finished = true;
  std::optional<std::size_t> broken;  // first rank that never began or never finished the call
  for (std::size_t r = 0; r < ranks; ++r) {
    if (k >= reports[r].calls.size()) {
      broken = broken.value_or(r);
      continue;
    }
    const runner::CallRecord& c = reports[r].calls[k];
    if (m.name.empty()) m.name = c.name;
    m.expected.insert(m.expected.end(), c.expected.begin(), c.expected.end());
    m.outputs.insert(m.outputs.end(), c.outputs.begin(), c.outputs.end());
    for (const auto& o : c.overruns) m.overruns.push_back(by_rank(r, ranks, o));
    for (const auto& i : c.modified_inputs) m.modified_inputs.push_back(by_rank(r, ranks, i));
    m.seconds = std::max(m.seconds, c.seconds);
    if (!c.finished) broken = broken.value_or(r);
    if (c.finished && c.status != NC_OK && m.status == NC_OK) {
      m.status = c.status;
      m.message = by_rank(r, ranks, c.message);
    }
  }
  if (broken) {
    m.finished = false;
    if (ranks > 1) m.name += fmt::format(" on rank {}", *broken);
  }
  return m;
}

}  // namespace

std::string encode_rank_run(const RankRun& r) {
  std::string s;
  put(s, std::int32_t(r.process.kind));
  put(s, std::int32_t(r.process.code));
  put(s, r.process.seconds);
  put(s, r.process.timeout_seconds);
  put_text(s, r.process.log_tail);
  put_text(s, r.report);
  return s;
}

RankRun decode_rank_run(std::string_view bytes) {
  Reader in(bytes);
  RankRun r;
  const auto kind = in.get<std::int32_t>();
  if (kind < 0 || kind > std::int32_t(runner::ProcessOutcome::Kind::interrupted))
    throw std::runtime_error("a rank's result is garbled");
  r.process.kind = runner::ProcessOutcome::Kind(kind);
  r.process.code = in.get<std::int32_t>();
  r.process.seconds = in.get<double>();
  r.process.timeout_seconds = in.get<double>();
  r.process.log_tail = in.text();
  r.report = in.text();
  if (!in.done()) throw std::runtime_error("a rank's result has trailing bytes");
  return r;
}

MergedRun merge_ranks(const std::vector<RankRun>& ranks) {
  std::vector<runner::ChildReport> reports;
  for (const auto& r : ranks) reports.push_back(runner::parse_child_report(r.report));
  const std::size_t n = reports.size();
  MergedRun m;
  m.report.complete = !reports.empty();
  m.report.supported = NC_OK;
  std::size_t calls = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const runner::ChildReport& c = reports[r];
    if (!c.supported)
      m.report.supported.reset();
    else if (m.report.supported && *m.report.supported == NC_OK && *c.supported != NC_OK) {
      m.report.supported = c.supported;
      m.report.unsupported_reason = by_rank(r, n, c.unsupported_reason);
    }
    for (const auto& [name, tensor] : c.outputs) m.report.outputs.emplace(name, tensor);
    m.report.complete = m.report.complete && c.complete;
    if (!c.harness_error.empty())
      m.report.harness_error +=
          (m.report.harness_error.empty() ? "" : "; ") + by_rank(r, n, c.harness_error);
    calls = std::max(calls, c.calls.size());
  }
  for (std::size_t k = 0; k < calls; ++k) m.report.calls.push_back(merge_call(reports, k));

  m.process = ranks.empty() ? runner::ProcessOutcome{} : ranks.front().process;
  for (std::size_t r = 0; r < ranks.size(); ++r)
    m.process.seconds = std::max(m.process.seconds, ranks[r].process.seconds);
  for (std::size_t r = 0; r < ranks.size(); ++r) {
    if (ranks[r].process.clean()) continue;
    const double seconds = m.process.seconds;
    m.process = ranks[r].process;
    m.process.seconds = seconds;
    if (!m.process.log_tail.empty()) m.process.log_tail = by_rank(r, n, m.process.log_tail);
    break;
  }
  return m;
}

}  // namespace normcheck::mpi
