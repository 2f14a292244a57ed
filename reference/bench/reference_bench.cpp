// Throughput of the certified reference: layer_norm forward+backward on
// 768-wide rows, one thread, median of repeats. Prints a markdown table.
// Both wall-clock and process CPU time are reported: on a shared machine
// other processes steal wall time, while CPU time counts only this thread's
// work (the program is single-threaded), so it is the comparable number.
//
//   reference_bench [rows=256] [repeats=7]

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "normcheck/reference/normalization.hpp"

using namespace normcheck::reference;

namespace {

struct Case {
  std::string name;
  int mantissa_bits;  // data rounded to this many significant bits (24: fp32)
  double shift;       // mean of x: the conditioning knob
  bool residual;
};

double round_bits(double v, int bits) {
  if (v == 0) return v;
  int e;
  std::frexp(v, &e);
  const double q = std::ldexp(1.0, e - bits);
  return std::nearbyint(v / q) * q;
}

struct Timing {
  double wall, cpu;  // medians, seconds
};

Timing median_seconds(const std::function<void()>& f, int repeats) {
  std::vector<double> wall, cpu;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    f();
    cpu.push_back(static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC);
    wall.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], cpu[cpu.size() / 2]};
}

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t rows = argc > 1 ? std::atoll(argv[1]) : 256;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 7;
  constexpr std::int64_t kWidth = 768;
  const std::vector<Case> cases{
      {"fp32 data, N(0,1)", 24, 0, false},
      {"fp32 data, N(0,1), residual", 24, 0, true},
      {"bf16 data, N(0,1)", 8, 0, false},
      {"fp64 data, N(0,1)", 53, 0, false},
      {"fp32 data, mean 1e4 sigma 1", 24, 1e4, false},
  };
  NormGeometry g;
  g.op = NormOp::layer_norm;
  g.shape = {rows, kWidth};
  g.norm_axis = 1;
  const auto n = static_cast<std::size_t>(rows * kWidth);
  std::printf("layer_norm, rows of %lld, %lld rows (%zu elements), median of %d, one thread\n\n",
              static_cast<long long>(kWidth), static_cast<long long>(rows), n, repeats);
  std::printf("Melem/s = elements / median time; cpu = process CPU time, wall = elapsed.\n\n");
  std::printf(
      "| case | fwd+bwd (cpu) | fwd+bwd (wall) | fwd (cpu) | bwd (cpu) | escalated (y, dx) |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> nd;
  for (const Case& c : cases) {
    std::vector<double> x(n), res(c.residual ? n : 0), dy(n), gamma(kWidth), beta(kWidth);
    for (auto& v : x) v = round_bits(c.shift + nd(rng), c.mantissa_bits);
    for (auto& v : res) v = round_bits(0.1 * nd(rng), c.mantissa_bits);
    for (auto& v : dy) v = round_bits(nd(rng), c.mantissa_bits);
    for (auto& v : gamma) v = round_bits(1 + 0.5 * nd(rng), c.mantissa_bits);
    for (auto& v : beta) v = round_bits(0.5 * nd(rng), c.mantissa_bits);
    ForwardInputs in;
    in.x = x;
    in.residual = res;
    in.gamma = gamma;
    in.beta = beta;
    in.eps = 1e-5;
    ForwardBackwardResult last;
    const Timing t_fb = median_seconds([&] { last = forward_backward(g, in, dy); }, repeats);
    const Timing t_f = median_seconds([&] { (void)forward(g, in); }, repeats);
    const Timing t_b = median_seconds([&] { (void)backward(g, in, dy); }, repeats);
    const bool ok = last.forward.y.cert.all_certified && last.backward.dx.cert.all_certified &&
                    last.backward.dgamma.cert.all_certified &&
                    last.backward.dbeta.cert.all_certified;
    std::printf("| %s | %.2f | %.2f | %.2f | %.2f | %lld, %lld%s |\n", c.name.c_str(),
                n / t_fb.cpu / 1e6, n / t_fb.wall / 1e6, n / t_f.cpu / 1e6, n / t_b.cpu / 1e6,
                static_cast<long long>(last.forward.y.cert.escalated),
                static_cast<long long>(last.backward.dx.cert.escalated), ok ? "" : " UNCERTIFIED");
  }
  return 0;
}
