// Shared verbatim by the SDK (plugins) and the host: Host/Plugins/SwiftToolchain.swift is a
// symlink to this file. Each module compiles its own internal copy; one source keeps them equal.

/// `swift-x.y.z` of the compiler that compiled this file.
func swiftToolchainVersion() -> String {
    #if compiler(>=6.5)
    return "swift-6.5+"  // unknown future compiler: extend the chain (and the host's) before relying on it
    #elseif compiler(>=6.4.5)
    return "swift-6.4.5"
    #elseif compiler(>=6.4.4)
    return "swift-6.4.4"
    #elseif compiler(>=6.4.3)
    return "swift-6.4.3"
    #elseif compiler(>=6.4.2)
    return "swift-6.4.2"
    #elseif compiler(>=6.4.1)
    return "swift-6.4.1"
    #elseif compiler(>=6.4)
    return "swift-6.4.0"
    #elseif compiler(>=6.3.5)
    return "swift-6.3.5"
    #elseif compiler(>=6.3.4)
    return "swift-6.3.4"
    #elseif compiler(>=6.3.3)
    return "swift-6.3.3"
    #elseif compiler(>=6.3.2)
    return "swift-6.3.2"
    #elseif compiler(>=6.3.1)
    return "swift-6.3.1"
    #elseif compiler(>=6.3)
    return "swift-6.3.0"
    #elseif compiler(>=6.2.4)
    return "swift-6.2.4"
    #elseif compiler(>=6.2.3)
    return "swift-6.2.3"
    #elseif compiler(>=6.2.2)
    return "swift-6.2.2"
    #elseif compiler(>=6.2.1)
    return "swift-6.2.1"
    #elseif compiler(>=6.2)
    return "swift-6.2.0"
    #elseif compiler(>=6.1.3)
    return "swift-6.1.3"
    #elseif compiler(>=6.1.2)
    return "swift-6.1.2"
    #elseif compiler(>=6.1.1)
    return "swift-6.1.1"
    #elseif compiler(>=6.1)
    return "swift-6.1.0"
    #elseif compiler(>=6.0.3)
    return "swift-6.0.3"
    #elseif compiler(>=6.0.2)
    return "swift-6.0.2"
    #elseif compiler(>=6.0.1)
    return "swift-6.0.1"
    #else
    return "swift-6.0.0"
    #endif
}
