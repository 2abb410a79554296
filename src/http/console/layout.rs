//! The page frame: head, navigation, logout form and the security headers
//! every console response carries.

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use super::html::Html;
use super::session::Session;

/// The stylesheet, served from `/console/static/console.css`.
pub const CSS: &str = include_str!("console.css");

/// No scripts, no inline styles, nothing from elsewhere; forms post only here.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const NAV: [(&str, &str, &str); 5] = [
    ("overview", "/console", "Overview"),
    ("documents", "/console/documents", "Documents"),
    ("interchanges", "/console/interchanges", "Interchanges"),
    ("outbox", "/console/outbox", "Outbox"),
    ("carriers", "/console/carriers", "Carriers"),
];

/// A whole page. `session` adds the navigation and the logout button.
pub fn page(status: StatusCode, title: &str, session: Option<&Session>, active: &str, body: Html) -> HttpResponse {
    let mut h = Html::new();
    h.raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .elem("title", &[], &format!("{title} · Tradelane console"))
        .raw("<link rel=\"stylesheet\" href=\"/console/static/console.css\"></head><body>")
        .raw("<header><span class=\"brand\">Tradelane</span>");
    if let Some(s) = session {
        h.raw("<nav>");
        for (id, href, label) in NAV {
            let class = if id == active { "active" } else { "" };
            h.elem("a", &[("href", href), ("class", class)], label);
        }
        h.raw("</nav>");
        h.open("form", &[("method", "post"), ("action", "/console/logout"), ("class", "logout")])
            .void("input", &[("type", "hidden"), ("name", "csrf"), ("value", &s.csrf)])
            .elem("span", &[("class", "who")], &s.owner)
            .elem("button", &[("type", "submit")], "Log out")
            .close("form");
    }
    h.raw("</header><main>").append(body).raw("</main></body></html>");
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("content-security-policy", CSP))
        .insert_header(("x-content-type-options", "nosniff"))
        .insert_header(("x-frame-options", "DENY"))
        .insert_header(("referrer-policy", "same-origin"))
        .body(h.into_string())
}
