// swift-tools-version:6.1
// Tailcar: a sidecar log collector. One static binary; C libraries come from Debian's -dev packages
// through the system-library targets under CSources (see README, "Dependencies").
import PackageDescription

/// The per-line path runs on one loop thread with no overlapping accesses by design; dynamic exclusivity
/// checks on its class properties cost a quarter of the CPU time in release builds.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "Tailcar",
    products: [
        .executable(name: "tailcar", targets: ["tailcar"]),
        .executable(name: "tailcar-gen", targets: ["tailcar-gen"]),
    ],
    targets: [
        .systemLibrary(name: "CLibUV", path: "CSources/CLibUV", pkgConfig: "libuv-static",
                       providers: [.apt(["libuv1-dev"])]),
        .systemLibrary(name: "CZstd", path: "CSources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CLZ4", path: "CSources/CLZ4", pkgConfig: "liblz4",
                       providers: [.apt(["liblz4-dev"])]),
        .systemLibrary(name: "CLibDeflate", path: "CSources/CLibDeflate", pkgConfig: "libdeflate",
                       providers: [.apt(["libdeflate-dev"])]),
        .systemLibrary(name: "CYAML", path: "CSources/CYAML", pkgConfig: "yaml-0.1",
                       providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(name: "CCrypto", path: "CSources/CCrypto", pkgConfig: "openssl",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPCRE2", path: "CSources/CPCRE2", pkgConfig: "libpcre2-8",
                       providers: [.apt(["libpcre2-dev"])]),
        .target(name: "CTailcarShim", path: "CSources/CTailcarShim"),

        .target(name: "TailcarRegex", swiftSettings: hotPath),
        .target(
            name: "TailcarCore",
            dependencies: ["TailcarRegex", "CLibUV", "CZstd", "CLZ4", "CLibDeflate", "CYAML", "CCrypto", "CTailcarShim"],
            swiftSettings: hotPath
        ),
        .executableTarget(name: "tailcar", dependencies: ["TailcarCore", "TailcarRegex"]),
        .executableTarget(name: "tailcar-gen", dependencies: []),
        .executableTarget(name: "regex-bench", dependencies: ["TailcarRegex", "CPCRE2"], path: "bench/regex",
                          exclude: ["README.md"]),

        .testTarget(name: "TailcarRegexTests", dependencies: ["TailcarRegex", "CPCRE2"]),
        .testTarget(name: "TailcarCoreTests", dependencies: ["TailcarCore", "TailcarRegex"]),
    ]
)
