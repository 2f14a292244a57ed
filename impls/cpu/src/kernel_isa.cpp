#include "kernel_isa.hpp"

#include <array>
#include <cstdlib>
#include <string>
#include <string_view>

#include "normcheck/support/status.hpp"

namespace normcheck::cpu {

namespace {

struct IsaRow {
  KernelIsa isa;
  std::string_view name;
  bool (*available)();
};

bool always() {
  return true;
}
bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("x86-64-v4") != 0;
}
bool has_avx512_bf16() {
  return has_avx512() && __builtin_cpu_supports("avx512bf16") != 0;
}

// Best last: the default is the last row this CPU runs.
constexpr std::array<IsaRow, 3> kIsas{{
    {KernelIsa::portable, "portable", always},
    {KernelIsa::avx512, "avx512", has_avx512},
    {KernelIsa::avx512_bf16, "avx512_bf16", has_avx512_bf16},
}};

}  // namespace

KernelIsa kernel_isa() {
  const char* env = std::getenv("NORMCHECK_CPU_ISA");
  if (env == nullptr || *env == '\0') {
    KernelIsa best = KernelIsa::portable;
    for (const auto& row : kIsas)
      if (row.available()) best = row.isa;
    return best;
  }
  const std::string_view text(env);
  for (const auto& row : kIsas) {
    if (row.name != text) continue;
    if (!row.available())
      throw support::ArgumentError("NORMCHECK_CPU_ISA=" + std::string(text) +
                                   ": this CPU does not have the instructions it needs");
    return row.isa;
  }
  throw support::ArgumentError("NORMCHECK_CPU_ISA='" + std::string(text) +
                               "' is not portable, avx512 or avx512_bf16");
}

}  // namespace normcheck::cpu
