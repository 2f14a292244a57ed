// nc_interleaved_ab: which of two or more builds of a backend runs one
// problem (ln / rms rows, bn / gn / in channels-first or channels-last;
// forward or backward) faster, on a host too noisy for medians. Calls of the builds alternate in
// blocks of --calls within one process, for --rounds rounds (the first build in each position in
// turn), and each build's fastest call of all rounds is reported with its ratio to the first
// build's: a host that slows down for a while slows every build's calls, but only the fastest
// calls, taken while it did not, decide. On the shared 2-core Zen 3 VM of 2026-12-07 (one thread,
// rows in L2/L3, 10 rounds of 20 calls) one build against itself read 0.98-1.01 on four rows in a
// quiet hour and 0.99-1.09 on five an hour later (the 1.09 on a 30 us call), where the medians of
// full-size `normcheck bench` runs read 0.92-1.02 and their per-round ranges 0.55-1.84
// (reports/perf.md, issue 17, session 23): repeat a comparison, and trust a few per cent only where
// it repeats. Times, not bandwidth: pick shapes that stay in cache to compare code.
//
// Usage: nc_interleaved_ab [--op ln|rms|bn|gn|in] [--dir fwd|bwd] [--dtype f32|bf16|f16]
//          [--rows R] [--cols C] [--shape N,C,H,W] [--layout nchw|nhwc]
//          [--rounds N] [--calls K] BACKEND ...
// --rows and --cols shape ln / rms problems; --shape any problem (for
// nhwc in storage order, N,H,W,C, as `normcheck bench` gives it; default
// for bn / gn / in: bench's 32,256,28,28 or 32,28,28,256).
// BACKEND: a plugin .so path (build/backends/libnormcheck_backend_cpu.so;
// a built-in name only with NORMCHECK_BACKEND_DIR set, since this program
// lives in build/bench). The problem and tensors are `normcheck bench`'s
// (bench_problem, Buffers) at the given shape.
// The thread count is the backend's (NORMCHECK_CPU_THREADS). Exit 2 with
// one message on a bad option, a backend that does not load, or a call
// that fails.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bench_buffers.hpp"
#include "median.hpp"
#include "normcheck/backend/loaded_backend.hpp"
#include "normcheck/backend/problem_abi.hpp"
#include "normcheck/bench/workload.hpp"
#include "normcheck/model/op_traits.hpp"
#include "normcheck/model/problem.hpp"

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "nc_interleaved_ab: %s\n", message.c_str());
  std::exit(2);
}

struct Options {
  std::string op = "ln", dir = "fwd", dtype = "bf16", layout = "nchw";
  long rows = 128, cols = 768, rounds = 10, calls = 20;
  std::vector<std::int64_t> shape;  // --shape, else rows x cols or bench's
  std::vector<std::string> backends;
};

long count_of(const char* option, const char* text);

// "A,B,..." (one to five positive integers).
std::vector<std::int64_t> shape_of(const char* option, const char* text) {
  std::vector<std::int64_t> shape;
  std::string_view rest = text;
  while (true) {
    const auto comma = rest.find(',');
    const std::string part(rest.substr(0, comma));
    shape.push_back(count_of(option, part.c_str()));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (shape.size() > 5)
    fail(std::string(option) + " takes at most 5 dimensions, not '" + text + "'");
  return shape;
}

long count_of(const char* option, const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 1 || v > (1l << 24))
    fail(std::string(option) + " needs an integer in [1, 16777216], not '" + text + "'");
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (!a.starts_with("--")) {
      o.backends.emplace_back(a);
      continue;
    }
    if (i + 1 >= argc) fail(std::string(a) + " needs a value");
    const char* v = argv[++i];
    const auto one_of = [&](std::string& out, std::initializer_list<std::string_view> allowed) {
      for (const auto x : allowed)
        if (x == v) {
          out = v;
          return;
        }
      fail(std::string(a) + " '" + v + "' is not one of the choices (see the usage)");
    };
    if (a == "--op")
      one_of(o.op, {"ln", "rms", "bn", "gn", "in"});
    else if (a == "--layout")
      one_of(o.layout, {"nchw", "nhwc"});
    else if (a == "--shape")
      o.shape = shape_of(argv[i - 1], v);
    else if (a == "--dir")
      one_of(o.dir, {"fwd", "bwd"});
    else if (a == "--dtype")
      one_of(o.dtype, {"f32", "bf16", "f16"});
    else if (a == "--rows")
      o.rows = count_of(argv[i - 1], v);
    else if (a == "--cols")
      o.cols = count_of(argv[i - 1], v);
    else if (a == "--rounds")
      o.rounds = count_of(argv[i - 1], v);
    else if (a == "--calls")
      o.calls = count_of(argv[i - 1], v);
    else
      fail("unknown option '" + std::string(a) +
           "' (--op --dir --dtype --rows --cols --shape --layout --rounds --calls)");
  }
  if (o.backends.empty()) fail("name at least one backend");
  const bool rows_op = o.op == "ln" || o.op == "rms";
  if (o.shape.empty())
    o.shape = rows_op              ? std::vector<std::int64_t>{o.rows, o.cols}
              : o.layout == "nchw" ? std::vector<std::int64_t>{32, 256, 28, 28}
                                   : std::vector<std::int64_t>{32, 28, 28, 256};
  std::int64_t elements = 1;
  for (const auto d : o.shape) {
    elements *= d;
    if (elements > (1l << 28)) fail("the shape has more than 2^28 elements");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace normcheck;
  const Options o = parse(argc, argv);
  std::vector<backend::LoadedBackend> libs;
  // The problem and tensors of `normcheck bench` (bench_problem, Buffers),
  // at this shape.
  const model::Op op = o.op == "ln"    ? model::Op::layer_norm
                       : o.op == "rms" ? model::Op::rms_norm
                       : o.op == "bn"  ? model::Op::batch_norm
                       : o.op == "gn"  ? model::Op::group_norm
                                       : model::Op::instance_norm;
  model::Problem p =
      bench::bench_problem(op, *numeric::parse_dtype(o.dtype));
  p.shape = o.shape;
  if (!model::traits(op).row_op)
    p.layout = o.layout == "nchw" ? model::Layout::nchw : model::Layout::nhwc;
  try {
    for (const auto& name : o.backends) libs.push_back(backend::LoadedBackend::load(name));
    model::validate(p);
  } catch (const std::exception& e) {
    fail(e.what());
  }
  bench::Buffers buffers(p);
  const nc_problem abi = backend::to_abi(p);

  char message[512] = "";
  const auto call = [&](const backend::LoadedBackend& lib, bool forward) {
    const nc_status s =
        forward ? lib.table().forward(&abi, &buffers.forward, message, sizeof message)
                : lib.table().backward(&abi, &buffers.backward, message, sizeof message);
    if (s != NC_OK) fail("the call failed (status " + std::to_string(int(s)) + "): " + message);
  };
  // The statistics the backward reads, from the first build's forward.
  call(libs.front(), true);
  const bool forward = o.dir == "fwd";
  const std::size_t n = libs.size();
  std::vector<std::vector<double>> fastest(n);  // per build, per round
  for (long r = 0; r < o.rounds; ++r)
    for (std::size_t k0 = 0; k0 < n; ++k0) {
      const std::size_t k = (k0 + std::size_t(r)) % n;
      double best = 1e300;
      for (long c = 0; c < o.calls; ++c) {
        const auto start = std::chrono::steady_clock::now();
        call(libs[k], forward);
        const auto stop = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::micro>(stop - start).count());
      }
      fastest[k].push_back(best);
    }
  std::string shape;
  for (const auto d : o.shape) {
    if (!shape.empty()) shape += 'x';
    shape += std::to_string(d);
  }
  if (!model::traits(op).row_op) shape.append(" ").append(o.layout);
  std::printf("%s %s %s %s: fastest of %ld rounds x %ld calls\n", o.op.c_str(), o.dir.c_str(),
              o.dtype.c_str(), shape.c_str(), o.rounds, o.calls);
  const double first = *std::min_element(fastest[0].begin(), fastest[0].end());
  for (std::size_t k = 0; k < n; ++k) {
    const double best = *std::min_element(fastest[k].begin(), fastest[k].end());
    std::printf("  %-40s fastest %10.1f us  median of rounds' fastest %10.1f us  / first %.3f\n",
                o.backends[k].c_str(), best, normcheck::bench::median(fastest[k]), best / first);
  }
  return 0;
}
