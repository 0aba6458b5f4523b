import Curl

extension CurlEngine {
    /// `perform` with its error as a value, for the classifier.
    func result(of request: CurlRequest) async -> Result<CurlResponse, CurlError> {
        do throws(CurlError) {
            return .success(try await perform(request))
        } catch {
            return .failure(error)
        }
    }
}
