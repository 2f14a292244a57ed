// nc_cuda_bench: the cuda backend's kernels on device tensors against the
// device's copy bandwidth, measured in one run (see reports/perf.md,
// "## CUDA backend", and scripts/gpu/run_gpu_session.sh).
//
//   nc_cuda_bench [--csv FILE] [--reps N] [--quick]
//
// Each case is timed with CUDA events around every launch (back to back on
// one stream, after warm-up) and reported as the median. Bandwidth counts
// the bytes an ideal kernel must move: layer/rms norm forward reads x and
// writes y, backward reads x and dy and writes dx (gamma, beta, statistics
// and dgamma/dbeta are a rounding error at these sizes); the channel norms
// likewise. The copy reference is cudaMemcpyAsync device-to-device, counted
// as bytes read plus bytes written.
#include <cuda_bf16.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "normcheck/cuda/ops.hpp"

namespace nc = normcheck::cuda;
using normcheck::numeric::DType;

namespace {

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(e));
}

struct DeviceFree {
  void operator()(void* p) const { cudaFree(p); }
};
using DeviceMemory = std::unique_ptr<void, DeviceFree>;

DeviceMemory device_alloc(std::size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes == 0 ? 1 : bytes), "cudaMalloc");
  return DeviceMemory(p);
}

// Deterministic pseudo-random fill in [-1, 1) + offset, any dtype.
__global__ void fill_kernel(void* data, DType t, std::int64_t n, std::uint64_t seed, float offset) {
  for (std::int64_t i = std::int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += std::int64_t(gridDim.x) * blockDim.x) {
    std::uint64_t h = (std::uint64_t(i) + seed) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    const float v = offset + float(h >> 40) * (2.0f / 16777216.0f) - 1.0f;
    switch (t) {
      case DType::f64:
        static_cast<double*>(data)[i] = v;
        break;
      case DType::f32:
        static_cast<float*>(data)[i] = v;
        break;
      case DType::f16:
        static_cast<__half*>(data)[i] = __float2half_rn(v);
        break;
      case DType::bf16:
        static_cast<__nv_bfloat16*>(data)[i] = __float2bfloat16_rn(v);
        break;
    }
  }
}

DeviceMemory filled(DType t, std::int64_t n, std::uint64_t seed, float offset = 0.0f) {
  DeviceMemory m = device_alloc(std::size_t(n) * normcheck::numeric::dtype_size(t));
  fill_kernel<<<1024, 256>>>(m.get(), t, n, seed, offset);
  check(cudaGetLastError(), "fill");
  return m;
}

struct Options {
  std::string csv;
  int reps = 50;
  bool quick = false;
};

// Median over `reps` event-timed launches after `warmup` untimed ones.
double median_us(const std::function<void()>& launch, int reps, cudaStream_t stream) {
  for (int i = 0; i < 5; ++i) launch();
  std::vector<cudaEvent_t> events(std::size_t(2 * reps));
  for (auto& e : events) check(cudaEventCreate(&e), "cudaEventCreate");
  for (int i = 0; i < reps; ++i) {
    check(cudaEventRecord(events[std::size_t(2 * i)], stream), "cudaEventRecord");
    launch();
    check(cudaEventRecord(events[std::size_t(2 * i + 1)], stream), "cudaEventRecord");
  }
  check(cudaStreamSynchronize(stream), "benchmark run");
  std::vector<double> times;
  for (int i = 0; i < reps; ++i) {
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, events[std::size_t(2 * i)], events[std::size_t(2 * i + 1)]),
          "cudaEventElapsedTime");
    times.push_back(double(ms) * 1e3);
  }
  for (auto& e : events) cudaEventDestroy(e);
  std::nth_element(times.begin(), times.begin() + std::ptrdiff_t(times.size() / 2), times.end());
  return times[times.size() / 2];
}

struct Row {
  std::string op, dtype, shape, direction;
  double us, bytes;
};

class Report {
 public:
  Report(double copy_gbs, const Options& o) : copy_gbs_(copy_gbs), options_(o) {}

  void add(Row r) {
    const double gbs = r.bytes / (r.us * 1e-6) / 1e9;
    std::printf("%-4s %-5s %-22s %-4s %10.2f us %8.1f GB/s %6.1f%% of copy\n", r.op.c_str(),
                r.dtype.c_str(), r.shape.c_str(), r.direction.c_str(), r.us, gbs,
                100.0 * gbs / copy_gbs_);
    rows_.push_back(std::move(r));
  }

  void write_csv() const {
    if (options_.csv.empty()) return;
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(options_.csv.c_str(), "w"), &std::fclose);
    if (!f) throw std::runtime_error("cannot write " + options_.csv);
    std::fprintf(f.get(), "impl,op,dtype,shape,direction,median_us,bytes,gbs,copy_gbs\n");
    for (const Row& r : rows_)
      std::fprintf(f.get(), "cuda,%s,%s,%s,%s,%.3f,%.0f,%.1f,%.1f\n", r.op.c_str(), r.dtype.c_str(),
                   r.shape.c_str(), r.direction.c_str(), r.us, r.bytes,
                   r.bytes / (r.us * 1e-6) / 1e9, copy_gbs_);
  }

 private:
  double copy_gbs_;
  const Options& options_;
  std::vector<Row> rows_;
};

double copy_bandwidth(cudaStream_t stream, const Options& o) {
  const std::size_t bytes = std::size_t(1) << 30;
  DeviceMemory a = device_alloc(bytes), b = device_alloc(bytes);
  check(cudaMemset(a.get(), 1, bytes), "cudaMemset");
  const double us = median_us(
      [&] {
        check(cudaMemcpyAsync(b.get(), a.get(), bytes, cudaMemcpyDeviceToDevice, stream),
              "cudaMemcpyAsync");
      },
      o.reps, stream);
  const double gbs = 2.0 * double(bytes) / (us * 1e-6) / 1e9;
  std::printf("copy D2D %zu bytes: %.2f us, %.1f GB/s (read + write)\n", bytes, us, gbs);
  return gbs;
}

void bench_rows(Report& report, cudaStream_t stream, const Options& o) {
  const std::vector<std::int64_t> hiddens =
      o.quick ? std::vector<std::int64_t>{4096} : std::vector<std::int64_t>{1024, 4096, 8192};
  for (bool rms : {false, true}) {
    for (DType t : {DType::bf16, DType::f32}) {
      for (std::int64_t hidden : hiddens) {
        nc::RowNormPlan plan;
        plan.rms = rms;
        plan.rows = 8192;
        plan.hidden = hidden;
        plan.data = t;
        plan.param = t;  // PyTorch's peer takes gamma in the data dtype
        plan.stats = DType::f32;
        plan.shift = !rms;
        const std::int64_t n = plan.rows * hidden;
        const double elem = double(normcheck::numeric::dtype_size(t));
        DeviceMemory x = filled(t, n, 1, rms ? 0.0f : 3.0f), dy = filled(t, n, 2);
        DeviceMemory y = device_alloc(std::size_t(n) * std::size_t(elem)),
                     dx = device_alloc(std::size_t(n) * std::size_t(elem));
        DeviceMemory gamma = filled(t, hidden, 3, 1.0f), beta = filled(t, hidden, 4);
        DeviceMemory dgamma = device_alloc(std::size_t(hidden) * std::size_t(elem)),
                     dbeta = device_alloc(std::size_t(hidden) * std::size_t(elem));
        DeviceMemory mean = device_alloc(std::size_t(plan.rows) * 4),
                     rstd = device_alloc(std::size_t(plan.rows) * 4);
        DeviceMemory ws = device_alloc(
            std::max(nc::row_norm_forward_workspace(plan), nc::row_norm_backward_workspace(plan)));

        nc::RowNormForwardArgs f;
        f.x = x.get();
        f.gamma = gamma.get();
        f.beta = plan.shift ? beta.get() : nullptr;
        f.y = y.get();
        f.mean = rms ? nullptr : mean.get();
        f.rstd = rstd.get();
        nc::RowNormBackwardArgs b;
        b.dy = dy.get();
        b.x = x.get();
        b.gamma = gamma.get();
        b.mean = f.mean;
        b.rstd = rstd.get();
        b.dx = dx.get();
        b.dgamma = dgamma.get();
        b.dbeta = plan.shift ? dbeta.get() : nullptr;
        const std::string shape = std::to_string(plan.rows) + "x" + std::to_string(hidden);
        const char* op = rms ? "rms" : "ln";
        const char* dt = t == DType::bf16 ? "bf16" : "f32";
        report.add(
            {op, dt, shape, "fwd",
             median_us([&] { nc::row_norm_forward(plan, f, ws.get(), stream); }, o.reps, stream),
             2.0 * double(n) * elem});
        report.add(
            {op, dt, shape, "bwd",
             median_us([&] { nc::row_norm_backward(plan, b, ws.get(), stream); }, o.reps, stream),
             3.0 * double(n) * elem});
      }
    }
  }
}

struct ChannelCase {
  nc::ChannelOp op;
  bool nhwc;
  std::int64_t n, c, s, groups;
};

void bench_channels(Report& report, cudaStream_t stream, const Options& o) {
  const std::vector<ChannelCase> cases = {
      {nc::ChannelOp::batch, false, 32, 256, 56 * 56, 1},
      {nc::ChannelOp::batch, true, 32, 256, 56 * 56, 1},
      {nc::ChannelOp::group, false, 16, 256, 64 * 64, 32},
      {nc::ChannelOp::group, true, 16, 256, 64 * 64, 32},
  };
  for (const ChannelCase& k : cases) {
    for (DType t : {DType::bf16, DType::f32}) {
      nc::ChannelNormPlan plan;
      plan.op = k.op;
      plan.channels_last = k.nhwc;
      plan.n = k.n;
      plan.c = k.c;
      plan.s = k.s;
      plan.groups = k.groups;
      plan.data = t;
      plan.param = t;
      plan.stats = DType::f32;
      plan.track_running_stats = k.op == nc::ChannelOp::batch;
      plan.mode = NC_MODE_TRAIN;
      const std::int64_t n = plan.elements();
      const double elem = double(normcheck::numeric::dtype_size(t));
      const std::int64_t groups = plan.stat_groups();
      DeviceMemory x = filled(t, n, 5), dy = filled(t, n, 6);
      DeviceMemory y = device_alloc(std::size_t(n) * std::size_t(elem)),
                   dx = device_alloc(std::size_t(n) * std::size_t(elem));
      DeviceMemory gamma = filled(t, plan.c, 7, 1.0f), beta = filled(t, plan.c, 8);
      DeviceMemory dgamma = device_alloc(std::size_t(plan.c) * std::size_t(elem)),
                   dbeta = device_alloc(std::size_t(plan.c) * std::size_t(elem));
      DeviceMemory rm = filled(DType::f32, plan.c, 9), rv = filled(DType::f32, plan.c, 10, 2.0f);
      DeviceMemory mean = device_alloc(std::size_t(groups) * 4),
                   rstd = device_alloc(std::size_t(groups) * 4);
      DeviceMemory ws = device_alloc(std::max(nc::channel_norm_forward_workspace(plan),
                                              nc::channel_norm_backward_workspace(plan)));
      nc::ChannelNormForwardArgs f;
      f.x = x.get();
      f.gamma = gamma.get();
      f.beta = beta.get();
      f.running_mean = plan.track_running_stats ? rm.get() : nullptr;
      f.running_var = plan.track_running_stats ? rv.get() : nullptr;
      f.y = y.get();
      f.saved_mean = mean.get();
      f.saved_rstd = rstd.get();
      nc::ChannelNormBackwardArgs b;
      b.dy = dy.get();
      b.x = x.get();
      b.gamma = gamma.get();
      b.saved_mean = mean.get();
      b.saved_rstd = rstd.get();
      b.dx = dx.get();
      b.dgamma = dgamma.get();
      b.dbeta = dbeta.get();
      // Valid saved statistics for the backward (the timed forwards also
      // move the running statistics, which does not change the work).
      nc::channel_norm_forward(plan, f, ws.get(), stream);
      const std::string shape =
          std::to_string(k.n) + "x" + std::to_string(k.c) + "x" + std::to_string(k.s) +
          (k.nhwc ? ":nhwc" : ":nchw") +
          (k.op == nc::ChannelOp::group ? ":g" + std::to_string(k.groups) : "");
      const char* op = k.op == nc::ChannelOp::batch ? "bn" : "gn";
      const char* dt = t == DType::bf16 ? "bf16" : "f32";
      report.add(
          {op, dt, shape, "fwd",
           median_us([&] { nc::channel_norm_forward(plan, f, ws.get(), stream); }, o.reps, stream),
           2.0 * double(n) * elem});
      report.add(
          {op, dt, shape, "bwd",
           median_us([&] { nc::channel_norm_backward(plan, b, ws.get(), stream); }, o.reps, stream),
           3.0 * double(n) * elem});
    }
  }
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--csv" && i + 1 < argc) {
      o.csv = argv[++i];
    } else if (a == "--reps" && i + 1 < argc) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--quick") {
      o.quick = true;
    } else {
      throw std::invalid_argument(
          "usage: nc_cuda_bench [--csv FILE] [--reps N] [--quick] (unknown: " + a + ")");
    }
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
      std::printf("skipped: no CUDA device\n");
      return 77;
    }
    cudaDeviceProp prop{};
    check(cudaGetDeviceProperties(&prop, 0), "cudaGetDeviceProperties");
    int runtime = 0;
    cudaRuntimeGetVersion(&runtime);
    std::printf("# nc_cuda_bench on %s (sm_%d%d, %d SMs), CUDA runtime %d, median of %d\n",
                prop.name, prop.major, prop.minor, prop.multiProcessorCount, runtime, o.reps);
    cudaStream_t stream = nullptr;
    check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    Report report(copy_bandwidth(stream, o), o);
    bench_rows(report, stream, o);
    bench_channels(report, stream, o);
    report.write_csv();
    cudaStreamDestroy(stream);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nc_cuda_bench: %s\n", e.what());
    return 1;
  }
}
