//! Connectors to the outside world: carrier APIs (rates, labels, tracking)
//! and OEM parts-ordering APIs (declarative, [`oem`]), and the local mocks that reproduce their formats for tests and demos.
//! Connectors know the canonical model, not actix or the store.

pub mod carriers;
pub mod landed_cost;
pub mod mock;
pub mod oem;
