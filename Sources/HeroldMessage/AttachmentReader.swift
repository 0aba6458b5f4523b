import Foundation
import HeroldCore

/// Reads an attachment's bytes when the message is composed, re-checking what the rules
/// checked at planning time: the file may have changed or gone since.
enum AttachmentReader {
    static func read(_ ref: AttachmentRef) throws(MessageError) -> Data {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: ref.path)
        } catch {
            throw .attachment(name: ref.name, reason: "the file \(ref.path) does not exist or cannot be read")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw .attachment(name: ref.name, reason: "\(ref.path) is not a regular file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= ref.maxBytes else {
            throw .attachment(name: ref.name, reason: "\(ref.path) is \(size) bytes, over the limit of \(ref.maxBytes) (attachments.max_bytes)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: ref.path))
        } catch {
            throw .attachment(name: ref.name, reason: "cannot read \(ref.path): \(error.localizedDescription)")
        }
        guard data.count <= ref.maxBytes else {
            throw .attachment(name: ref.name, reason: "\(ref.path) grew past the limit of \(ref.maxBytes) bytes")
        }
        return data
    }
}
