// Facts about the machine and the moment of a run, for RunInfo.
#pragma once

#include <string>

namespace normcheck::report {

std::string utc_now();  // ISO 8601, e.g. 2024-05-01T12:34:56Z
std::string host_name();
std::string machine_description();  // "Linux 6.1.0 x86_64, Intel(R) Xeon(R) ..., 2 cores"

}  // namespace normcheck::report
