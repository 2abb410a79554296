//! Customs endpoints: landed-cost quotes and the commercial invoice PDF.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::flow::Gateway;
use crate::store::Scope;

use super::auth::Caller;
use super::error::ApiError;
use super::handlers::read_body;

type Gw = web::Data<Gateway>;

/// `POST /v1/customs/quotes`: 201 with the stored quote.
pub async fn create_quote(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Shipping)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let quote = gw.quote_landed_cost(&key.owner, &body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/customs/quotes/{}", quote.id)))
        .json(quote))
}

/// `GET /v1/customs/quotes/{id}`.
pub async fn get_quote(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let record = gw.customs_quote(caller.viewer(), &id).await?;
    Ok(HttpResponse::Ok().json(record.quote))
}

/// `GET /v1/customs/quotes/{id}/commercial-invoice.pdf` (also `/v1/customs/{id}/commercial-invoice.pdf`).
pub async fn commercial_invoice(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let (number, pdf) = gw.commercial_invoice(caller.viewer(), &id).await?;
    let file: String = number
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(("content-disposition", format!("inline; filename=\"commercial-invoice-{file}.pdf\"")))
        .body(pdf))
}
