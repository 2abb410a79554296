//! Connectors to the outside world: carrier APIs (rates, labels, tracking)
//! and the local mock carriers that reproduce their formats for tests and demos.
//! Connectors know the canonical model, not actix or the store.

pub mod carriers;
pub mod landed_cost;
pub mod mock;
