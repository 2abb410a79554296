//! API-key authentication: `Authorization: Bearer tl_…` (or `X-Api-Key`).

use std::future::Future;
use std::pin::Pin;

use actix_web::{web, FromRequest, HttpRequest};

use crate::flow::Gateway;
use crate::store::{ApiKey, Scope};

use super::error::ApiError;

/// The authenticated caller.
pub struct Caller(pub ApiKey);

impl Caller {
    /// Fails with 403 unless the key has `scope`.
    pub fn require(&self, scope: Scope) -> Result<&ApiKey, ApiError> {
        if self.0.has(scope) {
            Ok(&self.0)
        } else {
            Err(ApiError::Forbidden(scope.as_str()))
        }
    }

    /// `None` for operators (see everything), else the owner to filter by.
    pub fn viewer(&self) -> Option<&str> {
        (!self.0.has(Scope::Admin)).then_some(self.0.owner.as_str())
    }

    /// True when the caller may see data of `owner` (or exchanged with `partner`).
    pub fn sees(&self, owner: &str, partner: Option<&str>) -> bool {
        self.0.has(Scope::Admin) || self.0.owner == owner || partner == Some(self.0.owner.as_str())
    }
}

fn token(req: &HttpRequest) -> Option<String> {
    let h = req.headers();
    if let Some(v) = h.get("authorization").and_then(|v| v.to_str().ok()) {
        return v.strip_prefix("Bearer ").map(|t| t.trim().to_string());
    }
    h.get("x-api-key").and_then(|v| v.to_str().ok()).map(|t| t.trim().to_string())
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let gateway = req.app_data::<web::Data<Gateway>>().cloned();
        let token = token(req);
        Box::pin(async move {
            let (Some(gateway), Some(token)) = (gateway, token) else {
                return Err(ApiError::Unauthorized);
            };
            match gateway.store.verify_key(&token).await? {
                Some(key) => Ok(Caller(key)),
                None => Err(ApiError::Unauthorized),
            }
        })
    }
}
