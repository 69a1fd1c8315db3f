#include "tests/support/api_server.h"

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "lib/core/error.h"
#include "tests/support/access_review.h"
#include "tests/support/api_logic.h"
#include "tests/support/builtin_defaults.h"
#include "tests/support/builtin_schema.h"
#include "tests/support/certs.h"
#include "tests/support/rbac.h"
#include "tests/support/resources.h"

namespace otel::testing {
namespace {

using Clock = std::chrono::steady_clock;

struct Event {
  std::int64_t rv = 0;
  std::string gr;
  std::string ns;
  std::string type;  // ADDED MODIFIED DELETED
  Json object;
  Json prev;  // the object before the change (null for ADDED)
};

// An answer to an API request.
struct Answer {
  Answer() = default;
  Answer(int s, Json b, std::string ct = "application/json") : status(s), body(std::move(b)), contentType(std::move(ct)) {}
  int status = 200;
  Json body;
  std::string contentType = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  bool raw = false;  // body is a string written as is (a proxied answer)
};

Answer answer(const Json& status) { return Answer{status.value("code", 500), status}; }

// An authenticated user. `forbidden` marks options.forbiddenToken's user, refused every resource request.
struct User : UserInfo {
  bool forbidden = false;
};

// A user as authentication leaves it: kube's AuthenticatedGroupAdder puts system:authenticated among the groups.
User authenticatedUser(std::string name, std::vector<std::string> groups, bool forbidden = false) {
  User u;
  u.name = std::move(name);
  u.groups = std::move(groups);
  if (std::find(u.groups.begin(), u.groups.end(), kSystemAuthenticated) == u.groups.end())
    u.groups.push_back(kSystemAuthenticated);
  u.forbidden = forbidden;
  return u;
}

// A YAML scalar for a kubeconfig: plain when it is a simple word, JSON-quoted otherwise.
std::string yamlScalar(const std::string& s) {
  bool plain = !s.empty();
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') plain = false;
  return plain ? s : Json(s).dump();
}

std::string keyOf(const std::string& ns, const std::string& name) { return ns + "/" + name; }

std::string meta(const Json& obj, const char* field) {
  if (obj.is_object() && obj.contains("metadata") && obj["metadata"].is_object() &&
      obj["metadata"].contains(field) && obj["metadata"][field].is_string())
    return obj["metadata"][field].get<std::string>();
  return "";
}

std::vector<std::string> splitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) out.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Json withoutVolatile(Json o) {
  if (o.is_object() && o.contains("metadata") && o["metadata"].is_object()) {
    o["metadata"].erase("resourceVersion");
    o["metadata"].erase("managedFields");
  }
  return o;
}

// Equal as JSON values whatever the key order (what the API server compares is Go's canonical encoding).
bool sameJson(const Json& a, const Json& b) { return nlohmann::json::parse(a.dump()) == nlohmann::json::parse(b.dump()); }

// A Warning header value as kube-apiserver writes it (RFC 7234 warn-code 299, quoted text).
std::string warningHeader(const std::string& text) {
  std::string q = "299 - \"";
  for (char ch : text) {
    if (ch == '"' || ch == '\\') q += '\\';
    q += ch;
  }
  return q + "\"";
}

// Go's %+v of a decoded JSON value (map[string]interface{} with sorted keys, []interface{}, int64 ...), as
// kube renders a strategic merge patch in its strict-decoding error.
std::string goPlusV(const Json& v) {
  if (v.is_null()) return "<nil>";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number()) return v.dump();
  std::string out;
  if (v.is_array()) {
    out = "[";
    for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + goPlusV(v[i]);
    return out + "]";
  }
  std::map<std::string, const Json*> sorted;
  for (auto it = v.begin(); it != v.end(); ++it) sorted[it.key()] = &it.value();
  out = "map[";
  bool first = true;
  for (const auto& [k, x] : sorted) {
    out += (first ? "" : " ") + k + ":" + goPlusV(*x);
    first = false;
  }
  return out + "]";
}

// A JSON path (".spec.replicas") as segments.
std::vector<std::string> jsonPathSegments(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '.') {
      ++i;
      continue;
    }
    size_t j = path.find('.', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}
const Json* atPath(const Json& o, const std::string& path) {
  const Json* cur = &o;
  for (const auto& seg : jsonPathSegments(path)) {
    if (!cur->is_object() || !cur->contains(seg)) return nullptr;
    cur = &(*cur)[seg];
  }
  return cur;
}
void setAtPath(Json& o, const std::string& path, const Json& value) {
  Json* cur = &o;
  auto segs = jsonPathSegments(path);
  for (size_t i = 0; i < segs.size(); ++i) {
    if (!cur->is_object()) *cur = Json::object();
    if (i + 1 == segs.size())
      (*cur)[segs[i]] = value;
    else
      cur = &(*cur)[segs[i]];
  }
}

// True when every field of `applied` has that value in `current` (lists element by element with the same
// length): an applied list item that the server defaulted further (imagePullPolicy ...) is the same value to
// structured-merge-diff, which compares the fields the applier sets.
bool appliedWithin(const Json& current, const Json& applied) {
  if (applied.is_object() && current.is_object()) {
    for (auto it = applied.begin(); it != applied.end(); ++it)
      if (!current.contains(it.key()) || !appliedWithin(current[it.key()], it.value())) return false;
    return true;
  }
  if (applied.is_array() && current.is_array()) {
    if (applied.size() != current.size()) return false;
    for (size_t i = 0; i < applied.size(); ++i)
      if (!appliedWithin(current[i], applied[i])) return false;
    return true;
  }
  return sameJson(current, applied);
}

bool differsOutsideMetadata(const Json& a, const Json& b, bool ignoreStatus) {
  Json x = a, y = b;
  for (Json* o : {&x, &y}) {
    o->erase("metadata");
    o->erase("apiVersion");
    o->erase("kind");
    if (ignoreStatus) o->erase("status");
  }
  return !sameJson(x, y);
}

std::string statusReasonFor(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "Unknown";
  }
}

X509_STORE* storeFromPem(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509_STORE_add_cert(store, cert);
    X509_free(cert);
  }
  ERR_clear_error();
  BIO_free(bio);
  return store;
}

// The parsed target of an API request.
struct Target {
  const ResourceType* type = nullptr;
  std::string ns;    // namespace from the URL ("" when none)
  std::string name;  // "" for collections
  std::string sub;   // subresource ("status", "scale") or ""
};

// One line of a watch stream: ready text, or an event whose object is converted (strategy Webhook) before it
// is written, outside the server lock.
struct WatchLine {
  std::string text;
  std::string type = {};
  Json object = {};
};

struct WatchState {
  std::string gr;
  std::string ns;
  std::string apiVersion;  // rendered apiVersion
  bool stripKind = false;
  LabelSelector labels;
  std::vector<FieldRequirement> fields;
  std::int64_t pos = 0;
  bool bookmarks = false;
  Clock::time_point deadline;
  Clock::time_point lastSent;
  std::deque<WatchLine> pending;
  bool finished = false;
};

}  // namespace

struct TestApiServer::Impl {
  TestApiServerOptions opts;
  CertKey ca;
  CertKey serving;
  std::string token;
  std::unique_ptr<httplib::SSLServer> server;
  std::thread thread;
  int port = 0;

  mutable std::mutex mu;
  mutable std::condition_variable cv;
  std::int64_t rv = 0;
  std::vector<ResourceType> types;
  std::map<std::string, std::map<std::string, Json>> store;  // groupResource -> ns/name -> object
  std::map<std::string, std::string> podLogs;                 // ns/pod/container -> text (setPodLog)
  std::map<std::string, std::pair<std::string, std::string>> uids;  // uid -> (gr, key)
  // settle() has something to do: an object is being deleted or was removed, or references an owner that
  // does not exist. Without this every write scanned the whole store (quadratic in the object count).
  bool gcDirty = true;
  std::deque<Event> log;
  std::int64_t historyStart = 0;
  std::uint64_t closeGen = 0;
  bool stopping = false;
  int failCount = 0, failStatus = 0, failRetry = 0;
  std::chrono::milliseconds delay{0};
  ServiceResolver resolver;
  TestApiServer::RequestHook requestHook;
  std::vector<RecordedRequest> recorded;
  int activeWatches = 0, watchesStarted = 0, webhookCalls = 0, conversionCalls = 0;

  // ------------------------------------------------------------------ built-in kinds as kube stores them
  // Service addresses: 10.0.0.0/16 (the capture server's range is 10.0.0.0/24), handed out in order from
  // 10.0.0.10; node ports from 30000. A dry run gets the range's first address, as kube's dry-run allocator.
  std::set<std::string> allocatedIPs;
  std::uint32_t nextIP = 10;
  std::set<std::int64_t> allocatedNodePorts;
  std::int64_t nextNodePort = 30000;

  static std::string builtinType(const ResourceType& t) {
    return t.custom || t.review ? "" : builtinTypeName(t.group, t.version, t.kind);
  }
  // Typed decoding, defaulting, encoding (builtin_schema.h, builtin_defaults.h).
  static Json canonical(const std::string& typeName, const Json& o, TypedDecodeIssues* issues) {
    Json once = typedRoundTrip(typeName, o, issues);
    applyBuiltinDefaults(typeName, once);
    return typedRoundTrip(typeName, once, nullptr);
  }
  static bool needsClusterIP(const Json& svc) {
    return svc.contains("spec") && svc["spec"].value("type", "ClusterIP") != "ExternalName";
  }
  // Allocates spec.clusterIP(s) and node ports of a new Service (mu held). A requested address already in
  // use is kube's 422.
  std::optional<Answer> allocateServiceAddresses(Json& svc, bool dryRun) {
    Json& spec = svc["spec"];
    std::string name = meta(svc, "name");
    if (needsClusterIP(svc)) {
      std::string ip = spec.value("clusterIP", "");
      if (ip.empty() && spec.contains("clusterIPs") && spec["clusterIPs"].is_array() && !spec["clusterIPs"].empty())
        ip = spec["clusterIPs"][0].get<std::string>();
      if (ip.empty()) {
        if (dryRun) {
          ip = "10.0.0.0";
        } else {
          do {
            ip = "10.0." + std::to_string((nextIP >> 8) & 255) + "." + std::to_string(nextIP & 255);
            ++nextIP;
          } while (allocatedIPs.count(ip));
          allocatedIPs.insert(ip);
        }
      } else if (ip != "None") {
        if (allocatedIPs.count(ip))
          return answer(invalidStatus("Service", "", "Service", name,
                                      {{"spec.clusterIPs", "Invalid value: [" + Json(ip).dump() + "]: failed to allocate IP " +
                                                               ip + ": provided IP is already allocated"}}));
        if (!dryRun) allocatedIPs.insert(ip);
      }
      spec["clusterIP"] = ip;
      if (!spec.contains("clusterIPs") || !spec["clusterIPs"].is_array() || spec["clusterIPs"].empty())
        spec["clusterIPs"] = Json::array({ip});
    }
    std::string type = spec.value("type", "ClusterIP");
    bool wantNodePorts = type == "NodePort" || (type == "LoadBalancer" && spec.value("allocateLoadBalancerNodePorts", true));
    if (wantNodePorts && spec.contains("ports") && spec["ports"].is_array())
      for (auto& p : spec["ports"]) {
        if (p.value("nodePort", 0) != 0) {
          if (!dryRun) allocatedNodePorts.insert(p["nodePort"].get<std::int64_t>());
          continue;
        }
        while (allocatedNodePorts.count(nextNodePort)) ++nextNodePort;
        p["nodePort"] = nextNodePort;
        if (!dryRun) allocatedNodePorts.insert(nextNodePort++);
      }
    return std::nullopt;
  }
  void releaseServiceAddresses(const Json& svc) {
    if (!svc.contains("spec")) return;
    for (const auto& ip : svc["spec"].value("clusterIPs", Json::array()))
      if (ip.is_string()) allocatedIPs.erase(ip.get<std::string>());
    for (const auto& p : svc["spec"].value("ports", Json::array()))
      if (p.value("nodePort", 0) != 0) allocatedNodePorts.erase(p["nodePort"].get<std::int64_t>());
  }
  static std::string gvkString(const ResourceType& t) { return t.apiVersion().find('/') == std::string::npos ? "/" + t.apiVersion() + ", Kind=" + t.kind : t.apiVersion() + ", Kind=" + t.kind; }
  // The unknown fields of an object, by its schema: the built-in types' (typed decoding) or a CRD's
  // structural schema (pruning). Empty for types without a schema.
  static TypedDecodeIssues decodeIssues(const ResourceType& t, const Json& o) {
    TypedDecodeIssues is;
    std::string tn = builtinType(t);
    if (!tn.empty()) {
      typedRoundTrip(tn, o, &is);
    } else if (t.custom && t.schema.is_object()) {
      Json copy = o;
      validateAndPrune(copy, t.schema, &is.unknownFields);
    }
    return is;
  }

  // ------------------------------------------------------------------ types
  const ResourceType* findType(const std::string& group, const std::string& version, const std::string& resource) const {
    for (const auto& t : types)
      if (t.group == group && t.version == version && t.resource == resource) return &t;
    return nullptr;
  }
  const ResourceType* findKind(const std::string& apiVersion, const std::string& kind) const {
    for (const auto& t : types)
      if (t.apiVersion() == apiVersion && t.kind == kind) return &t;
    return nullptr;
  }
  // Requests in flight keep pointers into the previous type table: retire it instead of freeing it.
  std::deque<std::vector<ResourceType>> retiredTypes;
  void rebuildTypes() {
    retiredTypes.push_back(std::move(types));
    types = builtinResourceTypes();
    auto it = store.find("customresourcedefinitions.apiextensions.k8s.io");
    if (it == store.end()) return;
    for (const auto& [key, crd] : it->second) {
      if (crd["metadata"].contains("deletionTimestamp")) continue;
      for (auto& t : crdResourceTypes(crd)) types.push_back(std::move(t));
    }
  }

  // ------------------------------------------------------------------ store primitives (mu held)
  Json* find(const std::string& gr, const std::string& key) {
    auto it = store.find(gr);
    if (it == store.end()) return nullptr;
    auto jt = it->second.find(key);
    return jt == it->second.end() ? nullptr : &jt->second;
  }

  void appendEvent(Event e) {
    log.push_back(std::move(e));
    while (log.size() > opts.historyLimit) {
      historyStart = log.front().rv;
      log.pop_front();
    }
    cv.notify_all();
  }

  // Stores obj (create or replace) with a new resourceVersion and records the event. Returns the stored copy.
  Json commit(const ResourceType& t, Json obj) {
    std::string ns = meta(obj, "namespace"), name = meta(obj, "name");
    std::string gr = t.groupResource();
    std::string key = keyOf(ns, name);
    Json* old = find(gr, key);
    Json prev = old ? *old : Json();
    obj["metadata"]["resourceVersion"] = std::to_string(++rv);
    store[gr][key] = obj;
    uids[meta(obj, "uid")] = {gr, key};
    const Json& m = obj["metadata"];
    if (m.contains("deletionTimestamp")) gcDirty = true;
    if (m.contains("ownerReferences") && m["ownerReferences"].is_array())
      for (const auto& r : m["ownerReferences"])
        if (!uids.count(r.value("uid", ""))) gcDirty = true;
    appendEvent(Event{rv, gr, ns, old ? "MODIFIED" : "ADDED", obj, prev});
    if (gr == "customresourcedefinitions.apiextensions.k8s.io") rebuildTypes();
    return obj;
  }

  // Removes an object now (DELETED event with a new resourceVersion).
  void removeNow(const std::string& gr, const std::string& key) {
    Json* cur = find(gr, key);
    if (!cur) return;
    Json obj = *cur;
    Json prev = obj;
    obj["metadata"]["resourceVersion"] = std::to_string(++rv);
    uids.erase(meta(obj, "uid"));
    store[gr].erase(key);
    gcDirty = true;
    if (gr == "services") releaseServiceAddresses(obj);
    appendEvent(Event{rv, gr, meta(obj, "namespace"), "DELETED", obj, prev});
    if (gr == "customresourcedefinitions.apiextensions.k8s.io") {
      // Its custom resources go with it.
      for (auto& t : crdResourceTypes(obj)) {
        auto it = store.find(t.groupResource());
        if (it == store.end()) continue;
        std::vector<std::string> keys;
        for (auto& [k, v] : it->second) keys.push_back(k);
        for (auto& k : keys) removeNow(t.groupResource(), k);
      }
      rebuildTypes();
    }
  }

  // Marks an object deleted: removed now when it has no finalizers, otherwise deletionTimestamp is set.
  void deleteOrMark(const std::string& gr, const std::string& key) {
    Json* cur = find(gr, key);
    if (!cur) return;
    Json& m = (*cur)["metadata"];
    bool hasFinalizers = m.contains("finalizers") && m["finalizers"].is_array() && !m["finalizers"].empty();
    bool isNamespace = gr == "namespaces";
    if (!hasFinalizers && !isNamespace) {
      removeNow(gr, key);
      return;
    }
    if (m.contains("deletionTimestamp")) return;
    Json obj = *cur;
    obj["metadata"]["deletionTimestamp"] = nowRfc3339();
    obj["metadata"]["deletionGracePeriodSeconds"] = 0;
    if (isNamespace) obj["status"] = Json{{"phase", "Terminating"}};
    const ResourceType* t = typeForGr(gr);
    if (t) commit(*t, obj);
  }

  const ResourceType* typeForGr(const std::string& gr) const {
    for (const auto& t : types)
      if (t.groupResource() == gr) return &t;
    return nullptr;
  }

  // Finalizer-driven removal, garbage collection and namespace termination, until nothing changes.
  void settle() {
    if (!gcDirty) return;
    struct Clean {
      bool& dirty;
      ~Clean() { dirty = false; }  // what settle leaves is settled until the next relevant write
    } clean{gcDirty};
    for (int round = 0; round < 1000; ++round) {
      bool changed = false;
      // 1. Objects being deleted whose finalizers are all gone.
      std::vector<std::pair<std::string, std::string>> toRemove, toDelete;
      std::map<std::string, bool> ownerForeground;  // uid -> owner deleting in foreground
      std::map<std::string, int> dependents;         // owner uid -> count of dependents
      std::map<std::string, int> nsCount;
      for (auto& [gr, objs] : store) {
        for (auto& [key, obj] : objs) {
          const Json& m = obj["metadata"];
          if (m.contains("namespace")) nsCount[m["namespace"].get<std::string>()]++;
          if (m.contains("ownerReferences") && m["ownerReferences"].is_array())
            for (const auto& r : m["ownerReferences"])
              if (r.contains("uid")) dependents[r["uid"].get<std::string>()]++;
          if (m.contains("deletionTimestamp") && m.contains("finalizers") && m["finalizers"].is_array())
            for (const auto& f : m["finalizers"])
              if (f == "foregroundDeletion") ownerForeground[m.value("uid", "")] = true;
        }
      }
      for (auto& [gr, objs] : store) {
        for (auto& [key, obj] : objs) {
          const Json& m = obj["metadata"];
          bool deleting = m.contains("deletionTimestamp");
          bool noFinalizers = !m.contains("finalizers") || !m["finalizers"].is_array() || m["finalizers"].empty();
          if (deleting && noFinalizers && gr != "namespaces") {
            toRemove.push_back({gr, key});
            continue;
          }
          if (gr == "namespaces" && deleting) {
            if (nsCount[m.value("name", "")] == 0) toRemove.push_back({gr, key});
            continue;
          }
          if (deleting) continue;
          // Dependents: collected when every owner is gone, or an owner is deleting in foreground.
          if (m.contains("ownerReferences") && m["ownerReferences"].is_array() && !m["ownerReferences"].empty()) {
            bool anyAlive = false, foreground = false;
            for (const auto& r : m["ownerReferences"]) {
              std::string uid = r.value("uid", "");
              if (uids.count(uid)) anyAlive = true;
              if (ownerForeground.count(uid)) foreground = true;
            }
            if (!anyAlive || foreground) toDelete.push_back({gr, key});
          }
          // Objects in a terminating namespace.
          if (m.contains("namespace")) {
            Json* nsObj = find("namespaces", keyOf("", m["namespace"].get<std::string>()));
            if (nsObj && (*nsObj)["metadata"].contains("deletionTimestamp")) toDelete.push_back({gr, key});
          }
        }
      }
      // 2. Foreground owners whose dependents are gone drop the foregroundDeletion finalizer.
      std::vector<std::pair<std::string, std::string>> dropForeground;
      for (auto& [gr, objs] : store)
        for (auto& [key, obj] : objs) {
          std::string uid = meta(obj, "uid");
          if (ownerForeground.count(uid) && dependents[uid] == 0) dropForeground.push_back({gr, key});
        }
      for (auto& [gr, key] : toRemove) {
        if (find(gr, key)) {
          removeNow(gr, key);
          changed = true;
        }
      }
      for (auto& [gr, key] : toDelete) {
        Json* o = find(gr, key);
        if (o && !(*o)["metadata"].contains("deletionTimestamp")) {
          deleteOrMark(gr, key);
          changed = true;
        }
      }
      for (auto& [gr, key] : dropForeground) {
        Json* o = find(gr, key);
        if (!o) continue;
        Json obj = *o;
        Json fins = Json::array();
        for (const auto& f : obj["metadata"]["finalizers"])
          if (f != "foregroundDeletion") fins.push_back(f);
        if (fins.empty())
          obj["metadata"].erase("finalizers");
        else
          obj["metadata"]["finalizers"] = fins;
        const ResourceType* t = typeForGr(gr);
        if (t) {
          commit(*t, obj);
          changed = true;
        }
      }
      if (!changed) return;
    }
  }

  // The state of a resource at an older resourceVersion (rolled back through the event log). Requires
  // atRv >= historyStart.
  std::map<std::string, Json> stateAt(const std::string& gr, std::int64_t atRv) {
    std::map<std::string, Json> state;
    auto it = store.find(gr);
    if (it != store.end()) state = it->second;
    for (auto e = log.rbegin(); e != log.rend() && e->rv > atRv; ++e) {
      if (e->gr != gr) continue;
      std::string key = keyOf(e->ns, meta(e->object, "name"));
      if (e->type == "ADDED")
        state.erase(key);
      else
        state[key] = e->prev;
    }
    return state;
  }

  // ------------------------------------------------------------------ Status helpers
  static Json grDetails(const ResourceType& t, const std::string& name) {
    Json d = Json::object();
    d["name"] = name;
    if (!t.group.empty()) d["group"] = t.group;
    d["kind"] = t.resource;
    return d;
  }
  static Answer notFound(const ResourceType& t, const std::string& name) {
    return answer(statusBody(404, "NotFound", t.groupResource() + " \"" + name + "\" not found", grDetails(t, name)));
  }
  static Answer alreadyExists(const ResourceType& t, const std::string& name) {
    return answer(
        statusBody(409, "AlreadyExists", t.groupResource() + " \"" + name + "\" already exists", grDetails(t, name)));
  }
  static Answer conflict(const ResourceType& t, const std::string& name) {
    return answer(statusBody(409, "Conflict",
                             "Operation cannot be fulfilled on " + t.groupResource() + " \"" + name +
                                 "\": the object has been modified; please apply your changes to the latest version "
                                 "and try again",
                             grDetails(t, name)));
  }
  static Answer badRequest(const std::string& msg) { return answer(statusBody(400, "BadRequest", msg)); }
  static Answer namespaceNotFound(const std::string& ns) {
    return answer(statusBody(404, "NotFound", "namespaces \"" + ns + "\" not found",
                             Json{{"name", ns}, {"kind", "namespaces"}}));
  }
  static std::string kindForMessage(const ResourceType& t) { return t.group.empty() ? t.kind : t.kind + "." + t.group; }


  // The immutability rules of built-in kinds our clients run into: a Pod's spec may change only in its
  // container images, activeDeadlineSeconds and tolerations; a Job's spec.template not at all. The
  // messages are kube's, without the Go value dump kube appends (docs/testing.md).
  static std::vector<FieldError> immutableFieldErrors(const ResourceType& type, const Json& old, const Json& obj) {
    std::vector<FieldError> errs;
    if (type.group.empty() && type.resource == "pods") {
      auto mutableParts = [](Json spec) {
        if (!spec.is_object()) return spec;
        for (const char* list : {"containers", "initContainers"})
          if (spec.contains(list) && spec[list].is_array())
            for (auto& c : spec[list])
              if (c.is_object()) c.erase("image");
        spec.erase("activeDeadlineSeconds");
        spec.erase("tolerations");
        return spec;
      };
      if (mutableParts(old.value("spec", Json())) != mutableParts(obj.value("spec", Json())))
        errs.push_back({"spec",
                        "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                        "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                        "to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it "
                        "was previously negative)",
                        "FieldValueForbidden"});
    } else if (type.group == "batch" && type.resource == "jobs") {
      const Json before = old.contains("spec") ? old["spec"].value("template", Json()) : Json();
      const Json after = obj.contains("spec") ? obj["spec"].value("template", Json()) : Json();
      if (before != after)
        errs.push_back({"spec.template", "Invalid value: core.PodTemplateSpec{...}: field is immutable"});
    }
    return errs;
  }

  // ------------------------------------------------------------------ rendering
  // Strategy None relabels; a webhook-converting type keeps the stored version here, and converted() (answers)
  // or the watch stream calls the conversion webhook outside the lock.
  Json render(const ResourceType& t, Json obj) const {
    if (t.custom && !t.convertsByWebhook()) obj["apiVersion"] = t.apiVersion();
    return obj;
  }
  Json renderItem(const ResourceType& t, Json obj) const {
    if (!t.custom) {
      obj.erase("apiVersion");
      obj.erase("kind");
      return obj;
    }
    return render(t, std::move(obj));
  }

  // ------------------------------------------------------------------ managed fields
  static void updateManagedFields(Json& obj, const Json* old, const std::string& manager, const std::string& apiVersion,
                                  const std::string& subresource) {
    FieldSet oldLeaves = old ? leafFields(*old, true) : FieldSet{};
    FieldSet newLeaves = leafFields(obj, true);
    FieldSet changed, removed;
    for (const auto& p : newLeaves) {
      const Json* ov = old ? valueAt(*old, p) : nullptr;
      const Json* nv = valueAt(obj, p);
      if (!ov || !nv || *ov != *nv) changed.insert(p);
    }
    for (const auto& p : oldLeaves)
      if (!newLeaves.count(p)) removed.insert(p);
    Json entries = Json::array();
    Json src = old && (*old)["metadata"].contains("managedFields") ? (*old)["metadata"]["managedFields"] : Json::array();
    if (!old && obj["metadata"].contains("managedFields") && obj["metadata"]["managedFields"].is_array())
      src = Json::array();
    bool found = false;
    for (auto e : src) {
      FieldSet fs = fieldsFromJson(e.value("fieldsV1", Json::object()));
      bool mine = e.value("manager", "") == manager && e.value("operation", "") == "Update" &&
                  e.value("subresource", "") == subresource;
      for (const auto& p : removed) fs.erase(p);
      if (mine) {
        found = true;
        for (const auto& p : changed) fs.insert(p);
        if (!changed.empty()) e["time"] = nowRfc3339();
      } else {
        for (const auto& p : changed) fs.erase(p);
      }
      if (fs.empty()) continue;
      e["fieldsV1"] = fieldsToJson(fs);
      entries.push_back(e);
    }
    if (!found && !changed.empty()) {
      Json e = Json::object();
      e["manager"] = manager;
      e["operation"] = "Update";
      e["apiVersion"] = apiVersion;
      e["time"] = nowRfc3339();
      e["fieldsType"] = "FieldsV1";
      e["fieldsV1"] = fieldsToJson(changed);
      if (!subresource.empty()) e["subresource"] = subresource;
      entries.push_back(e);
    }
    if (entries.empty())
      obj["metadata"].erase("managedFields");
    else
      obj["metadata"]["managedFields"] = entries;
  }

  // ------------------------------------------------------------------ admission
  struct AdmissionCall {
    std::string operation;  // CREATE UPDATE DELETE
    const ResourceType* type = nullptr;
    std::string sub;
    std::string ns;
    std::string name;
    Json oldObject;
    User user;
    std::string optionsKind;
    bool dryRun = false;
    // Called once, before the first webhook is called, to bring oldObject into the request's version (a DELETE
    // of a webhook-converting type: kube converts only for a webhook that matches).
    std::function<std::optional<Answer>(Json&)> prepareOld = nullptr;
  };

  struct Hook {
    Json webhook;
    bool mutating = false;
  };

  static bool ruleMatches(const Json& rules, const AdmissionCall& c) {
    if (!rules.is_array()) return false;
    auto has = [](const Json& arr, const std::string& v) {
      if (!arr.is_array()) return false;
      for (const auto& x : arr)
        if (x == "*" || x == v) return true;
      return false;
    };
    for (const auto& r : rules) {
      if (!has(r.value("operations", Json()), c.operation)) continue;
      if (!has(r.value("apiGroups", Json()), c.type->group)) continue;
      if (!has(r.value("apiVersions", Json()), c.type->version)) continue;
      std::string scope = r.value("scope", "*");
      if (scope == "Cluster" && c.type->namespaced) continue;
      if (scope == "Namespaced" && !c.type->namespaced) continue;
      bool resOk = false;
      for (const auto& x : r.value("resources", Json::array())) {
        std::string s = x.is_string() ? x.get<std::string>() : "";
        if (c.sub.empty()) {
          resOk = resOk || s == "*" || s == c.type->resource;
        } else {
          resOk = resOk || s == "*/*" || s == c.type->resource + "/" + c.sub || s == "*/" + c.sub ||
                  s == c.type->resource + "/*";
        }
      }
      if (resOk) return true;
    }
    return false;
  }

  // Runs the mutating then validating webhooks for an object (mu NOT held). Returns an error answer to
  // reject the request, or nullopt (obj possibly mutated).
  std::optional<Answer> admit(AdmissionCall& c, Json& obj, bool mutatingPhase) {
    if (c.type->group == "admissionregistration.k8s.io") return std::nullopt;
    std::vector<Hook> hooks;
    Json nsLabels = Json::object();
    ServiceResolver res;
    {
      std::lock_guard<std::mutex> lk(mu);
      res = resolver;
      const char* gr = mutatingPhase ? "mutatingwebhookconfigurations.admissionregistration.k8s.io"
                                     : "validatingwebhookconfigurations.admissionregistration.k8s.io";
      auto it = store.find(gr);
      if (it != store.end()) {
        std::vector<std::pair<std::string, Json>> cfgs;
        for (auto& [k, v] : it->second) cfgs.push_back({meta(v, "name"), v});
        std::sort(cfgs.begin(), cfgs.end(), [](auto& a, auto& b) { return a.first < b.first; });
        for (auto& [n, cfg] : cfgs)
          if (cfg.contains("webhooks") && cfg["webhooks"].is_array())
            for (const auto& w : cfg["webhooks"]) hooks.push_back({w, mutatingPhase});
      }
      if (c.type->resource == "namespaces" && c.type->group.empty()) {
        nsLabels = (obj.is_object() ? obj : c.oldObject)["metadata"].value("labels", Json::object());
      } else if (!c.ns.empty()) {
        if (Json* n = find("namespaces", keyOf("", c.ns))) nsLabels = (*n)["metadata"].value("labels", Json::object());
      }
    }
    for (const auto& h : hooks) {
      const Json& w = h.webhook;
      if (!ruleMatches(w.value("rules", Json()), c)) continue;
      if (c.type->namespaced || c.type->resource == "namespaces")
        if (!matchLabelSelectorJson(w.value("namespaceSelector", Json()), nsLabels)) continue;
      Json newLabels = obj.is_object() ? obj["metadata"].value("labels", Json::object()) : Json::object();
      Json oldLabels = c.oldObject.is_object() ? c.oldObject["metadata"].value("labels", Json::object()) : Json();
      Json objSel = w.value("objectSelector", Json());
      bool objOk = (obj.is_object() && matchLabelSelectorJson(objSel, newLabels)) ||
                   (oldLabels.is_object() && matchLabelSelectorJson(objSel, oldLabels));
      if (!objOk) continue;
      if (c.prepareOld) {
        auto prepare = std::move(c.prepareOld);
        c.prepareOld = nullptr;
        if (auto err = prepare(c.oldObject)) return err;
      }
      if (auto err = callWebhook(h, c, obj, res)) return err;
    }
    return std::nullopt;
  }

  // One webhook call as kube-apiserver makes it (admission and conversion): HTTPS only, the server certificate
  // verified with caBundle (system CAs when empty) including the host name, `?timeout=<s>s` added to the URL,
  // the same timeout for connecting, writing and reading. `error` is Go's url.Error text
  // (`Post "<url>?timeout=10s": <why>`) or why the call was not made; otherwise status and body.
  struct WebhookReply {
    std::string error;
    int status = 0;
    std::string body;
  };
  static WebhookReply postWebhook(const std::string& url, const std::string& caBundle, int timeout, const Json& body) {
    WebhookReply out;
    std::string rest = url;
    if (rest.rfind("https://", 0) != 0) {
      out.error = "webhook URL must use https: " + url;
      return out;
    }
    rest = rest.substr(8);
    size_t slash = rest.find('/');
    std::string hostPort = slash == std::string::npos ? rest : rest.substr(0, slash);
    std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
    path += (path.find('?') == std::string::npos ? "?" : "&") + std::string("timeout=") + std::to_string(timeout) + "s";
    std::string host = hostPort;
    int port = 443;
    if (auto colon = hostPort.rfind(':'); colon != std::string::npos) {
      host = hostPort.substr(0, colon);
      port = std::atoi(hostPort.substr(colon + 1).c_str());
    }
    httplib::SSLClient cli(host, port);
    cli.enable_server_certificate_verification(true);
    if (!caBundle.empty()) {
      auto pem = base64StdDecode(caBundle);
      if (!pem) {
        out.error = "caBundle is not valid base64";
        return out;
      }
      cli.set_ca_cert_store(storeFromPem(*pem));
    }
    cli.set_connection_timeout(timeout);
    cli.set_read_timeout(timeout);
    cli.set_write_timeout(timeout);
    httplib::Headers headers{{"Accept", "application/json, */*"}};
    auto r = cli.Post(path, headers, body.dump(), "application/json");
    if (!r) {
      std::string why = httplib::to_string(r.error());
      if (r.error() == httplib::Error::SSLServerVerification) why = "tls: failed to verify certificate: x509: certificate signed by unknown authority";
      out.error = "Post \"" + url + (url.find('?') == std::string::npos ? "?" : "&") + "timeout=" +
                  std::to_string(timeout) + "s\": " + why;
      return out;
    }
    out.status = r->status;
    out.body = r->body;
    return out;
  }

  std::optional<Answer> callWebhook(const Hook& h, const AdmissionCall& c, Json& obj, const ServiceResolver& res) {
    const Json& w = h.webhook;
    std::string name = w.value("name", "");
    bool failOpen = w.value("failurePolicy", "Fail") == "Ignore";
    int timeout = w.value("timeoutSeconds", 10);
    Json cc = w.value("clientConfig", Json::object());
    std::string url;
    if (cc.contains("url")) {
      url = cc["url"].get<std::string>();
    } else if (cc.contains("service") && res) {
      const Json& s = cc["service"];
      url = res(s.value("namespace", ""), s.value("name", ""), s.value("port", 443), s.value("path", "/"));
    }
    std::string uid = newUid();
    Json req = Json::object();
    req["uid"] = uid;
    Json gvk{{"group", c.type->group}, {"version", c.type->version}, {"kind", c.type->kind}};
    Json gvr{{"group", c.type->group}, {"version", c.type->version}, {"resource", c.type->resource}};
    req["kind"] = gvk;
    req["resource"] = gvr;
    if (!c.sub.empty()) req["subResource"] = c.sub;
    req["requestKind"] = gvk;
    req["requestResource"] = gvr;
    if (!c.sub.empty()) req["requestSubResource"] = c.sub;
    if (!c.name.empty()) req["name"] = c.name;
    if (!c.ns.empty()) req["namespace"] = c.ns;
    req["operation"] = c.operation;
    req["userInfo"] = userInfoJson(c.user);
    req["object"] = obj.is_object() ? obj : Json();
    req["oldObject"] = c.oldObject.is_object() ? c.oldObject : Json();
    req["dryRun"] = c.dryRun;
    req["options"] = Json{{"kind", c.optionsKind}, {"apiVersion", "meta.k8s.io/v1"}};
    Json review{{"kind", "AdmissionReview"}, {"apiVersion", "admission.k8s.io/v1"}, {"request", req}};

    auto fail = [&](const std::string& why) -> std::optional<Answer> {
      if (failOpen) return std::nullopt;
      return answer(statusBody(500, "InternalError",
                               "Internal error occurred: failed calling webhook \"" + name + "\": " + why,
                               Json{{"causes", Json::array({Json{{"message", "failed calling webhook \"" + name +
                                                                                 "\": " + why}}})}}));
    };
    {
      std::lock_guard<std::mutex> lk(mu);
      webhookCalls++;
    }
    if (url.empty()) return fail("failed to call webhook: no URL (service references need setServiceResolver)");
    WebhookReply r = postWebhook(url, cc.value("caBundle", ""), timeout, review);
    if (!r.error.empty()) return fail("failed to call webhook: " + r.error);
    if (r.status != 200)
      return fail("received invalid webhook response: expected response status 200, got " + std::to_string(r.status));
    Json resp = Json::parse(r.body, nullptr, false);
    if (resp.is_discarded() || !resp.contains("response") || !resp["response"].is_object())
      return fail("received invalid webhook response: no response in AdmissionReview");
    const Json& rr = resp["response"];
    if (!rr.value("allowed", false)) {
      Json st = rr.value("status", Json::object());
      int code = st.value("code", 0);
      if (code == 0) code = 403;
      std::string msg = "admission webhook \"" + name + "\" denied the request";
      std::string m = st.value("message", "");
      msg += m.empty() ? " without explanation" : ": " + m;
      Json body = statusBody(code, st.value("reason", ""), msg, st.contains("details") ? st["details"] : Json());
      if (!body["reason"].is_string() || body["reason"] == "") body.erase("reason");  // omitempty, as kube
      return answer(body);
    }
    if (h.mutating && rr.contains("patch") && rr["patch"].is_string()) {
      if (rr.value("patchType", "JSONPatch") != "JSONPatch") return fail("unsupported patchType");
      auto raw = base64StdDecode(rr["patch"].get<std::string>());
      if (!raw) return fail("received invalid webhook response: patch is not base64");
      Json patch = Json::parse(*raw, nullptr, false);
      if (patch.is_discarded()) return fail("received invalid webhook response: patch is not JSON");
      try {
        obj = applyJsonPatch(obj, patch);
      } catch (const LogicError& e) {
        return fail("JSON patch failed: " + e.message);
      }
    }
    return std::nullopt;
  }

  // ------------------------------------------------------------------ conversion webhooks
  // What kube-apiserver's webhookConverter does for a CRD with spec.conversion.strategy Webhook
  // (apiextensions-apiserver/pkg/apiserver/conversion/webhook_converter.go): the objects not already in
  // `desired` are sent in one ConversionReview; the answer is checked (kind and apiVersion, uid, result,
  // count; each object's apiVersion, kind, name, namespace and uid) and the metadata of the originals is put
  // back except labels and annotations. `in` names the input in errors ("<group>/<version>, Kind=<kind>" of
  // the object, or of the list). Replaces the objects in place; an error is kube's 500 Status (no reason: kube
  // answers a conversion failure as an unknown error). mu must NOT be held (the webhook may call us).
  static std::string goTypeName(const Json& v) {
    if (v.is_object()) return "map[string]interface {}";
    if (v.is_array()) return "[]interface {}";
    if (v.is_string()) return "string";
    if (v.is_boolean()) return "bool";
    if (v.is_number()) return "float64";
    return "<nil>";
  }
  static std::string gvkOf(const Json& o) {
    return (o.is_object() ? o.value("apiVersion", "") : std::string()) + ", Kind=" +
           (o.is_object() ? o.value("kind", "") : std::string());
  }
  static std::optional<std::string> sameIdentity(const Json& in, const Json& out) {
    auto field = [](const Json& o, const char* k) {
      if (k == std::string("kind")) return o.value("kind", "");
      return o.contains("metadata") && o["metadata"].is_object() && o["metadata"].contains(k) &&
                     o["metadata"][k].is_string()
                 ? o["metadata"][k].get<std::string>()
                 : std::string();
    };
    for (auto [k, label] : {std::pair{"kind", "kind"}, {"name", "name"}, {"namespace", "namespace"}, {"uid", "UID"}})
      if (field(in, k) != field(out, k))
        return std::string("must have the same ") + label + ": " + field(in, k) + " != " + field(out, k);
    return std::nullopt;
  }
  // kube's restoreObjectMeta: the original's metadata with the converted object's labels and annotations.
  static std::optional<std::string> restoreObjectMeta(const Json& original, Json& converted) {
    if (!converted.contains("metadata")) return "missing metadata in converted object";
    Json response = converted["metadata"];
    if (!response.is_object()) return "invalid metadata of type " + goTypeName(response) + " in converted object";
    Json m = original.contains("metadata") && original["metadata"].is_object() ? original["metadata"] : Json::object();
    for (const char* f : {"labels", "annotations"}) {
      if (!response.contains(f) || response[f].is_null()) {
        m.erase(f);
        continue;
      }
      if (!response[f].is_object())
        return std::string("invalid metadata.") + f + " of type " + goTypeName(response[f]) + " in converted object";
      for (auto it = response[f].begin(); it != response[f].end(); ++it)
        if (!it.value().is_string())
          return std::string("metadata.") + f + "[" + it.key() + "] must be a string, but is " + goTypeName(it.value()) +
                 " in converted object";
      m[f] = response[f];
    }
    converted["metadata"] = m;
    return std::nullopt;
  }
  static std::string groupVersionOf(const Json& o) { return o.is_object() ? o.value("apiVersion", "") : ""; }

  std::optional<Answer> convertByWebhook(const ResourceType& t, const std::vector<Json*>& objs, const std::string& desired,
                                         bool isList, const std::string& in) {
    if (!t.convertsByWebhook()) return std::nullopt;
    std::vector<Json*> send;
    for (Json* o : objs)
      if (groupVersionOf(*o) != desired) send.push_back(o);
    if (send.empty()) return std::nullopt;
    auto failure = [](const std::string& msg) {
      Json body = statusBody(500, "", msg);
      body.erase("reason");
      return std::optional<Answer>(answer(body));
    };
    const Json& w = t.conversionWebhook;
    std::string reviewVersion;
    for (const auto& v : w.value("conversionReviewVersions", Json::array({"v1"})))
      if (v == "v1" || v == "v1beta1") {
        reviewVersion = v.get<std::string>();
        break;
      }
    if (reviewVersion.empty()) return failure("no supported conversion review versions");
    const std::string prefix = "conversion webhook for " + in + " ";
    Json cc = w.value("clientConfig", Json::object());
    ServiceResolver res;
    {
      std::lock_guard<std::mutex> lk(mu);
      res = resolver;
      conversionCalls++;
    }
    std::string url;
    if (cc.contains("url") && cc["url"].is_string()) {
      url = cc["url"].get<std::string>();
    } else if (cc.contains("service") && cc["service"].is_object()) {
      const Json& sv = cc["service"];
      if (!res) return failure(prefix + "failed: no URL (service references need setServiceResolver)");
      url = res(sv.value("namespace", ""), sv.value("name", ""), sv.value("port", 443), sv.value("path", "/"));
    }
    if (url.empty()) return failure(prefix + "failed: no URL in spec.conversion.webhook.clientConfig");
    const std::string uid = newUid();
    Json objects = Json::array();
    for (Json* o : send) objects.push_back(*o);
    Json review{{"kind", "ConversionReview"},
                {"apiVersion", "apiextensions.k8s.io/" + reviewVersion},
                {"request", {{"uid", uid}, {"desiredAPIVersion", desired}, {"objects", objects}}},
                {"response", {{"uid", ""}, {"convertedObjects", nullptr}, {"result", {{"metadata", Json::object()}}}}}};
    // kube-apiserver's conversion client has a fixed 30 s timeout (`?timeout=30s` in its errors).
    WebhookReply r = postWebhook(url, cc.value("caBundle", ""), 30, review);
    if (!r.error.empty()) return failure(prefix + "failed: " + r.error);
    if (r.status < 200 || r.status > 299)
      return failure(prefix + "failed: an error on the server (" + goQuote(r.body) +
                     ") has prevented the request from succeeding");
    Json resp = Json::parse(r.body, nullptr, false);
    if (resp.is_discarded() || !resp.is_object())
      return failure(prefix + "failed: couldn't get version/kind; json parse error: the body is not a JSON object");
    const std::string wantGvk = "apiextensions.k8s.io/" + reviewVersion + ", Kind=ConversionReview";
    if (reviewVersion == "v1" && gvkOf(resp) != wantGvk)
      return failure(prefix + "failed: expected webhook response of " + wantGvk + ", got " + gvkOf(resp));
    if (!resp.contains("response") || !resp["response"].is_object()) return failure(prefix + "failed: no response provided");
    const Json& rr = resp["response"];
    if (reviewVersion == "v1" && rr.value("uid", "") != uid)
      return failure(prefix + "failed: expected response.uid=" + goQuote(uid) + ", got " + goQuote(rr.value("uid", "")));
    Json result = rr.value("result", Json::object());
    if (!result.is_object()) result = Json::object();
    if (result.value("status", "") != "Success") {
      std::string m = result.value("message", "");
      if (!m.empty()) return failure(prefix + "failed: " + m);
      return failure(prefix + "failed: response.result.status was '" + result.value("status", "") + "', not 'Success'");
    }
    Json converted = rr.value("convertedObjects", Json::array());
    if (!converted.is_array()) converted = Json::array();
    if (converted.size() != send.size())
      return failure(prefix + "returned " + std::to_string(converted.size()) + " objects, expected " +
                     std::to_string(send.size()));
    // kube's list path names the index after counting the object (so "index 1" for the first in two of its
    // messages), the single-object path always index 0; both kept.
    std::vector<Json> out;
    for (size_t i = 0; i < send.size(); ++i) {
      const Json& original = *send[i];
      Json c = converted[i];
      const std::string at = isList ? "invalid converted object at index " : "invalid object at index ";
      if (!c.is_object()) return failure(prefix + "returned " + at + std::to_string(i) + ": the object is not a JSON object");
      const std::string shown = std::to_string(isList ? i + 1 : 0);
      if (groupVersionOf(c) != desired)
        return failure(prefix + "returned " + at + shown + ": invalid groupVersion (expected " + desired + ", received " +
                       groupVersionOf(c) + ")");
      if (c.value("kind", "") != original.value("kind", ""))
        return failure(prefix + "returned " + at + shown + ": invalid kind (expected " + original.value("kind", "") +
                       ", received " + c.value("kind", "") + ")");
      if (auto why = sameIdentity(original, c))
        return failure(prefix + "returned " + (isList ? at + std::to_string(i) : std::string("invalid object")) + ": " + *why);
      if (auto why = restoreObjectMeta(original, c))
        return failure(prefix + "returned invalid metadata" + (isList ? " in object at index " + std::to_string(i) : "") +
                       ": " + *why);
      out.push_back(std::move(c));
    }
    for (size_t i = 0; i < send.size(); ++i) *send[i] = std::move(out[i]);
    return std::nullopt;
  }
  // One object to `desired` (kube names it by its own apiVersion and kind in errors).
  std::optional<Answer> convertObject(const ResourceType& t, Json& obj, const std::string& desired) {
    if (!t.convertsByWebhook() || groupVersionOf(obj) == desired) return std::nullopt;
    return convertByWebhook(t, {&obj}, desired, false, gvkOf(obj));
  }
  // The objects of an answer of a webhook-converting type, into the request's version: an object of the kind
  // or a list of them (kube converts when it encodes the answer).
  Answer converted(const Target& t, Answer a) {
    const ResourceType& type = *t.type;
    if (!type.convertsByWebhook() || a.status < 200 || a.status > 299 || !a.body.is_object()) return a;
    const std::string want = type.apiVersion();
    std::string kind = a.body.value("kind", "");
    if (kind == type.listKind && a.body.contains("items") && a.body["items"].is_array()) {
      std::vector<Json*> items;
      for (auto& i : a.body["items"]) items.push_back(&i);
      if (auto e = convertByWebhook(type, items, want, true, want + ", Kind=" + type.listKind)) return *e;
    } else if (kind == type.kind) {
      if (auto e = convertObject(type, a.body, want)) return *e;
    }
    return a;
  }

  // ------------------------------------------------------------------ request handling
  struct Ctx {
    std::string method;
    std::string path;
    const httplib::Request* req = nullptr;
    User user;
    std::string manager;
    bool dryRun = false;
    std::vector<std::string> warnings;  // Warning headers of the answer
    std::string patchValue;             // a patch as kube renders it in a strict-decoding 422 ("" = not a patch)
    std::string param(const std::string& k) const { return req->has_param(k) ? req->get_param_value(k) : ""; }
    // A boolean parameter (watch, allowWatchBookmarks, sendInitialEvents, force): absent is false.
    bool flag(const std::string& k) const { return req->has_param(k) && queryParamTrue(req->get_param_value(k)); }
  };

  // fieldValidation (Strict, Warn — the default —, Ignore) for the unknown fields decoding met, as
  // kube-apiserver: Strict is a 400 "cannot be handled" for create and update and a 422 on `patch` for
  // patches; Warn adds a Warning header per field (the fields are dropped either way). A type error is a
  // 400 whatever the directive.
  static std::optional<Answer> fieldValidation(Ctx& c, const ResourceType& t, const TypedDecodeIssues& is) {
    std::string prefix = t.kind + " in version " + goQuote(t.version) + " cannot be handled as a " + t.kind + ": ";
    if (!is.typeError.empty()) return badRequest(prefix + is.typeError);
    if (is.unknownFields.empty()) return std::nullopt;
    std::string mode = c.param("fieldValidation");
    if (mode == "Ignore") return std::nullopt;
    std::vector<std::string> msgs;
    for (const auto& f : is.unknownFields) msgs.push_back("unknown field " + goQuote(f));
    if (mode == "Strict") {
      std::string err = "strict decoding error: ";
      for (size_t i = 0; i < msgs.size(); ++i) err += (i ? ", " : "") + msgs[i];
      if (c.patchValue.empty()) return badRequest(prefix + err);
      return answer(invalidStatus("", "", "", "", {{"patch", "Invalid value: " + goQuote(c.patchValue) + ": " + err}}));
    }
    for (const auto& m : msgs) c.warnings.push_back(m);
    return std::nullopt;
  }

  // GET .../pods/NAME/log (container, tailLines, previous): the text setPodLog() gave, as kube-apiserver
  // answers: 404 for a missing pod, 400 when a pod of several containers is asked without ?container=.
  Answer podLog(const Ctx& c, const Target& t) {
    if (c.method != "GET")
      return answer(statusBody(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                               Json::object()));
    std::lock_guard<std::mutex> lk(mu);
    const Json* pod = find(t.type->groupResource(), keyOf(t.ns, t.name));
    if (!pod) return answer(statusBody(404, "NotFound", "pods \"" + t.name + "\" not found", grDetails(*t.type, t.name)));
    std::string container = c.param("container");
    std::vector<std::string> names;
    if (pod->contains("spec") && (*pod)["spec"].contains("containers") && (*pod)["spec"]["containers"].is_array())
      for (const auto& ct : (*pod)["spec"]["containers"]) names.push_back(ct.value("name", ""));
    if (container.empty()) {
      if (names.size() != 1) {
        std::string list;
        for (const auto& n : names) list += (list.empty() ? "" : " ") + n;
        return answer(statusBody(400, "BadRequest", "a container name must be specified for pod " + t.name +
                                                        ", choose one of: [" + list + "]", Json::object()));
      }
      container = names.front();
    }
    auto it = podLogs.find(t.ns + "/" + t.name + "/" + container);
    std::string text = it == podLogs.end() ? "" : it->second;
    if (std::string tail = c.param("tailLines"); !tail.empty()) {
      long n = std::strtol(tail.c_str(), nullptr, 10);
      std::vector<std::string> lines;
      std::string cur;
      for (char ch : text) {
        if (ch == '\n') {
          lines.push_back(cur + "\n");
          cur.clear();
        } else {
          cur += ch;
        }
      }
      if (!cur.empty()) lines.push_back(cur);
      text.clear();
      for (size_t i = lines.size() > static_cast<size_t>(std::max(0L, n)) ? lines.size() - n : 0; i < lines.size(); ++i)
        text += lines[i];
    }
    return Answer{200, Json(text), "text/plain"};
  }

  std::optional<Target> parseTarget(const std::vector<std::string>& seg, size_t start, const std::string& group,
                                    const std::string& version) {
    std::vector<std::string> rest(seg.begin() + static_cast<long>(start), seg.end());
    Target t;
    std::lock_guard<std::mutex> lk(mu);
    if (rest.size() >= 3 && rest[0] == "namespaces") {
      const ResourceType* nt = findType(group, version, rest[2]);
      if (nt && nt->namespaced) {
        t.type = nt;
        t.ns = rest[1];
        if (rest.size() >= 4) t.name = rest[3];
        if (rest.size() >= 5) t.sub = rest[4];
        if (rest.size() > 5) return std::nullopt;
        return t;
      }
    }
    if (rest.empty()) return std::nullopt;
    t.type = findType(group, version, rest[0]);
    if (!t.type) return std::nullopt;
    if (rest.size() >= 2) t.name = rest[1];
    if (rest.size() >= 3) t.sub = rest[2];
    if (rest.size() > 3) return std::nullopt;
    if (t.type->namespaced && !t.name.empty()) return std::nullopt;
    return t;
  }

  // GET /api/v1/namespaces/NS/services/[SCHEME:]NAME[:PORT]/proxy/PATH: kube-apiserver's service proxy. The
  // Service must exist and have the port (by name or number; the first port when none is given); the
  // backend is what setServiceResolver() maps (ns, name, port) to, standing in for the Service's
  // endpoints: none gives kube's 503 "no endpoints available", an unreachable one its 503 "error trying
  // to reach service". The backend's status, content type and body pass through.
  Answer serviceProxy(const Ctx& c, const std::string& ns, const std::string& spec) {
    if (c.method != "GET")
      return answer(statusBody(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                               Json::object()));
    std::vector<std::string> parts;
    for (size_t b = 0;;) {
      size_t e = spec.find(':', b);
      parts.push_back(spec.substr(b, e == std::string::npos ? std::string::npos : e - b));
      if (e == std::string::npos) break;
      b = e + 1;
    }
    std::string scheme = parts.size() == 3 ? parts[0] : "";
    std::string name = parts.size() == 3 ? parts[1] : parts[0];
    std::string portSpec = parts.size() == 3 ? parts[2] : parts.size() == 2 ? parts[1] : "";
    int port = 0;
    ServiceResolver res;
    {
      std::lock_guard<std::mutex> lk(mu);
      const ResourceType* svcType = findType("", "v1", "services");
      const Json* svc = svcType ? find(svcType->groupResource(), keyOf(ns, name)) : nullptr;
      if (!svc)
        return answer(statusBody(404, "NotFound", "services \"" + name + "\" not found",
                                 Json{{"name", name}, {"kind", "services"}}));
      const Json* ports = svc->contains("spec") && (*svc)["spec"].contains("ports") ? &(*svc)["spec"]["ports"] : nullptr;
      if (ports && ports->is_array())
        for (const auto& p : *ports)
          if (portSpec.empty() || p.value("name", "") == portSpec || std::to_string(p.value("port", 0)) == portSpec) {
            port = p.value("port", 0);
            break;
          }
      res = resolver;
    }
    std::string base = port > 0 && res ? res(ns, name, port, "") : "";
    if (base.empty())
      return answer(statusBody(503, "ServiceUnavailable", "no endpoints available for service \"" + spec + "\"", Json::object()));
    if (!base.empty() && base.back() == '/') base.pop_back();
    std::string target = c.req->target;
    size_t at = target.find("/proxy");
    std::string rest = at == std::string::npos ? "/" : target.substr(at + 6);
    if (rest.empty() || rest[0] != '/') rest = "/" + rest;
    (void)scheme;  // the resolver decides the backend's scheme
    httplib::Client cli(base);
    cli.set_connection_timeout(5);
    cli.set_read_timeout(30);
    auto r = cli.Get(rest, httplib::Headers{{"Accept", c.req->get_header_value("Accept")}});
    if (!r)
      return answer(statusBody(503, "ServiceUnavailable",
                               "error trying to reach service: dial tcp " + base + ": " + httplib::to_string(r.error()),
                               Json::object()));
    Answer a{r->status, Json(r->body), r->get_header_value("Content-Type")};
    if (a.contentType.empty()) a.contentType = "text/plain";
    a.raw = true;
    return a;
  }

  Answer dispatch(Ctx& c, httplib::Response& res) {
    auto seg = splitPath(c.path);
    if (seg.size() >= 7 && seg[0] == "api" && seg[1] == "v1" && seg[2] == "namespaces" && seg[4] == "services" &&
        seg[6] == "proxy")
      return serviceProxy(c, seg[3], seg[5]);
    std::string accept = c.req->get_header_value("Accept");
    bool aggregated = accept.find("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList") != std::string::npos;
    if (c.method == "GET") {
      if (c.path == "/version") return Answer{200, versionBody()};
      if (c.path == "/healthz" || c.path == "/livez" || c.path == "/readyz") {
        return Answer{200, Json("ok"), "text/plain"};
      }
      if (seg.size() >= 2 && seg[0] == "openapi" && seg[1] == "v3") {
        std::lock_guard<std::mutex> lk(mu);
        if (seg.size() == 2) return Answer{200, openApiV3Root()};
        std::string gvPath = c.path.substr(std::string("/openapi/v3/").size());
        Json doc = openApiV3Doc(gvPath);
        if (!doc.is_null()) return Answer{200, doc};
      }
      if (seg.size() == 1 && seg[0] == "api") {
        if (aggregated) {
          std::lock_guard<std::mutex> lk(mu);
          return Answer{200, aggregatedDiscovery(types, true),
                        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"};
        }
        Json v = discoveryApiVersions();
        v["serverAddressByClientCIDRs"][0]["serverAddress"] = "127.0.0.1:" + std::to_string(port);
        return Answer{200, v};
      }
      if (seg.size() == 1 && seg[0] == "apis") {
        std::lock_guard<std::mutex> lk(mu);
        if (aggregated)
          return Answer{200, aggregatedDiscovery(types, false),
                        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"};
        return Answer{200, discoveryGroupList(types)};
      }
      if (seg.size() == 2 && seg[0] == "api" && seg[1] == "v1") {
        std::lock_guard<std::mutex> lk(mu);
        return Answer{200, discoveryResourceList(types, "", "v1")};
      }
      if (seg.size() == 2 && seg[0] == "apis") {
        std::lock_guard<std::mutex> lk(mu);
        Json g = discoveryGroup(types, seg[1]);
        if (!g.is_null()) {
          Json out{{"kind", "APIGroup"}, {"apiVersion", "v1"}};
          for (auto it = g.begin(); it != g.end(); ++it) out[it.key()] = it.value();
          return Answer{200, out};
        }
      }
      if (seg.size() == 3 && seg[0] == "apis") {
        std::lock_guard<std::mutex> lk(mu);
        Json l = discoveryResourceList(types, seg[1], seg[2]);
        if (!l.is_null()) return Answer{200, l};
      }
    }
    std::optional<Target> target;
    if (seg.size() >= 3 && seg[0] == "api" && seg[1] == "v1") target = parseTarget(seg, 2, "", "v1");
    if (seg.size() >= 4 && seg[0] == "apis") target = parseTarget(seg, 3, seg[1], seg[2]);
    if (!target)
      return answer(statusBody(404, "NotFound", "the server could not find the requested resource", Json::object()));
    Target& t = *target;
    if (t.type->review) {
      // Create-only: POST to the collection (namespaced: in a namespace); never stored.
      if (!t.name.empty() || (t.type->namespaced && t.ns.empty()))
        return answer(statusBody(404, "NotFound", "the server could not find the requested resource", Json::object()));
      if (c.method != "POST")
        return answer(statusBody(405, "MethodNotAllowed",
                                 "the server does not allow this method on the requested resource", Json::object()));
      return review(c, t);
    }
    if (t.sub == "log" && t.type->resource == "pods" && t.type->group.empty()) return podLog(c, t);
    if (!t.sub.empty() && t.sub != "status" && t.sub != "scale")
      return answer(statusBody(404, "NotFound", "the server could not find the requested resource", Json::object()));
    if (t.sub == "status" && !t.type->statusSubresource)
      return answer(statusBody(404, "NotFound", "the server could not find the requested resource", Json::object()));
    if (t.sub == "scale" && !t.type->scaleSubresource)
      return answer(statusBody(404, "NotFound", "the server could not find the requested resource", Json::object()));
    if (t.name.empty()) {
      if (c.method == "GET") {
        if (c.flag("watch")) return startWatch(c, t, res);
        return converted(t, list(c, t));
      }
      if (c.method == "POST") return converted(t, create(c, t));
      if (c.method == "DELETE") return converted(t, deleteCollection(c, t));
      return answer(statusBody(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                               Json::object()));
    }
    if (t.sub == "scale") return scale(c, t);
    if (c.method == "GET") return converted(t, get(t));
    if (c.method == "PUT") return converted(t, update(c, t));
    if (c.method == "PATCH") return converted(t, patch(c, t));
    if (c.method == "DELETE") return converted(t, remove(c, t));
    return answer(statusBody(405, "MethodNotAllowed", "the server does not allow this method on the requested resource",
                             Json::object()));
  }

  // A minimal OpenAPI v3 index and per-group-version documents: one PATCH operation per kind that declares
  // the fieldValidation parameter, which is what kubectl checks before using server-side field validation.
  Json openApiV3Root() const {
    Json paths = Json::object();
    std::set<std::string> gvs;
    for (const auto& t : types) gvs.insert(t.group.empty() ? "api/" + t.version : "apis/" + t.group + "/" + t.version);
    for (const auto& gv : gvs) paths[gv] = Json{{"serverRelativeURL", "/openapi/v3/" + gv + "?hash=" + std::to_string(rv)}};
    return Json{{"paths", paths}};
  }
  Json openApiV3Doc(const std::string& gvPath) const {
    Json paths = Json::object();
    bool any = false;
    for (const auto& t : types) {
      std::string gv = t.group.empty() ? "api/" + t.version : "apis/" + t.group + "/" + t.version;
      if (gv != gvPath) continue;
      any = true;
      std::string p = "/" + gv + (t.namespaced ? "/namespaces/{namespace}/" : "/") + t.resource + "/{name}";
      Json op{{"x-kubernetes-group-version-kind", {{"group", t.group}, {"version", t.version}, {"kind", t.kind}}},
              {"parameters",
               Json::array({Json{{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                            Json{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
                            Json{{"name", "force"}, {"in", "query"}, {"schema", {{"type", "boolean"}}}}})},
              {"responses", {{"200", {{"description", "OK"}}}}}};
      paths[p] = Json{{"patch", op}};
    }
    if (!any) return nullptr;
    return Json{{"openapi", "3.0.0"},
                {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                {"paths", paths},
                {"components", {{"schemas", Json::object()}}}};
  }

  static Json versionBody() {
    return Json{{"major", "1"},
                {"minor", "32"},
                {"emulationMajor", "1"},
                {"emulationMinor", "32"},
                {"minCompatibilityMajor", "1"},
                {"minCompatibilityMinor", "31"},
                {"gitVersion", "v1.32.0-otel-test"},
                {"gitCommit", "0000000000000000000000000000000000000000"},
                {"gitTreeState", "clean"},
                {"buildDate", "2026-01-01T00:00:00Z"},
                {"goVersion", "go1.23.0"},
                {"compiler", "gc"},
                {"platform", "linux/amd64"}};
  }

  // The access reviews (access_review.h): evaluated against the stored RBAC objects, never stored.
  Answer review(Ctx& c, const Target& t) {
    std::string err;
    auto parsed = parseBody(c.req->body, err);
    if (!parsed || !parsed->is_object()) return badRequest("the body of the request was in an unknown format: " + err);
    ReviewAnswer r;
    if (t.type->resource == "selfsubjectreviews") {
      r = selfSubjectReview(*parsed, c.user, nowRfc3339());
    } else {
      ReviewKind kind = t.type->resource == "subjectaccessreviews"       ? ReviewKind::SubjectAccessReview
                        : t.type->resource == "selfsubjectaccessreviews" ? ReviewKind::SelfSubjectAccessReview
                                                                         : ReviewKind::LocalSubjectAccessReview;
      RbacPolicy policy;
      {
        std::lock_guard<std::mutex> lk(mu);
        policy = rbacPolicy();
      }
      r = accessReview(kind, *parsed, t.ns, c.user, policy);
    }
    return Answer{r.status, r.body};
  }

  // The stored Roles, ClusterRoles and bindings (mu held).
  RbacPolicy rbacPolicy() const {
    RbacPolicy p;
    auto collect = [&](const char* gr, std::vector<Json>& into) {
      auto it = store.find(gr);
      if (it == store.end()) return;
      for (const auto& [key, obj] : it->second) into.push_back(obj);
    };
    collect("roles.rbac.authorization.k8s.io", p.roles);
    collect("clusterroles.rbac.authorization.k8s.io", p.clusterRoles);
    collect("rolebindings.rbac.authorization.k8s.io", p.roleBindings);
    collect("clusterrolebindings.rbac.authorization.k8s.io", p.clusterRoleBindings);
    return p;
  }

  // kube-apiserver's authorization filter: system:masters is allowed, the forbiddenToken user is refused every
  // resource request, everyone else is decided by RBAC. Returns the 403 answer of a refusal.
  std::optional<Answer> authorizeRequest(const User& user, const httplib::Request& req) {
    std::map<std::string, std::string> query;
    for (const auto& [k, v] : req.params) query.emplace(k, v);  // the first value of each parameter
    AuthzAttributes a = requestAttributes(req.method, req.path, query);
    if (std::find(user.groups.begin(), user.groups.end(), kSystemMasters) != user.groups.end()) return std::nullopt;
    if (user.forbidden && a.resourceRequest) return answer(forbiddenStatus(user, a, ""));
    AuthzDecision d;
    {
      std::lock_guard<std::mutex> lk(mu);
      d = authorize(rbacPolicy(), user, a);
    }
    if (d.allowed) return std::nullopt;
    return answer(forbiddenStatus(user, a, d.reason));
  }

  // Impersonate-User / -Group / -Uid headers as kube-apiserver's impersonation filter: each requested identity
  // needs the `impersonate` verb (users, groups, serviceaccounts, uids), then the request runs as the impersonated
  // user (plus system:authenticated; a service account without requested groups also gets
  // system:serviceaccounts and system:serviceaccounts:<ns>). Impersonate-Extra-* is not modelled.
  std::optional<Answer> impersonate(User& user, const httplib::Request& req) {
    std::string name = req.get_header_value("Impersonate-User");
    std::vector<std::string> groups;
    for (size_t i = 0; i < req.get_header_value_count("Impersonate-Group"); ++i)
      groups.push_back(req.get_header_value("Impersonate-Group", i));
    std::string uid = req.get_header_value("Impersonate-Uid");
    if (name.empty()) {
      if (groups.empty() && uid.empty()) return std::nullopt;
      return answer(statusBody(400, "BadRequest", "requested impersonation of groups or uid without impersonating a user",
                               Json::object()));
    }
    std::vector<AuthzAttributes> wanted;
    const std::string sa = "system:serviceaccount:";
    AuthzAttributes who;
    who.resourceRequest = true;
    who.verb = "impersonate";
    if (name.rfind(sa, 0) == 0 && name.find(':', sa.size()) != std::string::npos) {
      who.resource = "serviceaccounts";
      who.ns = name.substr(sa.size(), name.find(':', sa.size()) - sa.size());
      who.name = name.substr(name.find(':', sa.size()) + 1);
    } else {
      who.resource = "users";
      who.name = name;
    }
    wanted.push_back(who);
    for (const auto& g : groups) {
      AuthzAttributes a = who;
      a.resource = "groups";
      a.ns.clear();
      a.name = g;
      wanted.push_back(a);
    }
    if (!uid.empty()) {
      AuthzAttributes a = who;
      a.apiGroup = "authentication.k8s.io";
      a.resource = "uids";
      a.ns.clear();
      a.name = uid;
      wanted.push_back(a);
    }
    for (const auto& a : wanted) {
      AuthzDecision d;
      {
        std::lock_guard<std::mutex> lk(mu);
        d = authorize(rbacPolicy(), user, a);
      }
      if (!d.allowed) return answer(forbiddenStatus(user, a, d.reason));
    }
    User as;
    as.name = name;
    as.groups = groups;
    if (who.resource == "serviceaccounts" && groups.empty())
      as.groups = {"system:serviceaccounts", "system:serviceaccounts:" + who.ns};
    if (name != "system:anonymous" &&
        std::find(as.groups.begin(), as.groups.end(), kSystemAuthenticated) == as.groups.end())
      as.groups.push_back(kSystemAuthenticated);
    user = as;
    return std::nullopt;
  }

  Answer get(const Target& t) {
    std::lock_guard<std::mutex> lk(mu);
    Json* o = find(t.type->groupResource(), keyOf(t.ns, t.name));
    if (!o) return notFound(*t.type, t.name);
    return Answer{200, render(*t.type, *o)};
  }

  Answer list(Ctx& c, const Target& t) {
    std::string err;
    auto ls = parseLabelSelector(c.param("labelSelector"), err);
    if (!ls) return badRequest("unable to parse requirement: " + err);
    auto fs = parseFieldSelector(c.param("fieldSelector"), err);
    if (!fs) return badRequest(err);
    long limit = c.param("limit").empty() ? 0 : std::atol(c.param("limit").c_str());
    std::string cont = c.param("continue");
    std::string rvParam = c.param("resourceVersion");
    std::string rvMatch = c.param("resourceVersionMatch");
    std::lock_guard<std::mutex> lk(mu);
    std::int64_t listRv = rv;
    std::string startAfter;
    std::string gr = t.type->groupResource();
    std::map<std::string, Json> state;
    bool historical = false;
    if (!cont.empty()) {
      auto raw = base64UrlNoPadDecode(cont);
      Json tok = raw ? Json::parse(*raw, nullptr, false) : Json();
      if (!tok.is_object() || !tok.contains("rv") || !tok.contains("start"))
        return badRequest("continue key is not valid: " + cont);
      listRv = tok["rv"].get<std::int64_t>();
      startAfter = tok["start"].get<std::string>();
      historical = true;
    } else if (rvMatch == "Exact" && !rvParam.empty()) {
      listRv = std::atoll(rvParam.c_str());
      historical = true;
    }
    if (historical && listRv < rv) {
      if (listRv < historyStart) {
        if (!cont.empty())
          return answer(statusBody(
              410, "Expired",
              "The provided continue parameter is too old to display a consistent list result. You can start a new "
              "list without the continue parameter, or use the continue token in this response to retrieve the "
              "remainder of the results. Continuing with the provided token results in an inconsistent list - objects "
              "that were created, modified, or deleted between the time the first chunk was returned and now may show "
              "up in the list."));
        return answer(statusBody(410, "Expired", "The resourceVersion for the provided list is too old."));
      }
      state = stateAt(gr, listRv);
    } else {
      if (store.count(gr)) state = store[gr];
      listRv = historical ? listRv : rv;
    }
    Json items = Json::array();
    std::string lastKey;
    long remaining = 0;
    bool more = false;
    for (auto& [key, obj] : state) {
      if (!t.ns.empty() && meta(obj, "namespace") != t.ns) continue;
      if (!startAfter.empty() && key <= startAfter) continue;
      if (!matchLabels(*ls, obj["metadata"].value("labels", Json::object()))) continue;
      if (!matchFields(*fs, obj)) continue;
      if (limit > 0 && static_cast<long>(items.size()) >= limit) {
        more = true;
        remaining++;
        continue;
      }
      items.push_back(renderItem(*t.type, obj));
      lastKey = key;
    }
    Json m = Json::object();
    m["resourceVersion"] = std::to_string(listRv);
    if (more) {
      Json tok{{"v", "meta.k8s.io/v1"}, {"rv", listRv}, {"start", lastKey}};
      m["continue"] = base64UrlNoPad(tok.dump());
      if (ls->empty() && fs->empty()) m["remainingItemCount"] = remaining;
    }
    Json out = Json::object();
    out["kind"] = t.type->listKind;
    out["apiVersion"] = t.type->apiVersion();
    out["metadata"] = m;
    out["items"] = items;
    return Answer{200, out};
  }

  // ------------------------------------------------------------------ watch
  std::string eventLine(const std::string& type, const Json& obj) const {
    Json e = Json::object();
    e["type"] = type;
    e["object"] = obj;
    return e.dump() + "\n";
  }

  Answer startWatch(Ctx& c, const Target& t, httplib::Response& res) {
    auto st = std::make_shared<WatchState>();
    std::string err;
    auto ls = parseLabelSelector(c.param("labelSelector"), err);
    if (!ls) return badRequest("unable to parse requirement: " + err);
    auto fs = parseFieldSelector(c.param("fieldSelector"), err);
    if (!fs) return badRequest(err);
    st->labels = *ls;
    st->fields = *fs;
    st->gr = t.type->groupResource();
    st->ns = t.ns;
    st->apiVersion = t.type->apiVersion();
    st->bookmarks = c.flag("allowWatchBookmarks");
    long timeoutSeconds = c.param("timeoutSeconds").empty() ? 1800 : std::atol(c.param("timeoutSeconds").c_str());
    st->deadline = Clock::now() + std::chrono::seconds(timeoutSeconds);
    st->lastSent = Clock::now();
    std::string rvParam = c.param("resourceVersion");
    bool initial = c.flag("sendInitialEvents");
    const ResourceType type = *t.type;
    std::uint64_t gen = 0;
    {
      std::lock_guard<std::mutex> lk(mu);
      std::int64_t from = rvParam.empty() || rvParam == "0" ? -1 : std::atoll(rvParam.c_str());
      if (from >= 0 && from < historyStart && !initial) {
        Json s = statusBody(410, "Expired",
                            "too old resource version: " + rvParam + " (" + std::to_string(historyStart + 1) + ")");
        st->pending.push_back(WatchLine{eventLine("ERROR", s), "", Json()});
        st->finished = true;
      } else if (from < 0 || initial) {
        if (store.count(st->gr))
          for (auto& [key, obj] : store[st->gr]) {
            if (!st->ns.empty() && meta(obj, "namespace") != st->ns) continue;
            if (!matchLabels(st->labels, obj["metadata"].value("labels", Json::object()))) continue;
            if (!matchFields(st->fields, obj)) continue;
            st->pending.push_back(WatchLine{"", "ADDED", render(type, obj)});
          }
        st->pos = rv;
        if (initial && st->bookmarks) {
          Json b{{"kind", type.kind},
                 {"apiVersion", type.apiVersion()},
                 {"metadata",
                  {{"resourceVersion", std::to_string(rv)},
                   {"annotations", {{"k8s.io/initial-events-end", "true"}}}}}};
          st->pending.push_back(WatchLine{eventLine("BOOKMARK", b), "", Json()});
        }
      } else {
        st->pos = from;
      }
      // Taken under the same lock as the counter, so a closeWatches() after waitForWatches() always ends it.
      gen = closeGen;
      activeWatches++;
      watchesStarted++;
      cv.notify_all();
    }
    res.status = 200;
    res.set_header("Cache-Control", "no-cache, private");
    // httplib would gzip the stream when the client accepts it (kubectl does) and its compressor holds events
    // back until a buffer fills: watch streams go uncompressed, as kube-apiserver sends them. The request object
    // is httplib's own non-const local; dropping the header here only affects how this answer is encoded.
    const_cast<httplib::Request*>(c.req)->headers.erase("Accept-Encoding");
    res.set_chunked_content_provider(
        "application/json",
        [this, st, type, gen](size_t, httplib::DataSink& sink) {
          std::vector<WatchLine> out;
          bool end = false;
          {
            std::unique_lock<std::mutex> lk(mu);
            while (!st->pending.empty()) {
              out.push_back(std::move(st->pending.front()));
              st->pending.pop_front();
            }
            if (st->finished) {
              end = true;
            } else if (out.empty()) {
              cv.wait_for(lk, std::chrono::milliseconds(100), [&] {
                return stopping || closeGen != gen || (!log.empty() && log.back().rv > st->pos) ||
                       Clock::now() >= st->deadline;
              });
            }
            if (!end && st->pos < historyStart) {
              out.push_back(WatchLine{eventLine("ERROR", statusBody(410, "Expired",
                                                          "too old resource version: " + std::to_string(st->pos) +
                                                              " (" + std::to_string(historyStart + 1) + ")"))});
              end = true;
            }
            if (!end) {
              auto it = std::upper_bound(log.begin(), log.end(), st->pos,
                                         [](std::int64_t v, const Event& e) { return v < e.rv; });
              for (; it != log.end(); ++it) {
                const Event& e = *it;
                st->pos = e.rv;
                if (e.gr != st->gr) continue;
                if (!st->ns.empty() && e.ns != st->ns) continue;
                auto matches = [&](const Json& o) {
                  return o.is_object() && matchLabels(st->labels, o["metadata"].value("labels", Json::object())) &&
                         matchFields(st->fields, o);
                };
                bool now = matches(e.object);
                bool before = matches(e.prev);
                std::string type2 = e.type;
                if (e.type == "MODIFIED") {
                  if (now && !before) type2 = "ADDED";
                  else if (!now && before) type2 = "DELETED";
                  else if (!now && !before) continue;
                } else if (e.type == "DELETED") {
                  if (!before) continue;
                } else if (!now) {
                  continue;
                }
                out.push_back(WatchLine{"", type2, render(type, e.object)});
              }
              bool closing = stopping || closeGen != gen || Clock::now() >= st->deadline;
              bool bookmarkDue = st->bookmarks && out.empty() &&
                                 Clock::now() - st->lastSent >= opts.bookmarkInterval;
              if (st->bookmarks && (bookmarkDue || (closing && Clock::now() >= st->deadline))) {
                Json b{{"kind", type.kind},
                       {"apiVersion", type.apiVersion()},
                       {"metadata", {{"resourceVersion", std::to_string(st->pos)}}}};
                out.push_back(WatchLine{eventLine("BOOKMARK", b), "", Json()});
              }
              end = closing;
            }
          }
          for (auto& line : out) {
            if (line.text.empty()) {
              // kube encodes each event for the watcher's version; a conversion that fails ends the stream
              // (the client's next list gets the error).
              if (convertObject(type, line.object, type.apiVersion())) {
                end = true;
                break;
              }
              line.text = eventLine(line.type, line.object);
            }
            if (!sink.write(line.text.data(), line.text.size())) return false;
          }
          if (!out.empty()) st->lastSent = Clock::now();
          if (end) sink.done();
          return true;
        },
        [this](bool) {
          std::lock_guard<std::mutex> lk(mu);
          activeWatches--;
          cv.notify_all();
        });
    return Answer{-1, Json()};  // already written
  }

  // ------------------------------------------------------------------ writes
  std::optional<Answer> checkNamespace(const Target& t) {
    if (!t.type->namespaced) return std::nullopt;
    std::lock_guard<std::mutex> lk(mu);
    Json* n = find("namespaces", keyOf("", t.ns));
    if (!n) return namespaceNotFound(t.ns);
    return std::nullopt;
  }

  static std::optional<Json> parseBody(const std::string& body, std::string& err) {
    if (body.size() >= 4 && body.compare(0, 4, "k8s\0", 4) == 0) {
      err = "protobuf bodies are not supported by the test API server; send JSON";
      return std::nullopt;
    }
    try {
      Json j = parseJsonOrYaml(body);
      return j;
    } catch (const LogicError& e) {
      err = e.message;
      return std::nullopt;
    }
  }

  // Finishes an object for creation (mu held): name generation, validation, system metadata.
  std::optional<Answer> finishCreate(const ResourceType& t, Json& obj, bool dryRun) {
    Json& m = obj["metadata"];
    if (meta(obj, "name").empty()) {
      std::string gen = meta(obj, "generateName");
      if (gen.empty())
        return answer(invalidStatus(kindForMessage(t), t.group, t.kind, "",
                                    {{"metadata.name", "Required value: name or generateName is required",
                                      "FieldValueRequired"}}));
      m["name"] = gen + randomSuffix(5);
    }
    std::string name = meta(obj, "name");
    // The kind's name rule: RBAC objects only need a path segment name (kube's ValidateRBACName, so
    // "system:basic-user" is valid), namespaces and services a DNS label, everything else a DNS subdomain.
    std::vector<std::string> whys;
    if (t.group == "rbac.authorization.k8s.io") {
      whys = pathSegmentNameErrors(name);
    } else {
      std::string why = (t.resource == "namespaces" || t.resource == "services") && t.group.empty()
                            ? validateDnsLabel(name)
                            : validateDnsSubdomain(name);
      if (!why.empty()) whys.push_back(why);
    }
    if (!whys.empty()) {
      std::vector<FieldError> errs;
      for (const auto& why : whys) errs.push_back({"metadata.name", "Invalid value: " + goQuote(name) + ": " + why});
      return answer(invalidStatus(kindForMessage(t), t.group, t.kind, name, errs));
    }
    if (t.resource == "customresourcedefinitions") {
      Json spec = obj.value("spec", Json::object());
      std::string expected = spec.value("names", Json::object()).value("plural", "") + "." + spec.value("group", "");
      if (name != expected)
        return answer(invalidStatus(kindForMessage(t), t.group, t.kind, name,
                                    {{"metadata.name", "Invalid value: \"" + name +
                                                           "\": must be spec.names.plural+\".\"+spec.group"}}));
    }
    if (find(t.groupResource(), keyOf(meta(obj, "namespace"), name))) return alreadyExists(t, name);
    m["uid"] = newUid();
    m["creationTimestamp"] = nowRfc3339();
    m.erase("deletionTimestamp");
    m.erase("deletionGracePeriodSeconds");
    if (t.hasGeneration)
      m["generation"] = 1;
    else
      m.erase("generation");
    if (t.resource == "namespaces" && t.group.empty()) {
      if (!m.contains("labels")) m["labels"] = Json::object();
      m["labels"]["kubernetes.io/metadata.name"] = name;
      // The namespace strategy: the kubernetes finalizer is always there on create.
      if (!obj.contains("spec") || !obj["spec"].is_object()) obj["spec"] = Json::object();
      Json& fins = obj["spec"]["finalizers"];
      if (!fins.is_array()) fins = Json::array();
      if (std::find(fins.begin(), fins.end(), Json("kubernetes")) == fins.end()) fins.push_back("kubernetes");
      obj["status"] = Json{{"phase", "Active"}};
    } else if (t.statusSubresource) {
      if (t.custom)
        obj.erase("status");
      else
        obj["status"] = Json::object();
    }
    if (t.resource == "customresourcedefinitions") {
      defaultCrd(obj);
      initialCrdStatus(obj);
    }
    if (t.custom) {
      auto errs = validateAndPrune(obj, t.schema);
      if (!errs.empty()) return answer(invalidStatus(kindForMessage(t), t.group, t.kind, name, errs));
    }
    const std::string tn = builtinType(t);
    if (!tn.empty()) {
      prepareBuiltinCreate(tn, obj);
      if (tn == "core.Service")
        if (auto e = allocateServiceAddresses(obj, dryRun)) return e;
      obj = canonical(tn, obj, nullptr);
    }
    return std::nullopt;
  }

  static void defaultCrd(Json& crd) {
    Json& spec = crd["spec"];
    Json& names = spec["names"];
    std::string kind = names.value("kind", "");
    if (!names.contains("listKind")) names["listKind"] = kind + "List";
    if (!names.contains("singular")) {
      std::string s = kind;
      for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      names["singular"] = s;
    }
    if (!spec.contains("conversion")) spec["conversion"] = Json{{"strategy", "None"}};
  }

  // The status a CRD has in the create answer, before the CRD controllers have looked at it.
  static void initialCrdStatus(Json& crd) {
    crd["status"] = Json{{"conditions", nullptr},
                         {"acceptedNames", {{"plural", ""}, {"kind", ""}}},
                         {"storedVersions", storedVersions(crd)}};
  }

  static Json storedVersions(const Json& crd) {
    Json stored = Json::array();
    if (crd["spec"].contains("versions"))
      for (const auto& v : crd["spec"]["versions"])
        if (v.value("storage", false)) stored.push_back(v.value("name", ""));
    return stored;
  }

  // What the CRD controllers write: names accepted, Established. A condition that keeps its status keeps
  // its lastTransitionTime (they only stamp transitions), so re-applying an unchanged CRD is a no-op.
  static void establishCrd(Json& crd) {
    std::map<std::string, Json> previous;
    if (crd.contains("status") && crd["status"].is_object() && crd["status"].value("conditions", Json()).is_array())
      for (const auto& c : crd["status"]["conditions"])
        if (c.is_object()) previous[c.value("type", "")] = c;
    auto condition = [&](const char* type, const char* reason, const char* message) {
      auto it = previous.find(type);
      bool same = it != previous.end() && it->second.value("status", "") == "True" && it->second.contains("lastTransitionTime");
      return Json{{"type", type},
                  {"status", "True"},
                  {"lastTransitionTime", same ? it->second["lastTransitionTime"] : Json(nowRfc3339())},
                  {"reason", reason},
                  {"message", message}};
    };
    crd["status"] = Json{{"conditions", Json::array({condition("NamesAccepted", "NoConflicts", "no conflicts found"),
                                                      condition("Established", "InitialNamesAccepted",
                                                                "the initial names have been accepted")})},
                         {"acceptedNames", crd["spec"]["names"]},
                         {"storedVersions", storedVersions(crd)}};
  }

  Answer create(Ctx& c, const Target& t) {
    std::string err;
    auto parsed = parseBody(c.req->body, err);
    if (!parsed || !parsed->is_object()) return badRequest("the body of the request was in an unknown format: " + err);
    Json obj = *parsed;
    if (auto e = checkNamespace(t)) return *e;
    return createObject(c, t, obj, nullptr);
  }

  // Create path shared by POST and apply-create. applyFields: the manager's Apply field set (apply) or null.
  Answer createObject(Ctx& c, const Target& t, Json obj, const FieldSet* applyFields) {
    if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
    std::string bodyNs = meta(obj, "namespace");
    if (t.type->namespaced) {
      if (!bodyNs.empty() && bodyNs != t.ns)
        return badRequest("the namespace of the provided object does not match the namespace sent on the request");
      obj["metadata"]["namespace"] = t.ns;
    } else {
      obj["metadata"].erase("namespace");
    }
    Json out = Json::object();
    out["apiVersion"] = t.type->apiVersion();
    out["kind"] = t.type->kind;
    for (auto it = obj.begin(); it != obj.end(); ++it)
      if (it.key() != "apiVersion" && it.key() != "kind") out[it.key()] = it.value();
    obj = out;
    const std::string tn = builtinType(*t.type);
    if (!applyFields) {
      if (auto e = fieldValidation(c, *t.type, decodeIssues(*t.type, obj))) return *e;
    }
    if (!tn.empty()) {
      obj = canonical(tn, obj, nullptr);
      applyAdmissionDefaults(tn, obj);
      obj = canonical(tn, obj, nullptr);
    }
    // managedFields before admission (as kube-apiserver does).
    obj["metadata"].erase("managedFields");
    if (applyFields) {
      Json e{{"manager", c.manager},      {"operation", "Apply"},          {"apiVersion", t.type->apiVersion()},
             {"time", nowRfc3339()},      {"fieldsType", "FieldsV1"},      {"fieldsV1", fieldsToJson(*applyFields)}};
      obj["metadata"]["managedFields"] = Json::array({e});
    } else {
      updateManagedFields(obj, nullptr, c.manager, t.type->apiVersion(), "");
    }
    AdmissionCall ac{"CREATE", t.type, "", t.ns, meta(obj, "name"), Json(), c.user, "CreateOptions", c.dryRun};
    if (auto e = admit(ac, obj, true)) return *e;
    if (!tn.empty()) obj = canonical(tn, obj, nullptr);  // a webhook's patch is decoded and defaulted again
    std::unique_lock<std::mutex> lk(mu);
    if (auto e = finishCreate(*t.type, obj, c.dryRun)) return *e;
    lk.unlock();
    ac.name = meta(obj, "name");
    if (auto e = admit(ac, obj, false)) {
      lk.lock();
      if (tn == "core.Service" && !c.dryRun) releaseServiceAddresses(obj);
      return *e;
    }
    // Admission saw the request's version; what is stored is the storage version (kube converts when it encodes
    // for etcd, a dry run included).
    if (auto e = convertObject(*t.type, obj, t.type->storageApiVersion)) return *e;
    lk.lock();
    if (find(t.type->groupResource(), keyOf(meta(obj, "namespace"), meta(obj, "name")))) {
      if (tn == "core.Service" && !c.dryRun) releaseServiceAddresses(obj);
      return alreadyExists(*t.type, meta(obj, "name"));
    }
    if (c.dryRun) return Answer{201, render(*t.type, obj)};
    Json stored = commit(*t.type, obj);
    if (t.type->resource == "customresourcedefinitions") {
      Json established = stored;
      establishCrd(established);
      commit(*t.type, established);
    }
    settle();  // e.g. a dependent whose owners are all gone is collected, as the garbage collector would
    return Answer{201, render(*t.type, stored)};
  }

  // Applies an update (PUT, patch, apply) to `old` producing the stored object. statusOnly: the /status path.
  // Returns the answer (200 with the object, or an error).
  Answer updateObject(Ctx& c, const Target& t, const Json& old, Json incoming, const std::string& op,
                      const FieldSet* applyFields) {
    const ResourceType& type = *t.type;
    bool statusOnly = t.sub == "status";
    if (!incoming.is_object()) return badRequest("the body of the request was in an unknown format");
    if (!incoming.contains("metadata") || !incoming["metadata"].is_object()) incoming["metadata"] = Json::object();
    std::string bodyName = meta(incoming, "name");
    if (!bodyName.empty() && bodyName != t.name)
      return badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + t.name +
                        ")");
    std::string wantRv = meta(incoming, "resourceVersion");
    if (!wantRv.empty() && wantRv != meta(old, "resourceVersion")) return conflict(type, t.name);
    Json obj;
    if (statusOnly) {
      obj = old;
      if (incoming.contains("status"))
        obj["status"] = incoming["status"];
      else
        obj.erase("status");
    } else {
      obj = incoming;
      obj["apiVersion"] = type.apiVersion();
      obj["kind"] = type.kind;
      Json& m = obj["metadata"];
      const Json& om = old["metadata"];
      for (const char* k : {"name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                            "deletionGracePeriodSeconds", "generation", "generateName"}) {
        if (om.contains(k))
          m[k] = om[k];
        else
          m.erase(k);
      }
      if (type.statusSubresource) {
        if (old.contains("status"))
          obj["status"] = old["status"];
        else
          obj.erase("status");
      }
      if (type.resource == "customresourcedefinitions") {
        defaultCrd(obj);
        establishCrd(obj);  // keeps the condition times of the stored status
      }
    }
    const std::string tn = builtinType(type);
    if (!tn.empty()) {
      if (!applyFields)
        if (auto e = fieldValidation(c, type, decodeIssues(type, incoming))) return *e;
      obj = canonical(tn, obj, nullptr);
      if (!statusOnly) prepareBuiltinUpdate(tn, old, obj);
      obj = canonical(tn, obj, nullptr);
    }
    // Reorder so apiVersion/kind come first.
    {
      Json out = Json::object();
      out["apiVersion"] = type.apiVersion();
      out["kind"] = type.kind;
      for (auto it = obj.begin(); it != obj.end(); ++it)
        if (it.key() != "apiVersion" && it.key() != "kind") out[it.key()] = it.value();
      obj = out;
    }
    if (type.custom) {
      std::vector<std::string> pruned;
      auto errs = validateAndPrune(obj, type.schema, &pruned);
      if (!applyFields) {
        TypedDecodeIssues is;
        is.unknownFields = pruned;
        if (auto e = fieldValidation(c, type, is)) return *e;
      }
      if (!errs.empty()) return answer(invalidStatus(kindForMessage(type), type.group, type.kind, t.name, errs));
    }
    if (!statusOnly) {
      // Metadata first (ValidateObjectMetaUpdate), then the kind's rules.
      auto errs = finalizerUpdateErrors(old, obj);
      if (!tn.empty())
        for (auto& e : builtinUpdateErrors(tn, old, obj)) errs.push_back(e);
      for (auto& e : immutableFieldErrors(type, old, obj)) errs.push_back(e);
      if (!errs.empty()) return answer(invalidStatus(kindForMessage(type), type.group, type.kind, t.name, errs));
    }
    if (type.hasGeneration && differsOutsideMetadata(old, obj, type.statusSubresource || !type.custom)) {
      obj["metadata"]["generation"] = old["metadata"].value("generation", 0) + 1;
    }
    // managedFields. Like kube-apiserver (structured-merge-diff returns no object for an apply that
    // changes nothing), a no-op apply keeps the manager's entry and its time, so nothing is written.
    const bool unchangedObject = sameJson(withoutVolatile(obj), withoutVolatile(old));
    if (applyFields) {
      Json entries = Json::array();
      bool placed = false;
      Json src = old["metadata"].value("managedFields", Json::array());
      for (auto e : src) {
        bool mine = e.value("manager", "") == c.manager && e.value("operation", "") == "Apply";
        if (mine) {
          Json fields = fieldsToJson(*applyFields);
          if (!unchangedObject || e.value("fieldsV1", Json()) != fields || e.value("apiVersion", "") != type.apiVersion()) {
            e["fieldsV1"] = fields;
            e["time"] = nowRfc3339();
            e["apiVersion"] = type.apiVersion();
          }
          placed = true;
        } else {
          FieldSet fs = fieldsFromJson(e.value("fieldsV1", Json::object()));
          FieldSet leaves = leafFields(obj, true);
          FieldSet keep;
          for (const auto& p : fs)
            if (leaves.count(p) && !(c.flag("force") && applyFields->count(p)))
              keep.insert(p);
          if (keep.empty()) continue;
          e["fieldsV1"] = fieldsToJson(keep);
        }
        entries.push_back(e);
      }
      if (!placed && !applyFields->empty())
        entries.push_back(Json{{"manager", c.manager},
                               {"operation", "Apply"},
                               {"apiVersion", type.apiVersion()},
                               {"time", nowRfc3339()},
                               {"fieldsType", "FieldsV1"},
                               {"fieldsV1", fieldsToJson(*applyFields)}});
      obj["metadata"]["managedFields"] = entries;
    } else {
      Json oldCopy = old;
      updateManagedFields(obj, &oldCopy, c.manager, type.apiVersion(), statusOnly ? "status" : "");
    }
    // No-op: nothing changed.
    if (sameJson(withoutVolatile(obj), withoutVolatile(old)) &&
        sameJson(obj["metadata"].value("managedFields", Json()), old["metadata"].value("managedFields", Json())))
      return Answer{200, render(type, old)};
    AdmissionCall ac{"UPDATE", &type, t.sub, t.ns, t.name, old, c.user, op == "patch" ? "PatchOptions" : "UpdateOptions",
                     c.dryRun};
    if (auto e = admit(ac, obj, true)) return *e;
    if (auto e = admit(ac, obj, false)) return *e;
    if (auto e = convertObject(type, obj, type.storageApiVersion)) return *e;
    std::lock_guard<std::mutex> lk(mu);
    Json* cur = find(type.groupResource(), keyOf(t.ns, t.name));
    if (!cur) return notFound(type, t.name);
    if (meta(*cur, "resourceVersion") != meta(old, "resourceVersion")) return conflict(type, t.name);
    if (c.dryRun) return Answer{200, render(type, obj)};
    Json stored = commit(type, obj);
    settle();
    return Answer{200, render(type, stored)};
  }

  Answer update(Ctx& c, const Target& t) {
    std::string err;
    auto parsed = parseBody(c.req->body, err);
    if (!parsed || !parsed->is_object()) return badRequest("the body of the request was in an unknown format: " + err);
    Json old;
    {
      std::lock_guard<std::mutex> lk(mu);
      Json* o = find(t.type->groupResource(), keyOf(t.ns, t.name));
      if (!o) return notFound(*t.type, t.name);
      old = *o;
    }
    // A webhook-converting type: the update applies to the stored object read through the request's version.
    if (auto e = convertObject(*t.type, old, t.type->apiVersion())) return *e;
    return updateObject(c, t, old, *parsed, "update", nullptr);
  }

  Answer patch(Ctx& c, const Target& t) {
    std::string ct = c.req->get_header_value("Content-Type");
    std::string err;
    Json old;
    bool exists = false;
    {
      std::lock_guard<std::mutex> lk(mu);
      Json* o = find(t.type->groupResource(), keyOf(t.ns, t.name));
      if (o) {
        old = *o;
        exists = true;
      }
    }
    if (exists)
      if (auto e = convertObject(*t.type, old, t.type->apiVersion())) return *e;
    if (ct.find("application/apply-patch") == 0) return apply(c, t, exists ? &old : nullptr);
    if (!exists) return notFound(*t.type, t.name);
    auto parsed = parseBody(c.req->body, err);
    if (!parsed) return badRequest("the body of the request was in an unknown format: " + err);
    Json patched;
    if (ct.find("application/json-patch+json") == 0) {
      try {
        patched = applyJsonPatch(old, *parsed);
      } catch (const LogicError&) {
        return answer(statusBody(422, "Invalid", "the server rejected our request due to an error in our request",
                                 Json::object()));
      }
      c.patchValue = patched.dump();
    } else if (ct.find("application/merge-patch+json") == 0) {
      if (!parsed->is_object()) return badRequest("the body of the request was in an unknown format");
      patched = applyMergePatch(old, *parsed);
      c.patchValue = patched.dump();
    } else if (ct.find("application/strategic-merge-patch+json") == 0) {
      if (!parsed->is_object()) return badRequest("the body of the request was in an unknown format");
      if (t.type->custom)
        return answer(statusBody(415, "UnsupportedMediaType",
                                 "the body of the request was in an unknown format - accepted media types include: "
                                 "application/json-patch+json, application/merge-patch+json, "
                                 "application/apply-patch+yaml",
                                 Json::object()));
      patched = applyStrategicMergePatch(old, *parsed);
      c.patchValue = goPlusV(*parsed);
    } else {
      return answer(statusBody(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format - accepted media types include: "
                               "application/json-patch+json, application/merge-patch+json, "
                               "application/apply-patch+yaml",
                               Json::object()));
    }
    // A patch carries the resourceVersion precondition only if it sets one explicitly.
    std::string patchedRv = meta(patched, "resourceVersion");
    if (patchedRv == meta(old, "resourceVersion")) patched["metadata"].erase("resourceVersion");
    return updateObject(c, t, old, patched, "patch", nullptr);
  }

  Answer apply(Ctx& c, const Target& t, const Json* old) {
    if (!c.req->has_param("fieldManager"))
      return badRequest("PATCH /apply requires fieldManager to be set");
    std::string err;
    auto parsed = parseBody(c.req->body, err);
    if (!parsed || !parsed->is_object()) return badRequest("error decoding YAML: " + err);
    Json applied = *parsed;
    if (!applied.contains("metadata") || !applied["metadata"].is_object()) applied["metadata"] = Json::object();
    std::string bodyName = meta(applied, "name");
    if (!bodyName.empty() && bodyName != t.name)
      return badRequest("the name of the object (" + bodyName + ") does not match the name on the URL (" + t.name +
                        ")");
    applied["metadata"]["name"] = t.name;
    // structured-merge-diff refuses fields the schema does not declare, whatever fieldValidation says, and
    // kube-apiserver v1.36 answers that with a 500 without a reason (kubernetes#139253).
    {
      Json typed = applied;
      if (t.type->namespaced) typed["metadata"]["namespace"] = t.ns;
      auto is = decodeIssues(*t.type, typed);
      if (!is.unknownFields.empty()) {
        std::string msg = "failed to create typed patch object (" + (t.type->namespaced ? t.ns : std::string()) + "/" +
                          t.name + "; " + gvkString(*t.type) + "): ";
        if (is.unknownFields.size() == 1) {
          msg += "." + is.unknownFields[0] + ": field not declared in schema";
        } else {
          msg += "errors:";
          for (const auto& f : is.unknownFields) msg += "\n  ." + f + ": field not declared in schema";
        }
        return answer(statusBody(500, "", msg));
      }
    }
    bool statusOnly = t.sub == "status";
    FieldSet fields = leafFields(applied, statusOnly || !t.type->statusSubresource);
    if (statusOnly) {
      FieldSet onlyStatus;
      for (const auto& p : fields)
        if (!p.empty() && p[0] == "status") onlyStatus.insert(p);
      fields = onlyStatus;
    }
    bool force = c.flag("force");
    if (!old) {
      if (auto e = checkNamespace(t)) return *e;
      Target ct = t;
      return createObject(c, ct, applied, &fields);
    }
    // Conflicts: a field with a different value owned by another manager.
    std::map<std::string, std::vector<std::string>> conflicts;  // manager label -> paths
    std::vector<std::string> order;
    Json causes = Json::array();
    int count = 0;
    for (auto e : (*old)["metadata"].value("managedFields", Json::array())) {
      if (e.value("manager", "") == c.manager && e.value("operation", "") == "Apply") continue;
      FieldSet owned = fieldsFromJson(e.value("fieldsV1", Json::object()));
      std::string label = "\"" + e.value("manager", "") + "\"";
      if (e.value("operation", "") == "Update") label += " using " + e.value("apiVersion", "");
      for (const auto& p : fields) {
        const Json* cv = valueAt(*old, p);
        const Json* av = valueAt(applied, p);
        if (!cv || !av || appliedWithin(*cv, *av)) continue;
        bool ownedHere = false;
        for (const auto& q : owned) {
          size_t n = std::min(p.size(), q.size());
          if (std::equal(p.begin(), p.begin() + static_cast<long>(n), q.begin())) ownedHere = true;
        }
        if (!ownedHere) continue;
        if (!conflicts.count(label)) order.push_back(label);
        conflicts[label].push_back(fieldPathString(p));
        causes.push_back(
            Json{{"reason", "FieldManagerConflict"}, {"message", "conflict with " + label}, {"field", fieldPathString(p)}});
        count++;
      }
    }
    if (count > 0 && !force) {
      std::string msg = "Apply failed with " + std::to_string(count) + (count == 1 ? " conflict: " : " conflicts: ");
      if (count == 1) {
        msg += "conflict with " + order[0] + ": " + conflicts[order[0]][0];
      } else {
        bool first = true;
        for (const auto& l : order) {
          if (!first) msg += "\n";
          first = false;
          msg += (conflicts[l].size() == 1 ? "conflict with " : "conflicts with ") + l + ":";
          for (const auto& p : conflicts[l]) msg += "\n- " + p;
        }
      }
      return answer(statusBody(409, "Conflict", msg, Json{{"causes", causes}}));
    }
    // Merge: drop fields this manager applied before and no longer applies (unless someone else owns them).
    Json obj = *old;
    FieldSet previous, others;
    for (auto e : (*old)["metadata"].value("managedFields", Json::array())) {
      FieldSet fs = fieldsFromJson(e.value("fieldsV1", Json::object()));
      bool mine = e.value("manager", "") == c.manager && e.value("operation", "") == "Apply";
      (mine ? previous : others).insert(fs.begin(), fs.end());
    }
    for (const auto& p : previous)
      if (!fields.count(p) && !others.count(p)) removeAt(obj, p);
    Json body = Json::object();
    for (auto it = applied.begin(); it != applied.end(); ++it) {
      if (it.key() == "apiVersion" || it.key() == "kind") continue;
      if (it.key() == "metadata") {
        Json m = Json::object();
        for (const char* k : {"labels", "annotations", "finalizers", "ownerReferences"})
          if (it.value().contains(k)) m[k] = it.value()[k];
        body["metadata"] = m;
        continue;
      }
      if (it.key() == "status" && !statusOnly && t.type->statusSubresource) continue;
      if (statusOnly && it.key() != "status") continue;
      body[it.key()] = it.value();
    }
    deepMerge(obj, body);
    obj["metadata"].erase("resourceVersion");
    Target t2 = t;
    if (statusOnly) {
      // updateObject with sub=status copies only status from the incoming object.
    }
    return updateObject(c, t2, *old, obj, "patch", &fields);
  }

  Answer remove(Ctx& c, const Target& t) {
    Json opts2 = Json::object();
    if (!c.req->body.empty()) {
      Json b = Json::parse(c.req->body, nullptr, false);
      if (b.is_object()) opts2 = b;
    }
    std::string policy = opts2.value("propagationPolicy", c.param("propagationPolicy"));
    if (opts2.value("orphanDependents", false)) policy = "Orphan";
    Json old;
    {
      std::lock_guard<std::mutex> lk(mu);
      Json* o = find(t.type->groupResource(), keyOf(t.ns, t.name));
      if (!o) return notFound(*t.type, t.name);
      old = *o;
    }
    if (opts2.contains("preconditions") && opts2["preconditions"].is_object()) {
      const Json& p = opts2["preconditions"];
      if (p.contains("uid") && p["uid"] != old["metadata"]["uid"])
        return answer(statusBody(409, "Conflict",
                                 "Operation cannot be fulfilled on " + t.type->groupResource() + " \"" + t.name +
                                     "\": Precondition failed: UID in precondition: " + p["uid"].get<std::string>() +
                                     ", UID in object meta: " + meta(old, "uid"),
                                 grDetails(*t.type, t.name)));
      if (p.contains("resourceVersion") && p["resourceVersion"] != old["metadata"]["resourceVersion"])
        return answer(statusBody(409, "Conflict",
                                 "Operation cannot be fulfilled on " + t.type->groupResource() + " \"" + t.name +
                                     "\": Precondition failed: ResourceVersion in precondition: " +
                                     p["resourceVersion"].get<std::string>() +
                                     ", ResourceVersion in object meta: " + meta(old, "resourceVersion"),
                                 grDetails(*t.type, t.name)));
    }
    AdmissionCall ac{"DELETE", t.type, "", t.ns, t.name, old, c.user, "DeleteOptions", c.dryRun};
    if (t.type->convertsByWebhook())
      ac.prepareOld = [this, &t](Json& o) { return convertObject(*t.type, o, t.type->apiVersion()); };
    Json none;
    if (auto e = admit(ac, none, false)) return *e;
    if (c.dryRun) return Answer{200, render(*t.type, old)};
    std::lock_guard<std::mutex> lk(mu);
    std::string gr = t.type->groupResource();
    std::string key = keyOf(t.ns, t.name);
    Json* cur = find(gr, key);
    if (!cur) return notFound(*t.type, t.name);
    std::string uid = meta(*cur, "uid");
    if (policy == "Orphan") {
      for (auto& [g2, objs] : store) {
        std::vector<std::string> keys;
        for (auto& [k2, o2] : objs) {
          const Json& m = o2["metadata"];
          if (!m.contains("ownerReferences")) continue;
          for (const auto& r : m["ownerReferences"])
            if (r.value("uid", "") == uid) keys.push_back(k2);
        }
        const ResourceType* dt = typeForGr(g2);
        for (auto& k2 : keys) {
          Json o2 = objs[k2];
          Json refs = Json::array();
          for (const auto& r : o2["metadata"]["ownerReferences"])
            if (r.value("uid", "") != uid) refs.push_back(r);
          if (refs.empty())
            o2["metadata"].erase("ownerReferences");
          else
            o2["metadata"]["ownerReferences"] = refs;
          if (dt) commit(*dt, o2);
        }
      }
    }
    bool hasFinalizers = (*cur)["metadata"].contains("finalizers") && !(*cur)["metadata"]["finalizers"].empty();
    if (policy == "Foreground" && !(*cur)["metadata"].contains("deletionTimestamp")) {
      Json obj = *cur;
      if (!obj["metadata"].contains("finalizers")) obj["metadata"]["finalizers"] = Json::array();
      obj["metadata"]["finalizers"].push_back("foregroundDeletion");
      obj["metadata"]["deletionTimestamp"] = nowRfc3339();
      obj["metadata"]["deletionGracePeriodSeconds"] = 0;
      Json stored = commit(*t.type, obj);
      settle();
      Json* after = find(gr, key);
      return Answer{200, render(*t.type, after ? *after : stored)};
    }
    if (hasFinalizers || gr == "namespaces") {
      deleteOrMark(gr, key);
      Json snapshot = *find(gr, key);
      settle();
      Json* after = find(gr, key);
      return Answer{200, render(*t.type, after ? *after : snapshot)};
    }
    removeNow(gr, key);
    settle();
    Json d = Json::object();
    d["name"] = t.name;
    if (!t.type->group.empty()) d["group"] = t.type->group;
    d["kind"] = t.type->resource;
    d["uid"] = uid;
    return Answer{200, statusSuccess(d)};
  }

  Answer deleteCollection(Ctx& c, const Target& t) {
    std::string err;
    auto ls = parseLabelSelector(c.param("labelSelector"), err);
    if (!ls) return badRequest("unable to parse requirement: " + err);
    auto fs = parseFieldSelector(c.param("fieldSelector"), err);
    if (!fs) return badRequest(err);
    std::lock_guard<std::mutex> lk(mu);
    std::string gr = t.type->groupResource();
    std::vector<std::string> keys;
    Json items = Json::array();
    if (store.count(gr))
      for (auto& [key, obj] : store[gr]) {
        if (!t.ns.empty() && meta(obj, "namespace") != t.ns) continue;
        if (!matchLabels(*ls, obj["metadata"].value("labels", Json::object())) || !matchFields(*fs, obj)) continue;
        keys.push_back(key);
        items.push_back(renderItem(*t.type, obj));
      }
    for (const auto& k : keys) deleteOrMark(gr, k);
    settle();
    Json out{{"kind", t.type->listKind},
             {"apiVersion", t.type->apiVersion()},
             {"metadata", {{"resourceVersion", std::to_string(rv)}}},
             {"items", items}};
    return Answer{200, out};
  }

  Answer scale(Ctx& c, const Target& t) {
    Json old;
    {
      std::lock_guard<std::mutex> lk(mu);
      Json* o = find(t.type->groupResource(), keyOf(t.ns, t.name));
      if (!o) return notFound(*t.type, t.name);
      old = *o;
    }
    // autoscaling/v1 Scale as kube builds it: for custom resources from the CRD's specReplicasPath,
    // statusReplicasPath and labelSelectorPath; for built-ins from spec.replicas, status.replicas and the
    // selector (labels.Selector.String()).
    const ResourceType& ty = *t.type;
    auto scaleOf = [&](const Json& o) {
      Json s{{"kind", "Scale"}, {"apiVersion", "autoscaling/v1"}};
      Json m = Json::object();
      for (const char* k : {"name", "namespace", "uid", "resourceVersion", "creationTimestamp"})
        if (o["metadata"].contains(k)) m[k] = o["metadata"][k];
      s["metadata"] = m;
      const Json* spec = atPath(o, ty.custom ? ty.specReplicasPath : ".spec.replicas");
      const Json* status = atPath(o, ty.custom ? ty.statusReplicasPath : ".status.replicas");
      s["spec"] = Json{{"replicas", spec && spec->is_number_integer() ? *spec : Json(ty.custom ? 0 : 1)}};
      s["status"] = Json{{"replicas", status && status->is_number_integer() ? *status : Json(0)}};
      std::string selector;
      if (ty.custom) {
        const Json* sel = ty.labelSelectorPath.empty() ? nullptr : atPath(o, ty.labelSelectorPath);
        if (sel && sel->is_string()) selector = sel->get<std::string>();
      } else if (o.contains("spec") && o["spec"].contains("selector")) {
        const Json& sel = o["spec"]["selector"];
        if (ty.group.empty()) {  // ReplicationController: a plain map
          Json asSelector{{"matchLabels", sel}};
          selector = labelSelectorString(asSelector);
        } else {
          selector = labelSelectorString(sel);
        }
      }
      if (!selector.empty()) s["status"]["selector"] = selector;
      return typedRoundTrip("autoscaling1.Scale", s);
    };
    if (c.method == "GET") return Answer{200, scaleOf(old)};
    std::string err;
    auto parsed = parseBody(c.req->body, err);
    if (!parsed) return badRequest(err);
    Json sc = scaleOf(old);
    std::string ct = c.req->get_header_value("Content-Type");
    if (c.method == "PUT")
      sc = *parsed;
    else if (ct.find("json-patch") != std::string::npos)
      try {
        sc = applyJsonPatch(sc, *parsed);
      } catch (const LogicError&) {
        return answer(statusBody(422, "Invalid", "the server rejected our request due to an error in our request",
                                 Json::object()));
      }
    else
      sc = applyMergePatch(sc, *parsed);
    Json obj = old;
    setAtPath(obj, ty.custom ? ty.specReplicasPath : ".spec.replicas", sc.value("spec", Json::object()).value("replicas", 0));
    obj["metadata"].erase("resourceVersion");
    std::string want = meta(sc, "resourceVersion");
    if (!want.empty() && want != meta(old, "resourceVersion")) return conflict(*t.type, t.name);
    Target t2 = t;
    t2.sub = "";
    Answer a = updateObject(c, t2, old, obj, "update", nullptr);
    if (a.status == 200) a.body = scaleOf(a.body);
    return a;
  }

  // ------------------------------------------------------------------ auth and plumbing
  std::optional<User> authenticate(const httplib::Request& req) {
    std::string auth = req.get_header_value("Authorization");
    if (auth.rfind("Bearer ", 0) == 0) {
      std::string tok = auth.substr(7);
      if (tok == token) return authenticatedUser("admin", {kSystemMasters});
      if (!opts.forbiddenToken.empty() && tok == opts.forbiddenToken) return authenticatedUser("forbidden", {}, true);
      for (const auto& u : opts.users)
        if (!u.token.empty() && u.token == tok) return authenticatedUser(u.name, u.groups);
      return std::nullopt;
    }
    if (req.ssl && !opts.clientCaPem.empty()) {
      X509* peer = SSL_get1_peer_certificate(req.ssl);
      if (peer && SSL_get_verify_result(req.ssl) == X509_V_OK) {
        char cn[256] = {0};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        std::vector<std::string> organizations;
        X509_NAME* subj = X509_get_subject_name(peer);
        int idx = -1;
        while ((idx = X509_NAME_get_index_by_NID(subj, NID_organizationName, idx)) >= 0) {
          ASN1_STRING* d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, idx));
          organizations.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(d)),
                                     static_cast<size_t>(ASN1_STRING_length(d)));
        }
        User u = authenticatedUser(cn, organizations);
        // kube-apiserver records which certificate authenticated the user.
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdLen = 0;
        if (X509_digest(peer, EVP_sha256(), md, &mdLen) == 1) {
          std::string hex;
          char b[3];
          for (unsigned int i = 0; i < mdLen; ++i) {
            std::snprintf(b, sizeof b, "%02x", md[i]);
            hex += b;
          }
          u.extra["authentication.kubernetes.io/credential-id"] = {"X509SHA256=" + hex};
        }
        X509_free(peer);
        return u;
      }
      if (peer) X509_free(peer);
    }
    if (!opts.requireToken) return authenticatedUser("admin", {kSystemMasters});
    return std::nullopt;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    size_t recIdx;
    {
      std::unique_lock<std::mutex> lk(mu);
      RecordedRequest r;
      r.method = req.method;
      r.path = req.path;
      auto q = req.target.find('?');
      if (q != std::string::npos) r.query = req.target.substr(q + 1);
      r.contentType = req.get_header_value("Content-Type");
      r.userAgent = req.get_header_value("User-Agent");
      recorded.push_back(r);
      recIdx = recorded.size() - 1;
      if (delay.count() > 0) cv.wait_for(lk, delay, [&] { return stopping; });
    }
    TestApiServer::RequestHook hook;
    RecordedRequest seen;
    {
      std::lock_guard<std::mutex> lk(mu);
      hook = requestHook;
      if (hook && recIdx < recorded.size()) seen = recorded[recIdx];
    }
    if (hook) hook(seen);
    Answer a = handleInner(req, res);
    if (opts.logRequests)
      std::fprintf(stderr, "%s %s %d accept=%s ct=%s\n", req.method.c_str(), req.target.c_str(), a.status,
                   req.get_header_value("Accept").c_str(), req.get_header_value("Content-Type").c_str());
    std::lock_guard<std::mutex> lk(mu);
    if (recIdx < recorded.size()) recorded[recIdx].status = a.status < 0 ? 200 : a.status;
  }

  Answer handleInner(const httplib::Request& req, httplib::Response& res) {
    auto write = [&](Answer a) {
      if (a.status < 0) return a;
      res.status = a.status;
      for (auto& [k, v] : a.headers) res.set_header(k, v);
      if (a.body.is_string() && (a.contentType == "text/plain" || a.raw))
        res.set_content(a.body.get<std::string>(), a.contentType.c_str());
      else
        res.set_content(a.body.dump(), a.contentType.c_str());
      return a;
    };
    {
      std::lock_guard<std::mutex> lk(mu);
      if (failCount > 0) {
        failCount--;
        int code = failStatus;
        std::string reason = statusReasonFor(code);
        std::string msg = code == 429 ? "Too many requests, please try again later."
                          : code == 500 ? "Internal error occurred: injected fault"
                                        : "injected fault";
        Json details = Json();
        if (code == 500) details = Json{{"causes", Json::array({Json{{"message", "injected fault"}}})}};
        if (failRetry > 0) {
          if (!details.is_object()) details = Json::object();
          details["retryAfterSeconds"] = failRetry;
        }
        Answer a = answer(statusBody(code, reason, msg, details));
        if (failRetry > 0) a.headers.push_back({"Retry-After", std::to_string(failRetry)});
        return write(a);
      }
    }
    auto user = authenticate(req);
    if (!user) return write(answer(statusBody(401, "Unauthorized", "Unauthorized")));
    if (auto refusal = impersonate(*user, req)) return write(*refusal);
    if (auto refusal = authorizeRequest(*user, req)) return write(*refusal);
    if (req.get_header_value("Content-Type").rfind("application/vnd.kubernetes.protobuf", 0) == 0)
      return write(answer(statusBody(415, "UnsupportedMediaType",
                                     "the body of the request was in an unknown format - accepted media types include: "
                                     "application/json, application/yaml (the test API server speaks no protobuf)",
                                     Json::object())));
    Ctx c;
    c.method = req.method;
    c.path = req.path;
    c.req = &req;
    c.user = *user;
    c.dryRun = req.has_param("dryRun");
    c.manager = req.has_param("fieldManager") ? req.get_param_value("fieldManager") : "";
    if (c.manager.empty()) {
      std::string ua = req.get_header_value("User-Agent");
      c.manager = ua.substr(0, ua.find('/'));
      if (c.manager.empty()) c.manager = "unknown";
    }
    try {
      Answer a = dispatch(c, res);
      for (const auto& w : c.warnings) a.headers.push_back({"Warning", warningHeader(w)});
      return write(a);
    } catch (const std::exception& e) {
      return write(answer(statusBody(500, "InternalError", std::string("Internal error occurred: ") + e.what())));
    }
  }
};

// ====================================================================== public API

TestApiServer::TestApiServer(TestApiServerOptions options) : impl_(std::make_unique<Impl>()) {
  Impl& d = *impl_;
  d.opts = std::move(options);
  d.token = d.opts.token.empty() ? "test-" + randomSuffix(24) : d.opts.token;
  d.ca = generateCa("otel-test-apiserver-ca");
  d.serving = generateCert(d.ca, "otel-test-apiserver", {"127.0.0.1", "localhost"});
  d.types = builtinResourceTypes();
  std::string certPem = d.serving.certPem, keyPem = d.serving.keyPem, clientCa = d.opts.clientCaPem;
  d.server = std::make_unique<httplib::SSLServer>([certPem, keyPem, clientCa](SSL_CTX& ctx) {
    BIO* cb = BIO_new_mem_buf(certPem.data(), static_cast<int>(certPem.size()));
    X509* cert = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
    BIO_free(cb);
    BIO* kb = BIO_new_mem_buf(keyPem.data(), static_cast<int>(keyPem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
    BIO_free(kb);
    bool ok = cert && key && SSL_CTX_use_certificate(&ctx, cert) == 1 && SSL_CTX_use_PrivateKey(&ctx, key) == 1;
    if (cert) X509_free(cert);
    if (key) EVP_PKEY_free(key);
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    if (!clientCa.empty()) {
      SSL_CTX_set_cert_store(&ctx, storeFromPem(clientCa));
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    }
    return ok;
  });
  if (!d.server->is_valid()) throw otel::Error("cannot set up the TLS server", "tests/support/api_server");
  d.server->new_task_queue = [] { return new httplib::ThreadPool(64); };
  d.server->set_keep_alive_timeout(1);
  d.server->set_tcp_nodelay(true);  // as Go's net/http: no Nagle delay between a response's header and body
  d.server->set_read_timeout(5);
  d.server->set_payload_max_length(64 * 1024 * 1024);
  auto h = [&d](const httplib::Request& req, httplib::Response& res) { d.handle(req, res); };
  d.server->Get(".*", h);
  d.server->Post(".*", h);
  d.server->Put(".*", h);
  d.server->Patch(".*", h);
  d.server->Delete(".*", h);
  if (d.opts.port > 0) {
    if (!d.server->bind_to_port("127.0.0.1", d.opts.port))
      throw otel::Error("cannot bind 127.0.0.1:" + std::to_string(d.opts.port), "tests/support/api_server");
    d.port = d.opts.port;
  } else {
    d.port = d.server->bind_to_any_port("127.0.0.1");
    if (d.port <= 0) throw otel::Error("cannot bind 127.0.0.1", "tests/support/api_server");
  }
  // Namespaces present in every cluster.
  std::vector<std::string> nss = d.opts.namespaces;
  if (nss.empty()) nss = {"default", "kube-system", "kube-public"};
  {
    std::lock_guard<std::mutex> lk(d.mu);
    const ResourceType* nt = d.findType("", "v1", "namespaces");
    for (const auto& n : nss) {
      Json ns{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", n}}}};
      d.finishCreate(*nt, ns, false);
      d.commit(*nt, ns);
    }
    // The bootstrap RBAC policy, as kube-apiserver's RBAC post-start hook writes it.
    std::vector<Json> policy = bootstrapClusterRoles();
    for (auto& b : bootstrapClusterRoleBindings()) policy.push_back(std::move(b));
    for (auto& obj : policy) {
      const ResourceType* t = d.findKind(obj["apiVersion"].get<std::string>(), obj["kind"].get<std::string>());
      obj["metadata"]["uid"] = newUid();
      obj["metadata"]["creationTimestamp"] = nowRfc3339();
      d.commit(*t, obj);
    }
  }
  d.thread = std::thread([&d] { d.server->listen_after_bind(); });
  for (int i = 0; i < 500 && !d.server->is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

TestApiServer::~TestApiServer() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string TestApiServer::url() const { return "https://127.0.0.1:" + std::to_string(impl_->port); }
int TestApiServer::port() const { return impl_->port; }
std::string TestApiServer::caPem() const { return impl_->ca.certPem; }
std::string TestApiServer::token() const { return impl_->token; }

std::string TestApiServer::kubeconfigYaml(const std::string& ns) const { return kubeconfigYaml(ns, impl_->token); }

std::string TestApiServer::kubeconfigYaml(const std::string& ns, const std::string& token) const {
  std::string user = "test";
  if (token != impl_->token)
    for (const auto& u : impl_->opts.users)
      if (u.token == token && !u.name.empty()) user = u.name;
  user = yamlScalar(user);
  std::string y;
  y += "apiVersion: v1\nkind: Config\n";
  y += "clusters:\n- name: test\n  cluster:\n    server: " + url() + "\n    certificate-authority-data: " +
       base64Std(impl_->ca.certPem) + "\n";
  y += "users:\n- name: " + user + "\n  user:\n    token: " + yamlScalar(token) + "\n";
  y += "contexts:\n- name: test\n  context:\n    cluster: test\n    user: " + user + "\n    namespace: " +
       yamlScalar(ns) + "\n";
  y += "current-context: test\npreferences: {}\n";
  return y;
}

void TestApiServer::writeKubeconfig(const std::string& path, const std::string& ns) const {
  writeKubeconfig(path, ns, impl_->token);
}

void TestApiServer::writeKubeconfig(const std::string& path, const std::string& ns, const std::string& token) const {
  std::ofstream f(path, std::ios::trunc);
  if (!f) throw otel::Error("cannot write kubeconfig", path);
  f << kubeconfigYaml(ns, token);
  if (!f) throw otel::Error("cannot write kubeconfig", path);
}

namespace {
std::pair<std::string, std::string> splitApiVersion(const std::string& apiVersion) {
  auto slash = apiVersion.find('/');
  if (slash == std::string::npos) return {"", apiVersion};
  return {apiVersion.substr(0, slash), apiVersion.substr(slash + 1)};
}
}  // namespace

Json TestApiServer::getObject(const std::string& apiVersion, const std::string& resource, const std::string& ns,
                              const std::string& name) const {
  auto [g, v] = splitApiVersion(apiVersion);
  std::lock_guard<std::mutex> lk(impl_->mu);
  const ResourceType* t = impl_->findType(g, v, resource);
  if (!t) return nullptr;
  Json* o = impl_->find(t->groupResource(), keyOf(t->namespaced ? ns : "", name));
  return o ? impl_->render(*t, *o) : Json();
}

Json TestApiServer::putObject(const Json& object) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  std::string apiVersion = object.value("apiVersion", ""), kind = object.value("kind", "");
  const ResourceType* t = impl_->findKind(apiVersion, kind);
  if (!t) throw otel::Error("putObject: unknown kind " + apiVersion + " " + kind, "tests/support/api_server");
  if (t->review) throw otel::Error("putObject: " + kind + " is never stored", "tests/support/api_server");
  Json obj = object;
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = Json::object();
  if (!t->namespaced) obj["metadata"].erase("namespace");
  if (t->namespaced && meta(obj, "namespace").empty()) obj["metadata"]["namespace"] = "default";
  std::string key = keyOf(meta(obj, "namespace"), meta(obj, "name"));
  if (meta(obj, "name").empty()) throw otel::Error("putObject: metadata.name is required", "tests/support/api_server");
  Json* old = impl_->find(t->groupResource(), key);
  if (old) {
    for (const char* k : {"uid", "creationTimestamp"})
      if (!obj["metadata"].contains(k) && (*old)["metadata"].contains(k)) obj["metadata"][k] = (*old)["metadata"][k];
  } else {
    if (!obj["metadata"].contains("uid")) obj["metadata"]["uid"] = newUid();
    if (!obj["metadata"].contains("creationTimestamp")) obj["metadata"]["creationTimestamp"] = nowRfc3339();
    if (t->hasGeneration && !obj["metadata"].contains("generation")) obj["metadata"]["generation"] = 1;
  }
  // Seeded objects are what the API server would have stored: decoded, defaulted, a Service with its
  // addresses (docs/testing.md); the status stays as given (plus its zero-valued fields).
  const std::string tn = Impl::builtinType(*t);
  if (!tn.empty()) {
    obj = Impl::canonical(tn, obj, nullptr);
    if (old) {
      prepareBuiltinUpdate(tn, *old, obj);
    } else {
      if (tn == "apps.DaemonSet" && !(obj["metadata"].contains("annotations") &&
                                      obj["metadata"]["annotations"].contains("deprecated.daemonset.template.generation")))
        obj["metadata"]["annotations"]["deprecated.daemonset.template.generation"] = "1";
      if (tn == "core.Service")
        if (auto e = impl_->allocateServiceAddresses(obj, false))
          throw otel::Error("putObject: " + e->body.value("message", ""), "tests/support/api_server");
    }
    obj = Impl::canonical(tn, obj, nullptr);
  }
  if (t->resource == "customresourcedefinitions") {
    Impl::defaultCrd(obj);
    Impl::establishCrd(obj);
  }
  Json stored = impl_->commit(*t, obj);
  impl_->settle();
  return impl_->render(*t, stored);
}

bool TestApiServer::deleteObject(const std::string& apiVersion, const std::string& resource, const std::string& ns,
                                 const std::string& name) {
  auto [g, v] = splitApiVersion(apiVersion);
  std::lock_guard<std::mutex> lk(impl_->mu);
  const ResourceType* t = impl_->findType(g, v, resource);
  if (!t) return false;
  std::string key = keyOf(t->namespaced ? ns : "", name);
  if (!impl_->find(t->groupResource(), key)) return false;
  impl_->removeNow(t->groupResource(), key);
  return true;
}

std::vector<Json> TestApiServer::listObjects(const std::string& apiVersion, const std::string& resource,
                                             const std::string& ns) const {
  auto [g, v] = splitApiVersion(apiVersion);
  std::lock_guard<std::mutex> lk(impl_->mu);
  std::vector<Json> out;
  const ResourceType* t = impl_->findType(g, v, resource);
  if (!t) return out;
  auto it = impl_->store.find(t->groupResource());
  if (it == impl_->store.end()) return out;
  for (const auto& [key, obj] : it->second)
    if (ns.empty() || meta(obj, "namespace") == ns) out.push_back(impl_->render(*t, obj));
  return out;
}

std::int64_t TestApiServer::resourceVersion() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->rv;
}

void TestApiServer::closeWatches() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->closeGen++;
  impl_->cv.notify_all();
}

void TestApiServer::forgetHistory() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->log.clear();
  impl_->historyStart = impl_->rv;
  impl_->cv.notify_all();
}

void TestApiServer::failNext(int n, int status, int retryAfterSeconds) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->failCount = n;
  impl_->failStatus = status;
  impl_->failRetry = retryAfterSeconds;
}

void TestApiServer::setRequestHook(RequestHook hook) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->requestHook = std::move(hook);
}

void TestApiServer::setDelay(std::chrono::milliseconds delay) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->delay = delay;
}

void TestApiServer::setPodLog(const std::string& ns, const std::string& pod, const std::string& container,
                              const std::string& text) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->podLogs[ns + "/" + pod + "/" + container] = text;
}

void TestApiServer::setServiceResolver(ServiceResolver resolver) {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->resolver = std::move(resolver);
}

std::vector<RecordedRequest> TestApiServer::requests() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->recorded;
}

void TestApiServer::clearRequests() {
  std::lock_guard<std::mutex> lk(impl_->mu);
  impl_->recorded.clear();
}

int TestApiServer::requestCount(const std::string& method, const std::string& pathPrefix) const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  int n = 0;
  for (const auto& r : impl_->recorded)
    if ((method.empty() || r.method == method) && r.path.rfind(pathPrefix, 0) == 0) n++;
  return n;
}

int TestApiServer::activeWatches() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->activeWatches;
}

int TestApiServer::watchesStarted() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->watchesStarted;
}

int TestApiServer::conversionWebhookCalls() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->conversionCalls;
}

int TestApiServer::webhookCalls() const {
  std::lock_guard<std::mutex> lk(impl_->mu);
  return impl_->webhookCalls;
}

bool TestApiServer::waitForWatches(int n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lk(impl_->mu);
  return impl_->cv.wait_for(lk, timeout, [&] { return impl_->activeWatches >= n; });
}

}  // namespace otel::testing
