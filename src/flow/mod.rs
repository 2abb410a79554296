//! What the gateway does with a request, independent of HTTP: receive X12
//! (validate, translate, acknowledge, store, queue) and send documents
//! (validate, number, render, store, queue). Each runs in one transaction.

pub mod customs;
mod dealer_status;
mod dealers;
mod inbound;
mod outbound;
pub mod shipping;

use std::sync::Arc;

use crate::config::Config;
use crate::mapping::{PartnerProfile, Partners};
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::store::{Store, StoreError};
use crate::x12::schema::Registry;

pub use dealer_status::DealerDeliveries;
pub use dealers::Replenished;
pub use inbound::Receipt;
pub use outbound::{OutboundKind, Sent};

/// Errors of the flows; the HTTP layer maps each to a problem type.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The caller's key does not belong to a trading partner.
    #[error("the key's owner {0:?} is not a trading partner")]
    NotAPartner(String),
    /// The ISA sender is not the key's partner.
    #[error("interchange sender {got} does not match partner {partner} ({expected})")]
    SenderMismatch {
        /// Partner id.
        partner: String,
        /// Its ISA qualifier/id.
        expected: String,
        /// The ISA's.
        got: String,
    },
    /// Nothing readable as X12; the submission is stored as `submission`.
    #[error("no X12 interchange could be read: {reason}")]
    Unreadable {
        /// Why.
        reason: String,
        /// Stored submission id.
        submission: String,
    },
    /// No such partner.
    #[error("unknown partner {0:?}")]
    UnknownPartner(String),
    /// The request body is not a valid document.
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    /// The Idempotency-Key header is missing.
    #[error("the Idempotency-Key header is required")]
    MissingIdempotencyKey,
    /// The Idempotency-Key was used with another body.
    #[error("the Idempotency-Key {0:?} was already used with a different request body")]
    IdempotencyKeyReused(String),
    /// Not visible to the caller.
    #[error("not found")]
    NotFound,
    /// No such carrier configured.
    #[error("carrier {0:?} is not configured")]
    UnknownCarrier(String),
    /// A carrier call failed.
    #[error(transparent)]
    Carrier(crate::connectors::carriers::CarrierError),
    /// A landed-cost provider call failed.
    #[error("landed-cost provider: {0}")]
    LandedCost(crate::connectors::carriers::CarrierError),
    /// No such landed-cost provider configured.
    #[error("landed-cost provider {0:?} is not configured")]
    UnknownProvider(String),
    /// A shipment crossing a customs border has no customs declaration.
    #[error("{0}")]
    CustomsRequired(crate::customs::CustomsError),
    /// The customs declaration is invalid; every field error is listed.
    #[error("invalid customs declaration: {0}")]
    InvalidCustoms(crate::customs::FieldErrors),
    /// No rate fits.
    #[error("{0}")]
    NoRate(String),
    /// The resource is in a state that does not allow the action.
    #[error("{0}")]
    Conflict(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A background task failed.
    #[error("internal error: {0}")]
    Internal(String),
    /// No dealer policy with this id.
    #[error("dealer: unknown dealer {0:?}")]
    UnknownDealer(String),
    /// A replenishment request cannot be turned into an order.
    #[error(transparent)]
    Replenishment(crate::replenishment::ReplenishmentError),
}

impl From<crate::customs::CustomsError> for FlowError {
    fn from(e: crate::customs::CustomsError) -> Self {
        match e {
            crate::customs::CustomsError::Invalid(fields) => FlowError::InvalidCustoms(fields),
            required => FlowError::CustomsRequired(required),
        }
    }
}

impl From<sqlx::Error> for FlowError {
    fn from(e: sqlx::Error) -> Self {
        FlowError::Store(StoreError::Db(e))
    }
}

/// Everything the flows need, shared by the HTTP workers.
pub struct Gateway {
    /// The store.
    pub store: Store,
    /// X12 schemas.
    pub registry: Arc<Registry>,
    /// Partner profiles.
    pub partners: Arc<Partners>,
    /// Configuration.
    pub config: Config,
    /// Carrier adapters.
    pub carriers: Arc<crate::connectors::carriers::Carriers>,
    /// Dealer policies.
    pub dealers: Arc<crate::replenishment::Dealers>,
    /// Part supersessions.
    pub supersessions: Arc<crate::replenishment::Supersessions>,
    /// OEM connectors.
    pub oems: Arc<crate::connectors::oem::Oems>,
    /// Landed-cost providers.
    pub landed_cost: Arc<crate::connectors::landed_cost::LandedCostProviders>,
    /// Delivery engine (absent when this process does not deliver).
    pub outbox: Option<Arc<Outbox>>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

impl Gateway {
    /// The partner profile of `id`.
    pub fn partner(&self, id: &str) -> Option<&PartnerProfile> {
        self.partners.get(id).ok()
    }

    /// Destination for a partner's acks and outbound documents.
    pub fn partner_destination(&self, partner: &str) -> Option<&str> {
        self.config.partners.get(partner).map(|r| r.destination.as_str())
    }

    fn notify(&self, destinations: &[String]) {
        if let Some(o) = &self.outbox {
            destinations.iter().for_each(|d| o.notify(d));
        }
    }
}

/// The business reference of a canonical document (PO number, shipment id, invoice number).
fn reference(doc: &serde_json::Value) -> Option<String> {
    ["po_number", "shipment_id", "invoice_number"]
        .iter()
        .find_map(|k| doc.get(k).and_then(|v| v.as_str()).map(str::to_string))
}
