# The kubectl-otel image for people with Docker (`make image` builds the same image without a daemon).
# Build stage: the project's own dependency script on Debian bookworm; runtime: the shared libraries only.
FROM debian:bookworm AS build
COPY scripts/install-deps /tmp/install-deps
RUN bash /tmp/install-deps
COPY . /src
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build /build -j"$(nproc)" --target kubectl-otel

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libyaml-cpp0.7 libre2-9 libxxhash0 libcpp-httplib0.11 libcurl4 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && echo 'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >>/etc/passwd
COPY --from=build /build/bin/kubectl-otel /usr/local/bin/kubectl-otel
# runs as non-root with a read-only root filesystem: it writes nothing outside /tmp (an emptyDir in install)
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kubectl-otel"]
CMD ["run"]
