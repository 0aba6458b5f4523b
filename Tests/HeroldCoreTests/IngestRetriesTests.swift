import Foundation
import HeroldCore
import XCTest

final class IngestRetriesTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    func testUnreadableFileBacksOffFromFiveSecondsDoublingToFiveMinutesAndIsNeverRejected() {
        var book = IngestRetries()
        var now = t0
        var delays: [TimeInterval] = []
        for tries in 1...12 {
            guard case .later(let next, let count) = book.failed("a.json", .unreadable("EACCES"), now: now) else {
                return XCTFail("an unreadable file is never rejected (try \(tries))")
            }
            XCTAssertEqual(count, tries)
            XCTAssertFalse(book.isDue("a.json", now: next.addingTimeInterval(-0.001)))
            XCTAssertTrue(book.isDue("a.json", now: next))
            delays.append(next.timeIntervalSince(now))
            now = next
        }
        XCTAssertEqual(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300, 300, 300, 300])
    }

    func testRefusedFileIsRejectedOnItsThirdRefusalWithTheJournalError() {
        var book = IngestRetries()
        XCTAssertEqual(book.failed("p.json", .refused("UNIQUE constraint failed"), now: t0),
                       .later(next: t0.addingTimeInterval(5), tries: 1))
        XCTAssertEqual(book.failed("p.json", .refused("UNIQUE constraint failed"), now: t0.addingTimeInterval(5)),
                       .later(next: t0.addingTimeInterval(15), tries: 2))
        let third = book.failed("p.json", .refused("UNIQUE constraint failed"), now: t0.addingTimeInterval(15))
        XCTAssertEqual(third, .reject(reason: "the journal refused the file's events 3 times: UNIQUE constraint failed"))
        XCTAssertNil(book.waiting["p.json"], "a rejected file is forgotten")
        XCTAssertNil(book.nextWake)
    }

    func testUnreadableTriesDoNotCountTowardsRejection() {
        var book = IngestRetries()
        for i in 0..<5 { _ = book.failed("m.json", .unreadable("EIO"), now: t0.addingTimeInterval(Double(i))) }
        guard case .later = book.failed("m.json", .refused("constraint"), now: t0) else {
            return XCTFail("one refusal after five unreadable tries is not yet a poison file")
        }
        XCTAssertEqual(book.waiting["m.json"]?.refusals, 1)
        XCTAssertEqual(book.waiting["m.json"]?.tries, 6)
    }

    func testJournalOutageNoticedOnceAndPausesEveryFileUntilTheNextProbe() {
        var book = IngestRetries()
        XCTAssertEqual(book.failed("a.json", .journalDown("SQLITE_FULL"), now: t0),
                       .paused(next: t0.addingTimeInterval(5), firstNotice: true))
        XCTAssertFalse(book.isDue("b.json", now: t0.addingTimeInterval(1)), "no file is tried while paused")
        XCTAssertTrue(book.isDue("b.json", now: t0.addingTimeInterval(5)), "one probe after the interval")
        XCTAssertEqual(book.failed("b.json", .journalDown("SQLITE_FULL"), now: t0.addingTimeInterval(5)),
                       .paused(next: t0.addingTimeInterval(10), firstNotice: false))
        XCTAssertTrue(book.waiting.isEmpty, "an outage is not the files' fault: no tries counted")
        XCTAssertEqual(book.nextWake, t0.addingTimeInterval(10))
        XCTAssertNil(book.settled("c.json", journalWrote: false), "a rejected or duplicate file proves nothing")
        XCTAssertEqual(book.settled("b.json", journalWrote: true)?.since, t0)
        XCTAssertNil(book.outage)
        XCTAssertTrue(book.isDue("a.json", now: t0.addingTimeInterval(6)))
        XCTAssertEqual(book.failed("a.json", .noSpace("SQLITE_FULL"), now: t0.addingTimeInterval(7)),
                       .paused(next: t0.addingTimeInterval(12), firstNotice: true), "a new outage is noticed again")
        XCTAssertEqual(book.outage?.reason, "SQLITE_FULL")
    }

    func testManyFailingFilesGiveOneNextWakeAndForgottenFilesDrop() {
        var book = IngestRetries()
        for i in 0..<1000 { _ = book.failed("f\(i)", .unreadable("EACCES"), now: t0.addingTimeInterval(Double(i) / 10)) }
        XCTAssertEqual(book.nextWake, t0.addingTimeInterval(5))
        book.keepOnly(["f999"])
        XCTAssertEqual(Array(book.waiting.keys), ["f999"])
        XCTAssertEqual(book.nextWake, t0.addingTimeInterval(99.9 + 5))
    }

    func testWakeScheduleKeepsOnePendingWakeWhateverTheRequests() {
        var schedule = WakeSchedule()
        XCTAssertTrue(schedule.request(t0.addingTimeInterval(10)))
        for i in 0..<1000 {
            XCTAssertFalse(schedule.request(t0.addingTimeInterval(10 + Double(i))), "a later request is covered")
        }
        XCTAssertTrue(schedule.request(t0.addingTimeInterval(5)), "an earlier one re-arms the one timer")
        XCTAssertEqual(schedule.armed, t0.addingTimeInterval(5))
        schedule.fired()
        XCTAssertTrue(schedule.isPending)
        XCTAssertFalse(schedule.request(t0), "nothing more until the rescan it asked for begins")
        schedule.began()
        XCTAssertFalse(schedule.isPending)
        XCTAssertTrue(schedule.request(t0.addingTimeInterval(20)))
    }
}
