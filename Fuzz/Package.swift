// swift-tools-version: 6.0
// libFuzzer targets for herold's pure modules. A separate package so the main build never
// sees the sanitizer flags; build and run through scripts/fuzz.sh (see the README, "Fuzzing").
import PackageDescription

let fuzzers = ["fuzz-event", "fuzz-config", "fuzz-template", "fuzz-mime", "fuzz-address"]

let package = Package(
    name: "herold-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "herold", path: "..")],
    targets: [
        // Declares libFuzzer's LLVMFuzzerRunDriver, so each target's main can start the fuzzer.
        .target(name: "FuzzDriver"),
        // The shared entry point, the invariant check, and independent MIME decoders.
        .target(name: "FuzzSupport", dependencies: ["FuzzDriver"]),
    ] + fuzzers.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "HeroldKit", package: "herold")]
        )
    }
)
