/// The Swift toolchain this binary was compiled with, as `swift-<major>.<minor>.<patch>`.
/// Swift plugins report the same string (the SDK compiles the same `SwiftToolchain.swift`) in
/// `sdk_id`; the host refuses a Swift plugin built by another toolchain because Linux has no
/// stable Swift ABI and a process holds exactly one libswiftCore.
public enum Toolchain {
    public static let swiftVersion = swiftToolchainVersion()
}
