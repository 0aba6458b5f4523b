import HeroldCore
import XCTest

/// The `DeliveryFailure` a send ends with; a test failure if it succeeds instead.
func failure(_ body: () async throws -> String) async -> DeliveryFailure? {
    do {
        let reply = try await body()
        XCTFail("expected a failure, got \(reply)")
        return nil
    } catch {
        return error as? DeliveryFailure
    }
}
