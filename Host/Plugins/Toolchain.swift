/// The Swift toolchain this binary was compiled with, as `swift-<major>.<minor>.<patch>`.
/// Swift plugins report the same string (computed the same way by the SDK) in `sdk_id`; the host
/// refuses a Swift plugin built by another toolchain because Linux has no stable Swift ABI and a
/// process holds exactly one libswiftCore.
public enum Toolchain {
    public static let swiftVersion: String = {
        #if compiler(>=6.5)
        return "swift-6.5+"
        #elseif compiler(>=6.4.2)
        return "swift-6.4.2"
        #elseif compiler(>=6.4.1)
        return "swift-6.4.1"
        #elseif compiler(>=6.4)
        return "swift-6.4.0"
        #elseif compiler(>=6.3.3)
        return "swift-6.3.3"
        #elseif compiler(>=6.3.2)
        return "swift-6.3.2"
        #elseif compiler(>=6.3.1)
        return "swift-6.3.1"
        #elseif compiler(>=6.3)
        return "swift-6.3.0"
        #elseif compiler(>=6.2)
        return "swift-6.2"
        #else
        return "swift-older"
        #endif
    }()
}
