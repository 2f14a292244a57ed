# The installed normcheck as a user gets it: `cmake --install` into a fresh
# prefix, the example plugin built out of tree against it with
# find_package(normcheck), the installed CLI run on it from another working
# directory (quick suite), a built-in backend found by name, and the
# installed Python package finding its data in the prefix.
# In: BUILD (the build tree), SOURCE (the source tree), WORK (scratch), PYTHON.
set(prefix ${WORK}/prefix)
set(plugin ${WORK}/plugin-build)
set(elsewhere ${WORK}/elsewhere)
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${elsewhere})

function(run what)
  execute_process(COMMAND ${ARGN} WORKING_DIRECTORY ${elsewhere}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (exit ${rc}):\n${out}\n${err}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run("cmake --install" ${CMAKE_COMMAND} --install ${BUILD} --prefix ${prefix})
foreach(f bin/normcheck include/normcheck/backend.h include/normcheck/numeric/dtype.hpp
          lib/normcheck/backends/libnormcheck_backend_cpu.so lib/cmake/normcheck/normcheckConfig.cmake
          share/normcheck/reports/tolerances/default.toml share/normcheck/fixtures/suites/quick.txt)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "not installed: ${prefix}/${f}")
  endif()
endforeach()

# The plugin, against the installed package only (no source-tree header).
run("configuring the example plugin" ${CMAKE_COMMAND} -S ${SOURCE}/impls/examples/plugin -B ${plugin}
    -DCMAKE_PREFIX_PATH=${prefix})
if(NOT out MATCHES "normcheck 0\\.[0-9.]+ \\(installed\\): ${prefix}/lib/cmake/normcheck")
  message(FATAL_ERROR "the example plugin did not use the installed normcheck:\n${out}")
endif()
run("building the example plugin" ${CMAKE_COMMAND} --build ${plugin})

# The installed CLI, from a folder that is neither the source nor the build
# tree; no environment pointing it anywhere.
set(clean_env ${CMAKE_COMMAND} -E env --unset=NORMCHECK_ROOT --unset=NORMCHECK_BACKEND_DIR)
run("the installed CLI on the plugin" ${clean_env} ${prefix}/bin/normcheck run --suite quick
    --backend ${plugin}/libmykernels.so --report ${elsewhere}/report --jobs 2)
file(READ ${elsewhere}/report/results.json results)
string(JSON fixtures GET "${results}" run fixtures)
string(JSON tolerances GET "${results}" run tolerances)
string(JSON records LENGTH "${results}" records)
if(NOT fixtures MATCHES "^${prefix}/share/normcheck/fixtures/golden/quick" OR
   NOT tolerances STREQUAL "${prefix}/share/normcheck/reports/tolerances/default.toml")
  message(FATAL_ERROR "the installed CLI read its data elsewhere: fixtures ${fixtures}, tolerances ${tolerances}")
endif()
if(records LESS 100)
  message(FATAL_ERROR "only ${records} records in the installed CLI's run")
endif()
run("a built-in backend by name" ${clean_env} ${prefix}/bin/normcheck run --suite quick --backend cpu
    --filter "ln:f32:*" --report ${elsewhere}/report-cpu)
if(NOT PYTHON)  # built without the Python package
  message(STATUS "installed, built the plugin, ran it (${records} records); no Python package to check")
  return()
endif()
run("the installed Python package" ${CMAKE_COMMAND} -E env --unset=NORMCHECK_ROOT
    PYTHONPATH=${prefix}/lib/python3/dist-packages ${PYTHON} -c
    "import normcheck; d = normcheck.suite_dir('quick'); assert str(d).startswith('${prefix}/'), d; print(len(normcheck.cases('quick')))")
message(STATUS "installed, built the plugin, ran it (${records} records); Python package read ${out} cases")
