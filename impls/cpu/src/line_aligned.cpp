#include "line_aligned.hpp"

#include <array>
#include <bit>

namespace normcheck::cpu {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kKeepBlocks = false;
#else
constexpr bool kKeepBlocks = true;
#endif

constexpr std::size_t kSmallest = std::size_t(4) << 10;  // below: glibc's bins serve them well
constexpr std::size_t kLargest = std::size_t(16) << 20;
constexpr std::size_t kClasses = std::bit_width(kLargest) - std::bit_width(kSmallest) + 1;
// A call's arrays of one size: a backward's four per-plane constants are
// the most of one class live at once.
constexpr std::size_t kPerClass = 4;
constexpr std::size_t kMostKept = std::size_t(64) << 20;

void* new_block(std::size_t bytes) {
  return ::operator new(bytes, std::align_val_t{kCacheLine});
}

class BlockCache {
 public:
  BlockCache() = default;
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;
  ~BlockCache() {
    for (std::size_t c = 0; c < kClasses; ++c)
      for (std::size_t i = 0; i < counts_[c]; ++i)
        ::operator delete(blocks_[c][i], std::align_val_t{kCacheLine});
  }
  void* take(std::size_t cls) {
    const auto c = index(cls);
    if (counts_[c] == 0) return new_block(cls);
    kept_ -= cls;
    return blocks_[c][--counts_[c]];
  }
  bool keep(void* block, std::size_t cls) {
    const auto c = index(cls);
    if (counts_[c] == kPerClass || kept_ + cls > kMostKept) return false;
    blocks_[c][counts_[c]++] = block;
    kept_ += cls;
    return true;
  }

 private:
  static std::size_t index(std::size_t cls) {
    return std::size_t(std::bit_width(cls) - std::bit_width(kSmallest));
  }
  std::array<std::array<void*, kPerClass>, kClasses> blocks_{};
  std::array<std::size_t, kClasses> counts_{};
  std::size_t kept_ = 0;
};

// The cache lives as long as its thread's thread_local objects; a block
// freed after it is gone (a static destroyed at exit) goes straight back.
thread_local bool cache_gone = false;
struct CacheHolder {
  BlockCache cache;
  ~CacheHolder() { cache_gone = true; }
};
BlockCache* thread_cache() {
  if (cache_gone) return nullptr;
  thread_local CacheHolder holder;
  return &holder.cache;
}

}  // namespace

std::size_t line_block_class(std::size_t bytes) noexcept {
  if (!kKeepBlocks || bytes < kSmallest || bytes > kLargest) return 0;
  return std::bit_ceil(bytes);
}

void* take_line_block(std::size_t bytes) {
  const auto cls = line_block_class(bytes);
  if (cls == 0) return new_block(bytes);
  if (auto* cache = thread_cache()) return cache->take(cls);
  return new_block(cls);
}

// Every block is ::operator new(bytes, kCacheLine)'s, kept or not, so any
// block may go straight back with ::operator delete.
void give_line_block(void* block, std::size_t bytes) noexcept {
  const auto cls = line_block_class(bytes);
  auto* cache = cls == 0 ? nullptr : thread_cache();
  if (cache == nullptr || !cache->keep(block, cls))
    ::operator delete(block, std::align_val_t{kCacheLine});
}

}  // namespace normcheck::cpu
