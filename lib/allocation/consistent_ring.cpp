#include "lib/allocation/consistent_ring.h"

#include <xxhash.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace otel::allocation {

std::uint64_t xxhash64(std::string_view data) { return XXH64(data.data(), data.size(), 0); }

std::uint64_t ConsistentRing::partitionOf(std::string_view key) { return xxhash64(key) % kPartitionCount; }

double ConsistentRing::averageLoad() const {
  if (members_.empty()) return 0;
  // The same operations as Go's averageLoad(): float64(partitionCount / uint64(len(members))) * Load, then
  // Ceil. The division is an integer division (truncating) done before the conversion to float64: 100
  // members give ceil(10 * 1.1) = 11 (10 * 1.1 is exactly 11.0 in float64), not ceil(10.61 * 1.1) = 12.
  const std::uint64_t perMember = kPartitionCount / members_.size();
  // More than 1061 members: Go's average load is 0 and distributePartitions panics ("not enough room to
  // distribute partitions"), so the upstream allocator cannot run; we give each member at most one
  // partition instead (docs/compatibility.md).
  if (perMember == 0) return 1;
  return std::ceil(static_cast<double>(perMember) * kLoad);
}

ConsistentRing::ConsistentRing(std::vector<std::string> members) : members_(std::move(members)) {
  if (members_.empty()) return;
  // add(): replica hashes xxhash("<name><i>") on the ring (a colliding hash belongs to the member added last).
  // Kept as (hash, member) in insertion order, stably sorted by hash: the last entry of a run of equal hashes
  // is the member added last, and every ring position of that hash maps to it (no hash map needed).
  std::vector<std::pair<std::uint64_t, int>> points;
  points.reserve(members_.size() * kReplicationFactor);
  static_assert(kReplicationFactor <= 10, "replica suffixes are one decimal digit");
  std::string replicaKey;
  for (std::size_t m = 0; m < members_.size(); ++m) {
    for (int i = 0; i < kReplicationFactor; ++i) {
      replicaKey.assign(members_[m]);
      replicaKey += static_cast<char>('0' + i);  // "<name><i>", i a single digit
      points.emplace_back(xxhash64(replicaKey), static_cast<int>(m));
    }
  }
  std::stable_sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::uint64_t> sorted(points.size());
  std::vector<int> pointOwner(points.size());
  for (std::size_t k = points.size(); k-- > 0;) {
    sorted[k] = points[k].first;
    pointOwner[k] = k + 1 < points.size() && points[k + 1].first == points[k].first ? pointOwner[k + 1] : points[k].second;
  }
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
      // Go's distributeWithLoad gives up once count reaches len(sortedSet) (never with <= 1061 members:
      // each has 5 ring points and the loads leave room for every partition).
      if (count >= sorted.size()) throw std::logic_error("not enough room to distribute partitions");
      int member = pointOwner[idx];
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
