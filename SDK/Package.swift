// swift-tools-version:6.1
// The MCPHost plugin SDK: the C ABI header (CMCPPlugin) and the Swift layer plugin authors use
// (MCPPluginSDK). A plugin repository outside MCPHost depends on this package alone.
import PackageDescription

let package = Package(
    name: "MCPHostSDK",
    products: [
        .library(name: "CMCPPlugin", targets: ["CMCPPlugin"]),
        .library(name: "MCPPluginSDK", targets: ["MCPPluginSDK"]),
    ],
    targets: [
        .target(name: "CMCPPlugin"),
        // Tool functions run on the executor that calls them (SE-0461): no executor hop per call.
        .target(
            name: "MCPPluginSDK", dependencies: ["CMCPPlugin"],
            swiftSettings: [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]),
    ]
)
