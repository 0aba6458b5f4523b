import HeroldMessage

/// The address policy for webhooks, applied to the address curl actually connected to (a public
/// name can still resolve to 127.0.0.1 or 169.254.169.254), before anything is sent.
enum PeerPolicy {
    /// The peer check for a transfer; nil when the endpoint allows private addresses.
    static func check(allowPrivate: Bool) -> (@Sendable (String) -> Bool)? {
        allowPrivate ? nil : { @Sendable ip in AddressPolicy.refusal(forIP: ip) == nil }
    }
}
