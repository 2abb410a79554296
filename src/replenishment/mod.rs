//! Dealer replenishment, pure: dealer policies from `mappings/dealers/`,
//! supersessions from `mappings/parts/supersessions.csv`, and the order a
//! set of stock positions and order lines calls for. Nothing here touches
//! the store, HTTP or the outbox.

mod plan;
mod policy;
mod supersession;

pub use plan::{plan, OrderLine, ReplenishmentRequest, RequestLine, StockPosition};
pub use policy::{ClassRule, DealerPolicy, Dealers, Route, Webhook};
pub use supersession::{Resolution, Supersession, Supersessions};

/// Errors loading dealer policies or the supersession table.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is invalid.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

/// Errors computing an order from a request; each names the offending field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplenishmentError {
    /// A part's supersessions lead back to themselves.
    #[error("{field}: part {part} is superseded in a loop ({})", chain.join(" -> "))]
    SupersessionLoop {
        /// The request field naming the part (`positions[0].part`).
        field: String,
        /// The part asked for.
        part: String,
        /// The chain walked, ending with the part seen twice.
        chain: Vec<String>,
    },
    /// A value is not acceptable.
    #[error("{field}: {reason}")]
    Invalid {
        /// The request field (`lines[2].quantity`).
        field: String,
        /// What is wrong.
        reason: String,
    },
}

impl ReplenishmentError {
    /// The request field the error is about.
    pub fn field(&self) -> &str {
        match self {
            ReplenishmentError::SupersessionLoop { field, .. } | ReplenishmentError::Invalid { field, .. } => field,
        }
    }
}
