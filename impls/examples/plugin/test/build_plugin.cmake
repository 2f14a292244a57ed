# Configures and builds the example plugin (SOURCE) into BINARY against the
# ABI header in INCLUDE, as an out-of-tree user would.
execute_process(
  COMMAND ${CMAKE_COMMAND} -S ${SOURCE} -B ${BINARY} -DNORMCHECK_INCLUDE_DIR=${INCLUDE}
          -DCMAKE_CXX_COMPILER=${CXX}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configuring the example plugin failed:\n${out}\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BINARY}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building the example plugin failed:\n${out}\n${err}")
endif()
if(NOT EXISTS ${BINARY}/libmykernels.so)
  message(FATAL_ERROR "the build did not produce ${BINARY}/libmykernels.so")
endif()
