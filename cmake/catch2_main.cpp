// The one Catch2 main of every test executable (normcheck_add_catch_test
// links it as an object library).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
