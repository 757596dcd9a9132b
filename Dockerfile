# syntax=docker/dockerfile:1
# Build stage: the Swift 6.3 toolchain builds the host and every plugin in release mode.
FROM swift:6.3-bookworm AS build
# libsnappy-dev: the S3/Delta plugin decompresses Parquet pages with Debian's libsnappy.
# libjemalloc-dev: the release mcp-host allocates with jemalloc (Package.swift says why).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libsnappy-dev libjemalloc-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# scripts/build-release: the release flags (it says why).
RUN scripts/build-release \
 && mkdir -p /out/bin /out/plugins /out/lib \
 && cp .build/release/mcp-host /out/bin/ \
 && cp .build/release/libMCPPlugin*.so /out/plugins/ \
 # The Swift runtime libraries the host and plugins load (one libswiftCore for the process).
 && cp /usr/lib/swift/linux/*.so /out/lib/

# Runtime stage: the host, the plugins, the configuration and the system libraries they need.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates libstdc++6 zlib1g libsnappy1v5 libjemalloc2 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/lib/ /usr/lib/swift/linux/
COPY --from=build /out/bin/mcp-host /opt/mcp-host/bin/mcp-host
COPY --from=build /out/plugins/ /opt/mcp-host/plugins/
COPY config/ /opt/mcp-host/config/
RUN echo /usr/lib/swift/linux > /etc/ld.so.conf.d/swift.conf && ldconfig \
 && chmod 0755 /opt/mcp-host/plugins && chmod 0555 /opt/mcp-host/plugins/*.so \
 && useradd --system --no-create-home mcphost
USER mcphost
# The same image runs standalone and as a Lambda container image: with no arguments mcp-host runs
# the Lambda Runtime API loop when AWS_LAMBDA_RUNTIME_API is set, and `serve` otherwise.
# (Standalone, auth.mode none binds loopback only; give the container a config with auth to publish 8080.)
ENV MCPHOST_CONFIG=/opt/mcp-host/config/mcp-host.yaml \
    MCPHOST_PLUGINS_DIRECTORY=/opt/mcp-host/plugins \
    MCPHOST_PLUGINS_CACHE_DIRECTORY=/tmp/mcp-host/plugins
EXPOSE 8080
ENTRYPOINT ["/opt/mcp-host/bin/mcp-host"]
