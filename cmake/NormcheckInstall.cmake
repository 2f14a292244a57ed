# `cmake --install build --prefix P`: the CLI, the built-in backends where the
# CLI looks for them (relative to its own binary), the ABI and numeric
# headers, the data the CLI resolves suites against, the Python package
# (harness/python), and a CMake package config for plugin authors:
#
#   find_package(normcheck CONFIG REQUIRED)
#   target_link_libraries(mine PRIVATE normcheck::backend_abi)
#
# Layout (the CLI's lookups in harness/backend and harness/runner/locations
# expect exactly this, relative to bin/):
#   bin/normcheck
#   lib/normcheck/backends/libnormcheck_backend_NAME.so
#   include/normcheck/backend.h, include/normcheck/numeric/*.hpp
#   share/normcheck/{fixtures/suites,fixtures/golden/quick,reports/tolerances/default.toml}
#   lib/cmake/normcheck/normcheckConfig.cmake
#   lib/python3/dist-packages/normcheck/
include(CMakePackageConfigHelpers)

install(TARGETS normcheck RUNTIME DESTINATION bin COMPONENT cli)
install(FILES ${PROJECT_SOURCE_DIR}/impls/include/normcheck/backend.h
        DESTINATION include/normcheck COMPONENT dev)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/impls/common/include/normcheck/numeric
        DESTINATION include/normcheck COMPONENT dev FILES_MATCHING PATTERN "*.hpp")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fixtures/suites
        DESTINATION ${NORMCHECK_DATA_DIR}/fixtures COMPONENT data)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/fixtures/golden/quick
        DESTINATION ${NORMCHECK_DATA_DIR}/fixtures/golden COMPONENT data FILES_MATCHING PATTERN "*.h5")
install(FILES ${PROJECT_SOURCE_DIR}/reports/tolerances/default.toml
        DESTINATION ${NORMCHECK_DATA_DIR}/reports/tolerances COMPONENT data)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/normcheckConfig.cmake.in
  ${PROJECT_BINARY_DIR}/cmake/normcheckConfig.cmake
  INSTALL_DESTINATION lib/cmake/normcheck)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/cmake/normcheckConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/cmake/normcheckConfig.cmake
              ${PROJECT_BINARY_DIR}/cmake/normcheckConfigVersion.cmake
        DESTINATION lib/cmake/normcheck COMPONENT dev)

# Install into a scratch prefix, build the example plugin against it, run the
# installed CLI (cmake/tests/install_and_use.cmake says what is checked).
if(BUILD_TESTING)
  set(python_for_test "")
  if(TARGET normcheck_python)
    set(python_for_test ${Python3_EXECUTABLE})
  endif()
  add_test(NAME install:plugin_builds_and_runs_against_installed_normcheck
    COMMAND ${CMAKE_COMMAND} -DBUILD=${PROJECT_BINARY_DIR} -DSOURCE=${PROJECT_SOURCE_DIR}
            -DWORK=${PROJECT_BINARY_DIR}/install-test -DPYTHON=${python_for_test}
            -P ${PROJECT_SOURCE_DIR}/cmake/tests/install_and_use.cmake)
  set_tests_properties(install:plugin_builds_and_runs_against_installed_normcheck PROPERTIES TIMEOUT 900)
endif()
