/// The one rule tying the relay URL's scheme to its TLS mode: TLS from the first byte exactly
/// with `smtps://`; STARTTLS or plain text with `smtp://`. The config reader (with the line)
/// and the transport's settings check both ask it.
public enum RelayTLS {
    /// Whether a relay at a `scheme` URL (`smtp` or `smtps`) fits the TLS mode: `implicitTLS`
    /// for `tls: tls`, false for `starttls` and `none`.
    public static func fits(scheme: String, implicitTLS: Bool) -> Bool {
        (scheme.lowercased() == "smtps") == implicitTLS
    }
}
