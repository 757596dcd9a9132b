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
        .target(name: "MCPPluginSDK", dependencies: ["CMCPPlugin"]),
    ]
)
