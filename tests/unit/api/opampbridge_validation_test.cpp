// OpAMPBridge: upstream's webhook defaulting and every validation message, in upstream's order.
#include <gtest/gtest.h>

#include "lib/api/opampbridge.h"
#include "lib/core/yaml.h"

namespace otel::api {
namespace {

std::string firstError(const std::string& spec) {
  Json b = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: OpAMPBridge, metadata: {name: b}, spec: " + spec + "}");
  auto d = validateOpAMPBridge(b);
  return d.errors.empty() ? "" : d.errors.front();
}

TEST(OpAMPBridge, Messages) {
  EXPECT_EQ(firstError("{}"), "the OpAMP server endpoint is not specified");
  EXPECT_EQ(firstError("{endpoint: '  '}"), "the OpAMP server endpoint is not specified");
  EXPECT_EQ(firstError("{endpoint: 'ws://s:4320/v1/opamp', tls: {insecure: true, insecure_skip_verify: true}}"),
            "tls.insecure and tls.insecure_skip_verify cannot both be true");
  EXPECT_EQ(firstError("{endpoint: 'ws://s:4320/v1/opamp'}"), "the capabilities supported by OpAMP Bridge are not specified");
  EXPECT_EQ(firstError("{endpoint: 'ws://s:4320/v1/opamp', capabilities: {ReportsStatus: true}, ports: [{name: "
                       "a-very-long-port-name, port: 70000}]}"),
            "the OpAMPBridge Spec Ports configuration is incorrect, port name 'a-very-long-port-name' errors: [must be no "
            "more than 15 characters], num '70000' errors: [must be between 1 and 65535, inclusive]");
  EXPECT_EQ(firstError("{endpoint: 'ws://s:4320/v1/opamp', capabilities: {ReportsStatus: true}, replicas: 2}"),
            "replica count must not be greater than 1");
  EXPECT_EQ(firstError("{endpoint: 'ws://s:4320/v1/opamp', capabilities: {ReportsStatus: true}, replicas: 1}"), "");
}

TEST(OpAMPBridge, WebhookDefaults) {
  Json b = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: OpAMPBridge, metadata: {name: b}, spec: {endpoint: x, "
                     "capabilities: {ReportsStatus: false, AcceptsRemoteConfig: true}, unknownField: 1}}");
  EXPECT_TRUE(isOpAMPBridge(b));
  defaultOpAMPBridge(b);
  EXPECT_EQ(b["spec"]["upgradeStrategy"], "automatic");
  EXPECT_EQ(b["spec"]["replicas"], 1);
  EXPECT_EQ(b["spec"]["capabilities"]["ReportsStatus"], true);  // must be set
  EXPECT_EQ(b["spec"]["capabilities"]["AcceptsRemoteConfig"], true);
  EXPECT_EQ(b["spec"]["unknownField"], 1);
  Json none = parseYaml("{apiVersion: opentelemetry.io/v1alpha1, kind: OpAMPBridge, metadata: {name: b}}");
  defaultOpAMPBridge(none);
  EXPECT_EQ(none["spec"]["capabilities"], Json({{"ReportsStatus", true}}));
  EXPECT_TRUE(validateOpAMPBridge(none).errors.size() == 1);  // still no endpoint
}

}  // namespace
}  // namespace otel::api
