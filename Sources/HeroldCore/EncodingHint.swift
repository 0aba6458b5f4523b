/// Guesses which legacy encoding a byte that is not UTF-8 came from, for Polish producers:
/// old Windows programs write Windows-1250, old Unix ones ISO-8859-2. Pure.
public enum EncodingHint {
    /// Polish letters that have the same byte in Windows-1250 and ISO-8859-2.
    private static let both: [UInt8: String] = [
        0xE6: "ć", 0xEA: "ę", 0xB3: "ł", 0xF1: "ń", 0xF3: "ó", 0xBF: "ż",
        0xC6: "Ć", 0xCA: "Ę", 0xA3: "Ł", 0xD1: "Ń", 0xD3: "Ó", 0xAF: "Ż",
    ]
    /// Polish letters only Windows-1250 puts at that byte.
    private static let windows1250: [UInt8: String] = [
        0xB9: "ą", 0x9C: "ś", 0x9F: "ź", 0xA5: "Ą", 0x8C: "Ś", 0x8F: "Ź",
    ]
    /// Polish letters only ISO-8859-2 puts at that byte.
    private static let iso88592: [UInt8: String] = [
        0xB1: "ą", 0xB6: "ś", 0xBC: "ź", 0xA1: "Ą", 0xA6: "Ś", 0xAC: "Ź",
    ]

    /// `Windows-1250 or ISO-8859-2 "ł"?`, or a general guess for other bytes.
    public static func guess(_ byte: UInt8) -> String {
        if let letter = both[byte] { return "Windows-1250 or ISO-8859-2 \"\(letter)\"?" }
        if let letter = windows1250[byte] { return "Windows-1250 \"\(letter)\"?" }
        if let letter = iso88592[byte] { return "ISO-8859-2 \"\(letter)\"?" }
        return "another encoding, such as Windows-1250?"
    }

    /// `not UTF-8: byte 0xB3 at offset 512, line 14 (Windows-1250 or ISO-8859-2 "ł"? save
    /// the file as UTF-8)`; `withLine: false` leaves the line out (for a file name).
    public static func notUTF8(_ problem: UTF8Validator.Problem, advice: String, withLine: Bool = true) -> String {
        let line = withLine ? ", line \(problem.line)" : ""
        return "not UTF-8: byte \(hex(problem.byte)) at offset \(problem.offset)\(line) (\(guess(problem.byte)) \(advice))"
    }

    /// `0xB3`.
    public static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16, uppercase: true)
        return "0x" + (digits.count == 1 ? "0" + digits : digits)
    }
}
