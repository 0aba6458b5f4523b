/// Checks on an attachment path before any file is touched.
public enum AttachmentPath {
    /// Why `text` can never be a path inside an allowed folder, or nil.
    public static func problem(_ text: String) -> String? {
        if text.hasPrefix("/") { return "is an absolute path; only paths relative to attachments.roots are allowed" }
        if text.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == ".." }) {
            return "contains \"..\"; only paths inside attachments.roots are allowed"
        }
        if text.isEmpty || text.hasSuffix("/") { return "does not name a file" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "contains a control character"
        }
        return nil
    }
}
