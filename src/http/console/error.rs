//! Console errors, rendered as HTML pages (the API's problem+json is for machines).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};

use super::html::Html;
use super::layout;
use crate::http::error::ApiError;
use crate::store::StoreError;

/// What can go wrong on a console page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// No live session: go to the login page.
    #[error("please log in")]
    LoginRequired,
    /// The form's CSRF token is missing or wrong.
    #[error("the form has expired or did not come from this console; reload the page and try again")]
    Csrf,
    /// No such thing.
    #[error("not found")]
    NotFound,
    /// A search or form value is malformed.
    #[error("{0}")]
    BadRequest(String),
    /// The state does not allow the action.
    #[error("{0}")]
    Conflict(String),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else that failed on our side.
    #[error("{0}")]
    Internal(String),
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        use crate::flow::FlowError;
        match e {
            ApiError::NotFound | ApiError::Flow(FlowError::NotFound) => ConsoleError::NotFound,
            ApiError::Conflict(m) | ApiError::Flow(FlowError::Conflict(m)) => ConsoleError::Conflict(m),
            ApiError::BadRequest(m) => ConsoleError::BadRequest(m),
            ApiError::Flow(FlowError::Store(s)) => ConsoleError::Store(s),
            other if other.status_code().is_server_error() => ConsoleError::Internal(other.to_string()),
            other => ConsoleError::BadRequest(other.to_string()),
        }
    }
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::LoginRequired => StatusCode::SEE_OTHER,
            ConsoleError::Csrf => StatusCode::FORBIDDEN,
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Conflict(_) => StatusCode::CONFLICT,
            ConsoleError::Store(_) | ConsoleError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if let ConsoleError::LoginRequired = self {
            return HttpResponse::SeeOther()
                .insert_header(("location", "/console/login"))
                .insert_header(("cache-control", "no-store"))
                .finish();
        }
        let detail = if status.is_server_error() {
            tracing::error!(error = %self, "console request failed");
            "internal error; see the gateway log".to_string()
        } else {
            self.to_string()
        };
        let mut body = Html::new();
        body.elem("h1", &[], status.canonical_reason().unwrap_or("Error"));
        body.elem("p", &[("class", "error")], &detail);
        body.open("p", &[])
            .elem("a", &[("href", "/console")], "Back to the console")
            .close("p");
        layout::page(status, "Error", None, "", body)
    }
}
