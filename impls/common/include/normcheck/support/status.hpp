// Errors inside a backend are C++ exceptions; at the C ABI they become a
// status code plus a message in the caller's buffer. guarded() is the one
// place that translates, so no exception ever crosses the boundary.
#pragma once

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string_view>

#include "normcheck/backend.h"

namespace normcheck::support {

// The call is malformed: a NULL required tensor, a wrong shape or dtype, an
// impossible problem. Becomes NC_INVALID_ARGUMENT.
class ArgumentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A well-formed call this backend declines. Becomes NC_UNSUPPORTED.
class Unsupported : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Copies text into buffer (truncated, always NUL-terminated); a NULL buffer
// or a zero size is allowed and receives nothing.
void write_message(char* buffer, std::size_t size, std::string_view text,
                   std::string_view more = {}) noexcept;

// Runs body() and maps what it throws to a status and a message.
template <class Body>
nc_status guarded(char* message, std::size_t message_size, Body&& body) noexcept {
  try {
    body();
    write_message(message, message_size, "");
    return NC_OK;
  } catch (const ArgumentError& e) {
    write_message(message, message_size, e.what());
    return NC_INVALID_ARGUMENT;
  } catch (const Unsupported& e) {
    write_message(message, message_size, e.what());
    return NC_UNSUPPORTED;
  } catch (const std::bad_alloc&) {
    write_message(message, message_size, "out of memory");
    return NC_INTERNAL_ERROR;
  } catch (const std::exception& e) {
    write_message(message, message_size, "internal error: ", e.what());
    return NC_INTERNAL_ERROR;
  } catch (...) {
    write_message(message, message_size, "internal error: unknown exception");
    return NC_INTERNAL_ERROR;
  }
}

}  // namespace normcheck::support
