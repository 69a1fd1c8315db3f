// A flat open-addressing map from 64-bit target hashes to 32-bit slot indices (linear probing,
// backward-shift deletion): the allocator's identity index, one cache line per lookup.
#pragma once
#include <cstdint>
#include <vector>

namespace otel::allocation {

class FlatIndex {
 public:
  static constexpr std::uint32_t kNone = 0xffffffffu;

  std::uint32_t find(std::uint64_t key) const {
    if (cells_.empty()) return kNone;
    for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
      const Cell& c = cells_[i];
      if (c.value == kNone) return kNone;
      if (c.key == key) return c.value;
    }
  }
  // Inserts key -> value; returns false (and changes nothing) when the key exists.
  bool insert(std::uint64_t key, std::uint32_t value) { return findOrInsert(key, value) == kNone; }
  // Inserts key -> value, or returns the value already stored for key (one probe sequence).
  std::uint32_t findOrInsert(std::uint64_t key, std::uint32_t value) {
    if ((size_ + 1) * 2 > cells_.size()) grow();
    for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
      Cell& c = cells_[i];
      if (c.value == kNone) {
        c = {key, value};
        ++size_;
        return kNone;
      }
      if (c.key == key) return c.value;
    }
  }
  // Hints the cache about the cell `key` starts probing at (for batched lookups).
  void prefetch(std::uint64_t key) const {
    if (!cells_.empty()) __builtin_prefetch(&cells_[bucket(key)]);
  }
  void set(std::uint64_t key, std::uint32_t value) {
    if (!insert(key, value)) cells_[locate(key)].value = value;
  }
  bool erase(std::uint64_t key) {
    if (cells_.empty()) return false;
    std::size_t i = locate(key);
    if (i == npos) return false;
    // Backward-shift: move later cells of the probe run into the hole.
    std::size_t j = i;
    while (true) {
      j = (j + 1) & mask_;
      if (cells_[j].value == kNone) break;
      std::size_t home = bucket(cells_[j].key);
      bool movable = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        cells_[i] = cells_[j];
        i = j;
      }
    }
    cells_[i] = {0, kNone};
    --size_;
    return true;
  }
  void reserve(std::size_t n) {
    std::size_t cap = cells_.empty() ? 16 : cells_.size();
    while (n * 2 > cap) cap *= 2;
    if (cap != cells_.size()) rehash(cap);
  }
  std::size_t size() const { return size_; }
  std::size_t memoryBytes() const { return cells_.capacity() * sizeof(Cell); }

 private:
  struct Cell {
    std::uint64_t key = 0;
    std::uint32_t value = kNone;
  };
  static constexpr std::size_t npos = ~std::size_t{0};

  std::size_t bucket(std::uint64_t key) const { return (key ^ (key >> 29)) & mask_; }
  std::size_t locate(std::uint64_t key) const {
    for (std::size_t i = bucket(key);; i = (i + 1) & mask_) {
      if (cells_[i].value == kNone) return npos;
      if (cells_[i].key == key) return i;
    }
  }
  void grow() { rehash(cells_.empty() ? 16 : cells_.size() * 2); }
  void rehash(std::size_t capacity) {
    std::vector<Cell> old = std::move(cells_);
    cells_.assign(capacity, Cell{});
    mask_ = cells_.size() - 1;
    size_ = 0;
    for (const auto& c : old)
      if (c.value != kNone) insert(c.key, c.value);
  }

  std::vector<Cell> cells_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace otel::allocation
