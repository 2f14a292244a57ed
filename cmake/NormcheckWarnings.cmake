# Warnings are errors on the project's own code only (never on Debian's
# headers, which are included as SYSTEM).
function(normcheck_project_warnings target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CXX,C>:-Wall -Wextra -Wpedantic -Werror>)
endfunction()

if(NORMCHECK_SANITIZE)
  # nvcc accepts these too: CMake passes -forward-unknown-to-host-compiler,
  # so they reach the host compiler for the host code of .cu files.
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  # GCC 12 reports false -Wmaybe-uninitialized in ASan-instrumented
  # std::regex (Catch2's main); the un-instrumented build keeps the check.
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-maybe-uninitialized>)
  # Likewise GCC 12's -Wrestrict on inlined std::string assignments under
  # ASan (GCC PR 105329), e.g. `str = "-"`.
  add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-Wno-restrict>)
  add_link_options(-fsanitize=address,undefined)
endif()
