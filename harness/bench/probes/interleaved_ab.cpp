// nc_interleaved_ab: which of two or more builds of a backend runs one row
// problem (ln / rms, forward or backward) faster, on a host too noisy for
// medians. Calls of the builds alternate in blocks of --calls within one
// process, for --rounds rounds (the first build in each position in turn),
// and each build's fastest call of all rounds is reported with its ratio
// to the first build's: a host that slows down for a while slows every
// build's calls, but only the fastest calls, taken while it did not,
// decide. On the shared 2-core Zen 3 VM of 2026-12-07 (one thread, rows
// in L2/L3, 10 rounds of 20 calls) one build against itself read
// 0.98-1.01 on four rows in a quiet hour and 0.99-1.09 on five an hour
// later (the 1.09 on a 30 us call), where the medians of full-size
// `normcheck bench` runs read 0.92-1.02 and their per-round ranges
// 0.55-1.84 (reports/perf.md, issue 17, session 23): repeat a comparison,
// and trust a few per cent only where it repeats. Times, not bandwidth:
// pick shapes that stay in cache to compare code.
//
// Usage: nc_interleaved_ab [--op ln|rms] [--dir fwd|bwd] [--dtype f32|bf16]
//          [--rows R] [--cols C] [--rounds N] [--calls K] BACKEND.so ...
// The thread count is the backend's (NORMCHECK_CPU_THREADS). Exit 2 with
// one message on a bad option, a backend that does not load, or a call
// that fails.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "median.hpp"
#include "normcheck/backend.h"

namespace {

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "nc_interleaved_ab: %s\n", message.c_str());
  std::exit(2);
}

struct Options {
  std::string op = "ln", dir = "fwd", dtype = "bf16";
  long rows = 128, cols = 768, rounds = 10, calls = 20;
  std::vector<std::string> backends;
};

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
      one_of(o.op, {"ln", "rms"});
    else if (a == "--dir")
      one_of(o.dir, {"fwd", "bwd"});
    else if (a == "--dtype")
      one_of(o.dtype, {"f32", "bf16"});
    else if (a == "--rows")
      o.rows = count_of(argv[i - 1], v);
    else if (a == "--cols")
      o.cols = count_of(argv[i - 1], v);
    else if (a == "--rounds")
      o.rounds = count_of(argv[i - 1], v);
    else if (a == "--calls")
      o.calls = count_of(argv[i - 1], v);
    else
      fail("unknown option '" + std::string(a) + "' (--op --dir --dtype --rows --cols --rounds --calls)");
  }
  if (o.backends.empty()) fail("name at least one backend .so");
  if (o.rows * o.cols > (1l << 28)) fail("--rows x --cols above 2^28 elements");
  return o;
}

// A host tensor on a 64-byte line, filled with a fixed pseudo-random
// sequence (the same for every build).
struct Tensor {
  std::vector<std::int64_t> shape;
  std::unique_ptr<std::uint8_t[]> storage;
  DLTensor t{};
  Tensor(std::vector<std::int64_t> dims, bool bf16, std::uint32_t seed, float spread)
      : shape(std::move(dims)) {
    std::int64_t n = 1;
    for (const auto d : shape) n *= d;
    const std::size_t width = bf16 ? 2 : 4;
    storage = std::make_unique<std::uint8_t[]>(std::size_t(n) * width + 64);
    auto* p = storage.get() + (64 - reinterpret_cast<std::uintptr_t>(storage.get()) % 64) % 64;
    for (std::int64_t i = 0; i < n; ++i) {
      seed = seed * 1664525u + 1013904223u;
      const float v = (float((seed >> 8) & 0xffffu) / 65536.0f - 0.5f) * spread + 0.25f;
      std::uint32_t bits;
      std::memcpy(&bits, &v, 4);
      if (bf16) {
        const auto h = std::uint16_t(bits >> 16);  // truncation: any bf16 will do
        std::memcpy(p + 2 * i, &h, 2);
      } else {
        std::memcpy(p + 4 * i, &v, 4);
      }
    }
    t.data = p;
    t.device = {kDLCPU, 0};
    t.ndim = int(shape.size());
    t.dtype = {std::uint8_t(bf16 ? kDLBfloat : kDLFloat), std::uint8_t(8 * width), 1};
    t.shape = shape.data();
  }
};

struct Library {
  void* handle = nullptr;
  const nc_backend_v1* table = nullptr;
  explicit Library(const std::string& path) {
    handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (handle == nullptr) fail("cannot load '" + path + "': " + dlerror());
    const auto entry =
        reinterpret_cast<nc_backend_entry_v1>(dlsym(handle, NORMCHECK_BACKEND_ENTRY_V1));
    table = entry != nullptr ? entry() : nullptr;
    if (table == nullptr || table->abi_version != NORMCHECK_BACKEND_ABI_VERSION)
      fail("'" + path + "' has no normcheck backend table of ABI version " +
           std::to_string(NORMCHECK_BACKEND_ABI_VERSION));
  }
  Library(const Library&) = delete;
  Library& operator=(const Library&) = delete;
  ~Library() { dlclose(handle); }
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  std::vector<std::unique_ptr<Library>> libs;
  for (const auto& path : o.backends) libs.push_back(std::make_unique<Library>(path));

  const bool bf16 = o.dtype == "bf16", ln = o.op == "ln";
  nc_problem p{};
  p.struct_size = sizeof p;
  p.op = ln ? NC_OP_LAYER_NORM : NC_OP_RMS_NORM;
  p.layout = NC_LAYOUT_NCHW;
  p.ndim = 2;
  p.shape[0] = o.rows;
  p.shape[1] = o.cols;
  p.norm_axis = 1;
  p.data_dtype = {std::uint8_t(bf16 ? kDLBfloat : kDLFloat), std::uint8_t(bf16 ? 16 : 32), 1};
  p.param_dtype = p.data_dtype;
  p.stats_dtype = {kDLFloat, 32, 1};
  p.eps = 1e-5;
  p.mode = NC_MODE_TRAIN;
  p.flags = std::uint32_t(NC_FLAG_SCALE) | (ln ? std::uint32_t(NC_FLAG_SHIFT) : 0u);
  Tensor x({o.rows, o.cols}, bf16, 1, 4.0f), y({o.rows, o.cols}, bf16, 2, 1.0f),
      dy({o.rows, o.cols}, bf16, 3, 1.0f), dx({o.rows, o.cols}, bf16, 4, 1.0f),
      gamma({o.cols}, bf16, 5, 1.0f), beta({o.cols}, bf16, 6, 1.0f),
      dgamma({o.cols}, bf16, 7, 1.0f), dbeta({o.cols}, bf16, 8, 1.0f),
      mean({o.rows}, false, 9, 0.0f), rstd({o.rows}, false, 10, 0.0f);
  nc_forward_args fa{};
  fa.x = &x.t;
  fa.gamma = &gamma.t;
  fa.beta = ln ? &beta.t : nullptr;
  fa.y = &y.t;
  fa.saved_mean = ln ? &mean.t : nullptr;
  fa.saved_rstd = &rstd.t;
  nc_backward_args ba{};
  ba.dy = &dy.t;
  ba.x = &x.t;
  ba.gamma = &gamma.t;
  ba.saved_mean = fa.saved_mean;
  ba.saved_rstd = &rstd.t;
  ba.dx = &dx.t;
  ba.dgamma = &dgamma.t;
  ba.dbeta = ln ? &dbeta.t : nullptr;

  char message[512] = "";
  const auto call = [&](const Library& lib, bool forward) {
    const nc_status s = forward ? lib.table->forward(&p, &fa, message, sizeof message)
                                : lib.table->backward(&p, &ba, message, sizeof message);
    if (s != NC_OK) fail("the call failed (status " + std::to_string(int(s)) + "): " + message);
  };
  // The statistics the backward reads, from the first build's forward.
  call(*libs.front(), true);
  const bool forward = o.dir == "fwd";
  const std::size_t n = libs.size();
  std::vector<std::vector<double>> fastest(n);  // per build, per round
  for (long r = 0; r < o.rounds; ++r)
    for (std::size_t k0 = 0; k0 < n; ++k0) {
      const std::size_t k = (k0 + std::size_t(r)) % n;
      double best = 1e300;
      for (long c = 0; c < o.calls; ++c) {
        const auto start = std::chrono::steady_clock::now();
        call(*libs[k], forward);
        const auto stop = std::chrono::steady_clock::now();
        best = std::min(best, std::chrono::duration<double, std::micro>(stop - start).count());
      }
      fastest[k].push_back(best);
    }
  std::printf("%s %s %s %ldx%ld: fastest of %ld rounds x %ld calls\n", o.op.c_str(),
              o.dir.c_str(), o.dtype.c_str(), o.rows, o.cols, o.rounds, o.calls);
  const double first = *std::min_element(fastest[0].begin(), fastest[0].end());
  for (std::size_t k = 0; k < n; ++k) {
    const double best = *std::min_element(fastest[k].begin(), fastest[k].end());
    std::printf("  %-40s fastest %10.1f us  median of rounds' fastest %10.1f us  / first %.3f\n",
                o.backends[k].c_str(), best, normcheck::bench::median(fastest[k]), best / first);
  }
  return 0;
}
