/// Line-ending normalisation: mail on the wire uses CRLF only.
public enum LineEndings {
    /// Turns every bare LF, bare CR and CRLF into CRLF.
    public static func crlf(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\r":
                out.append("\r")
                out.append("\n")
                previousWasCR = true
            case "\n":
                if !previousWasCR {
                    out.append("\r")
                    out.append("\n")
                }
                previousWasCR = false
            default:
                out.append(scalar)
                previousWasCR = false
            }
        }
        return String(out)
    }
}
