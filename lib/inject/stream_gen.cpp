#include "lib/inject/stream_gen.h"

namespace otel::inject {

std::string syntheticManifestStream(int documents) {
  std::string out =
      "apiVersion: opentelemetry.io/v1alpha1\nkind: Instrumentation\nmetadata:\n  name: java\nspec:\n"
      "  exporter:\n    endpoint: http://collector:4318\n  propagators: [tracecontext, baggage]\n";
  for (int i = 1; i < documents; ++i) {
    std::string n = std::to_string(i);
    out += "---\n";
    switch (i % 4) {
      case 1:
        out += "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: svc-" + n +
               "\n  labels: {team: \"t" + n + "\"}\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: svc-" + n +
               "}\n  template:\n    metadata:\n      labels: {app: svc-" + n +
               "}\n      annotations:\n        instrumentation.opentelemetry.io/inject-java: \"true\"\n    spec:\n"
               "      containers:\n      - name: app\n        image: ghcr.io/example/app:1." + n +
               "\n        env:\n        - {name: JAVA_TOOL_OPTIONS, value: \"-Xmx256m\"}\n        ports:\n"
               "        - containerPort: 8080\n";
        break;
      case 2:
        out += "apiVersion: v1\nkind: Service   # untouched\nmetadata:\n  name: svc-" + n +
               "\nspec:\n  selector: {app: svc-" + n + "}\n  ports:\n  - port: 80\n    targetPort: 8080\n";
        break;
      case 3:
        out += "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg-" + n + "\ndata:\n  enabled: \"on\"\n  level: '3'\n";
        break;
      default:
        out += "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: plain-" + n +
               "\nspec:\n  selector:\n    matchLabels: {app: plain-" + n + "}\n  template:\n    metadata:\n"
               "      labels: {app: plain-" + n + "}\n    spec:\n      containers:\n      - name: app\n"
               "        image: nginx:1.27\n";
        break;
    }
  }
  return out;
}

}  // namespace otel::inject
