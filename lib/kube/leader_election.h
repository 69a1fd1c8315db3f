// Leader election on a coordination.k8s.io/v1 Lease (client-go's algorithm): acquire, renew every
// retry period, lose leadership when renewal fails for the renew deadline, release on cancel.
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>

#include "lib/core/json.h"
#include "lib/kube/client.h"

namespace otel::kube {

struct LeaderElectionConfig {
  std::string ns;
  std::string name;      // the Lease name
  std::string identity;  // this candidate (hostname_uuid)
  std::chrono::milliseconds leaseDuration{15000};
  std::chrono::milliseconds renewDeadline{10000};
  std::chrono::milliseconds retryPeriod{2000};
  bool releaseOnCancel = true;
  // Runs on its own thread while leading; its stop token fires when leadership ends.
  std::function<void(std::stop_token)> onStartedLeading;
  std::function<void()> onStoppedLeading;
  std::function<void(const std::string& identity)> onNewLeader;
};

class LeaderElector {
 public:
  // Throws otel::Error when the durations are inconsistent (renewDeadline must exceed 1.2 x retryPeriod,
  // leaseDuration must exceed renewDeadline).
  LeaderElector(Client& client, LeaderElectionConfig config);

  // Campaigns until leading, leads until the lease cannot be renewed or `stop` fires, then returns.
  void run(std::stop_token stop);
  // Leading and the last successful renewal is younger than the renew deadline: a leader that cannot renew
  // stops counting as one at once, before another candidate may take the (then expired) lease over.
  bool isLeader() const;
  std::string observedLeader() const;

  // One attempt (exposed for tests): true when this candidate holds the lease afterwards.
  bool tryAcquireOrRenew();

 private:
  void release();
  // Records a lease we wrote (create/update succeeded) as the observed one.
  void observeOwnWrite(const Json& lease);
  Client& client_;
  LeaderElectionConfig config_;
  ResourceId leaseId_{"coordination.k8s.io/v1", "leases", true, "Lease"};
  std::atomic<bool> leading_{false};
  std::atomic<Clock::rep> lastRenew_{0};  // steady clock ticks of the last successful acquire/renew
  mutable std::mutex mu_;
  Json observed_;                             // the last lease record seen
  std::string observedRaw_;                   // its spec, for change detection
  Clock::time_point observedTime_{};          // local time when the record last changed
};

// "hostname_<random hex>".
std::string defaultLeaderIdentity();

}  // namespace otel::kube
