import Foundation
import HeroldCore

/// Reads an attachment's bytes when the message is composed, days after the rules checked
/// the path: through `ConfinedFile`, from the configured root down, with no symbolic link
/// below it, so a folder swapped for a link (to `$CREDENTIALS_DIRECTORY`, say) mails nothing.
/// A refusal fails the delivery permanently (`message.attachment`) with the reason.
enum AttachmentReader {
    static func read(_ ref: AttachmentRef) throws(MessageError) -> Data {
        // Journal rows from before the root was stored: the checked real path, from `/`,
        // with no symbolic link on any component (it had none when it was checked).
        let root = ref.root ?? "/"
        let relative = ref.relative ?? ref.path
        do {
            return try ConfinedFile.read(root: root, relative: relative, maxBytes: ref.maxBytes)
        } catch {
            throw .attachment(name: ref.name, reason: error.description)
        }
    }
}
