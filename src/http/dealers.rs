//! Dealer endpoints: `POST /v1/dealers/{dealer}/replenishment`,
//! `GET /v1/dealers/{dealer}/orders` and `/orders/{id}`. A dealer's key
//! (owner = dealer id, scope `replenishment`) sees only its own orders.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use crate::flow::Gateway;
use crate::replenishment::ReplenishmentRequest;
use crate::store::{DealerOrder, Scope};

use super::auth::Caller;
use super::error::ApiError;
use super::handlers::read_body;
use super::openapi::{examples, DealerOrderList, Problem, ReplenishmentAnswer};

type Gw = web::Data<Gateway>;

/// Order what a dealer's stock calls for from its supplier.
///
/// Each part is followed through `mappings/parts/supersessions.csv` to its current number
/// (positions of older numbers are added to it); then, with the part's class rule from the
/// dealer's policy (`mappings/dealers/<dealer>.toml`), a part at or below its reorder point is
/// ordered up to its max, explicit lines are added on top, and the quantity is raised to the
/// minimum order and rounded up to the order multiple. The order gets the next PO number of
/// the dealer's series and goes to its supplier through the outbox, in one transaction: an
/// X12 850 to a trading partner or a JSON order to an OEM API. Status (855, 856, the OEM's
/// answer) shows on the order and is pushed to the dealer's webhook.
///
/// A dealer's key (owner = dealer id) orders for that dealer only; a key that also has
/// `admin` orders for any.
#[utoipa::path(
    post, path = "/v1/dealers/{dealer}/replenishment", tag = "dealers",
    params(
        ("dealer" = String, Path, description = "Dealer id (the file name of its policy in `mappings/dealers/`)", example = "lakeside-motors"),
        ("Idempotency-Key" = String, Header, description = "Required, at most 255 characters. The same key with the same body returns the first order (200); with another body, 422 `idempotency-key-reused`."),
    ),
    request_body(content = ReplenishmentRequest, example = examples::replenishment_request),
    responses(
        (status = 202, description = "Ordered: the order with its PO number and lines, `submitted` and queued to the supplier", body = DealerOrder, example = examples::dealer_order),
        (status = 200, description = "The Idempotency-Key was used before with this body: the same order, nothing sent again; or `nothing_to_order` (no part at or below its reorder point, no explicit line): no order, nothing stored", body = ReplenishmentAnswer),
        (status = 400, description = "`idempotency-key-missing`, or `bad-request` (the body could not be read)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "`not-found` (another dealer's key) or `unknown-dealer` (no policy for this dealer; `field` is `dealer`)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://tradelane.dev/problems/unknown-dealer", "title": "Not Found", "status": 404, "detail": "dealer: unknown dealer \"ghost-motors\"", "field": "dealer", "dealer": "ghost-motors"})),
        (status = 413, description = "`body-too-large`: larger than `json_limit`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document` (not JSON of this shape, unknown fields), `invalid-replenishment` (neither positions nor lines, an empty part, a negative stock figure, a quantity below 1; `field` names it), `supersession-loop` (a part's supersessions come back to it; `part` and `chain`) or `idempotency-key-reused`", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://tradelane.dev/problems/supersession-loop", "title": "Unprocessable Entity", "status": 422,
                "detail": "positions[0].part: part SP-902 is superseded in a loop (SP-902 -> SP-901 -> SP-902)",
                "field": "positions[0].part", "part": "SP-902", "chain": ["SP-902", "SP-901", "SP-902"]})),
    ),
    security(("bearer" = ["replenishment"]), ("api_key" = ["replenishment"]))
)]
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

/// List a dealer's orders.
///
/// Newest first, at most 100, without their history. A dealer's key lists its own dealer
/// only; a key that also has `admin` lists any.
#[utoipa::path(
    get, path = "/v1/dealers/{dealer}/orders", tag = "dealers",
    params(("dealer" = String, Path, description = "Dealer id", example = "lakeside-motors")),
    responses(
        (status = 200, description = "The dealer's orders", body = DealerOrderList),
        (status = 404, description = "`not-found` (another dealer's key) or `unknown-dealer`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["replenishment"]), ("api_key" = ["replenishment"]))
)]
pub async fn list_orders(gw: Gw, caller: Caller, dealer: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Replenishment)?;
    let orders = gw.dealer_orders(key, &dealer).await?;
    Ok(HttpResponse::Ok().json(json!({ "orders": orders })))
}

/// Read one dealer order with its status, shipments and history.
#[utoipa::path(
    get, path = "/v1/dealers/{dealer}/orders/{id}", tag = "dealers",
    params(
        ("dealer" = String, Path, description = "Dealer id", example = "lakeside-motors"),
        ("id" = String, Path, description = "Order id (`dor_…`)", example = "dor_01JDX5B2N8C4P7Q1R6S3T9V0WX"),
    ),
    responses(
        (status = 200, description = "The order; `status` follows the supplier (`submitted`, `sent`, `acknowledged`, `rejected`, `shipped`, `delivery_failed`)", body = DealerOrder, example = examples::dealer_order_shipped),
        (status = 404, description = "`not-found` (no such order of this dealer, or another dealer's key) or `unknown-dealer`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["replenishment"]), ("api_key" = ["replenishment"]))
)]
pub async fn get_order(gw: Gw, caller: Caller, path: web::Path<(String, String)>) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Replenishment)?;
    let (dealer, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(gw.dealer_order(key, &dealer, &id).await?))
}
