//! UPS mock (placeholder until the mock lands).

use super::MockCarrier;

/// The UPS mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "ups",
        routes: |_| {},
        fault_body: |status| ("application/json", format!("{{\"status\":{status}}}")),
    }
}
