// c10::Error from ATen becomes AtenError with ATen's message and no C++
// backtrace. This file includes ATen, whose glog headers redefine CHECK:
// only REQUIRE-style assertions are used here.
#include <catch2/catch.hpp>

#include "../src/aten_views.hpp"

using Catch::Matchers::Contains;
using normcheck::torch_adapter::AtenError;
using normcheck::torch_adapter::calling_aten;

TEST_CASE("an ATen error becomes a message without a backtrace", "[torch][errors]") {
  std::string what;
  try {
    calling_aten([] { TORCH_CHECK(false, "shapes do not match"); });
  } catch (const AtenError& e) {
    what = e.what();
  }
  REQUIRE_THAT(what, Contains("ATen: shapes do not match"));
  REQUIRE_THAT(what, !Contains("Exception raised from"));
}
