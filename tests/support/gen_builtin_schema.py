#!/usr/bin/env python3
"""Generates tests/support/builtin_schema_data.cpp from k8s.io/api (one release branch): for every struct
reachable from the built-in kinds the test API server serves, its JSON fields in declaration order with their
types and whether they are omitempty. Usage: tests/support/gen_builtin_schema.py <k8s.io/api git dir> <branch> > out.cpp"""
import re, subprocess, sys

repo, branch = sys.argv[1], sys.argv[2]
PKGS = {  # package dir -> our prefix
    "core/v1": "core", "apps/v1": "apps", "batch/v1": "batch", "autoscaling/v2": "autoscaling2",
    "autoscaling/v1": "autoscaling1", "policy/v1": "policy", "networking/v1": "networking", "rbac/v1": "rbac",
    "coordination/v1": "coordination", "discovery/v1": "discovery", "admissionregistration/v1": "admission",
    "events/v1": "events",
}
ROOTS = [
    "core.ConfigMap", "core.Endpoints", "core.Event", "core.LimitRange", "core.Namespace", "core.Node",
    "core.PersistentVolumeClaim", "core.PersistentVolume", "core.Pod", "core.PodTemplate",
    "core.ReplicationController", "core.ResourceQuota", "core.Secret", "core.ServiceAccount", "core.Service",
    "apps.ControllerRevision", "apps.DaemonSet", "apps.Deployment", "apps.ReplicaSet", "apps.StatefulSet",
    "batch.CronJob", "batch.Job", "coordination.Lease", "policy.PodDisruptionBudget",
    "autoscaling2.HorizontalPodAutoscaler", "autoscaling1.Scale", "rbac.ClusterRoleBinding", "rbac.ClusterRole",
    "rbac.RoleBinding", "rbac.Role", "admission.MutatingWebhookConfiguration",
    "admission.ValidatingWebhookConfiguration", "networking.IngressClass", "networking.Ingress",
    "networking.NetworkPolicy", "discovery.EndpointSlice",
]
# apimachinery types, by hand (k8s.io/apimachinery/pkg/apis/meta/v1/types.go).
META = {
    "meta.TypeMeta": [("kind", "string", True), ("apiVersion", "string", True)],
    "meta.ObjectMeta": [("name", "string", True), ("generateName", "string", True), ("namespace", "string", True),
                        ("selfLink", "string", True), ("uid", "string", True), ("resourceVersion", "string", True),
                        ("generation", "int", True), ("creationTimestamp", "time", True),
                        ("deletionTimestamp", "*time", True), ("deletionGracePeriodSeconds", "*int", True),
                        ("labels", "{}string", True), ("annotations", "{}string", True),
                        ("ownerReferences", "[]meta.OwnerReference", True), ("finalizers", "[]string", True),
                        ("managedFields", "[]meta.ManagedFieldsEntry", True)],
    "meta.ListMeta": [("selfLink", "string", True), ("resourceVersion", "string", True), ("continue", "string", True),
                      ("remainingItemCount", "*int", True)],
    "meta.OwnerReference": [("apiVersion", "string", False), ("kind", "string", False), ("name", "string", False),
                            ("uid", "string", False), ("controller", "*bool", True),
                            ("blockOwnerDeletion", "*bool", True)],
    "meta.ManagedFieldsEntry": [("manager", "string", True), ("operation", "string", True),
                                ("apiVersion", "string", True), ("time", "*time", True),
                                ("fieldsType", "string", True), ("fieldsV1", "*raw", True),
                                ("subresource", "string", True)],
    "meta.LabelSelector": [("matchLabels", "{}string", True),
                           ("matchExpressions", "[]meta.LabelSelectorRequirement", True)],
    "meta.LabelSelectorRequirement": [("key", "string", False), ("operator", "string", False),
                                      ("values", "[]string", True)],
    "meta.Condition": [("type", "string", False), ("status", "string", False),
                       ("observedGeneration", "int", True), ("lastTransitionTime", "time", False),
                       ("reason", "string", False), ("message", "string", False)],
}
SPECIAL = {  # qualified Go type -> primitive
    "metav1.Time": "time", "metav1.MicroTime": "time", "metav1.Duration": "string", "resource.Quantity": "quantity",
    "intstr.IntOrString": "intorstr", "runtime.RawExtension": "raw", "types.UID": "string",
    "metav1.FieldsV1": "raw", "metav1.TypeMeta": "meta.TypeMeta", "metav1.ObjectMeta": "meta.ObjectMeta",
    "metav1.ListMeta": "meta.ListMeta", "metav1.LabelSelector": "meta.LabelSelector",
    "metav1.LabelSelectorRequirement": "meta.LabelSelectorRequirement", "metav1.Condition": "meta.Condition",
    "metav1.OwnerReference": "meta.OwnerReference",
}
PRIM = {"string": "string", "bool": "bool", "int": "int", "int32": "int", "int64": "int", "uint32": "int",
        "uint64": "int", "float64": "float", "float32": "float", "byte": "int"}

structs = {}   # qualified name -> list of (json, type, omitempty) ; inline entries have json None
aliases = {}   # qualified name -> type expression (already resolved)

def show(path):
    return subprocess.run(["git", "-C", repo, "show", f"{branch}:{path}"], check=True, capture_output=True,
                          text=True).stdout

def parse_pkg(d, prefix):
    src = show(d + "/types.go")
    imports = {}
    for m in re.finditer(r'^\s*(\w+)?\s*"([^"]+)"', src.split("\n)\n")[0], re.M):
        alias, path = m.group(1), m.group(2)
        imports[alias or path.split("/")[-1]] = path
    def resolve(t):
        t = t.strip()
        if t.startswith("*"): return "*" + resolve(t[1:])
        if t.startswith("[]byte"): return "bytes"
        if t.startswith("[]"): return "[]" + resolve(t[2:])
        m = re.match(r"map\[([^\]]+)\](.*)", t)
        if m: return "{}" + resolve(m.group(2))
        if "." in t:
            pkg, name = t.split(".", 1)
            path = imports.get(pkg, "")
            for dd, pp in PKGS.items():
                if path.endswith("k8s.io/api/" + dd): return pp + "." + name
            q = pkg + "." + name
            if path.endswith("apimachinery/pkg/apis/meta/v1"): q = "metav1." + name
            return SPECIAL.get(q, "UNKNOWN:" + q)
        if t in PRIM: return PRIM[t]
        return prefix + "." + t
    lines = src.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^type (\w+) struct \{\s*$", line)
        if m:
            name = prefix + "." + m.group(1)
            fields = []
            i += 1
            while not lines[i].startswith("}"):
                l = lines[i].strip()
                i += 1
                if not l or l.startswith("//"): continue
                fm = re.match(r"^(?:(\w+)\s+)?([^`\s][^`]*?)\s*`(.*)`", l)
                if not fm:
                    continue
                tag = re.search(r'json:"([^"]*)"', fm.group(3))
                if not tag: continue
                parts = tag.group(1).split(",")
                if parts[0] == "-": continue
                gotype = fm.group(2).strip()
                if parts[0] == "":
                    # embedded without a JSON name (",inline"): its fields are this struct's
                    fields.append((None, resolve(gotype), False))
                    continue
                fields.append((parts[0], resolve(gotype), "omitempty" in parts[1:] or "omitzero" in parts[1:]))
            structs[name] = fields
            continue
        m = re.match(r"^type (\w+) (\S.*?)\s*(//.*)?$", line)
        if m and not m.group(2).startswith(("struct", "interface", "=")):
            aliases[prefix + "." + m.group(1)] = resolve(m.group(2))
        i += 1

for d, p in PKGS.items():
    parse_pkg(d, p)
for k, v in META.items():
    structs[k] = v

def norm(t):
    for pre in ("*", "[]", "{}"):
        if t.startswith(pre): return pre + norm(t[len(pre):])
    seen = 0
    while t in aliases and seen < 10:
        t = aliases[t]; seen += 1
        return norm(t)
    return t

out, done, todo = [], set(), list(ROOTS)
while todo:
    n = todo.pop(0)
    if n in done: continue
    done.add(n)
    if n not in structs:
        sys.exit("missing struct " + n)
    rows = []
    for j, t, o in structs[n]:
        t = norm(t)
        base = t.lstrip("*[]{}")
        while base.startswith(("*", "[]", "{}")): base = base.lstrip("*[]{}")
        if "UNKNOWN" in t: sys.exit(f"{n}.{j}: {t}")
        if "." in base and base not in done: todo.append(base)
        rows.append((j, t, o))
    out.append((n, rows))

print("// Generated by tests/support/gen_builtin_schema.py from k8s.io/api " + branch + ": the JSON fields of the")
print("// built-in types the test API server serves (declaration order, type, omitempty). Do not edit.")
print('#include "tests/support/builtin_schema.h"\n')
print("namespace otel::testing {\n")
print("const char* builtinSchemaText() {")
print('  return')
for n, rows in out:
    print(f'      "@{n}\\n"')
    for j, t, o in rows:
        if j is None:
            print(f'      "< {t}\\n"')
        else:
            print(f'      "{j} {t}{" ?" if o else ""}\\n"')
print("      ;")
print("}\n")
print("}  // namespace otel::testing")
