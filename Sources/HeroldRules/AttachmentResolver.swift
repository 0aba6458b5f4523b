import Foundation
import HeroldConfig
import HeroldCore

/// Turns `attach:` entries and an event's `data.attachments` into checked files inside the
/// allowed folders. The one part of the rules that looks at the file system (stat and
/// realpath only, never contents), so that a missing file holds the delivery at once.
/// A symbolic link inside a root that stays inside is resolved here; the file is read at
/// send time through the root and the resolved path, refusing any link below the root.
public struct AttachmentResolver: Sendable {
    public var config: AttachmentsConfig

    public init(config: AttachmentsConfig) { self.config = config }

    /// The file for a relative path, or why it cannot be attached. The real path (symlinks
    /// followed) must lie inside the real path of one root.
    public func resolve(_ relative: String) -> Result<AttachmentRef, DeliveryHoldReason> {
        if let problem = AttachmentPath.problem(relative) {
            return .failure(DeliveryHoldReason("attachment \"\(relative)\" \(problem)"))
        }
        guard !config.roots.isEmpty else {
            return .failure(DeliveryHoldReason("attachment \"\(relative)\": no attachments.roots are configured"))
        }
        var sawOutside = false
        for root in config.roots {
            guard let rootReal = Self.realPath(root.path) else { continue }
            guard let real = Self.realPath(root.appendingPathComponent(relative).path) else { continue }
            let inside = rootReal.hasSuffix("/") ? rootReal : rootReal + "/"
            guard real.hasPrefix(inside) else {
                sawOutside = true
                continue
            }
            let attributes = try? FileManager.default.attributesOfItem(atPath: real)
            guard attributes?[.type] as? FileAttributeType == .typeRegular else {
                return .failure(DeliveryHoldReason("attachment \"\(relative)\": \(real) is not a regular file"))
            }
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? 0
            guard size <= config.maxBytes else {
                return .failure(DeliveryHoldReason("attachment \"\(relative)\" is \(size) bytes, over attachments.max_bytes (\(config.maxBytes))"))
            }
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            // Sent through the configured root and the resolved path below it, with no
            // symbolic link allowed there any more (AttachmentReader, at send time).
            return .success(AttachmentRef(name: name, path: real, maxBytes: config.maxBytes,
                                          root: root.path, relative: String(real.dropFirst(inside.count))))
        }
        if sawOutside {
            return .failure(DeliveryHoldReason("attachment \"\(relative)\" leads outside attachments.roots (a symbolic link?); refused"))
        }
        let folders = config.roots.map(\.path).joined(separator: ", ")
        return .failure(DeliveryHoldReason("attachment \"\(relative)\" is missing: no such file in \(folders)"))
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
