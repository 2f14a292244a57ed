// What a rank process and its worker say to each other (channel.hpp frames).
//
//   rank process -> worker            worker -> rank process
//   'S' call supports()               'A' all-reduce these doubles (inside a call)
//   'F' forward, payload: prefix      'D' the call returned, payload: i32 nc_status
//   'B' backward, payload: prefix
//   'R' all-reduce answer: i32 rc, then the sums when rc == 0
//   'Q' quit: finish the report and exit
//
// The prefix is "" for the main run and runner::prefix::rerun for the
// determinism rerun.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace normcheck::mpi::wire {

inline constexpr char supports = 'S';
inline constexpr char forward = 'F';
inline constexpr char backward = 'B';
inline constexpr char reduce_answer = 'R';
inline constexpr char quit = 'Q';
inline constexpr char reduce_request = 'A';
inline constexpr char done = 'D';

std::string encode_doubles(std::span<const double> values);
// The doubles of a payload; false when its size is not a multiple of 8.
bool decode_doubles(std::string_view payload, std::vector<double>& values);

std::string encode_i32(std::int32_t v);
// The leading i32 of a payload, or `fallback` when it is too short.
std::int32_t decode_i32(std::string_view payload, std::int32_t fallback);

}  // namespace normcheck::mpi::wire
