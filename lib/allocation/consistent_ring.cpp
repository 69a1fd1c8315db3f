#include "lib/allocation/consistent_ring.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_map>

namespace otel::allocation {

std::uint64_t xxhash64(std::string_view data) { return XXH64(data.data(), data.size(), 0); }

std::uint64_t ConsistentRing::partitionOf(std::string_view key) { return xxhash64(key) % kPartitionCount; }

double ConsistentRing::averageLoad() const {
  if (members_.empty()) return 0;
  // Same float64 operations as Go: float64(partitionCount) / float64(len(members)) * Load, then Ceil.
  double avg = static_cast<double>(kPartitionCount) / static_cast<double>(members_.size()) * kLoad;
  return std::ceil(avg);
}

ConsistentRing::ConsistentRing(std::vector<std::string> members) : members_(std::move(members)) {
  if (members_.empty()) return;
  // add(): replica hashes xxhash("<name><i>") on the ring (a colliding hash belongs to the member added last).
  std::vector<std::uint64_t> sorted;
  std::unordered_map<std::uint64_t, int> ring;
  sorted.reserve(members_.size() * kReplicationFactor);
  for (std::size_t m = 0; m < members_.size(); ++m) {
    for (int i = 0; i < kReplicationFactor; ++i) {
      std::uint64_t h = xxhash64(members_[m] + std::to_string(i));
      ring[h] = static_cast<int>(m);
      sorted.push_back(h);
    }
  }
  std::sort(sorted.begin(), sorted.end());
  // distributePartitions(): partition p starts at the first ring point >= xxhash(uint64 LE p) and walks
  // clockwise to the first member whose load+1 <= averageLoad.
  const double avgLoad = averageLoad();
  std::vector<double> loads(members_.size(), 0);
  owners_.assign(kPartitionCount, -1);
  for (std::uint64_t p = 0; p < kPartitionCount; ++p) {
    unsigned char bs[8];
    for (int b = 0; b < 8; ++b) bs[b] = static_cast<unsigned char>(p >> (8 * b));
    std::uint64_t key = XXH64(bs, 8, 0);
    std::size_t idx = std::lower_bound(sorted.begin(), sorted.end(), key) - sorted.begin();
    if (idx >= sorted.size()) idx = 0;
    for (std::size_t count = 1;; ++count) {
      if (count > sorted.size()) throw std::logic_error("not enough room to distribute partitions");
      int member = ring[sorted[idx]];
      if (loads[member] + 1 <= avgLoad) {
        owners_[p] = member;
        loads[member]++;
        break;
      }
      if (++idx >= sorted.size()) idx = 0;
    }
  }
}

std::vector<int> ConsistentRing::partitionLoads() const {
  std::vector<int> loads(members_.size(), 0);
  for (int o : owners_)
    if (o >= 0) loads[o]++;
  return loads;
}

}  // namespace otel::allocation
