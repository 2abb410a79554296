//! The HTTP API: routes, body limits, metrics and request logging. Handlers
//! authenticate, call a flow or the store, and map errors in `error`.
//!
//! Every route is registered through [`Routes`] in [`api`], one line per
//! route: [`routes`] registers that list on actix and [`route_table`] returns
//! it as data, so tests can compare it with the OpenAPI document built in
//! [`openapi`]. Do not call `cfg.route`/`cfg.service` directly: a route that
//! bypasses [`Routes`] is invisible to the route-coverage test.

mod auth;
pub mod console;
mod customs;
mod dealers;
pub mod error;
mod handlers;
pub mod openapi;

use std::time::Instant;

use actix_web::dev::Service;
use actix_web::http::Method;
use actix_web::{web, FromRequest, Handler, Responder};

use crate::metrics::label;

pub use auth::Caller;

/// Route registrar: adds each route to an actix `ServiceConfig` (when it has one) and records
/// `(method, path)`. Paths are full paths with `{name}` segments, as in the OpenAPI document.
pub struct Routes<'a> {
    cfg: Option<&'a mut web::ServiceConfig>,
    table: Vec<(Method, &'static str)>,
}

impl Routes<'_> {
    /// Registers `handler` for `method` on `path`.
    pub fn add<F, Args>(&mut self, method: Method, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        if let Some(cfg) = self.cfg.as_deref_mut() {
            cfg.route(path, web::method(method.clone()).to(handler));
        }
        self.table.push((method, path));
        self
    }

    /// `GET path`.
    pub fn get<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::GET, path, handler)
    }

    /// `POST path`.
    pub fn post<F, Args>(&mut self, path: &'static str, handler: F) -> &mut Self
    where
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.add(Method::POST, path, handler)
    }
}

/// The route table: every route the gateway serves. A new module adds its
/// routes here (or in a `pub fn register(r: &mut Routes)` of its own, called
/// from here); see [`openapi`] for documenting them.
fn api(r: &mut Routes<'_>) {
    r.get("/healthz", handlers::healthz)
        .get("/readyz", handlers::readyz)
        .get("/metrics", handlers::metrics)
        .get("/openapi.json", openapi::openapi_json)
        .post("/v1/x12", handlers::post_x12)
        .post("/v1/po-acks", handlers::post_po_ack)
        .post("/v1/ship-notices", handlers::post_ship_notice)
        .post("/v1/invoices", handlers::post_invoice)
        .get("/v1/documents", handlers::list_documents)
        .get("/v1/documents/{id}", handlers::get_document)
        .get("/v1/interchanges/{id}", handlers::get_interchange)
        .get("/v1/admin/messages", handlers::list_messages)
        .get("/v1/admin/messages/{id}", handlers::get_message)
        .post("/v1/admin/messages/{id}/replay", handlers::replay_message)
        .post("/v1/admin/messages/{id}/cancel", handlers::cancel_message)
        .get("/v1/admin/destinations", handlers::destinations)
        .post("/v1/rates", handlers::rates)
        .post("/v1/labels", handlers::buy_label)
        .get("/v1/labels/{id}", handlers::get_label)
        .post("/v1/labels/{id}/void", handlers::void_label)
        .post("/v1/tracking/subscriptions", handlers::subscribe)
        .get("/v1/tracking/{carrier}/{number}", handlers::track)
        .post("/v1/dealers/{dealer}/replenishment", dealers::replenish)
        .get("/v1/dealers/{dealer}/orders", dealers::list_orders)
        .get("/v1/dealers/{dealer}/orders/{id}", dealers::get_order)
        .post("/v1/customs/quotes", customs::create_quote)
        .get("/v1/customs/quotes/{id}", customs::get_quote)
        .get("/v1/customs/quotes/{id}/commercial-invoice.pdf", customs::commercial_invoice)
        .get("/v1/customs/{id}/commercial-invoice.pdf", customs::commercial_invoice_short);
}

/// Registers every route, problem+json 404 for anything else, and problem+json 400 for a
/// query string that does not parse (instead of actix's plain-text answer).
pub fn routes(cfg: &mut web::ServiceConfig) {
    api(&mut Routes {
        cfg: Some(&mut *cfg),
        table: Vec::new(),
    });
    cfg.app_data(web::QueryConfig::default().error_handler(|e, _| error::ApiError::BadRequest(format!("query string: {e}")).into()))
        // The operator console is HTML for people, not part of the API description.
        .service(console::scope())
        .default_service(web::to(handlers::not_found));
}

/// Every `(method, path)` that [`routes`] registers, in registration order.
pub fn route_table() -> Vec<(Method, &'static str)> {
    let mut r = Routes {
        cfg: None,
        table: Vec::new(),
    };
    api(&mut r);
    r.table
}

/// Middleware: request counter and latency histogram per route pattern, and a log line.
pub fn observe<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl std::future::Future<Output = Result<actix_web::dev::ServiceResponse<B>, actix_web::Error>> + 'static
where
    S: Service<actix_web::dev::ServiceRequest, Response = actix_web::dev::ServiceResponse<B>, Error = actix_web::Error>,
    S::Future: 'static,
{
    let start = Instant::now();
    let metrics = req.app_data::<web::Data<crate::flow::Gateway>>().map(|g| g.metrics.clone());
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let route = res.request().match_pattern().unwrap_or_else(|| "unmatched".into());
        let method = res.request().method().to_string();
        let status = res.status().as_u16();
        let secs = start.elapsed().as_secs_f64();
        if let Some(m) = metrics {
            let labels = format!("method=\"{method}\",route=\"{}\",status=\"{status}\"", label(&route));
            m.inc("tradelane_http_requests_total", labels);
            m.observe(
                "tradelane_http_request_duration_seconds",
                format!("method=\"{method}\",route=\"{}\"", label(&route)),
                secs,
            );
        }
        tracing::info!(%method, %route, status, ms = secs * 1000.0, "request");
        Ok(res)
    }
}
