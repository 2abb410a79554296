//! The one place errors become HTTP: `application/problem+json` (RFC 9457)
//! with a stable `type` per error.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::flow::FlowError;
use crate::store::StoreError;

/// Base of every problem `type`.
pub const PROBLEM_BASE: &str = "https://tradelane.dev/problems/";

/// An API error.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No or bad credentials.
    #[error("a valid API key is required (Authorization: Bearer tl_…)")]
    Unauthorized,
    /// The key lacks a scope.
    #[error("this API key lacks the {0} scope")]
    Forbidden(&'static str),
    /// Unknown or someone else's resource.
    #[error("not found")]
    NotFound,
    /// The request is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The body is too large.
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    /// The state does not allow the action.
    #[error("{0}")]
    Conflict(String),
    /// A flow failed.
    #[error(transparent)]
    Flow(#[from] FlowError),
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Flow(FlowError::Store(e))
    }
}

impl ApiError {
    fn kind(&self) -> (StatusCode, &'static str) {
        use FlowError as F;
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "missing-scope"),
            ApiError::NotFound | ApiError::Flow(F::NotFound) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "body-too-large"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "invalid-state"),
            ApiError::Flow(f) => match f {
                F::NotAPartner(_) => (StatusCode::FORBIDDEN, "not-a-partner"),
                F::SenderMismatch { .. } => (StatusCode::FORBIDDEN, "sender-mismatch"),
                F::Unreadable { .. } => (StatusCode::BAD_REQUEST, "x12-unreadable"),
                F::UnknownPartner(_) => (StatusCode::NOT_FOUND, "unknown-partner"),
                F::InvalidDocument(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-document"),
                F::MissingIdempotencyKey => (StatusCode::BAD_REQUEST, "idempotency-key-missing"),
                F::IdempotencyKeyReused(_) => (StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused"),
                F::NotFound => (StatusCode::NOT_FOUND, "not-found"),
                F::UnknownCarrier(_) => (StatusCode::NOT_FOUND, "unknown-carrier"),
                F::NoRate(_) => (StatusCode::UNPROCESSABLE_ENTITY, "no-rate"),
                F::CustomsRequired(_) => (StatusCode::UNPROCESSABLE_ENTITY, "customs-required"),
                F::InvalidCustoms(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-customs"),
                F::Conflict(_) => (StatusCode::CONFLICT, "invalid-state"),
                F::Carrier(e) => {
                    use crate::connectors::carriers::CarrierError as C;
                    match e {
                        C::Rejected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "carrier-rejected"),
                        C::Unsupported(_) => (StatusCode::UNPROCESSABLE_ENTITY, "carrier-unsupported"),
                        C::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-shipment"),
                        C::Auth(_) => (StatusCode::BAD_GATEWAY, "carrier-auth"),
                        C::Parse(_) => (StatusCode::BAD_GATEWAY, "carrier-response"),
                        C::RateLimited | C::Unavailable(_) | C::Network(_) => (StatusCode::BAD_GATEWAY, "carrier-unavailable"),
                        C::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "carrier-timeout"),
                    }
                }
                F::UnknownDealer(_) => (StatusCode::NOT_FOUND, "unknown-dealer"),
                F::Replenishment(crate::replenishment::ReplenishmentError::SupersessionLoop { .. }) => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "supersession-loop")
                }
                F::Replenishment(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-replenishment"),
                F::UnknownProvider(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown-provider"),
                F::LandedCost(e) => {
                    use crate::connectors::carriers::CarrierError as C;
                    match e {
                        C::Rejected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "landed-cost-rejected"),
                        // A provider without credentials or base URL: the gateway's configuration, not the caller.
                        C::Unsupported(_) | C::Invalid(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
                        C::Auth(_) => (StatusCode::BAD_GATEWAY, "landed-cost-auth"),
                        C::Parse(_) => (StatusCode::BAD_GATEWAY, "landed-cost-response"),
                        C::RateLimited | C::Unavailable(_) | C::Network(_) => (StatusCode::BAD_GATEWAY, "landed-cost-unavailable"),
                        C::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "landed-cost-timeout"),
                    }
                }
                F::Store(_) | F::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            },
        }
    }
}

/// A problem+json response.
pub fn problem(status: StatusCode, slug: &str, detail: &str, extra: Option<serde_json::Value>) -> HttpResponse {
    let mut body = json!({
        "type": format!("{PROBLEM_BASE}{slug}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let (Some(serde_json::Value::Object(extra)), Some(obj)) = (extra, body.as_object_mut()) {
        obj.extend(extra);
    }
    HttpResponse::build(status)
        .content_type("application/problem+json")
        .body(body.to_string())
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.kind().0
    }

    fn error_response(&self) -> HttpResponse {
        let (status, slug) = self.kind();
        let extra = match self {
            ApiError::Flow(FlowError::Unreadable { submission, .. }) => Some(json!({ "submission_id": submission })),
            ApiError::Flow(FlowError::UnknownDealer(dealer)) => Some(json!({ "field": "dealer", "dealer": dealer })),
            ApiError::Flow(FlowError::UnknownProvider(_)) => Some(json!({ "field": "provider" })),
            ApiError::Flow(FlowError::Replenishment(e)) => Some(match e {
                crate::replenishment::ReplenishmentError::SupersessionLoop { field, part, chain } => {
                    json!({ "field": field, "part": part, "chain": chain })
                }
                other => json!({ "field": other.field() }),
            }),
            ApiError::Flow(FlowError::InvalidCustoms(fields)) => Some(json!({ "errors": fields.0 })),
            ApiError::Flow(FlowError::CustomsRequired(crate::customs::CustomsError::Required { path, .. })) => {
                Some(json!({ "errors": [{ "field": path, "message": "required" }] }))
            }
            _ => None,
        };
        if status.is_server_error() {
            // Details of internal failures go to the log, not to the caller.
            tracing::error!(error = %self, "request failed");
            return problem(status, slug, "internal error; see the gateway log", None);
        }
        problem(status, slug, &self.to_string(), extra)
    }
}
