//! DHL Express mock (placeholder until the mock lands).

use super::MockCarrier;

/// The DHL Express mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "dhl",
        routes: |_| {},
        fault_body: |status| ("application/json", format!("{{\"status\":{status}}}")),
    }
}
