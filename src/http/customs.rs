//! Customs endpoints: landed-cost quotes and the commercial invoice PDF.

use actix_web::{web, HttpRequest, HttpResponse};

use crate::customs::quote::CustomsQuote;
use crate::flow::customs::QuoteOrder;
use crate::flow::Gateway;
use crate::store::Scope;

use super::auth::Caller;
use super::error::ApiError;
use super::handlers::read_body;
use super::openapi::{examples, Pdf, Problem};

type Gw = web::Data<Gateway>;

/// Quote duties, taxes and fees of an international shipment.
///
/// The declaration is validated as for a label (every bad field is named), the provider
/// (`provider`, else `landed_cost.default_provider`) is asked once, and the canonical quote is
/// stored for the key's owner before it is answered. It stays readable, with its commercial
/// invoice, under its id; `expires_at` is when the provider's amounts stop being valid
/// (`landed_cost.quote_ttl_secs`).
#[utoipa::path(
    post, path = "/v1/customs/quotes", tag = "customs",
    request_body(content = QuoteOrder, example = examples::customs_quote_request),
    responses(
        (status = 201, description = "Quoted and stored: duty, tax and fees per line and in total (`Location` names the quote)", body = CustomsQuote,
            headers(("Location" = String, description = "`/v1/customs/quotes/{id}`")), example = examples::customs_quote),
        (status = 400, description = "`bad-request`: the body could not be read", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "`body-too-large`: larger than `json_limit`", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`invalid-document` (not JSON of this shape, unknown fields), `invalid-customs` (every invalid field of the declaration, the countries or the shipping charge in `errors`), `unknown-provider` (`provider` is not configured) or `landed-cost-rejected` (the provider refused the request)", body = Problem, content_type = "application/problem+json",
            example = json!({"type": "https://tradelane.dev/problems/invalid-customs", "title": "Unprocessable Entity", "status": 422,
                "detail": "invalid customs declaration: declaration.commodities[1].hs_code: HS code \"84A210\" has 'A'; only digits (with dots or spaces) are allowed",
                "errors": [{"field": "declaration.commodities[1].hs_code", "message": "HS code \"84A210\" has 'A'; only digits (with dots or spaces) are allowed"}]})),
        (status = 502, description = "`landed-cost-auth`, `landed-cost-response` or `landed-cost-unavailable`: the provider failed (throttling and 5xx are retried first); nothing is stored", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "`landed-cost-timeout`: the provider did not answer in time; nothing is stored", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn create_quote(gw: Gw, caller: Caller, req: HttpRequest, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let key = caller.require(Scope::Shipping)?;
    let body = read_body(&req, payload, gw.config.json_limit).await?;
    let quote = gw.quote_landed_cost(&key.owner, &body).await?;
    Ok(HttpResponse::Created()
        .insert_header(("location", format!("/v1/customs/quotes/{}", quote.id)))
        .json(quote))
}

/// Read a stored landed-cost quote.
///
/// A key sees its owner's quotes; a key that also has `admin` sees every owner's.
#[utoipa::path(
    get, path = "/v1/customs/quotes/{id}", tag = "customs",
    params(("id" = String, Path, description = "Quote id (`lcq_…`)", example = "lcq_01JDX4S7Q9V2M8K3F6T1R0B5NW")),
    responses(
        (status = 200, description = "The quote, as answered when it was created", body = CustomsQuote, example = examples::customs_quote),
        (status = 404, description = "`not-found`: no such quote, or another owner's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn get_quote(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let record = gw.customs_quote(caller.viewer(), &id).await?;
    Ok(HttpResponse::Ok().json(record.quote))
}

async fn invoice_pdf(gw: Gw, caller: Caller, id: &str) -> Result<HttpResponse, ApiError> {
    caller.require(Scope::Shipping)?;
    let (number, pdf) = gw.commercial_invoice(caller.viewer(), id).await?;
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

/// The commercial invoice of a quoted shipment, as PDF.
///
/// Printed from the stored declaration and parties: exporter and importer with their tax ids,
/// every line with HS code, origin and value, freight (the quoted shipping charge when the
/// declaration names none), terms of sale, the EEI filing and the signature.
#[utoipa::path(
    get, path = "/v1/customs/quotes/{id}/commercial-invoice.pdf", tag = "customs",
    params(("id" = String, Path, description = "Quote id (`lcq_…`)", example = "lcq_01JDX4S7Q9V2M8K3F6T1R0B5NW")),
    responses(
        (status = 200, description = "The commercial invoice (lines that do not fit go on further pages); `Content-Disposition: inline; filename=\"commercial-invoice-<invoice number>.pdf\"`", body = Pdf, content_type = "application/pdf",
            headers(("Content-Disposition" = String, description = "`inline; filename=\"commercial-invoice-INV-2026-0042.pdf\"`"))),
        (status = 404, description = "`not-found`: no such quote, or another owner's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn commercial_invoice(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    invoice_pdf(gw, caller, &id).await
}

/// The commercial invoice of a quoted shipment, as PDF (short path).
///
/// The same document as `GET /v1/customs/quotes/{id}/commercial-invoice.pdf`.
#[utoipa::path(
    get, path = "/v1/customs/{id}/commercial-invoice.pdf", tag = "customs",
    params(("id" = String, Path, description = "Quote id (`lcq_…`)", example = "lcq_01JDX4S7Q9V2M8K3F6T1R0B5NW")),
    responses(
        (status = 200, description = "The commercial invoice", body = Pdf, content_type = "application/pdf",
            headers(("Content-Disposition" = String, description = "`inline; filename=\"commercial-invoice-INV-2026-0042.pdf\"`"))),
        (status = 404, description = "`not-found`: no such quote, or another owner's", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = ["shipping"]), ("api_key" = ["shipping"]))
)]
pub async fn commercial_invoice_short(gw: Gw, caller: Caller, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    invoice_pdf(gw, caller, &id).await
}
