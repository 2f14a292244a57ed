# Fails unless the shared library LIB defines exactly one dynamic symbol,
# normcheck_backend_v1 (a backend must not leak its internals or its copies
# of template code into the process that loads it).
execute_process(COMMAND nm -D --defined-only ${LIB} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${LIB}")
endif()
string(REGEX MATCHALL "[^\n]+" lines "${out}")
set(symbols "")
foreach(line IN LISTS lines)
  string(REGEX REPLACE "^[0-9a-fA-F]* *[A-Za-z] " "" symbol "${line}")
  list(APPEND symbols "${symbol}")
endforeach()
if(NOT symbols STREQUAL "normcheck_backend_v1")
  message(FATAL_ERROR "${LIB} exports [${symbols}], expected only normcheck_backend_v1")
endif()
