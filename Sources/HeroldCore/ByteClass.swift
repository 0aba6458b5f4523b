/// ASCII byte classes as 128-bit tables: a lookup, no hashing, nothing built per call.
public struct ByteClass: Sendable {
    private let low: UInt64, high: UInt64

    public init(_ members: String) {
        var low: UInt64 = 0, high: UInt64 = 0
        for byte in members.utf8 where byte < 128 {
            if byte < 64 { low |= 1 << UInt64(byte) } else { high |= 1 << UInt64(byte - 64) }
        }
        self.low = low
        self.high = high
    }

    public func contains(_ byte: UInt8) -> Bool {
        byte < 64 ? low & (1 << UInt64(byte)) != 0 : byte < 128 && high & (1 << UInt64(byte - 64)) != 0
    }

    /// RFC 5322 atext: what an atom (a word of a display name left as it is) is made of.
    public static let atext = ByteClass("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~")
    /// atext plus `.`: what a dot-atom local part is made of.
    public static let dotAtom = ByteClass("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.")
    /// Letters, digits and hyphen: a host name label.
    public static let ldh = ByteClass("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
}
