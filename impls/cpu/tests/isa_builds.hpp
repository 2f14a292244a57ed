// The cpu builds (kernel_isa.hpp) this CPU runs besides the portable one,
// each named as NORMCHECK_CPU_ISA spells it.
#pragma once

#include <cstdlib>
#include <string>
#include <vector>

#include "../src/kernel_isa.hpp"
#include "scoped_env.hpp"

namespace normcheck::cpu::testing {

struct IsaBuilds {
  std::vector<std::string> compared;
  std::string summary;  // what is compared and what is not, and why
};

inline IsaBuilds isa_builds() {
  IsaBuilds out;
  std::string missing;
  for (const char* name : {"avx512", "avx512_bf16"}) {
    try {
      const ScopedEnv isa("NORMCHECK_CPU_ISA", name);
      static_cast<void>(kernel_isa());
      out.compared.emplace_back(name);
    } catch (const std::exception&) {
      missing += std::string(missing.empty() ? "" : ", ") + name;
    }
  }
  if (out.compared.empty()) {
    out.summary = "this CPU runs only the portable build (no AVX-512), nothing to compare";
  } else {
    out.summary = "comparing with the portable build:";
    for (const auto& name : out.compared) out.summary += " " + name;
    if (!missing.empty()) out.summary += " (not on this CPU: " + missing + ")";
  }
  return out;
}

}  // namespace normcheck::cpu::testing
