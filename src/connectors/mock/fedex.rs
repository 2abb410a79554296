//! FedEx mock (placeholder until the mock lands).

use super::MockCarrier;

/// The FedEx mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "fedex",
        routes: |_| {},
        fault_body: |status| ("application/json", format!("{{\"status\":{status}}}")),
    }
}
