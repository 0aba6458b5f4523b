import Foundation

extension Commands {
    /// Writes each previewed message's exact bytes into `directory` (created if needed):
    /// `ID.eml` opens in a mail program, `ID.http` is the signed request. Returns the paths.
    public static func writePreview(_ items: [PreviewItem], to directory: String) throws(CommandFailure) -> [String] {
        let folder = URL(fileURLWithPath: directory, isDirectory: true)
        var written: [String] = []
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for item in items {
                guard let file = item.file else { continue }
                let url = folder.appendingPathComponent(file.name)
                try file.bytes.write(to: url, options: .atomic)
                written.append(url.path)
            }
        } catch {
            throw CommandFailure(.ioError, "cannot write the preview into \(directory): \(error.localizedDescription)")
        }
        return written
    }
}
