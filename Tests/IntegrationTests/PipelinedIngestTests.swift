import Foundation
import XCTest

/// A burst of more files than one journal transaction takes (256): the next batch is read
/// and planned while the previous one commits, and still an event whose first copy is in the
/// batch before is one event, and a bad file among them is rejected with its reason.
final class PipelinedIngestTests: SiteTestCase {
    func testAnEventRepeatedInTheNextBatchIsOneEventAndABadFileIsRejected() throws {
        let (site, _, _) = try makeSite("pipelined")
        // Oldest first: the copy of `fala-7` lands at position 300 (the second batch), the
        // bad file at 451; no rule matches `fala.test`, so nothing is sent.
        func event(_ id: String) -> String {
            #"{"specversion":"1.0","id":"\#(id)","source":"https://rops.example.org/fala","type":"fala.test","data":{"n":"\#(id)"}}"#
        }
        for n in 1...300 { try site.drop(event("fala-\(n)"), as: String(format: "a-%04d.json", n)) }
        try site.drop(event("fala-7"), as: "a-0300-kopia.json")
        for n in 301...450 { try site.drop(event("fala-\(n)"), as: String(format: "a-%04d.json", n)) }
        try site.drop(#"{"specversion":"1.0","id":"zepsuty""#, as: "a-0450-zepsuty.json")
        for n in 451...700 { try site.drop(event("fala-\(n)"), as: String(format: "a-%04d.json", n)) }
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        XCTAssertTrue(eventually(timeout: 60) { site.newFiles().isEmpty }, "\(site.newFiles().count) files left\n\(daemon.output.suffix(2000))")
        XCTAssertTrue(eventually(timeout: 10) { daemon.output.components(separatedBy: "msg=\"event accepted\"").count - 1 == 700 },
                      daemon.output.suffix(2000).description)
        XCTAssertEqual(daemon.output.components(separatedBy: "msg=\"duplicate event dropped\"").count - 1, 1)
        let duplicate = daemon.output.split(separator: "\n").filter { $0.contains("msg=\"duplicate event dropped\"") }
        XCTAssertTrue(duplicate.first?.contains("a-0300-kopia.json") ?? false, "\(duplicate)")
        XCTAssertTrue(duplicate.first?.contains("event.id=fala-7") ?? false, "\(duplicate)")
        let reason = try String(contentsOf: site.rejected.appendingPathComponent("a-0450-zepsuty.json.reason"), encoding: .utf8)
        XCTAssertTrue(reason.hasPrefix("file: is not valid JSON"), reason)
        let rejected = try FileManager.default.contentsOfDirectory(atPath: site.rejected.path)
        XCTAssertEqual(Set(rejected), ["a-0450-zepsuty.json", "a-0450-zepsuty.json.reason"])
    }
}
