// The MIME encoders as round trips against independent decoders (FuzzSupport/MIMEDecoders).
// The input (UTF-8, invalid bytes replaced) is a body, a Subject and a display name.
import Foundation
import FuzzSupport
import HeroldCore
import HeroldMessage

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    checkQuotedPrintable(text)
    if !text.unicodeScalars.contains(where: { [0x00, 0x0A, 0x0D].contains($0.value) }) {
        checkSubject(text)
    }
    checkComposed(text)
    return 0
}

/// decode(encode(text)) is the text with CRLF line ends; lines fit 76 and survive SMTP.
func checkQuotedPrintable(_ text: String) {
    let encoded = QuotedPrintable.encode(text)
    require(encoded.unicodeScalars.allSatisfy { $0.value < 0x7F }, "QP output is not ASCII")
    for line in encoded.components(separatedBy: "\r\n") {
        require(line.utf8.count <= QuotedPrintable.maxLineLength, "QP line of \(line.utf8.count): \(line)")
        require(!line.hasPrefix("."), "QP line starts with a dot: \(line)")
        require(!line.hasSuffix(" ") && !line.hasSuffix("\t"), "QP line ends in whitespace: \(line.debugDescription)")
        require(!line.contains("\r") && !line.contains("\n"), "QP bare CR or LF")
    }
    require(MIMEDecoders.decodeQuotedPrintable(encoded) == Array(LineEndings.crlf(text).utf8),
            "QP round trip differs for \(text.debugDescription): \(encoded.debugDescription)")
}

/// The Subject field unfolds and decodes to the value; encoded words fit 75; lines fit 78
/// when the value was encoded (998 always); no whitespace-only line.
func checkSubject(_ value: String) {
    let field = HeaderEncoding.unstructuredField(name: "Subject", value: value)
    checkFieldShape(field, encoded: HeaderEncoding.needsEncoding(value))
    let unfolded = MIMEDecoders.unfold(withoutCRLF(field))
    require(unfolded.hasPrefix("Subject: "), "field lost its name")
    let decoded = MIMEDecoders.decodeUnstructured(String(unfolded.dropFirst("Subject: ".count)))
    require(decoded == value, "Subject round trip: \(value.debugDescription) -> \(field.debugDescription) -> \(decoded.debugDescription)")
}

/// `field` without its closing CRLF (one Character in Swift, two scalars).
func withoutCRLF(_ field: String) -> String { String(field.unicodeScalars.dropLast(2)) }

func checkFieldShape(_ field: String, encoded: Bool) {
    require(field.hasSuffix("\r\n"), "field does not end in CRLF")
    let lines = withoutCRLF(field).components(separatedBy: "\r\n")
    for (index, line) in lines.enumerated() {
        require(!line.contains("\r") && !line.contains("\n"), "bare CR or LF in \(field.debugDescription)")
        require(line.utf8.count <= 998, "header line of \(line.utf8.count) octets")
        if encoded { require(line.utf8.count <= HeaderEncoding.preferredLineLength, "encoded header line of \(line.count): \(line)") }
        if index > 0 {
            require(line.hasPrefix(" ") || line.hasPrefix("\t"), "continuation line without whitespace")
            require(!line.allSatisfy { $0 == " " || $0 == "\t" }, "whitespace-only line in \(field.debugDescription)")
        }
    }
    for word in MIMEDecoders.encodedWords(in: field) {
        require(word.utf8.count <= HeaderEncoding.maxEncodedWordLength, "encoded word of \(word.count): \(word)")
    }
}

/// A whole message with the text as display name, Subject and body: composes when the text has
/// no control characters, every header is well formed, and From and Subject decode back.
func checkComposed(_ text: String) {
    let name = String(String.UnicodeScalarView(text.unicodeScalars.filter {
        !($0.value < 0x20 || $0.value == 0x7F || "\"<>".unicodeScalars.contains($0))
    }))
    let subject = name.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !subject.isEmpty else { return }
    let from = "\(name) <powiadomienia@example.org>"
    let content = EmailContent(from: from, to: "gops@example.org", subject: subject, text: text, html: "<p>\(subject)</p>")
    let mail: ComposedEmail
    do {
        mail = try EmailComposer().compose(content, id: DeliveryID(rawValue: "fuzz-1"), date: Date(timeIntervalSince1970: 0))
    } catch {
        require(false, "a clean message does not compose: \(error) for \(from.debugDescription)")
        return
    }
    let message = String(decoding: mail.bytes, as: UTF8.self)
    guard let split = message.range(of: "\r\n\r\n") else { return require(false, "no blank line after the head") }
    let head = String(message[..<split.lowerBound]) + "\r\n"
    var fields: [String] = []
    for line in head.components(separatedBy: "\r\n").dropLast() {
        if line.hasPrefix(" ") || line.hasPrefix("\t"), !fields.isEmpty { fields[fields.count - 1] += "\r\n" + line } else { fields.append(line) }
    }
    for field in fields {
        let encoded = field.hasPrefix("From:") || field.hasPrefix("Subject:") ? HeaderEncoding.needsEncoding(subject) : false
        checkFieldShape(field + "\r\n", encoded: encoded)
    }
    let fromField = fields.first { $0.hasPrefix("From: ") }.map { MIMEDecoders.unfold($0) }
    let expected = (try? Mailbox.parse(from))?.displayName
    require(fromField.flatMap(displayName) == expected,
            "From display name: \(expected.debugDescription) written as \(fromField.debugDescription)")
}

/// The display name of `From: NAME <addr>`: encoded words, a quoted string, or atoms.
func displayName(_ field: String) -> String? {
    var value = Substring(field.dropFirst("From: ".count))
    guard let open = value.lastIndex(of: "<") else { return nil }
    value = value[..<open]
    guard value.hasSuffix(" ") else { return nil }
    value = value.dropLast()
    if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
        var out = ""
        var escaped = false
        for c in value.dropFirst().dropLast() {
            if escaped || c != "\\" { out.append(c); escaped = false } else { escaped = true }
        }
        return out
    }
    return MIMEDecoders.decodeUnstructured(String(value))
}

runFuzzer(testOneInput)
