# Runs CMD with ARGS (a ;-list); checks the exit code (EXPECT_CODE), that
# stdout+stderr match EXPECT_OUTPUT (a regex, optional) and do not match
# REJECT_OUTPUT (a regex, optional), and that the files
# in EXPECT_FILES (a ;-list, optional) exist afterwards.
execute_process(COMMAND ${CMD} ${ARGS} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL EXPECT_CODE)
  message(FATAL_ERROR "expected exit code ${EXPECT_CODE}, got ${code}\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED EXPECT_OUTPUT AND NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "output does not match '${EXPECT_OUTPUT}':\nstdout: ${out}\nstderr: ${err}")
endif()
if(DEFINED REJECT_OUTPUT AND NOT "${REJECT_OUTPUT}" STREQUAL "" AND "${out}${err}" MATCHES "${REJECT_OUTPUT}")
  message(FATAL_ERROR "output matches '${REJECT_OUTPUT}', which it must not:\nstdout: ${out}\nstderr: ${err}")
endif()
foreach(f IN LISTS EXPECT_FILES)
  if(NOT EXISTS "${f}")
    message(FATAL_ERROR "expected file ${f} was not written\nstdout: ${out}\nstderr: ${err}")
  endif()
endforeach()
