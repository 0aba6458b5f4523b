import Foundation
import HeroldCore

/// One MIME entity: its header lines (already folded, no final CRLF) and its encoded body.
/// The composer nests these into `multipart/alternative` and `multipart/mixed`.
struct MIMEPart: Sendable {
    var headers: [String]
    var body: String

    /// Headers, a blank line, the body; CRLF throughout, ending in CRLF.
    var serialized: String {
        var out = headers.map { $0 + "\r\n" }.joined() + "\r\n" + body
        if !out.hasSuffix("\r\n") { out += "\r\n" }
        return out
    }

    /// UTF-8 text as quoted-printable, whose output never holds `=_` (an `=` is always `=3D`
    /// or a soft break before CRLF), so boundaries starting with `=_` cannot occur in it.
    static func text(_ text: String, subtype: String) -> MIMEPart {
        MIMEPart(headers: ["Content-Type: text/\(subtype); charset=utf-8",
                           "Content-Transfer-Encoding: quoted-printable"],
                 body: QuotedPrintable.encode(text))
    }

    /// A multipart entity. The boundary starts with `=_`, which neither quoted-printable nor
    /// base64 output can contain; the check below keeps that true whatever a part holds.
    /// No preamble: the composer adds one to the whole message only.
    static func multipart(_ subtype: String, boundary: String, parts: [MIMEPart]) throws(MessageError) -> MIMEPart {
        let delimiter = "--" + boundary
        var body = ""
        for part in parts {
            let text = part.serialized
            if text.contains(delimiter) {
                throw .attachment(name: "(message body)", reason: "a part contains the MIME boundary")
            }
            body += "\r\n" + delimiter + "\r\n" + text
        }
        body += "\r\n" + delimiter + "--\r\n"
        return MIMEPart(headers: ["Content-Type: multipart/\(subtype);", " boundary=\"\(boundary)\""], body: body)
    }

    /// A file as base64 in 76-character lines. The name goes in `Content-Disposition` as
    /// RFC 2231 (`filename*=utf-8''…`) when it is not plain ASCII, and always as a plain ASCII
    /// `name=` on `Content-Type` for readers that do not know RFC 2231 (old Outlook). A plain
    /// `filename=` next to `filename*` is left out on purpose: strict parsers (Python's `email`)
    /// take the plain one first and would show the transliterated name.
    static func attachment(name: String, bytes: Data) -> MIMEPart {
        let ascii = asciiFallback(name)
        let type = mediaType(forFileName: name)
        var headers = ["Content-Type: \(type);", " name=\"\(ascii)\"", "Content-Transfer-Encoding: base64"]
        headers += dispositionLines(name: name, ascii: ascii)
        return MIMEPart(headers: headers, body: base64Lines(bytes))
    }

    /// Base64 in lines of 76 characters (RFC 2045 §6.8), CRLF after each.
    static func base64Lines(_ bytes: Data) -> String {
        let encoded = Array(bytes.base64EncodedString().utf8)
        var out = ""
        out.reserveCapacity(encoded.count + encoded.count / 76 * 2 + 2)
        var start = 0
        while start < encoded.count {
            let end = min(start + 76, encoded.count)
            out += String(decoding: encoded[start..<end], as: UTF8.self) + "\r\n"
            start = end
        }
        return out
    }

    /// `Content-Disposition: attachment; filename="..."` for a plain name, else
    /// `filename*=utf-8''...` split into RFC 2231 continuations so no line passes 78 characters.
    static func dispositionLines(name: String, ascii: String) -> [String] {
        let encoded = percentEncoded(name)
        if encoded == name, name == ascii, name.count <= 60 {
            return ["Content-Disposition: attachment;", " filename=\"\(name)\""]
        }
        var chunks: [String] = []
        var current = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            // Keep %XX triples whole.
            let step = encoded[index] == "%" ? 3 : 1
            let end = encoded.index(index, offsetBy: step, limitedBy: encoded.endIndex) ?? encoded.endIndex
            if current.count + step > 54 {
                chunks.append(current)
                current = ""
            }
            current += encoded[index..<end]
            index = end
        }
        if !current.isEmpty { chunks.append(current) }
        var lines = ["Content-Disposition: attachment;"]
        if chunks.count == 1 {
            lines.append(" filename*=utf-8''\(chunks[0])")
        } else {
            for (n, chunk) in chunks.enumerated() {
                let prefix = n == 0 ? "utf-8''" : ""
                lines.append(" filename*\(n)*=\(prefix)\(chunk)" + (n == chunks.count - 1 ? "" : ";"))
            }
        }
        return lines
    }

    private static let attrChars = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~".utf8)

    /// RFC 2231 / 5987 value-chars: attr-char kept, every other UTF-8 byte as %XX.
    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if attrChars.contains(byte) {
                out.append(Character(UnicodeScalar(byte)))
            } else {
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    private static let polish: [Character: String] = [
        "ą": "a", "ć": "c", "ę": "e", "ł": "l", "ń": "n", "ó": "o", "ś": "s", "ź": "z", "ż": "z",
        "Ą": "A", "Ć": "C", "Ę": "E", "Ł": "L", "Ń": "N", "Ó": "O", "Ś": "S", "Ź": "Z", "Ż": "Z",
    ]

    /// The name in letters, digits, `.`, `_`, `-` and spaces only (Polish letters lose their
    /// marks), short enough for one header line; safe inside a quoted string.
    static func asciiFallback(_ name: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._- ")
        var out = ""
        for character in name {
            if let plain = polish[character] {
                out += plain
            } else if allowed.contains(character) {
                out.append(character)
            } else {
                out += "_"
            }
        }
        if out.count > 50 {
            let dot = out.lastIndex(of: ".").map { String(out[$0...]) } ?? ""
            out = String(out.prefix(50 - min(dot.count, 10))) + dot.suffix(10)
        }
        let trimmed = out.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? "attachment" : trimmed
    }

    private static let mediaTypes: [String: String] = [
        "pdf": "application/pdf", "txt": "text/plain", "csv": "text/csv", "ics": "text/calendar",
        "html": "text/html", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
        "svg": "image/svg+xml", "zip": "application/zip", "xml": "application/xml", "json": "application/json",
        "odt": "application/vnd.oasis.opendocument.text",
        "ods": "application/vnd.oasis.opendocument.spreadsheet",
        "doc": "application/msword",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls": "application/vnd.ms-excel",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ]

    /// A media type from the file's extension; unknown ones are `application/octet-stream`.
    static func mediaType(forFileName name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return "application/octet-stream" }
        return mediaTypes[name[name.index(after: dot)...].lowercased()] ?? "application/octet-stream"
    }
}
