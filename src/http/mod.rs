//! The HTTP API: routes, body limits, metrics and request logging. Handlers
//! authenticate, call a flow or the store, and map errors in `error`.

mod auth;
mod customs;
pub mod error;
mod handlers;

use std::time::Instant;

use actix_web::dev::Service;
use actix_web::web;

use crate::metrics::label;

pub use auth::Caller;

/// Registers every route.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(handlers::healthz))
        .route("/readyz", web::get().to(handlers::readyz))
        .route("/metrics", web::get().to(handlers::metrics))
        .service(
            web::scope("/v1")
                .route("/x12", web::post().to(handlers::post_x12))
                .route("/po-acks", web::post().to(handlers::post_po_ack))
                .route("/ship-notices", web::post().to(handlers::post_ship_notice))
                .route("/invoices", web::post().to(handlers::post_invoice))
                .route("/documents", web::get().to(handlers::list_documents))
                .route("/documents/{id}", web::get().to(handlers::get_document))
                .route("/interchanges/{id}", web::get().to(handlers::get_interchange))
                .route("/admin/messages", web::get().to(handlers::list_messages))
                .route("/admin/messages/{id}", web::get().to(handlers::get_message))
                .route("/admin/messages/{id}/replay", web::post().to(handlers::replay_message))
                .route("/admin/messages/{id}/cancel", web::post().to(handlers::cancel_message))
                .route("/admin/destinations", web::get().to(handlers::destinations))
                .route("/rates", web::post().to(handlers::rates))
                .route("/labels", web::post().to(handlers::buy_label))
                .route("/labels/{id}", web::get().to(handlers::get_label))
                .route("/labels/{id}/void", web::post().to(handlers::void_label))
                .route("/tracking/subscriptions", web::post().to(handlers::subscribe))
                .route("/tracking/{carrier}/{number}", web::get().to(handlers::track))
                .route("/customs/quotes", web::post().to(customs::create_quote))
                .route("/customs/quotes/{id}", web::get().to(customs::get_quote))
                .route(
                    "/customs/quotes/{id}/commercial-invoice.pdf",
                    web::get().to(customs::commercial_invoice),
                )
                .route("/customs/{id}/commercial-invoice.pdf", web::get().to(customs::commercial_invoice)),
        )
        .default_service(web::to(handlers::not_found));
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
