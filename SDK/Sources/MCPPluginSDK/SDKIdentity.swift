/// The `sdk_id` a Swift plugin reports: `"swift-<major>.<minor>.<patch> mcphost-sdk/1"`.
///
/// Linux has no stable Swift ABI and a process holds exactly one `libswiftCore.so`, so the host
/// loads a Swift plugin only when the plugin was compiled by the same compiler version as the host.
/// The version is taken at *compile time* with an `#if compiler` chain (there is no run-time API
/// for it); it therefore names the compiler that built this copy of the SDK, i.e. the plugin.
/// The host compiles the very same file (SwiftToolchain.swift, symlinked into Host/Plugins) and
/// compares the part before the space, so the two can never disagree.
/// `mcphost-sdk/1` names the generation of this SDK (independent of the C ABI version).
func swiftPluginSDKID() -> String {
    swiftToolchainVersion() + " mcphost-sdk/1"
}
