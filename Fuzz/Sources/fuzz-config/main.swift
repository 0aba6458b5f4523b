// The config reader on YAML text, as if it were Config/herold.yaml (relative paths resolve
// against Config/, so templates and secrets are real files). Invariants: no trap; every
// issue points inside the text (line 0 = no line); an accepted config compiles its templates
// or says why not, like `herold check`.
import Foundation
import FuzzSupport
import HeroldConfig
import HeroldRules

let configFile = repositoryRoot.appendingPathComponent("Config/herold.yaml").path
let environment = ["CREDENTIALS_DIRECTORY": repositoryRoot.appendingPathComponent("Config/secrets").path]

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: bytes(data, size), as: UTF8.self)
    let config: HeroldConfig
    do {
        config = try ConfigLoader.load(text: text, file: configFile, environment: environment)
    } catch {
        // Lines as libyaml counts them: CRLF, CR, LF, NEL, LS and PS each end one.
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars
            .filter { [0x0A, 0x0D, 0x85, 0x2028, 0x2029].contains($0.value) }.count + 1
        require(!error.issues.isEmpty, "a refused config has no issue")
        for issue in error.issues where issue.file == configFile {
            require(issue.line >= 0 && issue.line <= lines + 1, "issue on line \(issue.line) of a \(lines)-line text: \(issue)")
        }
        return 0
    }
    do {
        _ = try RuleEngine(config: config)
    } catch {
        require(!error.issues.isEmpty, "refused templates with no issue")
    }
    return 0
}

runFuzzer(testOneInput)
