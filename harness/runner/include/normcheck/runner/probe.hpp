// Loading a plugin runs its static initializers in the loading process. The
// harness loads each backend once in a throw-away child first, so a plugin
// that crashes or hangs while loading is reported instead of taking the
// harness down (the real load, in the harness, happens only after).
#pragma once

#include <string>

namespace normcheck::runner {

// InputError when loading `name_or_path` crashes, hangs (longer than
// `timeout_seconds`) or exits the child. A load that merely fails (no such
// file, no entry point, another ABI) passes the probe: the harness's own
// load then reports it with the loader's message.
void probe_backend_load(const std::string& name_or_path, double timeout_seconds = 60.0);

}  // namespace normcheck::runner
