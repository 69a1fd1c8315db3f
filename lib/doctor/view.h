// doctor's ClusterView: the snapshot of cluster objects the checks read (filled live by plugin/doctor or
// from `kubectl get -o yaml` dumps), indexed by kind, plus pod log lines, the objects a user is trying to
// apply (--desired) and error texts a user pasted (--error). PURE: values in, values out.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/core/json.h"
#include "lib/core/yaml.h"

namespace otel::doctor {

// The object a finding concerns (or evidence came from).
struct ObjectRef {
  std::string apiVersion, kind, ns, name;
  static ObjectRef of(const Json& obj);
  std::string display() const;  // "OpenTelemetryCollector observability/gateway" (cluster scope: no "ns/")
  Json toJson() const;
  bool operator==(const ObjectRef&) const = default;
};

// The last lines a container logged (live: the API server's pod log; files: a `kind: PodLog` document of
// apiVersion doctor.kubectl-otel.io/v1 with metadata.namespace/name = the pod, `container` and `lines`).
struct PodLog {
  std::string ns, pod, container;
  std::vector<std::string> lines;
};

inline constexpr const char* kPodLogApiVersion = "doctor.kubectl-otel.io/v1";

class ClusterView {
 public:
  // Adds one object (a kind the checks do not read is ignored; returns false then).
  bool add(Json obj);
  void addLog(PodLog log) { logs_.push_back(std::move(log)); }
  // Marks a kind as read in full (live: listed; files: present in the input). Checks that conclude from
  // the absence of an object ("no ServiceMonitor", "CRD missing") only do so for kinds read in full.
  void markListed(const std::string& kind) { listed_.insert(kind); }
  bool listed(const std::string& kind) const { return listed_.count(kind) > 0; }
  void skip(std::string what) { skipped_.push_back(std::move(what)); }

  // Objects of a kind (any group/version), in the order added; `ns` "" = all namespaces.
  std::vector<const Json*> of(const std::string& kind, const std::string& ns = "") const;
  const Json* find(const std::string& kind, const std::string& ns, const std::string& name) const;
  const std::vector<PodLog>& logs() const { return logs_; }
  const std::vector<std::string>& skipped() const { return skipped_; }
  std::size_t size() const { return count_; }

  // Replaces the object with the same kind/namespace/name (or adds it): how a fix is verified.
  void replace(const Json& obj);
  // Removes the object (a fix that deletes); false when it is not in the view.
  bool remove(const ObjectRef& ref);

  // True when the CRD <plural>.<group> is in the view (and served in `version` when given).
  bool hasCrd(const std::string& name, const std::string& version = "") const;

  // The objects the user is trying to apply (--desired) and error texts (--error, or taken from logs).
  std::vector<Json> desired;
  std::string desiredSource = "<your manifest>";  // the --desired file name(s), for the fix commands
  std::vector<std::string> errorTexts;
  // The namespace `kubectl apply` would use for a desired object without metadata.namespace.
  std::string defaultNamespace = "default";
  // Seconds since the epoch the checks take as "now" (certificate expiry).
  std::int64_t now = 0;

 private:
  struct KindIndex {
    std::vector<Json> objects;
    std::unordered_map<std::string, size_t> byKey;               // "ns/name" -> position
    std::unordered_map<std::string, std::vector<size_t>> byNs;  // ns -> positions, in order
  };
  void reindex(KindIndex& k);
  std::map<std::string, KindIndex> byKind_;
  std::set<std::string> listed_;
  std::vector<PodLog> logs_;
  std::vector<std::string> skipped_;
  std::size_t count_ = 0;
};

// The kinds the checks read (every other kind is ignored).
const std::set<std::string>& knownKinds();

// Fills a view from parsed documents (lists already flattened). A document that is not an object, or an
// object without `kind` or `apiVersion`, throws otel::Error naming the file and document; a document
// without metadata.name likewise (kinds doctor reads only). Every known kind present is marked listed, and
// so is the kind of every CRD present (a dump with the CRD holds its objects: none means none).
ClusterView viewFromDocuments(const std::vector<YamlDocument>& docs);
ClusterView viewFromDocuments(std::vector<YamlDocument>&& docs);  // moves the values (a dump is held once)

// Refuses, before Lists are flattened, a `kind: *List` document without an `items` array (a truncated
// or hand-cut dump): otel::Error naming file and document.
void checkListDocuments(const std::vector<YamlDocument>& docs);

// The objects of --desired files (same rules; every kind kept).
std::vector<Json> desiredFromDocuments(const std::vector<YamlDocument>& docs);

// RFC 3339 (lib/core/time.h) -> seconds since the epoch; -1 when it is not one.
std::int64_t parseTime(const std::string& rfc3339);

}  // namespace otel::doctor
