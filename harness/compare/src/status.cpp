#include "normcheck/compare/status.hpp"

namespace normcheck::compare {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::pass:
      return "pass";
    case Status::fail:
      return "fail";
    case Status::crash:
      return "crash";
    case Status::timeout:
      return "timeout";
    case Status::overrun:
      return "overrun";
    case Status::unsupported:
      return "unsupported";
    case Status::error:
      return "error";
    case Status::damaged:
      return "damaged";
  }
  return "?";
}

std::optional<Status> parse_status(std::string_view name) {
  for (Status s : kAllStatuses)
    if (status_name(s) == name) return s;
  return std::nullopt;
}

int severity(Status s) {
  switch (s) {
    case Status::pass:
    case Status::unsupported:
      return 0;
    case Status::fail:
      return 1;
    default:
      return 2;
  }
}

}  // namespace normcheck::compare
