#include "normcheck/report/results_json.hpp"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "normcheck/model/input_file.hpp"
#include "normcheck/model/problem.hpp"

namespace normcheck::report {

namespace {

using json = nlohmann::ordered_json;
using model::InputError;

json number(double v) {
  if (std::isnan(v)) return nullptr;
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

json optional_number(const std::optional<double>& v) {
  return v ? number(*v) : json(nullptr);
}

// Reads fields of one JSON object, naming the file and the object on error.
class Reader {
 public:
  Reader(const json& j, const std::string& where) : j_(j), where_(where) {
    if (!j_.is_object()) fail("is not an object");
  }

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(fmt::format("{}: {}", where_, what));
  }

  const json& at(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end()) fail(fmt::format("missing field '{}'", key));
    return *it;
  }
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  std::string text(const char* key) const {
    const json& v = at(key);
    if (!v.is_string()) fail(fmt::format("field '{}' is not a string", key));
    return v.get<std::string>();
  }
  std::string text_or(const char* key, std::string fallback) const {
    return has(key) ? text(key) : fallback;
  }

  double num(const char* key) const {
    const json& v = at(key);
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (v.is_number()) return v.get<double>();
    if (v == "inf") return std::numeric_limits<double>::infinity();
    if (v == "-inf") return -std::numeric_limits<double>::infinity();
    fail(fmt::format("field '{}' is not a number", key));
  }
  std::optional<double> opt_num(const char* key) const {
    if (!has(key)) return std::nullopt;
    return num(key);
  }
  std::int64_t integer(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_integer()) fail(fmt::format("field '{}' is not an integer", key));
    if (v.is_number_unsigned() &&
        v.get<std::uint64_t>() > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
      fail(fmt::format("field '{}' is out of range", key));
    return v.get<std::int64_t>();
  }
  bool flag(const char* key) const {
    const json& v = at(key);
    if (!v.is_boolean()) fail(fmt::format("field '{}' is not true/false", key));
    return v.get<bool>();
  }

 private:
  const json& j_;
  std::string where_;
};

json worst_to_json(const WorstElement& w) {
  json j;
  j["tensor"] = w.tensor;
  j["index"] = w.index;
  j["golden"] = number(w.golden);
  j["actual"] = number(w.actual);
  j["bound"] = number(w.bound);
  j["group"] = w.group ? json(*w.group) : json(nullptr);
  j["group_mean"] = optional_number(w.group_mean);
  j["group_rstd"] = optional_number(w.group_rstd);
  j["kappa"] = optional_number(w.kappa);
  return j;
}

WorstElement worst_from_json(const json& j, const std::string& where) {
  const Reader r(j, where);
  WorstElement w;
  w.tensor = r.text("tensor");
  const json& index = r.at("index");
  if (!index.is_array()) r.fail("field 'index' is not an array");
  for (const auto& i : index) {
    if (!i.is_number_integer()) r.fail("field 'index' holds a non-integer");
    w.index.push_back(i.get<std::int64_t>());
  }
  w.golden = r.num("golden");
  w.actual = r.num("actual");
  w.bound = r.num("bound");
  if (r.has("group")) w.group = r.integer("group");
  w.group_mean = r.opt_num("group_mean");
  w.group_rstd = r.opt_num("group_rstd");
  w.kappa = r.opt_num("kappa");
  return w;
}

json record_to_json(const Record& rec) {
  json j;
  j["case"] = rec.case_id;
  j["backend"] = rec.backend;
  j["op"] = rec.op;
  j["check"] = rec.check;
  j["dtype"] = rec.dtype;
  j["status"] = std::string(compare::status_name(rec.status));
  j["gating"] = rec.gating;
  j["note"] = rec.note;
  j["message"] = rec.message;
  j["elements"] = rec.elements;
  j["max_abs_err"] = number(rec.max_abs_err);
  j["max_rel_err"] = number(rec.max_rel_err);
  j["max_ulp_err"] = number(rec.max_ulp_err);
  j["bound_ratio"] = number(rec.bound_ratio);
  j["tolerance"] = number(rec.tolerance);
  j["ulp_tolerance"] = optional_number(rec.ulp_tolerance);
  j["kappa"] = number(rec.kappa);
  j["worst"] = rec.worst ? worst_to_json(*rec.worst) : json(nullptr);
  j["seconds"] = rec.seconds;
  return j;
}

Record record_from_json(const json& j, const std::string& where) {
  const Reader r(j, where);
  Record rec;
  rec.case_id = r.text("case");
  rec.backend = r.text("backend");
  rec.op = r.text("op");
  rec.check = r.text("check");
  rec.dtype = r.text("dtype");
  const auto status = compare::parse_status(r.text("status"));
  if (!status) r.fail(fmt::format("unknown status '{}'", r.text("status")));
  rec.status = *status;
  rec.gating = r.flag("gating");
  rec.note = r.text_or("note", "");
  rec.message = r.text_or("message", "");
  rec.elements = r.integer("elements");
  rec.max_abs_err = r.num("max_abs_err");
  rec.max_rel_err = r.num("max_rel_err");
  rec.max_ulp_err = r.num("max_ulp_err");
  rec.bound_ratio = r.num("bound_ratio");
  rec.tolerance = r.num("tolerance");
  rec.ulp_tolerance = r.opt_num("ulp_tolerance");
  rec.kappa = r.num("kappa");
  if (r.has("worst")) rec.worst = worst_from_json(r.at("worst"), where + " worst");
  rec.seconds = r.num("seconds");
  return rec;
}

}  // namespace

std::string results_to_json(const Results& res) {
  json j;
  j["schema_version"] = res.schema_version;
  const RunInfo& ri = res.run;
  json run;
  run["normcheck_version"] = ri.normcheck_version;
  run["started"] = ri.started;
  run["finished"] = ri.finished;
  run["hostname"] = ri.hostname;
  run["machine"] = ri.machine;
  run["command"] = ri.command;
  run["fixtures"] = ri.fixtures;
  run["tolerances"] = ri.tolerances;
  run["filter"] = ri.filter;
  run["shard"] = ri.shard;
  run["timeout_seconds"] = ri.timeout_seconds;
  run["jobs"] = ri.jobs;
  run["incomplete"] = ri.incomplete;
  run["incomplete_reason"] = ri.incomplete_reason;
  run["cases_planned"] = ri.cases_planned;
  run["cases_done"] = ri.cases_done;
  run["partial"] = ri.partial;
  run["reproduce"] = ri.reproduce;
  run["cases_in_memory"] = ri.cases_in_memory;
  j["run"] = run;
  json backends = json::array();
  for (const auto& b : res.backends)
    backends.push_back({{"name", b.name},
                        {"version", b.version},
                        {"path", b.path},
                        {"argument", b.argument},
                        {"allow_unsupported", b.allow_unsupported}});
  j["backends"] = backends;
  json records = json::array();
  for (const auto& rec : res.records) records.push_back(record_to_json(rec));
  j["records"] = records;
  // Messages quote what damaged files and plugins hand over, which need not
  // be UTF-8: invalid bytes become U+FFFD instead of losing the whole run.
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

namespace {

// Nesting of arrays and objects, outside strings. Checked before parsing:
// a file nested 100 000 deep overflows the stack of a recursive reader (or
// of the destructor of what it built) before any field is looked at.
void check_depth(const std::string& text, const std::string& source) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        throw InputError(
            fmt::format("{}: not a normcheck results file: nested more than {} deep "
                        "(at byte {})",
                        source, kMaxJsonDepth, i));
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
}

}  // namespace

Results results_from_json(const std::string& text, const std::string& source) {
  check_depth(text, source);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number that overflows a double.
    throw InputError(fmt::format("{}: not a JSON file: {}", source, e.what()));
  } catch (const std::bad_alloc&) {
    throw InputError(fmt::format("{}: out of memory parsing the JSON", source));
  }
  const Reader top(j, source);
  if (!top.has("schema_version")) top.fail("no schema_version: not a normcheck results file");
  const std::int64_t version = top.integer("schema_version");
  if (version != kResultsSchemaVersion)
    top.fail(fmt::format("results schema_version {}; this normcheck reads schema_version {}",
                         version, kResultsSchemaVersion));
  Results res;
  const Reader run(top.at("run"), source + " run");
  res.run.normcheck_version = run.text("normcheck_version");
  res.run.started = run.text("started");
  res.run.finished = run.text("finished");
  res.run.hostname = run.text_or("hostname", "");
  res.run.machine = run.text_or("machine", "");
  res.run.command = run.text_or("command", "");
  res.run.fixtures = run.text_or("fixtures", "");
  res.run.tolerances = run.text_or("tolerances", "");
  res.run.filter = run.text_or("filter", "");
  res.run.shard = run.text_or("shard", "");
  res.run.timeout_seconds = run.num("timeout_seconds");
  res.run.jobs = int(run.integer("jobs"));
  res.run.incomplete = run.flag("incomplete");
  res.run.incomplete_reason = run.text_or("incomplete_reason", "");
  res.run.cases_planned = run.integer("cases_planned");
  res.run.cases_done = run.integer("cases_done");
  // Added later in schema 1: optional, so older files still read.
  res.run.partial = run.has("partial") && run.flag("partial");
  res.run.reproduce = run.text_or("reproduce", "");
  res.run.cases_in_memory = run.has("cases_in_memory") && run.flag("cases_in_memory");
  const json& backends = top.at("backends");
  if (!backends.is_array()) top.fail("field 'backends' is not an array");
  for (const auto& b : backends) {
    const Reader br(b, source + " backend");
    res.backends.push_back({br.text("name"), br.text_or("version", ""), br.text_or("path", ""),
                            br.text_or("argument", ""),
                            br.has("allow_unsupported") && br.flag("allow_unsupported")});
  }
  const json& records = top.at("records");
  if (!records.is_array()) top.fail("field 'records' is not an array");
  for (std::size_t i = 0; i < records.size(); ++i)
    res.records.push_back(record_from_json(records[i], fmt::format("{} record {}", source, i)));
  return res;
}

Results read_results(const std::filesystem::path& path) {
  return results_from_json(model::read_text_file(path, "results file", kMaxResultsFileBytes),
                           path.string());
}

}  // namespace normcheck::report
