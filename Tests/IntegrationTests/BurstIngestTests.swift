import Foundation
import XCTest

/// A burst of spool files is ingested several files per journal transaction: everything is
/// recorded once, each file removed only after its commit, and an event in two files of the
/// same batch is still one event.
final class BurstIngestTests: SiteTestCase {
    func testABurstOfFilesIsRecordedOnceEachWithDuplicatesAcrossFilesCaught() throws {
        let (site, smtp, http) = try makeSite("burst")
        // 150 files wait in new/ before herold starts (one scan takes them in batches), and
        // one event appears in two files.
        for n in 1...150 { try site.drop(TestSite.laureatesEvent(id: "seria-\(n)"), as: "seria-\(n).json") }
        try site.drop(TestSite.laureatesEvent(id: "seria-7"), as: "seria-7-kopia.json")
        let daemon = try site.startDaemon(notify: try NotifySocket(directory: site.root))
        cleanup.append { daemon.stop() }
        XCTAssertTrue(eventually(timeout: 60) { http.records().count == 150 && smtp.records().count == 300 },
                      "\(http.records().count) webhooks, \(smtp.records().count) emails\n\(daemon.output.suffix(2000))")
        XCTAssertTrue(site.newFiles().isEmpty, "\(site.newFiles())")
        XCTAssertEqual(daemon.output.components(separatedBy: "msg=\"event accepted\"").count - 1, 150)
        XCTAssertEqual(daemon.output.components(separatedBy: "msg=\"duplicate event dropped\"").count - 1, 1)
        usleep(500_000)
        XCTAssertEqual(http.records().count, 150, "the copy caused nothing")
        let ids = Set(http.records().compactMap { header("webhook-id", of: $0) })
        XCTAssertEqual(ids.count, 150)
    }
}
