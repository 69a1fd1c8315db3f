#include "lib/kube/leader_election.h"

#include <unistd.h>

#include <random>
#include <thread>

#include "lib/core/error.h"
#include "lib/core/log.h"
#include "lib/kube/credentials.h"

namespace otel::kube {

std::string defaultLeaderIdentity() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::mt19937_64 rng(std::random_device{}());
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return std::string(host) + "_" + buf;
}

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config) : client_(client), config_(std::move(config)) {
  if (config_.name.empty() || config_.identity.empty())
    throw otel::Error("leader election needs a lease name and an identity");
  if (config_.leaseDuration <= config_.renewDeadline)
    throw otel::Error("leaseDuration must be greater than renewDeadline");
  if (config_.renewDeadline.count() <= 1.2 * static_cast<double>(config_.retryPeriod.count()))
    throw otel::Error("renewDeadline must be greater than retryPeriod*JitterFactor(1.2)");
}

std::string LeaderElector::observedLeader() const {
  std::lock_guard lock(mu_);
  if (!observed_.is_object() || !observed_.contains("spec")) return {};
  return observed_["spec"].value("holderIdentity", "");
}

void LeaderElector::observeOwnWrite(const Json& lease) {
  std::lock_guard lock(mu_);
  observed_ = lease;
  observedRaw_ = lease["spec"].dump();
  observedTime_ = Clock::now();
}

bool LeaderElector::isLeader() const {
  if (!leading_.load()) return false;
  return Clock::now() < Clock::time_point(Clock::duration(lastRenew_.load())) + config_.renewDeadline;
}

bool LeaderElector::tryAcquireOrRenew() {
  auto now = std::chrono::system_clock::now();
  const std::string nowStr = formatRfc3339(now, true);
  const long leaseSecs =
      static_cast<long>(std::chrono::ceil<std::chrono::seconds>(config_.leaseDuration).count());
  Json lease;
  try {
    lease = client_.get(leaseId_, config_.ns, config_.name);
  } catch (const ApiError& e) {
    if (!e.isNotFound()) {
      otel::log::warn("leader_election_get_failed", {{"lease", config_.name}, {"error", e.oneLine()}});
      return false;
    }
    Json fresh = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", config_.name}, {"namespace", config_.ns}}},
                  {"spec",
                   {{"holderIdentity", config_.identity},
                    {"leaseDurationSeconds", leaseSecs},
                    {"acquireTime", nowStr},
                    {"renewTime", nowStr},
                    {"leaseTransitions", 0}}}};
    try {
      observeOwnWrite(client_.create(leaseId_, config_.ns, fresh));
      lastRenew_ = Clock::now().time_since_epoch().count();
      return true;
    } catch (const otel::Error&) {
      return false;  // someone else created it first (AlreadyExists) or we may not
    }
  } catch (const otel::Error& e) {
    otel::log::warn("leader_election_get_failed", {{"lease", config_.name}, {"error", e.oneLine()}});
    return false;
  }

  Json spec = lease.value("spec", Json::object());
  std::string holder = spec.value("holderIdentity", "");
  long recordSecs = spec.value("leaseDurationSeconds", leaseSecs);
  std::string newLeader;
  {
    std::lock_guard lock(mu_);
    std::string raw = spec.dump();
    if (raw != observedRaw_) {
      // Validity is judged by when *we* saw the record change, never by its timestamps (clock skew).
      std::string before = observed_.is_object() && observed_.contains("spec") ? observed_["spec"].value("holderIdentity", "") : "";
      observedRaw_ = raw;
      observedTime_ = Clock::now();
      observed_ = lease;
      if (holder != before) newLeader = holder;
    }
    if (!holder.empty() && holder != config_.identity &&
        observedTime_ + std::chrono::seconds(recordSecs) > Clock::now()) {
      if (!newLeader.empty() && config_.onNewLeader) config_.onNewLeader(newLeader);
      return false;
    }
  }
  if (holder != config_.identity) {
    spec["acquireTime"] = nowStr;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = leaseSecs;
  spec["renewTime"] = nowStr;
  lease["spec"] = spec;
  try {
    observeOwnWrite(client_.update(leaseId_, config_.ns, lease));
    lastRenew_ = Clock::now().time_since_epoch().count();
    return true;
  } catch (const ApiError& e) {
    if (!e.isConflict())
      otel::log::warn("leader_election_update_failed", {{"lease", config_.name}, {"error", e.oneLine()}});
    return false;  // a 409: another candidate won this round
  } catch (const otel::Error& e) {
    otel::log::warn("leader_election_update_failed", {{"lease", config_.name}, {"error", e.oneLine()}});
    return false;
  }
}

void LeaderElector::release() {
  try {
    Json lease = client_.get(leaseId_, config_.ns, config_.name);
    Json& spec = lease["spec"];
    if (spec.value("holderIdentity", "") != config_.identity) return;
    std::string now = formatRfc3339(std::chrono::system_clock::now(), true);
    spec.erase("holderIdentity");
    spec["leaseDurationSeconds"] = 1;
    spec["renewTime"] = now;
    spec["acquireTime"] = now;
    client_.update(leaseId_, config_.ns, lease);
    otel::log::info("leader_election_released", {{"lease", config_.name}, {"identity", config_.identity}});
  } catch (const otel::Error& e) {
    otel::log::warn("leader_election_release_failed", {{"lease", config_.name}, {"error", e.oneLine()}});
  }
}

void LeaderElector::run(std::stop_token stop) {
  std::mt19937 rng(std::random_device{}());
  auto jittered = [&] {
    std::uniform_real_distribution<double> d(1.0, 1.2);
    return std::chrono::duration_cast<Clock::duration>(config_.retryPeriod * d(rng));
  };
  // Campaign.
  while (!stop.stop_requested()) {
    if (tryAcquireOrRenew()) break;
    if (!sleepFor(jittered(), stop)) return;
  }
  if (stop.stop_requested()) return;
  leading_ = true;
  otel::log::info("leader_election_acquired", {{"lease", config_.name}, {"identity", config_.identity}});
  if (config_.onNewLeader) config_.onNewLeader(config_.identity);
  std::stop_source leadStop;
  std::jthread worker;
  if (config_.onStartedLeading)
    worker = std::jthread([this, token = leadStop.get_token()] { config_.onStartedLeading(token); });
  // Renew every retry period; give up when no renewal succeeded within the renew deadline.
  bool lost = false;
  while (!stop.stop_requested()) {
    if (!sleepFor(config_.retryPeriod, stop)) break;
    auto deadline = Clock::now() + config_.renewDeadline;
    bool renewed = false;
    while (!stop.stop_requested() && Clock::now() < deadline) {
      if (tryAcquireOrRenew()) {
        renewed = true;
        break;
      }
      if (!sleepFor(config_.retryPeriod, stop)) break;
    }
    if (stop.stop_requested()) break;
    if (!renewed) {
      lost = true;
      break;
    }
  }
  leading_ = false;
  leadStop.request_stop();
  if (worker.joinable()) worker.join();
  if (lost) otel::log::warn("leader_election_lost", {{"lease", config_.name}, {"identity", config_.identity}});
  if (!lost && config_.releaseOnCancel) release();
  if (config_.onStoppedLeading) config_.onStoppedLeading();
}

}  // namespace otel::kube
