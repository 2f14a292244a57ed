# NORMCHECK_FUZZ: a separate build tree for the libFuzzer targets of
# harness/fuzz (clang only: GCC has no libFuzzer). The whole project is
# instrumented for coverage (fuzzer-no-link) and checked by AddressSanitizer
# + UndefinedBehaviorSanitizer; only the fuzz targets link libFuzzer's main.
#   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DNORMCHECK_FUZZ=ON
# (scripts/fuzz does this with the options below).
if(NORMCHECK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "NORMCHECK_FUZZ needs clang (libFuzzer): CC=clang CXX=clang++ cmake ...")
  endif()
  if(NORMCHECK_SANITIZE)
    message(FATAL_ERROR "NORMCHECK_FUZZ already sanitizes; leave NORMCHECK_SANITIZE off")
  endif()
  add_compile_options($<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=fuzzer-no-link,address,undefined>
                      $<$<COMPILE_LANGUAGE:C,CXX>:-fno-omit-frame-pointer>
                      $<$<COMPILE_LANGUAGE:C,CXX>:-fno-sanitize-recover=undefined>)
  add_link_options(-fsanitize=address,undefined)
endif()
