//! The web console at `/console`: server-rendered HTML for operators.
//!
//! Login by an API key with the admin scope starts a server-side session
//! (`session`); pages list documents and interchanges with search
//! (`records`), show the outbox with dead letters and replay (`operations`),
//! carrier activity, and the throughput and KPI charts (`overview`, drawn as
//! inline SVG by `charts`). Everything is escaped by the `html` builder; the
//! one stylesheet is compiled in, nothing is fetched from elsewhere.

mod charts;
mod error;
mod html;
mod layout;
mod operations;
mod overview;
mod records;
mod search;
mod session;

use actix_web::{web, HttpResponse};

pub use error::ConsoleError;

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("cache-control", "public, max-age=3600"))
        .insert_header(("x-content-type-options", "nosniff"))
        .body(layout::CSS)
}

async fn not_found(_: session::Session) -> Result<HttpResponse, ConsoleError> {
    Err(ConsoleError::NotFound)
}

/// The console's routes, under `/console`.
pub fn scope() -> actix_web::Scope {
    web::scope("/console")
        .route("", web::get().to(overview::overview))
        .route("/", web::get().to(overview::overview))
        .route("/login", web::get().to(session::show_login))
        .route("/login", web::post().to(session::login))
        .route("/logout", web::post().to(session::logout))
        .route("/static/console.css", web::get().to(stylesheet))
        .route("/documents", web::get().to(records::documents))
        .route("/documents/{id}", web::get().to(records::document))
        .route("/interchanges", web::get().to(records::interchanges))
        .route("/interchanges/{id}", web::get().to(records::interchange))
        .route("/outbox", web::get().to(operations::outbox))
        .route("/outbox/{id}/replay", web::post().to(operations::replay))
        .route("/carriers", web::get().to(operations::carriers))
        .default_service(web::to(not_found))
}
