import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Space held on the state disk for the journal's own writes. When ingest finds the disk
/// full it frees it, so the outcomes of deliveries already journaled can still be
/// recorded while no new event is taken; ingest is tried again only once the reserve can
/// be made anew with as much free besides.
struct StateReserve: Sendable {
    let path: String
    let directory: String
    static let fileName = "reserve.space"
    static let size = 1 << 20

    init(state: URL) {
        directory = state.path
        path = state.appendingPathComponent(Self.fileName).path
    }

    /// Makes the reserve if it is missing; false when the disk has not room for it twice over.
    func ensure() -> Bool {
        var st = stat()
        if lstat(path, &st) == 0, Int(st.st_size) >= Self.size { return true }
        var fs = statvfs()
        guard statvfs(directory, &fs) == 0, Int(fs.f_bavail) * Int(fs.f_frsize) >= 2 * Self.size else { return false }
        let fd = open(path, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard posix_fallocate(fd, 0, off_t(Self.size)) == 0 else {
            unlink(path)
            return false
        }
        return true
    }

    /// Frees the space for the journal.
    func release() {
        unlink(path)
    }
}
