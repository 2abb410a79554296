//! Canonical business documents, independent of X12.
//!
//! Field names are a public contract: fulfillment systems, dealers and OEM
//! connectors read and write these JSON shapes. Values are parsed into types
//! that cannot hold invalid data ([`Date`], [`Decimal`], [`Amount`]).
//! [`schema`] exports JSON Schema for every document.

mod documents;
mod values;

pub use documents::*;
pub use values::{Amount, Date, Decimal, Text, ValueError};

/// JSON Schema of every canonical document, by name.
pub fn schema() -> serde_json::Value {
    let mut all = serde_json::Map::new();
    let gen = || schemars::gen::SchemaSettings::draft07().into_generator();
    all.insert(
        "PurchaseOrder".into(),
        serde_json::to_value(gen().into_root_schema_for::<PurchaseOrder>()).unwrap_or_default(),
    );
    all.insert(
        "PurchaseOrderAck".into(),
        serde_json::to_value(gen().into_root_schema_for::<PurchaseOrderAck>()).unwrap_or_default(),
    );
    all.insert(
        "ShipNotice".into(),
        serde_json::to_value(gen().into_root_schema_for::<ShipNotice>()).unwrap_or_default(),
    );
    all.insert(
        "Invoice".into(),
        serde_json::to_value(gen().into_root_schema_for::<Invoice>()).unwrap_or_default(),
    );
    all.insert(
        "FunctionalAck".into(),
        serde_json::to_value(gen().into_root_schema_for::<FunctionalAck>()).unwrap_or_default(),
    );
    serde_json::Value::Object(all)
}
