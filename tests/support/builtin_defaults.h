// What kube-apiserver v1.36 does to built-in objects besides decoding them (builtin_schema.h): the
// SetDefaults_* functions of the kinds the project creates or reads, the registry strategies' create
// and update preparation (status reset, DaemonSet template generation, Job selectors, Service allocated
// fields kept on update, Pod admission defaults) and the update validation rules our clients meet
// (immutable selectors, StatefulSet forbidden updates, Service clusterIP, finalizers of terminating
// objects), with kube's messages. PURE; the Service IP and node port allocation lives in the server.
#pragma once
#include <string>
#include <vector>

#include "lib/core/json.h"
#include "tests/support/api_logic.h"

namespace otel::testing {

// SetDefaults_* for the object (a typed round trip of it); typeName as builtinTypeName gives it.
void applyBuiltinDefaults(const std::string& typeName, Json& obj);

// What kube's admission plugins add on create, before the mutating webhooks see the object: a Pod's
// service account name (ServiceAccount; the token volume is not modelled), the not-ready/unreachable
// tolerations (DefaultTolerationSeconds), priority and preemptionPolicy (Priority).
void applyAdmissionDefaults(const std::string& typeName, Json& obj);

// The registry strategy's PrepareForCreate: the status a new object starts with (a Pod's phase and
// qosClass), the DaemonSet template generation annotation, the Job selector and labels (needs metadata.uid).
void prepareBuiltinCreate(const std::string& typeName, Json& obj);

// PrepareForUpdate: the DaemonSet template generation, and what a Service update keeps from the stored
// object when the client omits it (clusterIP(s), node ports: kube's patchAllocatedValues and
// normalizeClusterIPs).
void prepareBuiltinUpdate(const std::string& typeName, const Json& old, Json& obj);

// kube's update validation for the rules above; empty when allowed.
std::vector<FieldError> builtinUpdateErrors(const std::string& typeName, const Json& old, const Json& obj);

// ValidateNoNewFinalizers for any kind: an object being deleted may not gain finalizers.
std::vector<FieldError> finalizerUpdateErrors(const Json& old, const Json& obj);

// A metav1.LabelSelector as labels.Selector.String() writes it ("a=b,c in (x,y),!d"), "" for none.
std::string labelSelectorString(const Json& selector);

// A value as kube 1.36 renders it in an "Invalid value: ..." message: JSON with sorted map keys.
std::string invalidValueText(const Json& value);

}  // namespace otel::testing
