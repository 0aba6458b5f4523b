import Foundation
import HeroldCore
import Logging
import Synchronization

/// `log_recipients`: how recipients' addresses appear in log lines. One place: the
/// `LogfmtHandler` passes every line through `current`, which rewrites the `recipient`
/// metadata value and every address-shaped text in the other values and the message (a
/// server's reply often echoes the address). `full` leaves lines as they are. The key of
/// `hashed` is never logged.
public struct RecipientLogFilter: Sendable {
    public let mode: RecipientLogMode
    let pseudonym: RecipientPseudonym?

    /// The filter in force for the whole process (set by the daemon from its config).
    static let installed = Mutex(RecipientLogFilter(mode: .full, pseudonym: nil))
    public static var current: RecipientLogFilter { installed.withLock { $0 } }

    public init(mode: RecipientLogMode, pseudonym: RecipientPseudonym?) {
        // Without a key there is no hash: masking is the safe fallback.
        self.mode = mode == .hashed && pseudonym == nil ? .masked : mode
        self.pseudonym = pseudonym
    }

    /// Makes this filter the one every log line goes through.
    public func install() { Self.installed.withLock { $0 = self } }

    func show(_ address: String) -> String {
        switch mode {
        case .full: return address
        case .masked: return RecipientPseudonym.mask(address)
        case .hashed: return pseudonym?.hash(address) ?? RecipientPseudonym.mask(address)
        }
    }

    /// The text with every address shown as the mode says.
    public func apply(_ text: String) -> String {
        mode == .full ? text : AddressText.replacingAddresses(in: text, show)
    }

    /// Metadata with recipients shown as the mode says.
    func apply(_ metadata: Logger.Metadata) -> Logger.Metadata {
        guard mode != .full else { return metadata }
        return metadata.mapValues { .string(apply("\($0)")) }
    }
}
