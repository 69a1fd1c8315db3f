// Synthetic manifest streams for benchmarks and scale tests of file mode: N documents mixing
// Deployments (annotated for Java, or not), Services and ConfigMaps, plus one Instrumentation.
#pragma once
#include <string>

namespace otel::inject {

// A YAML stream of `documents` documents (the first is the Instrumentation); every third document is a
// Deployment annotated with inject-java, the rest are Services, ConfigMaps and unannotated Deployments.
std::string syntheticManifestStream(int documents);

}  // namespace otel::inject
