// What a worker process tells the harness about one case, and the stream
// that carries it. The worker appends records to a file as it goes (each
// call is announced before it is made), so whatever the backend does to the
// worker afterwards, the harness knows which call was running and keeps
// every output completed before it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "normcheck/backend.h"
#include "normcheck/fixture/case.hpp"

namespace normcheck::runner {

struct CallRecord {
  std::string name;                   // e.g. "forward", "backward", "forward (rerun)"
  std::vector<std::string> expected;  // outputs it emits when it succeeds
  bool finished = false;              // false: the worker died or was killed during the call
  nc_status status = NC_OK;
  std::string message;                       // the backend's message on a non-OK status
  std::vector<std::string> outputs;          // names of the outputs this call produced
  std::vector<std::string> overruns;         // "y: 3 bytes after" for each damaged guard
  std::vector<std::string> modified_inputs;  // inputs the kernel wrote into
  double seconds = 0.0;
};

struct ChildReport {
  // The fixture the worker read the case from ("" for cases held in
  // memory), the case as read (before any backend call), or why reading
  // it failed. A path without a case or an error: the worker died or hung
  // inside the fixture reader (HDF5).
  std::string fixture_path;
  std::optional<fixture::Case> fixture_case;
  std::string fixture_error;
  std::optional<nc_status> supported;  // supports(); nullopt if the worker never got there
  std::string unsupported_reason;
  std::vector<CallRecord> calls;
  std::map<std::string, fixture::Tensor> outputs;
  bool complete = false;      // the worker reached its end normally
  std::string harness_error;  // the worker's own code threw (not the backend's fault)

  // The call that was to emit `output`; nullptr when it was never made.
  const CallRecord* call_expected_to_produce(std::string_view output) const;
  const CallRecord* unfinished_call() const;
};

// Child side: appends records to a file descriptor with write(2) (no stdio
// buffer to lose), announcing each call before it starts.
class ReportWriter {
 public:
  explicit ReportWriter(int fd);
  void reading_fixture(std::string_view path);
  void fixture_case(const fixture::Case& c);
  void fixture_error(std::string_view message);
  void supports(nc_status status, std::string_view reason);
  void begin_call(std::string_view name, const std::vector<std::string>& expected);
  void end_call(nc_status status, std::string_view message, double seconds);
  void overrun(std::string_view what);
  // A buffer of call `call` changed after that call returned.
  void late_write(std::string_view call, std::string_view what);
  void modified_input(std::string_view name);
  void output(std::string_view name, const fixture::Tensor& t);
  void harness_error(std::string_view what);
  void finish();

 private:
  void emit(char tag, const std::string& body);
  int fd_;
};

// Parent side: reads whatever the worker managed to write; a truncated
// record (the worker died mid-write) ends the stream.
ChildReport parse_child_report(const std::string& bytes);

}  // namespace normcheck::runner
