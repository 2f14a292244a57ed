// Whether oneDNN 2.6 can run bf16 on this CPU: its CPU bf16 kernels need
// AVX-512 (avx512_core: BW, VL, DQ). On an AVX2-only CPU (the AMD EPYC CI
// machines) the adapter must decline bf16 with the reason, and the bf16
// numerics tests say they are skipped instead of failing.
#pragma once

inline bool cpu_runs_onednn_bf16() {
  return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512dq");
}
