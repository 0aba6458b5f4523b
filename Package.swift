// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "herold",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "herold", targets: ["herold"]),
        // The pure modules, for the fuzz targets in Fuzz/ (a separate package built with libFuzzer).
        .library(name: "HeroldKit", targets: ["HeroldCore", "HeroldMessage", "HeroldConfig", "HeroldRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The only C: libcurl's variadic calls behind typed static-inline wrappers.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Swift owner of curl handles; the only importer of CCurl.
        .target(name: "Curl", dependencies: ["CCurl"]),
        // Pure domain: events, deliveries, errors. No I/O.
        .target(
            name: "HeroldCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Pure message formats: MIME (RFC 5322/2045/2047), Standard Webhooks signatures.
        .target(
            name: "HeroldMessage",
            dependencies: ["HeroldCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Configuration model and YAML loading with file:line errors.
        .target(
            name: "HeroldConfig",
            dependencies: ["HeroldCore", "Yams"]
        ),
        // Rule matching and template rendering: Event -> [Delivery].
        .target(
            name: "HeroldRules",
            dependencies: [
                "HeroldCore", "HeroldConfig", "HeroldMessage",
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // Spool folders, safe reads, atomic moves, inotify watcher.
        .target(name: "HeroldSpool", dependencies: ["HeroldCore"]),
        // The journal (SQLite).
        .target(
            name: "HeroldStore",
            dependencies: ["HeroldCore", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The journal on PostgreSQL, shared by several nodes (leases, SKIP LOCKED claims).
        .target(
            name: "HeroldPostgres",
            dependencies: [
                "HeroldStore", "HeroldCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // "Send this delivery": the transport built from the config — SMTP and webhook senders over
        // Curl, the composer, the secrets, `check --connect`.
        .target(
            name: "HeroldTransport",
            dependencies: [
                "HeroldCore", "HeroldConfig", "HeroldMessage", "Curl",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every metric herold has, by name, and its Prometheus exposition (listener, textfile).
        .target(
            name: "HeroldMetrics",
            dependencies: [
                "HeroldCore",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Composition root: ingest, dispatch, signals, sd_notify.
        .target(
            name: "HeroldDaemon",
            dependencies: [
                "HeroldCore", "HeroldConfig", "HeroldRules", "HeroldSpool",
                "HeroldStore", "HeroldPostgres", "HeroldTransport", "HeroldMessage", "HeroldMetrics",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "herold",
            dependencies: [
                "HeroldDaemon",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HeroldCoreTests", dependencies: ["HeroldCore"]),
        .testTarget(name: "HeroldConfigTests", dependencies: ["HeroldConfig"]),
        .testTarget(name: "HeroldRulesTests", dependencies: ["HeroldRules", "HeroldConfig"]),
        .testTarget(name: "HeroldSpoolTests", dependencies: ["HeroldSpool"]),
        .testTarget(name: "HeroldStoreTests", dependencies: ["HeroldStore"]),
        // The journal behaviours written once, run against SQLite and PostgreSQL.
        .testTarget(
            name: "JournalContractTests",
            dependencies: [
                "HeroldStore", "HeroldPostgres", "HeroldCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "HeroldMessageTests", dependencies: ["HeroldMessage"]),
        .testTarget(name: "HeroldMetricsTests", dependencies: ["HeroldMetrics", "HeroldCore"]),
        .testTarget(name: "HeroldTransportTests", dependencies: ["HeroldTransport", "HeroldConfig", "Curl"]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["herold", .product(name: "Crypto", package: "swift-crypto")]
        ),
    ]
)
