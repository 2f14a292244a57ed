// The one oneDNN CPU engine of this process, and running a primitive on it
// to completion.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

#include <unordered_map>

namespace normcheck::onednn {

// Created on first use; an engine is immutable and thread-safe.
const dnnl::engine& cpu_engine();

// Executes on a fresh in-order stream and waits, so the caller's host
// buffers hold the results when this returns.
void run(const dnnl::primitive& primitive, const std::unordered_map<int, dnnl::memory>& args);

// A memory object over a caller-owned host buffer (no copy). oneDNN's
// handles are non-const; a primitive never writes its inputs, so const
// input buffers are handed over through wrap_input.
dnnl::memory wrap(const dnnl::memory::desc& desc, void* data);
dnnl::memory wrap_input(const dnnl::memory::desc& desc, const void* data);

}  // namespace normcheck::onednn
