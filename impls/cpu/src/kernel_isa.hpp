// Which build of the kernels a call runs (wide.hpp's kits; ln/rms rows,
// and the NCHW runs and NHWC tiles of batch, group and instance norm):
//   portable     two 32-byte halves per 16 lanes, cloned for every x86-64
//                (NC_SIMD_CLONES: AVX-512, AVX2, baseline);
//   avx512       one 64-byte vector per 16 lanes, compiled for x86-64-v4
//                only (GCC 12 spills 64-byte vectors in the other clones);
//   avx512_bf16  as avx512, bf16 results rounded by vcvtne2ps2bf16.
// All three compute the same bits, NaN sign and payload aside (tests
// compare them on one machine); the 64-byte builds halve the instructions
// of the conversion-bound bf16 kernels (reports/perf.md, issue 17).
#pragma once

#include <cstdint>

// The targets of the 64-byte builds. avx512_bf16 is not part of x86-64-v4
// (Cooper Lake, Sapphire Rapids and later, Zen 4 and later have it).
#define NC_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define NC_TARGET_AVX512_BF16 __attribute__((target("arch=x86-64-v4,avx512bf16")))

namespace normcheck::cpu {

enum class KernelIsa { portable, avx512, avx512_bf16 };

// The build for this call: the best this CPU runs, or the one
// NORMCHECK_CPU_ISA names (portable, avx512, avx512_bf16; benchmarks time
// them side by side, tests compare their bits). Naming one this CPU lacks,
// or anything else, is an ArgumentError. Read on every call, like
// NORMCHECK_CPU_THREADS.
KernelIsa kernel_isa();

// A family's task entry point per build.
template <class Job>
struct ByIsa {
  using Task = void (*)(const Job&, std::int64_t, std::int64_t);
  Task portable, avx512, avx512_bf16;
  constexpr Task at(KernelIsa isa) const {
    switch (isa) {
      case KernelIsa::avx512:
        return avx512;
      case KernelIsa::avx512_bf16:
        return avx512_bf16;
      case KernelIsa::portable:
        break;
    }
    return portable;
  }
};

}  // namespace normcheck::cpu

// Defines the three builds of the kernel family KERNEL<S, Kit> for jobs of
// type JOB, dispatched on the storage dtype DATA (an expression of the job
// `j`; see dispatch in kernels.hpp), and their table NAME (a ByIsa). A
// macro because each build is a function with its own target attribute.
#define NC_KERNEL_BUILDS(NAME, JOB, KERNEL, DATA)                                           \
  NC_SIMD_CLONES void NAME##_portable(const JOB& j, std::int64_t begin, std::int64_t end) { \
    dispatch<KERNEL, Kit32>(DATA, j, begin, end);                                           \
  }                                                                                         \
  NC_TARGET_AVX512 void NAME##_avx512(const JOB& j, std::int64_t begin, std::int64_t end) { \
    dispatch<KERNEL, Kit64>(DATA, j, begin, end);                                           \
  }                                                                                         \
  NC_TARGET_AVX512_BF16 void NAME##_avx512_bf16(const JOB& j, std::int64_t begin,           \
                                                std::int64_t end) {                         \
    dispatch<KERNEL, Kit64Bf16>(DATA, j, begin, end);                                       \
  }                                                                                         \
  constexpr ByIsa<JOB> NAME {                                                               \
    NAME##_portable, NAME##_avx512, NAME##_avx512_bf16                                      \
  }
