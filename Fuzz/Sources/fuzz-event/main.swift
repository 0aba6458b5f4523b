// The CloudEvents parser on raw bytes, as a producer can write them into the spool.
// Invariants: no trap; an accepted file is UTF-8; accepted attributes obey the checks the
// parser promises; an accepted event re-encoded as JSON parses again to the same JSON.
import Foundation
import FuzzSupport
import HeroldCore

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = bytes(data, size)
    guard let events = try? CloudEventParser.parse(Data(input)) else { return 0 }
    let body = input.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(input.dropFirst(3)) : input
    require(String(validating: body, as: UTF8.self) != nil, "accepted a file that is not valid UTF-8")
    require(!events.isEmpty, "accepted a file with no event")
    require(Set(events.map(\.key)).count == events.count, "a batch kept two events with one key")
    for event in events {
        for (name, value) in [("id", event.id), ("source", event.source), ("type", event.type), ("subject", event.subject)] {
            guard let value else { continue }
            require(!value.isEmpty && value.count <= CloudEventParser.maxAttributeLength, "\(name) of bad length")
            require(!value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }, "\(name) has a control character")
        }
        checkReencoding(event)
    }
    return 0
}

/// Re-encoding is stable: encode, parse, encode gives the same bytes as the first encoding.
func checkReencoding(_ event: CloudEvent) {
    let first = JSONValue.object(event.attributes).jsonData()
    let again: [CloudEvent]
    do {
        again = try CloudEventParser.parse(first)
    } catch {
        require(false, "a re-encoded accepted event is refused: \(error) in \(String(decoding: first, as: UTF8.self))")
        return
    }
    require(again.count == 1 && again[0].key == event.key, "re-parsing changed the event key")
    let second = JSONValue.object(again[0].attributes).jsonData()
    require(first == second, "re-encoding is not stable: \(String(decoding: first, as: UTF8.self)) vs \(String(decoding: second, as: UTF8.self))")
}

runFuzzer(testOneInput)
