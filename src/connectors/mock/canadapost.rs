//! Canada Post mock (placeholder until the mock lands).

use super::MockCarrier;

/// The Canada Post mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "canadapost",
        routes: |_| {},
        fault_body: |status| ("application/json", format!("{{\"status\":{status}}}")),
    }
}
