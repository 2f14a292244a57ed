// normcheck._normcheck: the harness's own C++ pieces for Python. Cases come
// from the fixture reader or the certified generator; a Python backend runs
// through the real executor (guarded buffers, every scenario) and the real
// judge, and reports are written by the same writers as `normcheck run`.
// Nothing here re-implements a check.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>

#include <chrono>
#include <cstring>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "normcheck/backend.h"
#include "normcheck/compare/check_table.hpp"
#include "normcheck/compare/tolerances.hpp"
#include "normcheck/fixture/case.hpp"
#include "normcheck/fixture/case_size.hpp"
#include "normcheck/fixture/fixture_reader.hpp"
#include "normcheck/fixture/generator.hpp"
#include "normcheck/model/problem.hpp"
#include "normcheck/report/results.hpp"
#include "normcheck/report/run_metadata.hpp"
#include "normcheck/report/verdict.hpp"
#include "normcheck/report/writers.hpp"
#include "normcheck/runner/child_report.hpp"
#include "normcheck/runner/executor.hpp"
#include "normcheck/runner/judge.hpp"
#include "normcheck/runner/locations.hpp"
#include "dlpack_exchange.hpp"

namespace py = pybind11;
using namespace normcheck;
using fixture::Case;
using fixture::Tensor;
using numeric::DType;

namespace {

using python::numpy_dtype;

py::array to_numpy(const Tensor& t) {
  py::array a(numpy_dtype(t.dtype), std::vector<py::ssize_t>(t.shape.begin(), t.shape.end()));
  std::memcpy(a.mutable_data(), t.bytes.data(), t.bytes.size());
  return a;
}

// A NumPy array becomes a tensor of `want` (the dtype the case prescribes for
// that output). uint16 is read as bf16 bit patterns; any other dtype
// mismatch is refused rather than rounded behind the caller's back.
Tensor from_numpy(const std::string& name, const py::array& in, DType want) {
  const auto a = py::array::ensure(in, py::array::c_style);
  if (!a) throw py::type_error("output '" + name + "' is not an array");
  const std::string kind = py::str(a.dtype());
  const std::string expected =
      want == DType::bf16 ? "uint16" : std::string(py::str(numpy_dtype(want)));
  if (kind != expected)
    throw py::type_error("output '" + name + "' is " + kind + ", the case wants " +
                         std::string(numeric::dtype_name(want)) + " (NumPy " + expected + ")");
  Tensor t;
  t.dtype = want;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) t.shape.push_back(a.shape(d));
  t.bytes.resize(std::size_t(a.nbytes()));
  std::memcpy(t.bytes.data(), a.data(), t.bytes.size());
  return t;
}

// The check that reads golden `name`, from the check table (its dtype role
// and the call that writes it).
const compare::CheckSpec& check_of_golden(const Case& c, const std::string& name) {
  const auto owner = compare::owner_of_golden(name);
  if (owner.check == nullptr || !owner.check->output)
    throw py::key_error("'" + name + "' is not a golden output a backend writes for " + c.descriptor());
  return *owner.check;
}

py::dict problem_dict(const model::Problem& p) {
  py::dict d;
  d["op"] = std::string(model::op_name(p.op));
  d["dtype"] = std::string(numeric::dtype_name(p.data));
  d["param_dtype"] = std::string(numeric::dtype_name(p.param));
  d["stats_dtype"] = std::string(numeric::dtype_name(p.stats));
  d["shape"] = py::tuple(py::cast(p.shape));
  d["layout"] = p.layout == model::Layout::nhwc ? "nhwc" : "nchw";
  d["norm_axis"] = p.resolved_norm_axis();
  d["groups"] = p.groups;
  d["eps"] = p.eps;
  d["mode"] = std::string(model::mode_name(p.mode));
  d["scale"] = p.scale;
  d["shift"] = p.shift;
  d["residual"] = p.residual;
  d["track_running_stats"] = p.track_running_stats;
  d["momentum"] = p.momentum;
  d["momentum_convention"] =
      p.momentum_convention == model::MomentumConvention::torch ? "torch" : "paddle";
  d["running_var_estimator"] =
      p.running_var_estimator == model::VarianceEstimator::unbiased ? "unbiased" : "biased";
  return d;
}

// What the ABI passes for one call, as the Python side sees it: the same
// fields as problem_dict, for the call actually made (a sub-batch, an eval
// rerun) rather than the case.
py::dict abi_problem_dict(const nc_problem& p) {
  py::dict d;
  const char* ops[] = {"?",          "batch_norm",    "layer_norm", "rms_norm",
                       "group_norm", "instance_norm", "conv_bn"};
  d["op"] = ops[(p.op >= 1 && p.op <= 6) ? p.op : 0];
  const auto dt = [](DLDataType t) {
    const auto d = numeric::from_dlpack(t);
    return d ? std::string(numeric::dtype_name(*d)) : std::string("?");
  };
  d["dtype"] = dt(p.data_dtype);
  d["param_dtype"] = dt(p.param_dtype);
  d["stats_dtype"] = dt(p.stats_dtype);
  d["shape"] = py::tuple(py::cast(std::vector<std::int64_t>(p.shape, p.shape + p.ndim)));
  d["layout"] = p.layout == NC_LAYOUT_NHWC ? "nhwc" : "nchw";
  d["norm_axis"] = p.norm_axis;
  d["groups"] = p.groups;
  d["eps"] = p.eps;
  d["mode"] = p.mode == NC_MODE_TRAIN ? "train" : p.mode == NC_MODE_EVAL ? "eval" : "global";
  d["scale"] = (p.flags & NC_FLAG_SCALE) != 0;
  d["shift"] = (p.flags & NC_FLAG_SHIFT) != 0;
  d["residual"] = (p.flags & NC_FLAG_RESIDUAL) != 0;
  d["track_running_stats"] = (p.flags & NC_FLAG_TRACK_RUNNING_STATS) != 0;
  d["momentum"] = p.momentum;
  d["momentum_convention"] = p.momentum_convention == NC_MOMENTUM_TORCH ? "torch" : "paddle";
  d["running_var_estimator"] =
      p.running_var_estimator == NC_VARIANCE_UNBIASED ? "unbiased" : "biased";
  return d;
}

// A NumPy view of a harness buffer, valid only during the call (the buffer
// is the executor's guarded buffer: writes go straight into it, overruns and
// unwritten elements are caught as for any plugin).
py::object view(const DLTensor* t, bool writable) {
  if (t == nullptr) return py::none();
  const auto dtype = numeric::from_dlpack(t->dtype);
  if (!dtype) throw std::runtime_error("tensor of a dtype normcheck does not know");
  const auto item = py::ssize_t(numeric::dtype_size(*dtype));
  std::vector<py::ssize_t> shape(t->shape, t->shape + t->ndim), strides(std::size_t(t->ndim));
  py::ssize_t s = item;
  for (int d = t->ndim - 1; d >= 0; --d) {
    strides[std::size_t(d)] = t->strides != nullptr ? py::ssize_t(t->strides[d]) * item : s;
    s *= shape[std::size_t(d)];
  }
  // The capsule only keeps NumPy from owning the memory.
  py::capsule no_owner(t->data, [](void*) {});
  py::array a(numpy_dtype(*dtype), shape, strides, static_cast<char*>(t->data) + t->byte_offset,
              no_owner);
  if (!writable)
    py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

// The ABI's function pointers carry no context, so the Python object being
// run is reached through this one slot. It is set only for the duration of
// run_python_backend (ActiveBackend below); a second concurrent run is refused.
struct Slot {
  py::object dispatcher;  // normcheck._backend.Dispatcher
  bool busy = false;
};
Slot& slot() {
  static Slot s;
  return s;
}

class ActiveBackend {
 public:
  explicit ActiveBackend(py::object dispatcher) {
    if (slot().busy)
      throw std::runtime_error("a Python backend run is already in progress in this process");
    slot().dispatcher = std::move(dispatcher);
    slot().busy = true;
  }
  ~ActiveBackend() {
    slot().dispatcher = py::object();
    slot().busy = false;
  }
  ActiveBackend(const ActiveBackend&) = delete;
  ActiveBackend& operator=(const ActiveBackend&) = delete;
};

void write_message(char* buffer, std::size_t size, const std::string& text) {
  if (size == 0) return;
  const std::size_t n = std::min(size - 1, text.size());
  std::memcpy(buffer, text.data(), n);
  buffer[n] = '\0';
}

// Calls dispatcher.<method>(problem, tensors) -> (status, message). Python
// exceptions never cross into the executor: the dispatcher turns them into
// a status, and anything it lets through becomes NC_INTERNAL_ERROR here.
nc_status call_python(const char* method, const nc_problem* p,
                      const std::function<py::dict()>& tensors, char* message,
                      std::size_t message_size) {
  py::gil_scoped_acquire gil;
  try {
    const py::tuple r = slot().dispatcher.attr(method)(abi_problem_dict(*p), tensors());
    write_message(message, message_size, r[1].cast<std::string>());
    return static_cast<nc_status>(r[0].cast<int>());
  } catch (const std::exception& e) {
    write_message(message, message_size, std::string("Python: ") + e.what());
    return NC_INTERNAL_ERROR;
  }
}

nc_status py_supports(const nc_problem* p, char* reason, std::size_t size) {
  return call_python(
      "supports", p, [] { return py::dict(); }, reason, size);
}

nc_status py_forward(const nc_problem* p, const nc_forward_args* a, char* message,
                     std::size_t size) {
  if (a->collectives != nullptr) {
    write_message(message, size,
                  "Python backends do not take part in SyncBatchNorm (no collectives)");
    return NC_UNSUPPORTED;
  }
  return call_python(
      "forward", p,
      [a] {
        py::dict t;
        t["x"] = view(a->x, false);
        t["residual"] = view(a->residual, false);
        t["gamma"] = view(a->gamma, false);
        t["beta"] = view(a->beta, false);
        t["running_mean"] = view(a->running_mean, true);
        t["running_var"] = view(a->running_var, true);
        t["y"] = view(a->y, true);
        t["residual_out"] = view(a->residual_out, true);
        t["saved_mean"] = view(a->saved_mean, true);
        t["saved_rstd"] = view(a->saved_rstd, true);
        return t;
      },
      message, size);
}

nc_status py_backward(const nc_problem* p, const nc_backward_args* a, char* message,
                      std::size_t size) {
  if (a->collectives != nullptr) {
    write_message(message, size,
                  "Python backends do not take part in SyncBatchNorm (no collectives)");
    return NC_UNSUPPORTED;
  }
  return call_python(
      "backward", p,
      [a] {
        py::dict t;
        t["dy"] = view(a->dy, false);
        t["x"] = view(a->x, false);
        t["gamma"] = view(a->gamma, false);
        t["saved_mean"] = view(a->saved_mean, false);
        t["saved_rstd"] = view(a->saved_rstd, false);
        t["running_mean"] = view(a->running_mean, false);
        t["running_var"] = view(a->running_var, false);
        t["dx"] = view(a->dx, true);
        t["dresidual"] = view(a->dresidual, true);
        t["dgamma"] = view(a->dgamma, true);
        t["dbeta"] = view(a->dbeta, true);
        return t;
      },
      message, size);
}

nc_backend_v1 python_table(const std::string& name) {
  nc_backend_v1 t{};
  t.abi_version = NORMCHECK_BACKEND_ABI_VERSION;
  t.name = name.c_str();
  t.version = "python";
  t.supports = py_supports;
  t.forward = py_forward;
  t.backward = py_backward;
  t.conv_bn_fold = nullptr;  // Conv-BN folding is declined: the executor says so per case
  return t;
}

// An anonymous in-memory file for the report stream: the executor writes
// with write(2) exactly as in a worker process, and we read it back.
class MemFile {
 public:
  MemFile() : fd_(memfd_create("normcheck-report", MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error(std::string("memfd_create: ") + std::strerror(errno));
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  int fd() const { return fd_; }
  std::string contents() const {
    std::string bytes;
    char buffer[1 << 16];
    for (off_t at = 0;;) {
      const ssize_t n = pread(fd_, buffer, sizeof buffer, at);
      if (n < 0)
        throw std::runtime_error(std::string("reading the report stream: ") + std::strerror(errno));
      if (n == 0) break;
      bytes.append(buffer, std::size_t(n));
      at += n;
    }
    return bytes;
  }

 private:
  int fd_;
};

compare::Tolerances load_tolerances(const std::optional<std::filesystem::path>& file) {
  return file ? compare::Tolerances::load(*file) : compare::Tolerances::builtin();
}

// Runs the case's calls: here, or (isolated) in a forked child that writes
// the same report stream into the shared memfd and ends with _exit, so the
// parent keeps whatever the child wrote before it crashed or was killed.
// The GIL is released while the calls run (SyncBN ranks are threads that
// take it in the trampolines) and while the parent waits.
runner::ProcessOutcome execute(const nc_backend_v1& table, const Case& c, runner::ReportWriter& out,
                               bool isolated, double timeout_seconds) {
  const auto calls = [&] {
    py::gil_scoped_release release;
    try {
      runner::execute_case(table, c, out);
    } catch (const std::exception& e) {
      out.harness_error(e.what());
    }
  };
  runner::ProcessOutcome process;
  process.timeout_seconds = timeout_seconds;
  if (!isolated) {
    calls();
    out.finish();
    return process;
  }
  PyOS_BeforeFork();
  const pid_t pid = fork();
  if (pid == 0) {
    PyOS_AfterFork_Child();
    calls();
    out.finish();
    _exit(0);  // no interpreter shutdown, no atexit handlers of the parent's
  }
  PyOS_AfterFork_Parent();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  py::gil_scoped_release release;
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  for (auto pause = std::chrono::microseconds(50);;
       pause = std::min(pause * 2, std::chrono::microseconds(20000))) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR)
      throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >
        timeout_seconds) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      process.kind = runner::ProcessOutcome::Kind::timed_out;
      return process;
    }
    std::this_thread::sleep_for(pause);
  }
  if (WIFSIGNALED(status)) {
    process.kind = runner::ProcessOutcome::Kind::signaled;
    process.code = WTERMSIG(status);
  } else {
    process.code = WEXITSTATUS(status);
  }
  return process;
}

std::vector<report::Record> run_one(const nc_backend_v1& table, const std::string& name,
                                    const Case& c, const compare::Tolerances& tolerances,
                                    bool isolated, double timeout_seconds) {
  MemFile stream;
  runner::ReportWriter out(stream.fd());
  const auto start = std::chrono::steady_clock::now();
  out.fixture_case(c);
  auto process = execute(table, c, out, isolated, timeout_seconds);
  process.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const auto report = runner::parse_child_report(stream.contents());
  return runner::judge_case(c, name, report, process, tolerances);
}

std::vector<report::Record> run_python_backend(
    const std::vector<std::shared_ptr<Case>>& cases, py::object dispatcher, const std::string& name,
    const std::optional<std::filesystem::path>& tolerance_file, const py::object& on_case,
    bool isolated, double timeout_seconds) {
  if (isolated && !(timeout_seconds > 0)) throw py::value_error("timeout must be > 0 seconds");
  const auto tolerances = load_tolerances(tolerance_file);
  ActiveBackend active(std::move(dispatcher));
  const nc_backend_v1 table = python_table(name);
  std::vector<report::Record> records;
  for (const auto& c : cases) {
    auto r = run_one(table, name, *c, tolerances, isolated, timeout_seconds);
    if (!on_case.is_none()) on_case(c->descriptor(), r);
    records.insert(records.end(), r.begin(), r.end());
  }
  return records;
}

bool matches(const std::string& filter, const std::string& descriptor) {
  if (filter.empty()) return true;
  if (filter.starts_with("re:")) return std::regex_search(descriptor, std::regex(filter.substr(3)));
  return compare::glob_match(filter, descriptor);
}

std::vector<std::shared_ptr<Case>> load_cases(const std::filesystem::path& dir,
                                              const std::string& filter) {
  std::vector<std::shared_ptr<Case>> out;
  for (const auto& file : fixture::fixture_files(dir)) {
    const fixture::FixtureReader reader(file);
    for (std::size_t i = 0; i < reader.size(); ++i)
      if (matches(filter, reader.descriptors()[i]))
        out.push_back(std::make_shared<Case>(reader.read(i)));
  }
  return out;
}

// The records of checking given outputs of the main call(s) against the
// case: the worker report a plugin would have produced for them, judged as
// usual; the checks of extra calls (determinism, batch invariance, ...) are
// left out because no such calls were made.
std::vector<report::Record> check(const Case& c, const std::map<std::string, py::array>& outputs,
                                  const std::string& backend,
                                  const std::optional<std::filesystem::path>& tolerance_file) {
  runner::ChildReport r;
  r.fixture_case = c;
  r.supported = NC_OK;
  runner::CallRecord forward, backward;
  forward.name = "forward";
  backward.name = "backward";
  forward.finished = backward.finished = true;
  for (const auto& [name, array] : outputs) {
    if (!c.golden.contains(name))
      throw py::key_error("'" + name + "' is not a golden output of " + c.descriptor());
    const compare::CheckSpec& check = check_of_golden(c, name);
    auto& call = compare::spec(*check.output).call == compare::Call::backward ? backward : forward;
    call.expected.push_back(name);
    call.outputs.push_back(name);
    r.outputs.emplace(name,
                      from_numpy(name, array, compare::dtype_of(check.role, c.problem)));
  }
  for (auto* call : {&forward, &backward})
    if (!call->expected.empty()) r.calls.push_back(*call);
  r.complete = true;
  const auto all =
      runner::judge_case(c, backend, r, runner::ProcessOutcome{}, load_tolerances(tolerance_file));
  std::vector<report::Record> kept;
  for (const auto& rec : all)
    if (outputs.contains(rec.check)) kept.push_back(rec);
  return kept;
}

py::object worst_dict(const std::optional<report::WorstElement>& w) {
  if (!w) return py::none();
  py::dict d;
  d["tensor"] = w->tensor;
  d["index"] = py::tuple(py::cast(w->index));
  d["golden"] = w->golden;
  d["actual"] = w->actual;
  d["bound"] = w->bound;
  d["group"] = w->group ? py::cast(*w->group) : py::none();
  d["kappa"] = w->kappa ? py::cast(*w->kappa) : py::none();
  return d;
}

void write_reports(const std::vector<report::Record>& records, const std::filesystem::path& dir,
                   const std::string& backend, const std::string& fixtures,
                   const std::optional<std::filesystem::path>& tolerance_file,
                   const std::string& command, std::int64_t cases, const std::string& started,
                   bool allow_unsupported) {
  report::Results r;
  r.run.normcheck_version = NORMCHECK_VERSION " (python)";
  r.run.started = started;
  r.run.finished = report::utc_now();
  r.run.hostname = report::host_name();
  r.run.machine = report::machine_description();
  r.run.command = command;
  r.run.fixtures = fixtures;
  r.run.tolerances = tolerance_file ? tolerance_file->string() : "built-in";
  r.run.cases_planned = r.run.cases_done = cases;
  r.backends.push_back(
      {backend, "python", "(in-process Python callable)", "", allow_unsupported});
  r.records = records;
  report::write_reports(r, dir);
}

}  // namespace

PYBIND11_MODULE(_normcheck, m) {
  m.doc() =
      "normcheck's C++ harness: fixtures, certified goldens, the executor, the judge, reports";

  // Bad input (a malformed descriptor, a corrupt fixture, a bad tolerance
  // file) arrives as ValueError carrying the harness's one-line message.
  py::register_exception<model::InputError>(m, "InputError", PyExc_ValueError);

  py::class_<Case, std::shared_ptr<Case>>(m, "Case")
      .def_property_readonly("descriptor", &Case::descriptor)
      .def_property_readonly("problem", [](const Case& c) { return problem_dict(c.problem); })
      .def_property_readonly(
          "op", [](const Case& c) { return std::string(model::op_name(c.problem.op)); })
      .def_property_readonly("inputs",
                             [](const Case& c) {
                               py::dict d;
                               for (const auto& [k, t] : c.inputs) d[py::str(k)] = to_numpy(t);
                               return d;
                             })
      .def_property_readonly("golden",
                             [](const Case& c) {
                               py::dict d;
                               for (const auto& [k, t] : c.golden) d[py::str(k)] = to_numpy(t);
                               return d;
                             })
      .def_property_readonly("certified", [](const Case& c) { return c.provenance.certified; })
      .def("output_dtype",
           [](const Case& c, const std::string& name) {
             const auto& check = check_of_golden(c, name);
             return std::string(numeric::dtype_name(compare::dtype_of(check.role, c.problem)));
           })
      .def("__repr__", [](const Case& c) { return "<normcheck.Case " + c.descriptor() + ">"; });

  py::class_<report::Record>(m, "Record")
      .def_readonly("case", &report::Record::case_id)
      .def_readonly("backend", &report::Record::backend)
      .def_readonly("op", &report::Record::op)
      .def_readonly("check", &report::Record::check)
      .def_readonly("dtype", &report::Record::dtype)
      .def_property_readonly(
          "status",
          [](const report::Record& r) { return std::string(compare::status_name(r.status)); })
      .def_readonly("gating", &report::Record::gating)
      .def_readonly("note", &report::Record::note)
      .def_readonly("message", &report::Record::message)
      .def_readonly("elements", &report::Record::elements)
      .def_readonly("max_abs_err", &report::Record::max_abs_err)
      .def_readonly("max_rel_err", &report::Record::max_rel_err)
      .def_readonly("max_ulp_err", &report::Record::max_ulp_err)
      .def_readonly("bound_ratio", &report::Record::bound_ratio)
      .def_readonly("tolerance", &report::Record::tolerance)
      .def_readonly("kappa", &report::Record::kappa)
      .def_readonly("seconds", &report::Record::seconds)
      .def_property_readonly("worst", [](const report::Record& r) { return worst_dict(r.worst); })
      .def_property_readonly("fails_run", &report::Record::fails_run)
      .def("__repr__", [](const report::Record& r) {
        return "<normcheck.Record " + r.case_id + " " + r.check + " " +
               std::string(compare::status_name(r.status)) + ">";
      });

  py::class_<python::DLPackExport>(m, "DLPackExport",
                                   "A copy of a harness buffer offered through DLPack")
      .def(py::init<const py::array&, int, int>(), py::arg("view"), py::arg("device_type") = 1,
           py::arg("device_id") = 0)
      .def("__dlpack__", &python::DLPackExport::dlpack, py::arg("stream") = py::none())
      .def("__dlpack_device__", &python::DLPackExport::dlpack_device);
  m.def(
      "dlpack_to_numpy",
      [](const py::object& source, const py::object& dtype) {
        if (py::isinstance<py::array>(dtype))  // the dtype of a harness array
          return python::dlpack_to_numpy(source, python::harness_dtype(dtype.cast<py::array>()));
        const auto name = dtype.cast<std::string>();
        const auto want = numeric::parse_dtype(name);
        if (!want) throw py::value_error("unknown dtype '" + name + "'");
        return python::dlpack_to_numpy(source, *want);
      },
      py::arg("source"), py::arg("dtype"),
      "The values of a DLPack tensor (host or CUDA) as a NumPy array of dtype (a name such as "
      "'bf16', or a harness array whose dtype to take; bf16: uint16 bits), rounded once when "
      "the dtypes differ.");
  m.def("load_cases", &load_cases, py::arg("dir"), py::arg("filter") = "",
        "Every case of the fixture files under dir whose descriptor matches filter (glob, or "
        "re:REGEX).");
  m.def(
      "golden",
      [](const std::string& descriptor) {
        const model::Problem p = model::parse_descriptor(descriptor);
        fixture::check_case_size(p, fixture::kDefaultMaxCaseBytes);  // before allocating
        return std::make_shared<Case>(fixture::generate_case(p));
      },
      py::arg("descriptor"), "The certified golden case of a descriptor, computed in memory.");
  m.def("normalize",
        [](const std::string& d) { return model::to_descriptor(model::parse_descriptor(d)); });
  m.def("check", &check, py::arg("case"), py::arg("outputs"), py::arg("backend") = "python",
        py::arg("tolerances") = py::none());
  m.def("run_python_backend", &run_python_backend, py::arg("cases"), py::arg("dispatcher"),
        py::arg("name"), py::arg("tolerances") = py::none(), py::arg("on_case") = py::none(),
        py::arg("subprocess") = false, py::arg("timeout") = 60.0);
  m.def("write_reports", &write_reports, py::arg("records"), py::arg("dir"), py::arg("backend"),
        py::arg("fixtures"), py::arg("tolerances"), py::arg("command"), py::arg("cases"),
        py::arg("started"), py::arg("allow_unsupported") = false);
  // What counts as executed is report::backend_tallies' rule, the one the
  // CLI's "nothing ran is not a pass" uses.
  m.def(
      "executed_checks",
      [](const std::vector<report::Record>& records) {
        report::Results r;
        r.records = records;
        std::int64_t n = 0;
        for (const auto& t : report::backend_tallies(r)) n += t.executed;
        return n;
      },
      py::arg("records"));
  m.def("utc_now", &report::utc_now);
  // runner/locations.hpp, under the package's data root (the CLI's own
  // root comes from its binary, which here is the Python interpreter).
  m.def(
      "suite_dir",
      [](const std::string& name, const std::filesystem::path& root) {
        return runner::suite_fixture_dir(name, root);
      },
      py::arg("name"), py::arg("root"),
      "The fixture folder of a named suite under data root `root`.");
  m.def(
      "default_tolerance_file",
      [](const std::filesystem::path& root) { return runner::default_tolerance_file(root); },
      py::arg("root"));
  m.attr("NC_OK") = int(NC_OK);
  m.attr("NC_UNSUPPORTED") = int(NC_UNSUPPORTED);
  m.attr("NC_INVALID_ARGUMENT") = int(NC_INVALID_ARGUMENT);
  m.attr("NC_INTERNAL_ERROR") = int(NC_INTERNAL_ERROR);
}
