#include "normcheck/runner/child_report.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace normcheck::runner {

namespace {

// Record: tag (1 byte), body length (u64), body. Inside a body: strings are
// u32 length + bytes, numbers are raw little-endian host values (the file
// never leaves the machine that wrote it).
void put_u64(std::string& s, std::uint64_t v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_u32(std::string& s, std::uint32_t v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_f64(std::string& s, double v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}
void put_str(std::string& s, std::string_view v) {
  put_u32(s, std::uint32_t(v.size()));
  s.append(v);
}

void put_tensor(std::string& s, std::string_view name, const fixture::Tensor& t) {
  put_str(s, name);
  put_u32(s, std::uint32_t(t.dtype));
  put_u32(s, std::uint32_t(t.shape.size()));
  for (auto d : t.shape) put_u64(s, std::uint64_t(d));
  put_u64(s, t.bytes.size());
  s.append(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
}

class Cursor {
 public:
  Cursor(const char* p, std::size_t n) : p_(p), end_(p + n) {}
  bool ok() const { return ok_; }
  template <class T>
  T get() {
    T v{};
    if (std::size_t(end_ - p_) < sizeof v) {
      ok_ = false;
      return v;
    }
    std::memcpy(&v, p_, sizeof v);
    p_ += sizeof v;
    return v;
  }
  std::string str() {
    const auto n = get<std::uint32_t>();
    if (!ok_ || std::size_t(end_ - p_) < n) {
      ok_ = false;
      return {};
    }
    std::string s(p_, n);
    p_ += n;
    return s;
  }
  // A tensor as put_tensor wrote it; ok() turns false on anything
  // inconsistent (the stream comes from a process that ran foreign code).
  std::pair<std::string, fixture::Tensor> tensor() {
    std::pair<std::string, fixture::Tensor> out;
    out.first = str();
    const auto dtype = get<std::uint32_t>();
    const auto ndim = get<std::uint32_t>();
    if (!ok_ || ndim > 8 || dtype > std::uint32_t(numeric::DType::bf16)) {
      ok_ = false;
      return out;
    }
    out.second.dtype = numeric::DType(dtype);
    std::uint64_t count = 1;
    for (std::uint32_t i = 0; i < ndim && ok_; ++i) {
      const auto d = get<std::uint64_t>();
      if (d > (std::uint64_t(1) << 40) || (d != 0 && count > (std::uint64_t(1) << 40) / d))
        ok_ = false;
      count *= d;
      out.second.shape.push_back(std::int64_t(d));
    }
    const auto n = get<std::uint64_t>();
    if (!ok_ || n != count * numeric::dtype_size(out.second.dtype)) {
      ok_ = false;
      return out;
    }
    out.second.bytes = bytes(std::size_t(n));
    return out;
  }
  // Advances past n bytes and returns where they start.
  const char* skip(std::size_t n) {
    if (std::size_t(end_ - p_) < n) {
      ok_ = false;
      return p_;
    }
    const char* at = p_;
    p_ += n;
    return at;
  }
  std::vector<unsigned char> bytes(std::size_t n) {
    if (std::size_t(end_ - p_) < n) {
      ok_ = false;
      return {};
    }
    std::vector<unsigned char> b(p_, p_ + n);
    p_ += n;
    return b;
  }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace

const CallRecord* ChildReport::call_expected_to_produce(std::string_view output) const {
  for (const auto& c : calls)
    for (const auto& o : c.expected)
      if (o == output) return &c;
  return nullptr;
}

const CallRecord* ChildReport::unfinished_call() const {
  for (const auto& c : calls)
    if (!c.finished) return &c;
  return nullptr;
}

ReportWriter::ReportWriter(int fd) : fd_(fd) {}

void ReportWriter::emit(char tag, const std::string& body) {
  std::string rec(1, tag);
  put_u64(rec, body.size());
  rec += body;
  const char* p = rec.data();
  std::size_t left = rec.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nothing sensible to do in a worker: the parent sees a short report
    p += n;
    left -= std::size_t(n);
  }
}

void ReportWriter::supports(nc_status status, std::string_view reason) {
  std::string b;
  put_u32(b, std::uint32_t(status));
  put_str(b, reason);
  emit('S', b);
}

void ReportWriter::begin_call(std::string_view name, const std::vector<std::string>& expected) {
  std::string b;
  put_str(b, name);
  put_u32(b, std::uint32_t(expected.size()));
  for (const auto& e : expected) put_str(b, e);
  emit('C', b);
}

void ReportWriter::end_call(nc_status status, std::string_view message, double seconds) {
  std::string b;
  put_u32(b, std::uint32_t(status));
  put_str(b, message);
  put_f64(b, seconds);
  emit('E', b);
}

void ReportWriter::overrun(std::string_view what) {
  std::string b;
  put_str(b, what);
  emit('O', b);
}

void ReportWriter::late_write(std::string_view call, std::string_view what) {
  std::string b;
  put_str(b, call);
  put_str(b, what);
  emit('L', b);
}

void ReportWriter::modified_input(std::string_view name) {
  std::string b;
  put_str(b, name);
  emit('M', b);
}

void ReportWriter::output(std::string_view name, const fixture::Tensor& t) {
  std::string b;
  put_tensor(b, name, t);
  emit('T', b);
}

void ReportWriter::reading_fixture(std::string_view path) {
  std::string b;
  put_str(b, path);
  emit('R', b);
}

void ReportWriter::fixture_case(const fixture::Case& c) {
  std::string b;
  put_str(b, c.descriptor());
  const auto& p = c.provenance;
  put_u32(b, std::uint32_t(p.schema_version));
  put_str(b, p.generator_version);
  put_u32(b, std::uint32_t(p.reference_precision_bits));
  put_u32(b, p.certified ? 1u : 0u);
  put_u64(b, std::uint64_t(p.escalated_elements));
  put_str(b, p.source);
  put_str(b, p.origin);
  for (const auto* group : {&c.inputs, &c.golden}) {
    put_u32(b, std::uint32_t(group->size()));
    for (const auto& [name, t] : *group) put_tensor(b, name, t);
  }
  emit('K', b);
}

void ReportWriter::fixture_error(std::string_view message) {
  std::string b;
  put_str(b, message);
  emit('D', b);
}

void ReportWriter::harness_error(std::string_view what) {
  std::string b;
  put_str(b, what);
  emit('X', b);
}

void ReportWriter::finish() {
  emit('Z', {});
}

ChildReport parse_child_report(const std::string& bytes) {
  ChildReport r;
  Cursor top(bytes.data(), bytes.size());
  while (true) {
    const char tag = top.get<char>();
    const auto length = top.get<std::uint64_t>();
    if (!top.ok()) break;
    // A view into the stream, not a copy: a case's tensors can be large.
    const char* body = top.skip(std::size_t(length));
    if (!top.ok()) break;  // truncated: the worker died while writing
    Cursor c(body, std::size_t(length));
    CallRecord* current = r.calls.empty() ? nullptr : &r.calls.back();
    switch (tag) {
      case 'S': {
        const auto status = nc_status(c.get<std::uint32_t>());
        r.unsupported_reason = c.str();
        if (c.ok()) r.supported = status;
        break;
      }
      case 'C': {
        CallRecord call;
        call.name = c.str();
        const auto n = c.get<std::uint32_t>();
        for (std::uint32_t i = 0; i < n && c.ok(); ++i) call.expected.push_back(c.str());
        r.calls.push_back(std::move(call));
        break;
      }
      case 'E':
        if (current != nullptr) {
          current->status = nc_status(c.get<std::uint32_t>());
          current->message = c.str();
          current->seconds = c.get<double>();
          current->finished = c.ok();
        }
        break;
      case 'O':
        if (current != nullptr) current->overruns.push_back(c.str());
        break;
      case 'M':
        if (current != nullptr) current->modified_inputs.push_back(c.str());
        break;
      case 'T': {
        auto [name, t] = c.tensor();
        if (!c.ok()) break;
        if (current != nullptr) current->outputs.push_back(name);
        r.outputs[name] = std::move(t);
        break;
      }
      case 'R':
        r.fixture_path = c.str();
        break;
      case 'L': {
        const std::string call = c.str();
        const std::string what = c.str();
        if (!c.ok()) break;
        // Charged to the last call of that name (the one that was given the buffer).
        for (auto it = r.calls.rbegin(); it != r.calls.rend(); ++it)
          if (it->name == call) {
            it->overruns.push_back("late write: " + what);
            break;
          }
        break;
      }
      case 'D':
        r.fixture_error = c.str();
        break;
      case 'K': {
        const std::string descriptor = c.str();
        fixture::Case k;
        auto& p = k.provenance;
        p.schema_version = int(c.get<std::uint32_t>());
        p.generator_version = c.str();
        p.reference_precision_bits = int(c.get<std::uint32_t>());
        p.certified = c.get<std::uint32_t>() != 0;
        p.escalated_elements = std::int64_t(c.get<std::uint64_t>());
        p.source = c.str();
        p.origin = c.str();
        for (auto* group : {&k.inputs, &k.golden}) {
          const auto n = c.get<std::uint32_t>();
          for (std::uint32_t i = 0; i < n && c.ok(); ++i) {
            auto [name, t] = c.tensor();
            if (c.ok()) (*group)[name] = std::move(t);
          }
        }
        if (!c.ok()) break;
        try {
          k.problem = model::parse_descriptor(descriptor);
        } catch (const model::InputError& e) {
          r.fixture_error = e.what();
          break;
        }
        r.fixture_case = std::move(k);
        break;
      }
      case 'X':
        r.harness_error = c.str();
        break;
      case 'Z':
        r.complete = true;
        break;
      default:
        return r;  // garbage: stop reading
    }
  }
  return r;
}

}  // namespace normcheck::runner
