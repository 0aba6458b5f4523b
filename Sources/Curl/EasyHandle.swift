import CCurl

/// Owns one `CURL *` and its error buffer; typed setters turn every non-OK CURLcode into a `CurlError`.
/// Not Sendable: a handle lives on the engine thread only.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var lists: [UnsafeMutablePointer<curl_slist>] = []

    init() throws(CurlError) {
        _ = CurlGlobal.initialised
        guard let raw = curl_easy_init() else {
            throw CurlError(code: CurlError.Code.failedInit, message: "curl_easy_init failed")
        }
        self.raw = raw
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let rc = herold_easy_setopt_pointer(raw, CURLOPT_ERRORBUFFER, UnsafeMutableRawPointer(errorBuffer))
        if rc != CURLE_OK {
            curl_easy_cleanup(raw)
            errorBuffer.deallocate()
            throw CurlError(code: Int(rc.rawValue), message: String(cString: curl_easy_strerror(rc)))
        }
    }

    deinit {
        curl_easy_cleanup(raw)
        for list in lists { curl_slist_free_all(list) }
        errorBuffer.deallocate()
    }

    /// The error for `code`: curl's detailed buffer when it wrote one, else the generic text.
    func error(_ code: CURLcode) -> CurlError {
        let detail = String(cString: errorBuffer)
        let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        return CurlError(code: Int(code.rawValue), message: message.trimmingTrailingNewlines())
    }

    private func check(_ code: CURLcode) throws(CurlError) {
        if code != CURLE_OK { throw error(code) }
    }

    func set(_ option: CURLoption, _ value: Int) throws(CurlError) {
        try check(herold_easy_setopt_long(raw, option, value))
    }

    func set(_ option: CURLoption, offset value: Int64) throws(CurlError) {
        try check(herold_easy_setopt_off(raw, option, curl_off_t(value)))
    }

    /// libcurl copies string options (all but POSTFIELDS), so the C string may die after the call.
    func set(_ option: CURLoption, _ value: String) throws(CurlError) {
        if value.utf8.contains(0) {
            throw CurlError(code: CurlError.Code.badFunctionArgument, message: "option value contains NUL")
        }
        let code = value.withCString { herold_easy_setopt_string(raw, option, $0) }
        try check(code)
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(CurlError) {
        try check(herold_easy_setopt_pointer(raw, option, pointer))
    }

    /// Builds a curl_slist the handle keeps alive until deinit.
    func set(_ option: CURLoption, list items: [String]) throws(CurlError) {
        var list: UnsafeMutablePointer<curl_slist>?
        for item in items {
            guard let next = curl_slist_append(list, item) else {
                if let list { curl_slist_free_all(list) }
                throw CurlError(code: CurlError.Code.outOfMemory, message: "curl_slist_append failed")
            }
            list = next
        }
        if let list { lists.append(list) }
        try check(herold_easy_setopt_slist(raw, option, list))
    }

    func set(_ option: CURLoption, callback: curl_write_callback) throws(CurlError) {
        try check(herold_easy_setopt_io_callback(raw, option, callback))
    }

    func setDebug(_ callback: curl_debug_callback) throws(CurlError) {
        try check(herold_easy_setopt_debug_callback(raw, callback))
    }

    func setPrereq(_ callback: curl_prereq_callback) throws(CurlError) {
        try check(herold_easy_setopt_prereq_callback(raw, callback))
    }

    func info(long key: CURLINFO) -> Int? {
        var value = 0
        return herold_easy_getinfo_long(raw, key, &value) == CURLE_OK ? value : nil
    }

    func info(string key: CURLINFO) -> String? {
        var value: UnsafeMutablePointer<CChar>?
        guard herold_easy_getinfo_string(raw, key, &value) == CURLE_OK, let value else { return nil }
        return String(cString: value)
    }
}

/// `curl_global_init` exactly once per process, before the first handle.
enum CurlGlobal {
    /// Swift runs a global's initialiser once, thread-safely: that is the "once".
    static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while let last = s.last, last.isNewline { s = s.dropLast() }  // "\r\n" is one Character
        return String(s)
    }
}
