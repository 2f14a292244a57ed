// The outcome of one check of one case on one backend.
#pragma once

#include <optional>
#include <string_view>

namespace normcheck::compare {

enum class Status {
  pass,         // measured and within tolerance
  fail,         // measured and out of tolerance (or unwritten elements, or a property broken)
  crash,        // the backend's process died (signal, abort, exit) before producing this output
  timeout,      // the case ran past --timeout and was killed
  overrun,      // the kernel wrote outside an output buffer (guard zones changed)
  unsupported,  // the backend declined the problem (supports() or NC_UNSUPPORTED)
  error,        // the backend returned an error status, or wrote into its inputs
  damaged       // the case's fixture could not be read (or crashed/hung the reader): nothing ran
};

inline constexpr Status kAllStatuses[] = {Status::pass,    Status::fail,    Status::crash,
                                          Status::timeout, Status::overrun, Status::unsupported,
                                          Status::error,   Status::damaged};

std::string_view status_name(Status s);
std::optional<Status> parse_status(std::string_view name);

// How bad a status is, for regressions: pass and unsupported < fail < the
// ones where no number was measured at all.
int severity(Status s);

}  // namespace normcheck::compare
