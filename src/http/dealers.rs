//! Dealer endpoints: `POST /v1/dealers/{dealer}/replenishment`,
//! `GET /v1/dealers/{dealer}/orders` and `/orders/{id}`. A dealer's key
//! (owner = dealer id, scope `replenishment`) sees only its own orders.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::flow::Gateway;
use crate::store::Scope;

use super::auth::Caller;
use super::error::ApiError;
use super::handlers::read_body;

type Gw = web::Data<Gateway>;

/// `POST /v1/dealers/{dealer}/replenishment`: 202 with the order, 200 for a replay or when nothing needs ordering.
pub async fn replenish(
    gw: Gw,
    caller: Caller,
    dealer: web::Path<String>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Replenishment)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let idem = req.headers().get("idempotency-key").and_then(|v| v.to_str().ok());
    let r = gw.replenish(key, &dealer, idem, &body).await?;
    Ok(match (r.order, r.created) {
        (None, _) => HttpResponse::Ok().json(json!({ "status": "nothing_to_order", "lines": [] })),
        (Some(o), true) => HttpResponse::Accepted().json(o),
        (Some(o), false) => HttpResponse::Ok().json(o),
    })
}

/// `GET /v1/dealers/{dealer}/orders`.
pub async fn list_orders(gw: Gw, caller: Caller, dealer: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Replenishment)?;
    let orders = gw.dealer_orders(key, &dealer).await?;
    Ok(HttpResponse::Ok().json(json!({ "orders": orders })))
}

/// `GET /v1/dealers/{dealer}/orders/{id}`.
pub async fn get_order(gw: Gw, caller: Caller, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Replenishment)?;
    let (dealer, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(gw.dealer_order(key, &dealer, &id).await?))
}
