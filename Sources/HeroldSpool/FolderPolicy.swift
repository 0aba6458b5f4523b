import Glibc

/// The modes and owner the spool's folders must have so that producers (group `herold`)
/// can drop files but never reach herold's own files:
///
/// | folder | mode | why |
/// |---|---|---|
/// | root | `0750` | producers traverse it and read `rejected/`; nobody but herold can rename, remove or replace the folders in it |
/// | `tmp/`, `new/` | `3770` | the group writes; sticky (`1000`): a producer cannot remove or replace another's file; set-group-ID (`2000`): a file gets group `herold`, so its `0640` lets herold read it |
/// | `rejected/` | `0750` | only herold writes there; producers read the reasons |
///
/// All four must be owned by the user herold runs as. `prepare()` creates missing folders
/// with these modes and refuses to start on a root or `rejected/` that the group or others
/// may write, on `tmp/` or `new/` writable by others than herold without the sticky bit,
/// and on any folder herold does not own.
enum FolderPolicy {
    static let rootMode: mode_t = 0o750
    static let dropMode: mode_t = 0o3770
    static let rejectedMode: mode_t = 0o750

    static func mode(_ folder: SpoolFolders.Folder) -> mode_t {
        switch folder {
        case .root: return rootMode
        case .tmp, .new: return dropMode
        case .rejected: return rejectedMode
        }
    }

    /// What is unsafe about `folder` as `st` describes it, with the fix; nil when it is fine.
    static func problem(_ folder: SpoolFolders.Folder, _ st: stat, path: String, user: uid_t = geteuid()) -> String? {
        let bits = st.st_mode & 0o7777
        let shown = "mode \(octal(bits)), owner \(userName(st.st_uid)), group \(groupName(st.st_gid))"
        let fix = "(systemd-tmpfiles --create with systemd/herold.tmpfiles sets what herold expects)"
        if st.st_uid != user {
            return """
                spool folder \(path) is not owned by \(userName(user)), the user herold runs as (\(shown)): \
                its owner could replace what is in it. Fix: chown \(chownName(user)) \(path) \(fix)
                """
        }
        let writers = [(bits & 0o020 != 0, "its group"), (bits & 0o002 != 0, "others")].filter(\.0).map(\.1)
        guard !writers.isEmpty else { return nil }
        let who = writers.joined(separator: " and ")
        switch folder {
        case .root, .rejected:
            let risk = folder == .root ? "a producer could rename, remove or replace tmp/, new/ or rejected/"
                                       : "a producer could put files or links where herold writes"
            return """
                spool folder \(path) is writable by \(who) (\(shown)): \(risk). \
                Fix: chmod \(octal(mode(folder))) \(path) \(fix)
                """
        case .tmp, .new:
            guard bits & mode_t(S_ISVTX) == 0 else { return nil }
            return """
                spool folder \(path) is writable by \(who) without the sticky bit (\(shown)): one producer could \
                remove or replace another's file. Fix: chmod \(octal(mode(folder))) \(path) \(fix)
                """
        }
    }

    /// `0750`, `3770`.
    static func octal(_ mode: mode_t) -> String {
        let digits = String(mode, radix: 8)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `herold (uid 998)`, or `uid 998` when the user database does not know it.
    static func userName(_ uid: uid_t) -> String {
        let name = lookUp(passwd(), \.pw_name) { entry, buffer, size, result in getpwuid_r(uid, entry, buffer, size, result) }
        return name.map { "\($0) (uid \(uid))" } ?? "uid \(uid)"
    }

    /// `herold (gid 998)`, or `gid 998`.
    static func groupName(_ gid: gid_t) -> String {
        let name = lookUp(group(), \.gr_name) { entry, buffer, size, result in getgrgid_r(gid, entry, buffer, size, result) }
        return name.map { "\($0) (gid \(gid))" } ?? "gid \(gid)"
    }

    /// The user name to give `chown`: the name, or the number.
    static func chownName(_ uid: uid_t) -> String {
        lookUp(passwd(), \.pw_name) { entry, buffer, size, result in getpwuid_r(uid, entry, buffer, size, result) }
            ?? "\(uid)"
    }

    /// A name from the user or group database through a `get*_r` call.
    private static func lookUp<Entry>(
        _ empty: Entry, _ name: KeyPath<Entry, UnsafeMutablePointer<CChar>?>,
        _ call: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<CChar>, Int,
                 UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>) -> Int32
    ) -> String? {
        var entry = empty
        var result: UnsafeMutablePointer<Entry>?
        var buffer = [CChar](repeating: 0, count: 4096)
        return buffer.withUnsafeMutableBufferPointer { raw in
            guard let base = raw.baseAddress, call(&entry, base, raw.count, &result) == 0, result != nil,
                  let pointer = entry[keyPath: name] else { return nil }
            return String(cString: pointer)
        }
    }
}
