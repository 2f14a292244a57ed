# Runs `MPIEXEC NP_FLAG RANKS normcheck run-mpi ARGS --report WORK/report`
# and checks what came out:
#   EXPECT_CODE    the exit code of mpirun and of every rank (each rank
#                  records its own, so disagreeing ranks are caught)
#   EXPECT_OUTPUT  a regex the combined stdout + stderr must match
#   EXPECT         what results.json must hold:
#     all_checks_pass      every case of RANKS shards has y, saved_mean,
#                          saved_rstd, running_mean, running_var, dx, dgamma,
#                          dbeta and determinism records, all passing
#     unequal_shards_fail  cases with equal shards pass every check; cases
#                          with unequal shards fail y and saved_mean
#     y_crash / y_timeout / y_error   every case's y record has that status
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
# Every rank writes its exit code, then waits (up to a minute) until all
# have, before exiting: mpirun kills the remaining ranks as soon as one
# exits nonzero, which must not cost another rank its record.
file(WRITE ${WORK}/rank.sh "\"$@\"
code=$?
rank=\${OMPI_COMM_WORLD_RANK:-\${PMI_RANK:-0}}
echo $code > \"${WORK}/code.$rank\"
for i in $(seq 1 1200); do
  [ $(ls \"${WORK}\" | grep -c '^code\\.') -ge ${RANKS} ] && break
  sleep 0.05
done
exit $code
")
execute_process(
  COMMAND ${MPIEXEC} ${NP_FLAG} ${RANKS} sh ${WORK}/rank.sh ${NORMCHECK} run-mpi ${ARGS} --report ${WORK}/report
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 280)
message("${out}${err}")
if(NOT "${code}" STREQUAL "${EXPECT_CODE}")
  message(FATAL_ERROR "mpirun exited with '${code}', expected ${EXPECT_CODE}")
endif()
math(EXPR last "${RANKS} - 1")
foreach(rank RANGE ${last})
  if(NOT EXISTS ${WORK}/code.${rank})
    message(FATAL_ERROR "rank ${rank} recorded no exit code")
  endif()
  file(STRINGS ${WORK}/code.${rank} rank_code)
  if(NOT "${rank_code}" STREQUAL "${EXPECT_CODE}")
    message(FATAL_ERROR "rank ${rank} exited with ${rank_code}, expected ${EXPECT_CODE}")
  endif()
endforeach()
if(EXPECT_OUTPUT AND NOT "${out}${err}" MATCHES "${EXPECT_OUTPUT}")
  message(FATAL_ERROR "the output does not match '${EXPECT_OUTPUT}'")
endif()
if(NOT EXPECT)
  return()
endif()

file(READ ${WORK}/report/results.json json)
string(JSON n LENGTH "${json}" records)
if(n EQUAL 0)
  message(FATAL_ERROR "results.json holds no records")
endif()
set(cases "")
math(EXPR n_last "${n} - 1")
foreach(i RANGE ${n_last})
  string(JSON case GET "${json}" records ${i} case)
  string(JSON check GET "${json}" records ${i} check)
  string(JSON status GET "${json}" records ${i} status)
  string(JSON message GET "${json}" records ${i} message)
  if(NOT case MATCHES ":shards=([0-9+]+)")
    message(FATAL_ERROR "record ${i}: case '${case}' is not SyncBN")
  endif()
  string(REPLACE "+" ";" shards "${CMAKE_MATCH_1}")
  list(LENGTH shards shard_count)
  if(NOT shard_count EQUAL RANKS)
    message(FATAL_ERROR "record ${i}: case '${case}' has ${shard_count} shards, the run ${RANKS} ranks")
  endif()
  list(REMOVE_DUPLICATES shards)
  list(LENGTH shards distinct)
  string(MAKE_C_IDENTIFIER "${case}" key)
  list(APPEND cases ${key})
  set(case_${key} "${case}")
  set(equal_${key} ${distinct})
  set(status_${key}_${check} ${status})
  set(message_${key}_${check} "${message}")
endforeach()
list(REMOVE_DUPLICATES cases)

set(equal_cases 0)
set(unequal_cases 0)
foreach(key IN LISTS cases)
  set(case "${case_${key}}")
  if(EXPECT STREQUAL "all_checks_pass")
    foreach(check y saved_mean saved_rstd running_mean running_var dx dgamma dbeta determinism)
      if(NOT "${status_${key}_${check}}" STREQUAL "pass")
        message(FATAL_ERROR "${case}: check '${check}' is '${status_${key}_${check}}', expected pass: "
                            "${message_${key}_${check}}")
      endif()
    endforeach()
  elseif(EXPECT STREQUAL "unequal_shards_fail")
    if(equal_${key} EQUAL 1)
      math(EXPR equal_cases "${equal_cases} + 1")
      foreach(check y saved_mean saved_rstd running_mean running_var dx dgamma dbeta)
        if(NOT "${status_${key}_${check}}" STREQUAL "pass")
          message(FATAL_ERROR "${case} (equal shards): '${check}' is '${status_${key}_${check}}', expected pass: "
                              "${message_${key}_${check}}")
        endif()
      endforeach()
    else()
      math(EXPR unequal_cases "${unequal_cases} + 1")
      foreach(check y saved_mean)
        if(NOT "${status_${key}_${check}}" STREQUAL "fail")
          message(FATAL_ERROR "${case} (unequal shards): '${check}' is '${status_${key}_${check}}', expected fail")
        endif()
      endforeach()
    endif()
  elseif(EXPECT MATCHES "^y_(.*)$")
    if(NOT "${status_${key}_y}" STREQUAL "${CMAKE_MATCH_1}")
      message(FATAL_ERROR "${case}: y is '${status_${key}_y}', expected ${CMAKE_MATCH_1}: ${message_${key}_y}")
    endif()
  else()
    message(FATAL_ERROR "unknown EXPECT '${EXPECT}'")
  endif()
endforeach()
if(EXPECT STREQUAL "unequal_shards_fail" AND (equal_cases EQUAL 0 OR unequal_cases EQUAL 0))
  message(FATAL_ERROR "expected both equal-shard (${equal_cases}) and unequal-shard (${unequal_cases}) cases")
endif()
list(LENGTH cases case_count)
message(STATUS "${case_count} cases checked (${EXPECT})")
