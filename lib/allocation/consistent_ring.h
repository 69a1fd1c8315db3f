// buraksezer/consistent v0.10.0 as the upstream target allocator configures it (1061 partitions,
// replication factor 5, load 1.1, xxhash64, replica key "<name><i>"): identical partition owners,
// so switching from the upstream allocator reassigns no target. Pure.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace otel::allocation {

class ConsistentRing {
 public:
  static constexpr std::uint64_t kPartitionCount = 1061;
  static constexpr int kReplicationFactor = 5;
  static constexpr double kLoad = 1.1;

  // Builds the ring and distributes the partitions (empty `members`: every lookup gives -1).
  explicit ConsistentRing(std::vector<std::string> members = {});

  // Index into members() of the owner of `key` (a target's __address__), -1 without members.
  int locate(std::string_view key) const { return members_.empty() ? -1 : owners_[partitionOf(key)]; }
  // Same, from xxhash64(key) already computed.
  int locateHash(std::uint64_t keyHash) const {
    return members_.empty() ? -1 : owners_[keyHash % kPartitionCount];
  }
  int partitionOwner(std::uint64_t partition) const { return members_.empty() ? -1 : owners_[partition]; }
  static std::uint64_t partitionOf(std::string_view key);
  // ceil(float64(1061 / members) * 1.1), the division truncating as Go's uint64 division does: the most
  // partitions a member may own (1 with more than 1061 members, where the Go library panics).
  double averageLoad() const;
  const std::vector<std::string>& members() const { return members_; }
  // Partitions owned per member (index as members()).
  std::vector<int> partitionLoads() const;

 private:
  std::vector<std::string> members_;
  std::vector<int> owners_;  // partition -> member index
};

// XXH64 with seed 0 (cespare/xxhash Sum64).
std::uint64_t xxhash64(std::string_view data);

}  // namespace otel::allocation
