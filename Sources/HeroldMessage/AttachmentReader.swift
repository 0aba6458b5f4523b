import Foundation
import HeroldCore

/// Reads an attachment's bytes when the message is composed, days after the rules checked
/// the path: through `ConfinedFile`, from the configured root down, with no symbolic link
/// below it, so a folder swapped for a link (to `$CREDENTIALS_DIRECTORY`, say) mails nothing.
/// A refusal fails the delivery permanently (`message.attachment`) with the reason.
enum AttachmentReader {
    static func read(_ ref: AttachmentRef) throws(MessageError) -> Data {
        let (root, relative) = location(ref)
        do {
            return try ConfinedFile.read(root: root, relative: relative, maxBytes: ref.maxBytes)
        } catch {
            throw .attachment(name: ref.name, reason: error.description)
        }
    }

    /// What `read` refuses, found by opening the file the same way and closing it unread.
    static func check(_ ref: AttachmentRef) throws(MessageError) {
        let (root, relative) = location(ref)
        do {
            close(try ConfinedFile.open(root: root, relative: relative, maxBytes: ref.maxBytes))
        } catch {
            throw .attachment(name: ref.name, reason: error.description)
        }
    }

    /// Journal rows from before the root was stored: the checked real path, from `/`,
    /// with no symbolic link on any component (it had none when it was checked).
    private static func location(_ ref: AttachmentRef) -> (root: String, relative: String) {
        (ref.root ?? "/", ref.relative ?? ref.path)
    }
}
