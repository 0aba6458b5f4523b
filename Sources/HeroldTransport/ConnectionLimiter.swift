import HeroldCore

/// At most `limit` transfers at once; the others wait in arrival order. With libcurl's
/// connection cache this makes messages to one relay share `limit` SMTP sessions instead of
/// opening one per message in parallel.
actor ConnectionLimiter {
    private let limit: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    /// Runs `body` once a slot is free.
    func run<T: Sendable>(_ body: @Sendable () async throws(DeliveryFailure) -> T) async throws(DeliveryFailure) -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if running < limit {
            running += 1
            return
        }
        // The slot is handed over by `release`, so `running` stays counted for us.
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
