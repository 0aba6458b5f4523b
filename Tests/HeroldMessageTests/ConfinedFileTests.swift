import Foundation
import HeroldCore
@testable import HeroldMessage
import XCTest

/// Attachments read at send time through real folders: a folder or file swapped for a
/// symbolic link since the rules checked it is refused, and the secret it points at is not read.
final class ConfinedFileTests: XCTestCase {
    var folder: URL!
    var root: URL { folder.appendingPathComponent("zalaczniki") }
    var secrets: URL { folder.appendingPathComponent("credentials") }
    let program = Data("%PDF-1.4 program gali".utf8)
    let secret = Data("haslo-do-poczty-SEKRET".utf8)

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herold-confined-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("gala"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: secrets.appendingPathComponent("gala"), withIntermediateDirectories: true)
        try program.write(to: root.appendingPathComponent("gala/program.pdf"))
        try secret.write(to: secrets.appendingPathComponent("gala/program.pdf"))
        try secret.write(to: secrets.appendingPathComponent("smtp-haslo"))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: folder) }

    func ref(_ relative: String, root: URL? = nil, maxBytes: Int = 1024) -> AttachmentRef {
        let base = root ?? self.root
        return AttachmentRef(name: "program.pdf", path: base.appendingPathComponent(relative).path, maxBytes: maxBytes,
                             root: base.path, relative: relative)
    }

    func refusal(_ ref: AttachmentRef) -> String {
        do {
            let data = try AttachmentReader.read(ref)
            XCTAssertNotEqual(data, secret, "the secret was read")
            return "read \(data.count) bytes"
        } catch {
            XCTAssertEqual(error.deliveryFailure.kind, .permanent)
            XCTAssertEqual(error.deliveryFailure.code, "message.attachment")
            return error.description
        }
    }

    func testAFileInRealFoldersIsRead() throws {
        XCTAssertEqual(try AttachmentReader.read(ref("gala/program.pdf")), program)
        XCTAssertEqual(try AttachmentReader.read(ref("./gala//program.pdf")), program)
    }

    func testAFolderSwappedForALinkIsRefused() throws {
        try FileManager.default.moveItem(at: root.appendingPathComponent("gala"), to: folder.appendingPathComponent("gala-stara"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("gala"),
                                                   withDestinationURL: secrets.appendingPathComponent("gala"))
        let reason = refusal(ref("gala/program.pdf"))
        XCTAssertTrue(reason.contains("\(root.path)/gala is a symbolic link"), reason)
        XCTAssertTrue(reason.hasPrefix("attachment \"program.pdf\": "), reason)
    }

    func testAFileSwappedForALinkIsRefused() throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent("gala/program.pdf"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("gala/program.pdf"),
                                                   withDestinationURL: secrets.appendingPathComponent("smtp-haslo"))
        let reason = refusal(ref("gala/program.pdf"))
        XCTAssertTrue(reason.contains("gala/program.pdf is a symbolic link"), reason)
        // A link to a file inside the root is refused too: the rules resolved links when they planned it.
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("skrot.pdf"),
                                                   withDestinationURL: root.appendingPathComponent("gala"))
        XCTAssertTrue(refusal(ref("skrot.pdf/program.pdf")).contains("skrot.pdf is a symbolic link"))
    }

    func testTheRootItselfMayBeALinkItIsTheAdmins() throws {
        let link = folder.appendingPathComponent("biezace")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: root)
        XCTAssertEqual(try AttachmentReader.read(ref("gala/program.pdf", root: link)), program)
    }

    func testAFIFOADeviceAFolderAndAnOversizedFileAreRefusedWithoutBlocking() throws {
        let fifo = root.appendingPathComponent("gala/kolejka.pdf")
        XCTAssertEqual(mkfifo(fifo.path, 0o600), 0)
        XCTAssertTrue(refusal(ref("gala/kolejka.pdf")).contains("is not a regular file"))
        XCTAssertTrue(refusal(ref("gala")).contains("is not a regular file"))
        XCTAssertTrue(refusal(ref("gala/program.pdf", maxBytes: 5)).contains("over the limit of 5"))
        XCTAssertTrue(refusal(ref("gala/brak.pdf")).contains("does not exist"))
        XCTAssertTrue(refusal(ref("gala/program.pdf/x")).contains("is not a folder"))
    }

    /// Journal rows written before the root was stored: the real path, no link on any component.
    func testRowsWithoutARootReadTheRealPathWithoutLinks() throws {
        let real = URL(fileURLWithPath: root.path).resolvingSymlinksInPath()
        let old = AttachmentRef(name: "program.pdf", path: real.appendingPathComponent("gala/program.pdf").path, maxBytes: 1024)
        XCTAssertEqual(try AttachmentReader.read(old), program)
        try FileManager.default.moveItem(at: root.appendingPathComponent("gala"), to: folder.appendingPathComponent("gala-stara"))
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("gala"),
                                                   withDestinationURL: secrets.appendingPathComponent("gala"))
        XCTAssertTrue(refusal(old).contains("gala is a symbolic link"), refusal(old))
    }
}
