// swift-tools-version:6.1
import PackageDescription

// Host modules, one role each (see DESIGN.md "The way a request travels"):
//   Fronts → Gate → Tenancy → Protocol → Plugins, with JSON and Core underneath and App wiring them.
// Plugins are dynamic libraries loaded at run time; the mcp-host executable links none of them.
// Nonisolated async functions run on their caller's executor (SE-0461). The request path runs on
// the event loop (installed as the concurrency executor); without this, every nonisolated async
// call hopped off the loop's serial executor and back: callgrind counted ~23 enqueues a request.
let hostSettings: [SwiftSetting] = [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "MCPHost",
    products: [
        .executable(name: "mcp-host", targets: ["MCPHostCLI"]),
        .library(name: "MCPPluginEcho", type: .dynamic, targets: ["EchoPlugin"]),
        .library(name: "MCPPluginCEcho", type: .dynamic, targets: ["CEchoPlugin"]),
        .library(name: "MCPPluginPrometheus", type: .dynamic, targets: ["PrometheusPlugin"]),
        .library(name: "MCPPluginGrafana", type: .dynamic, targets: ["GrafanaPlugin"]),
        .library(name: "MCPPluginTiFlux", type: .dynamic, targets: ["TiFluxPlugin"]),
        .library(name: "MCPPluginClickHouse", type: .dynamic, targets: ["ClickHousePlugin"]),
        .library(name: "MCPPluginS3Delta", type: .dynamic, targets: ["S3DeltaPlugin"]),
        .library(name: "MCPTestPluginFaults", type: .dynamic, targets: ["FaultsPlugin"]),
    ],
    dependencies: [
        .package(path: "SDK"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // Lean JSON tree + codec + JSON Schema validation (hot path).
        .target(name: "MCPJSON", path: "Host/JSON", swiftSettings: hostSettings),
        // The front-neutral request/response model every front speaks.
        .target(
            name: "MCPHostCore", dependencies: ["MCPJSON", .product(name: "Logging", package: "swift-log")],
            path: "Host/Core", swiftSettings: hostSettings),
        // Loading plugin .so files, plugin instances, tool routing, host services (HTTP, log, clock).
        .target(
            name: "MCPPlugins",
            dependencies: [
                "MCPJSON", "MCPHostCore",
                .product(name: "CMCPPlugin", package: "SDK"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Host/Plugins", swiftSettings: hostSettings),
        // JSON-RPC 2.0 + MCP: versions, lifecycle, sessions, tools, streamable HTTP and stdio semantics.
        .target(
            name: "MCPProtocol",
            dependencies: [
                "MCPJSON", "MCPHostCore", "MCPPlugins",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Host/Protocol", swiftSettings: hostSettings),
        // Tenant registry and per-tenant servers (plugin instances built from a tenant's config).
        .target(
            name: "MCPTenancy",
            dependencies: ["MCPJSON", "MCPHostCore", "MCPPlugins", "MCPProtocol", .product(name: "Logging", package: "swift-log")],
            path: "Host/Tenancy", swiftSettings: hostSettings),
        // Origin/CORS, body limit, authentication → tenant; before any JSON-RPC parsing.
        .target(
            name: "MCPGate",
            dependencies: [
                "MCPHostCore", "MCPJSON", "MCPTenancy", "MCPProtocol", .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Host/Gate", swiftSettings: hostSettings),
        // HTTP (SwiftNIO) and stdio fronts: bytes in, HostRequest/HostResponse out. No MCP knowledge.
        .target(
            name: "MCPFronts",
            dependencies: [
                "MCPHostCore", "MCPJSON",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Host/Fronts", swiftSettings: hostSettings),
        // Per-tenant request and tool-call metrics in the Prometheus exposition format.
        .target(
            name: "MCPMetrics",
            dependencies: [
                "MCPHostCore", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Host/Metrics", swiftSettings: hostSettings),
        // mcp-host.yaml: parsing, environment overrides, validation with file/key/expectation errors.
        .target(
            name: "MCPConfig",
            dependencies: ["MCPJSON", .product(name: "Yams", package: "Yams")],
            path: "Host/Config", swiftSettings: hostSettings),
        // Wiring: builds the whole host from a configuration; used by the CLI and by tests.
        .target(
            name: "MCPHostApp",
            dependencies: [
                "MCPJSON", "MCPHostCore", "MCPPlugins", "MCPProtocol", "MCPTenancy", "MCPGate", "MCPFronts",
                "MCPConfig", "MCPMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Host/App", swiftSettings: hostSettings),
        .executableTarget(
            name: "MCPHostCLI",
            dependencies: [
                "MCPHostApp", "MCPPlugins", "MCPConfig", "MCPJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Host/CLI", swiftSettings: hostSettings,
            // Release builds allocate with jemalloc (Debian's libjemalloc), as Vapor's deployment
            // template does: glibc's malloc/free cost ~3.5% of the instructions of a tools/call
            // (scripts/callgrind-request-cost: 183.1k -> 177.0k). Plugins loaded into the process use
            // it too (one allocator per process); debug builds and the tests keep glibc's.
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux], configuration: .release))]),

        // Bundled plugins.
        .target(
            name: "EchoPlugin", dependencies: [.product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/Echo", exclude: ["README.md"], swiftSettings: hostSettings),
        .target(
            name: "PrometheusPlugin", dependencies: ["PromQLSupport", .product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/Prometheus", exclude: ["README.md"], swiftSettings: hostSettings),
        // PromQL times, the range-size rule and result rendering: shared by the prometheus and
        // grafana plugins (linked statically into each .so).
        .target(
            name: "PromQLSupport", dependencies: [.product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/Shared/PromQL", swiftSettings: hostSettings),
        .target(
            name: "GrafanaPlugin", dependencies: ["PromQLSupport", .product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/Grafana", exclude: ["README.md"], swiftSettings: hostSettings),
        .target(
            name: "TiFluxPlugin", dependencies: [.product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/TiFlux", exclude: ["README.md"], swiftSettings: hostSettings),
        .target(
            name: "ClickHousePlugin", dependencies: [.product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/ClickHouse", exclude: ["README.md"], swiftSettings: hostSettings),
        // S3/Delta: the file formats (CSV, Parquet + its Thrift footer, the Delta log) are a plain
        // library over an ObjectStore protocol, so they are unit-tested without a host; the plugin
        // adds the sources (local roots, S3 through the host's HTTP service) and the tools.
        .systemLibrary(
            name: "CSnappy", path: "Plugins/S3Delta/CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .target(
            name: "S3DeltaFormats", dependencies: ["CSnappy", .product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/S3Delta/Formats",
            exclude: ["README.md"], swiftSettings: hostSettings),
        .target(
            name: "S3DeltaPlugin",
            dependencies: ["S3DeltaFormats", .product(name: "MCPPluginSDK", package: "SDK")],
            path: "Plugins/S3Delta/Plugin", swiftSettings: hostSettings),
        .target(
            name: "CEchoPlugin", dependencies: [.product(name: "CMCPPlugin", package: "SDK")],
            path: "Plugins/CEcho"),
        // Fault-injection plugin for tests (plain C: it must be able to return garbage).
        .target(
            name: "FaultsPlugin", dependencies: [.product(name: "CMCPPlugin", package: "SDK")],
            path: "Tests/Plugins/Faults"),

        .testTarget(
            name: "MCPHostTests",
            dependencies: [
                "MCPJSON", "MCPHostCore", "MCPPlugins", "MCPProtocol", "MCPTenancy", "MCPGate", "MCPFronts",
                "MCPConfig", "MCPHostApp",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                // SigV4Tests: the SDK's signer (links into the test bundle only, never into mcp-host).
                .product(name: "MCPPluginSDK", package: "SDK"),
            ],
            path: "Tests/MCPHostTests"),
        .testTarget(name: "S3DeltaFormatsTests", dependencies: ["S3DeltaFormats"], path: "Tests/S3DeltaFormatsTests"),
    ]
)
