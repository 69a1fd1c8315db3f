#include "lib/kube/kubeconfig.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "lib/core/error.h"
#include "lib/core/files.h"
#include "lib/core/hash.h"
#include "lib/core/version.h"
#include "lib/core/yaml.h"

namespace otel::kube {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> envOf(const LoadOptions& o, const std::string& name) {
  if (o.getenv) return o.getenv(name);
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

bool fileExists(const std::string& p) {
  struct stat st{};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string dirOf(const std::string& file) {
  auto p = fs::path(file).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

// Relative paths in a kubeconfig resolve against the folder of the file they appear in.
std::string resolvePath(const std::string& path, const std::string& file) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  if (path[0] == '~') {
    if (const char* h = std::getenv("HOME")) return std::string(h) + path.substr(1);
  }
  return (fs::path(dirOf(file)) / path).lexically_normal().string();
}

std::string str(const Json& obj, const char* key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

bool flag(const Json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::string decodeData(const Json& obj, const char* key, const KubeconfigEntry& e, const std::string& kind,
                       const std::string& name) {
  std::string v = str(obj, key);
  if (v.empty()) return {};
  try {
    return otel::base64Decode(v);
  } catch (const otel::Error&) {
    throw otel::Error(kind + "s[\"" + name + "\"]." + key + ": invalid base64 data", e.file,
                      "the *-data fields hold base64 of the PEM text");
  }
}

void parseSection(const Json& root, const char* section, const char* inner, const std::string& file,
                  std::map<std::string, KubeconfigEntry>& out) {
  auto it = root.find(section);
  if (it == root.end() || it->is_null()) return;
  if (!it->is_array()) throw otel::Error(std::string(section) + ": expected a list", file);
  int i = 0;
  for (const auto& item : *it) {
    std::string where = std::string(section) + "[" + std::to_string(i) + "]";
    if (!item.is_object()) throw otel::Error(where + ": expected an object with name and " + inner, file);
    auto n = item.find("name");
    if (n == item.end() || !n->is_string() || n->get<std::string>().empty())
      throw otel::Error(where + ".name: missing or not a string", file);
    Json value = item.contains(inner) ? item[inner] : Json::object();
    if (value.is_null()) value = Json::object();
    if (!value.is_object()) throw otel::Error(where + "." + inner + ": expected an object", file);
    // Within one file the first entry of a name wins as well.
    out.emplace(n->get<std::string>(), KubeconfigEntry{value, file, i});
    ++i;
  }
}

}  // namespace

Kubeconfig parseKubeconfig(const std::string& text, const std::string& file) {
  Json root = otel::parseYaml(text, file);
  Kubeconfig kc;
  kc.files.push_back(file);
  if (root.is_null()) return kc;
  if (!root.is_object()) throw otel::Error("not a kubeconfig: expected a mapping at the top level", file);
  auto cc = root.find("current-context");
  if (cc != root.end() && !cc->is_null()) {
    if (!cc->is_string()) throw otel::Error("current-context: expected a string", file);
    kc.currentContext = cc->get<std::string>();
  }
  parseSection(root, "clusters", "cluster", file, kc.clusters);
  parseSection(root, "users", "user", file, kc.users);
  parseSection(root, "contexts", "context", file, kc.contexts);
  return kc;
}

void mergeKubeconfig(Kubeconfig& into, const Kubeconfig& next) {
  for (auto& f : next.files) into.files.push_back(f);
  if (into.currentContext.empty()) into.currentContext = next.currentContext;
  for (auto& [k, v] : next.clusters) into.clusters.emplace(k, v);
  for (auto& [k, v] : next.users) into.users.emplace(k, v);
  for (auto& [k, v] : next.contexts) into.contexts.emplace(k, v);
}

Kubeconfig loadKubeconfig(const LoadOptions& o) {
  Kubeconfig merged;
  if (!o.kubeconfig.empty()) {
    if (!fileExists(o.kubeconfig))
      throw otel::Error("stat " + o.kubeconfig + ": no such file or directory", "--kubeconfig");
    return parseKubeconfig(otel::readFile(o.kubeconfig), o.kubeconfig);
  }
  std::vector<std::string> files;
  auto env = envOf(o, "KUBECONFIG");
  if (env && !env->empty()) {
    std::set<std::string> seen;
    std::size_t start = 0;
    while (start <= env->size()) {
      auto end = env->find(':', start);
      if (end == std::string::npos) end = env->size();
      std::string p = env->substr(start, end - start);
      if (!p.empty() && seen.insert(p).second) files.push_back(p);
      start = end + 1;
    }
  } else if (auto home = envOf(o, "HOME"); home && !home->empty()) {
    files.push_back(*home + "/.kube/config");
  }
  for (auto& f : files) {
    if (!fileExists(f)) continue;  // missing entries are skipped, as kubectl does
    mergeKubeconfig(merged, parseKubeconfig(otel::readFile(f), f));
  }
  return merged;
}

RestConfig resolveRestConfig(const Kubeconfig& kc, const LoadOptions& o) {
  RestConfig rc;
  rc.userAgent = otel::userAgent();
  std::string ctxName = o.context.empty() ? kc.currentContext : o.context;
  const std::string source = kc.files.empty() ? std::string("kubeconfig") : kc.files.front();
  Json ctx = Json::object();
  if (!o.context.empty()) {
    auto it = kc.contexts.find(o.context);
    if (it == kc.contexts.end()) throw otel::Error("context \"" + o.context + "\" does not exist", "--context");
    ctx = it->second.value;
  } else if (!ctxName.empty()) {
    auto it = kc.contexts.find(ctxName);
    if (it == kc.contexts.end())
      throw otel::Error("context was not found for specified context: " + ctxName, source,
                        "fix current-context or pass --context");
    ctx = it->second.value;
  }
  rc.contextName = ctxName;
  std::string clusterName = o.cluster.empty() ? str(ctx, "cluster") : o.cluster;
  std::string userName = o.user.empty() ? str(ctx, "user") : o.user;
  rc.clusterName = clusterName;
  rc.userName = userName;

  // ---- cluster
  if (clusterName.empty())
    throw otel::Error("no cluster selected: the kubeconfig has no current context", source,
                      "pass --context or set current-context (kubectl config use-context)");
  auto cit = kc.clusters.find(clusterName);
  if (cit == kc.clusters.end()) {
    if (!o.cluster.empty()) throw otel::Error("cluster \"" + clusterName + "\" does not exist", "--cluster");
    throw otel::Error("cluster \"" + clusterName + "\" does not exist (named by context \"" + ctxName + "\")", source);
  }
  const KubeconfigEntry& ce = cit->second;
  const Json& cl = ce.value;
  rc.server = str(cl, "server");
  if (rc.server.empty())
    throw otel::Error("clusters[\"" + clusterName + "\"].server: missing", ce.file, "set the API server URL");
  while (rc.server.size() > 1 && rc.server.back() == '/') rc.server.pop_back();
  if (rc.server.find("://") == std::string::npos) rc.server = "https://" + rc.server;
  rc.caPem = decodeData(cl, "certificate-authority-data", ce, "cluster", clusterName);
  std::string caFile = resolvePath(str(cl, "certificate-authority"), ce.file);
  if (rc.caPem.empty() && !caFile.empty()) rc.caPem = otel::readFile(caFile);
  rc.insecureSkipTlsVerify = flag(cl, "insecure-skip-tls-verify");
  if (rc.insecureSkipTlsVerify && (!rc.caPem.empty() || !caFile.empty()))
    throw otel::Error("specifying a root certificates file with the insecure flag is not allowed",
                      ce.file + ": clusters[\"" + clusterName + "\"]",
                      "remove insecure-skip-tls-verify or the certificate authority");
  rc.tlsServerName = str(cl, "tls-server-name");
  rc.proxyUrl = str(cl, "proxy-url");
  if (!rc.proxyUrl.empty()) {
    auto scheme = rc.proxyUrl.substr(0, rc.proxyUrl.find("://"));
    if (rc.proxyUrl.find("://") == std::string::npos ||
        (scheme != "http" && scheme != "https" && scheme != "socks5"))
      throw otel::Error("clusters[\"" + clusterName + "\"].proxy-url: unsupported scheme \"" + scheme +
                            "\" (http, https and socks5 are supported)",
                        ce.file);
  }

  // ---- user
  Json us = Json::object();
  KubeconfigEntry ue{Json::object(), source, 0};
  if (!userName.empty()) {
    auto uit = kc.users.find(userName);
    if (uit == kc.users.end()) {
      if (!o.user.empty()) throw otel::Error("user \"" + userName + "\" does not exist", "--user");
      // client-go tolerates a missing user (anonymous); so do we.
    } else {
      ue = uit->second;
      us = ue.value;
    }
  }
  const std::string uwhere = ue.file;
  Credentials creds;
  creds.token = str(us, "token");
  std::string tokenFile = resolvePath(str(us, "tokenFile"), ue.file);
  creds.clientCertPem = decodeData(us, "client-certificate-data", ue, "user", userName);
  if (creds.clientCertPem.empty()) {
    std::string f = resolvePath(str(us, "client-certificate"), ue.file);
    if (!f.empty()) creds.clientCertPem = otel::readFile(f);
  }
  creds.clientKeyPem = decodeData(us, "client-key-data", ue, "user", userName);
  if (creds.clientKeyPem.empty()) {
    std::string f = resolvePath(str(us, "client-key"), ue.file);
    if (!f.empty()) creds.clientKeyPem = otel::readFile(f);
  }
  if (!creds.clientCertPem.empty() && creds.clientKeyPem.empty())
    throw otel::Error("client-key-data or client-key must be specified for " + userName +
                          " to use the clientCert authentication method.",
                      uwhere);
  if (creds.clientCertPem.empty() && !creds.clientKeyPem.empty())
    throw otel::Error("client-certificate-data or client-certificate must be specified for " + userName +
                          " to use the clientCert authentication method.",
                      uwhere);
  rc.username = str(us, "username");
  rc.password = str(us, "password");
  std::vector<std::string> methods;
  if (!creds.token.empty() || !tokenFile.empty()) methods.push_back("token");
  if (!rc.username.empty() || !rc.password.empty()) methods.push_back("basicAuth");
  if (methods.size() > 1)
    throw otel::Error("more than one authentication method found for " + userName + "; found [token basicAuth], only one is allowed",
                      uwhere);
  rc.impersonateUser = str(us, "as");
  rc.impersonateUid = str(us, "as-uid");
  if (us.contains("as-groups") && us["as-groups"].is_array())
    for (auto& g : us["as-groups"])
      if (g.is_string()) rc.impersonateGroups.push_back(g.get<std::string>());

  bool hasExec = us.contains("exec") && us["exec"].is_object();
  bool hasAuthProvider = us.contains("auth-provider") && us["auth-provider"].is_object();
  if (hasExec && hasAuthProvider)
    throw otel::Error("authProvider cannot be provided in combination with an exec plugin", uwhere);
  if (hasAuthProvider) {
    const Json& ap = us["auth-provider"];
    std::string name = str(ap, "name");
    if (name == "gcp")
      throw otel::Error("The gcp auth plugin has been removed. Please use the \"gke-gcloud-auth-plugin\" kubectl/client-go "
                        "credential plugin instead.",
                        uwhere);
    if (name == "azure")
      throw otel::Error("The azure auth plugin has been removed. Please use the \"kubelogin\" kubectl/client-go "
                        "credential plugin instead.",
                        uwhere);
    if (name == "oidc") {
      std::string idToken = ap.contains("config") ? str(ap["config"], "id-token") : std::string();
      if (idToken.empty())
        throw otel::Error("auth-provider oidc: no id-token in users[\"" + userName + "\"]", uwhere,
                          "log in again with your OIDC helper (kubectl oidc-login) or use an exec plugin");
      if (creds.token.empty()) creds.token = idToken;
    } else {
      throw otel::Error("auth-provider \"" + name + "\" is not supported", uwhere, "use an exec credential plugin");
    }
  }

  if (hasExec) {
    const Json& ex = us["exec"];
    ExecConfig ec;
    ec.userName = userName;
    ec.apiVersion = str(ex, "apiVersion");
    if (ec.apiVersion != "client.authentication.k8s.io/v1" && ec.apiVersion != "client.authentication.k8s.io/v1beta1")
      throw otel::Error("users[\"" + userName + "\"].exec.apiVersion: \"" + ec.apiVersion +
                            "\" is not supported (client.authentication.k8s.io/v1 or v1beta1)",
                        uwhere);
    std::string command = str(ex, "command");
    if (command.empty()) throw otel::Error("users[\"" + userName + "\"].exec.command: missing", uwhere);
    // A command with a path separator is relative to the kubeconfig's folder; a bare name uses PATH.
    ec.command = command.find('/') != std::string::npos ? resolvePath(command, ue.file) : command;
    if (ex.contains("args") && ex["args"].is_array())
      for (auto& a : ex["args"]) ec.args.push_back(a.is_string() ? a.get<std::string>() : a.dump());
    if (ex.contains("env") && ex["env"].is_array())
      for (auto& e : ex["env"]) ec.env.emplace_back(str(e, "name"), str(e, "value"));
    ec.installHint = str(ex, "installHint");
    ec.interactiveMode = str(ex, "interactiveMode");
    if (ec.interactiveMode.empty()) {
      if (ec.apiVersion == "client.authentication.k8s.io/v1")
        throw otel::Error("interactiveMode must be specified for " + userName + " to use exec authentication plugin",
                          uwhere);
      ec.interactiveMode = "IfAvailable";
    }
    if (ec.interactiveMode != "Never" && ec.interactiveMode != "IfAvailable" && ec.interactiveMode != "Always")
      throw otel::Error("exec plugin cannot support interactiveMode \"" + ec.interactiveMode + "\"", uwhere);
    ec.provideClusterInfo = flag(ex, "provideClusterInfo");
    if (ec.provideClusterInfo) {
      Json c = {{"server", rc.server}};
      if (!rc.tlsServerName.empty()) c["tls-server-name"] = rc.tlsServerName;
      if (rc.insecureSkipTlsVerify) c["insecure-skip-tls-verify"] = true;
      if (!rc.caPem.empty()) c["certificate-authority-data"] = otel::base64Encode(rc.caPem);
      if (!rc.proxyUrl.empty()) c["proxy-url"] = rc.proxyUrl;
      if (flag(cl, "disable-compression")) c["disable-compression"] = true;
      if (cl.contains("extensions") && cl["extensions"].is_array())
        for (auto& e : cl["extensions"])
          if (str(e, "name") == "client.authentication.k8s.io/exec" && e.contains("extension"))
            c["config"] = e["extension"];
      ec.cluster = c;
    }
    ec.stdinUnavailable = o.stdinUnavailable;
    rc.credentials = std::make_shared<ExecCredentials>(std::move(ec));
  } else if (creds.token.empty() && !tokenFile.empty()) {
    Credentials base = creds;
    rc.credentials = std::make_shared<TokenFileCredentials>(tokenFile, o.tokenFileRefresh, base);
    rc.credentials->get();  // read now so a missing file is reported at load time
  } else if (!creds.token.empty() || !creds.clientCertPem.empty()) {
    rc.credentials = std::make_shared<StaticCredentials>(creds);
  }

  // ---- namespace
  if (!o.ns.empty()) {
    rc.ns = o.ns;
    rc.nsExplicit = true;
  } else if (std::string n = str(ctx, "namespace"); !n.empty()) {
    rc.ns = n;
  } else {
    rc.ns = "default";
  }
  return rc;
}

bool inClusterAvailable(const LoadOptions& o) {
  auto h = envOf(o, "KUBERNETES_SERVICE_HOST");
  auto p = envOf(o, "KUBERNETES_SERVICE_PORT");
  return h && !h->empty() && p && !p->empty();
}

RestConfig inClusterRestConfig(const LoadOptions& o) {
  if (!inClusterAvailable(o))
    throw otel::Error("unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined");
  std::string host = *envOf(o, "KUBERNETES_SERVICE_HOST");
  std::string port = *envOf(o, "KUBERNETES_SERVICE_PORT");
  if (host.find(':') != std::string::npos && host.front() != '[') host = "[" + host + "]";
  RestConfig rc;
  rc.userAgent = otel::userAgent();
  rc.inCluster = true;
  rc.contextName = "in-cluster";
  rc.server = "https://" + host + ":" + port;
  std::string tokenPath = o.inClusterRoot + "/token";
  if (!fileExists(tokenPath))
    throw otel::Error("open " + tokenPath + ": no such file or directory", "in-cluster configuration",
                      "mount the service account token (automountServiceAccountToken)");
  auto provider = std::make_shared<TokenFileCredentials>(tokenPath, o.tokenFileRefresh);
  provider->get();
  rc.credentials = provider;
  std::string caPath = o.inClusterRoot + "/ca.crt";
  if (fileExists(caPath)) rc.caPem = otel::readFile(caPath);
  if (!o.ns.empty()) {
    rc.ns = o.ns;
    rc.nsExplicit = true;
  } else if (auto pn = envOf(o, "POD_NAMESPACE"); pn && !pn->empty()) {
    rc.ns = *pn;
  } else if (std::string nsPath = o.inClusterRoot + "/namespace"; fileExists(nsPath)) {
    std::string n = otel::readFile(nsPath);
    while (!n.empty() && (n.back() == '\n' || n.back() == ' ' || n.back() == '\r')) n.pop_back();
    rc.ns = n.empty() ? "default" : n;
  }
  return rc;
}

RestConfig loadRestConfig(const LoadOptions& o) {
  if (!o.kubeconfig.empty()) return resolveRestConfig(loadKubeconfig(o), o);
  Kubeconfig kc = loadKubeconfig(o);
  // An empty merged kubeconfig falls back to the in-cluster service account (client-go's deferred loader).
  if (kc.empty() && inClusterAvailable(o)) return inClusterRestConfig(o);
  if (kc.empty()) {
    if (!o.context.empty()) throw otel::Error("context \"" + o.context + "\" does not exist", "--context");
    throw otel::Error("no configuration has been provided: no kubeconfig found (KUBECONFIG, ~/.kube/config) and not running in a cluster",
                      "", "pass --kubeconfig or set KUBECONFIG");
  }
  return resolveRestConfig(kc, o);
}

}  // namespace otel::kube
