//! USPS mock (placeholder until the mock lands).

use super::MockCarrier;

/// The USPS mock.
pub fn mock() -> MockCarrier {
    MockCarrier {
        carrier: "usps",
        routes: |_| {},
        fault_body: |status| ("application/json", format!("{{\"status\":{status}}}")),
    }
}
