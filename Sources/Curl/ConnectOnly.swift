import CCurl
import Foundation
import Synchronization

/// What a connect-only check saw: the address reached, and the trace of the session.
public struct CurlConnection: Sendable, Equatable {
    /// The address curl connected to.
    public var primaryIP: String?
    /// TLS version, certificate and SMTP replies, in order.
    public var trace: [CurlTraceLine]
}

/// Connects the way a transfer would — DNS, the peer check, TCP, TLS, and for SMTP the
/// greeting, EHLO, STARTTLS and AUTH — and stops before anything is sent (no `MAIL FROM`,
/// no HTTP request): libcurl's `CURLOPT_CONNECT_ONLY`, which for SMTP runs the protocol's
/// whole connect phase, login included. For `herold check --connect`; one blocking transfer
/// on a thread of its own, not the engine's.
public enum CurlConnectOnly {
    /// The outcome of connecting for `request`, and what the session said meanwhile.
    public static func connect(_ request: CurlRequest) async -> (Result<CurlConnection, CurlError>, [CurlTraceLine]) {
        let lines = Mutex<[CurlTraceLine]>([])
        let collect: CurlTrace = { line in lines.withLock { $0.append(line) } }
        let result = await withCheckedContinuation { (continuation: Transfer.Continuation) in
            let thread = Thread { perform(request, trace: collect, continuation: continuation) }
            thread.name = "herold-curl-check"
            thread.start()
        }
        let trace = lines.withLock { $0 }
        return (result.map { CurlConnection(primaryIP: $0.primaryIP, trace: trace) }, trace)
    }

    private static func perform(_ request: CurlRequest, trace: @escaping CurlTrace, continuation: Transfer.Continuation) {
        var traced = request
        if case .smtp(var smtp) = request {
            smtp.trace = trace
            traced = .smtp(smtp)
        }
        do {
            let transfer = try Transfer(id: 0, continuation: continuation)
            try transfer.configure(traced)
            // HTTP transfers keep no debug callback of their own; this one only reads TLS notes.
            let httpTrace = TransferTrace(trace)
            if case .httpPost = request {
                try transfer.handle.set(CURLOPT_DEBUGDATA, pointer: Unmanaged.passUnretained(httpTrace).toOpaque())
                try transfer.handle.setDebug({ _, type, data, size, user in
                    guard let data, let user, type == CURLINFO_TEXT else { return 0 }
                    Unmanaged<TransferTrace>.fromOpaque(user).takeUnretainedValue()
                        .observe(type, UnsafeRawBufferPointer(start: data, count: size))
                    return 0
                })
                try transfer.handle.set(CURLOPT_VERBOSE, 1)
            }
            try transfer.handle.set(CURLOPT_CONNECT_ONLY, 1)
            let code = curl_easy_perform(transfer.handle.raw)
            withExtendedLifetime(httpTrace) {}
            continuation.resume(returning: transfer.result(code))
        } catch {
            continuation.resume(returning: .failure(error))
        }
    }
}
