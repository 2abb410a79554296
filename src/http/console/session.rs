//! Login by admin API key, server-side sessions and CSRF protection.
//!
//! `POST /console/login` checks the key; an admin key gets a random session
//! token in an HttpOnly, SameSite=Strict cookie (only its hash is stored).
//! Every form carries a CSRF token derived from the session token, which the
//! stored hash cannot reproduce; POSTs without the right one are refused.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use rand::RngCore;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::error::ConsoleError;
use super::html::Html;
use super::layout;
use crate::flow::Gateway;
use crate::store::{sha256_hex, Scope, SESSION_TTL_MS};

/// The session cookie.
pub const COOKIE: &str = "tl_console";

/// A logged-in operator.
pub struct Session {
    token: String,
    /// The owner of the key used to log in.
    pub owner: String,
    /// The token every form of this session must send back.
    pub csrf: String,
}

impl Session {
    /// Fails unless `presented` is this session's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        if bool::from(presented.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

fn csrf_of(token: &str) -> String {
    sha256_hex(format!("console-csrf:{token}").as_bytes())
}

fn cookie_token(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get_all("cookie")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
        .filter(|v| !v.is_empty())
}

/// A POST from another site fails the Origin check even before the token is looked at.
fn same_origin(req: &HttpRequest) -> bool {
    let Some(origin) = req.headers().get("origin").and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = req.connection_info().host().to_string();
    origin.split_once("://").map(|(_, h)| h) == Some(host.as_str())
}

impl FromRequest for Session {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let gateway = req.app_data::<web::Data<Gateway>>().cloned();
        let token = cookie_token(req);
        let cross_site_post = req.method() == actix_web::http::Method::POST && !same_origin(req);
        Box::pin(async move {
            if cross_site_post {
                return Err(ConsoleError::Csrf);
            }
            let (Some(gateway), Some(token)) = (gateway, token) else {
                return Err(ConsoleError::LoginRequired);
            };
            let session = gateway.store.session(&token).await?.ok_or(ConsoleError::LoginRequired)?;
            Ok(Session {
                csrf: csrf_of(&token),
                owner: session.owner,
                token,
            })
        })
    }
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    key: String,
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The token.
    pub csrf: String,
}

fn login_page(status: StatusCode, message: Option<&str>) -> HttpResponse {
    let mut b = Html::new();
    b.open("section", &[("class", "login")]).elem("h1", &[], "Console login");
    if let Some(m) = message {
        b.elem("p", &[("class", "error")], m);
    }
    b.open("form", &[("method", "post"), ("action", "/console/login")])
        .elem("label", &[("for", "key")], "Admin API key")
        .void(
            "input",
            &[
                ("type", "password"),
                ("id", "key"),
                ("name", "key"),
                ("autocomplete", "off"),
                ("required", "required"),
            ],
        )
        .elem("button", &[("type", "submit"), ("id", "login")], "Log in")
        .close("form")
        .elem(
            "p",
            &[("class", "hint")],
            "Create one with: tradelane keys create --owner ops --scope admin",
        )
        .close("section");
    layout::page(status, "Login", None, "", b)
}

/// `GET /console/login`.
pub async fn show_login() -> HttpResponse {
    login_page(StatusCode::OK, None)
}

/// `POST /console/login`: an admin key starts a session.
pub async fn login(gw: web::Data<Gateway>, req: HttpRequest, form: web::Form<LoginForm>) -> Result<HttpResponse, ConsoleError> {
    if !same_origin(&req) {
        return Err(ConsoleError::Csrf);
    }
    let Some(key) = gw.store.verify_key(form.key.trim()).await? else {
        return Ok(login_page(StatusCode::UNAUTHORIZED, Some("That API key is not valid.")));
    };
    if !key.has(Scope::Admin) {
        return Ok(login_page(
            StatusCode::FORBIDDEN,
            Some("That API key lacks the admin scope the console needs."),
        ));
    }
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    gw.store.create_session(&token, &key.key_id, &key.owner).await?;
    tracing::info!(key_id = %key.key_id, owner = %key.owner, "console login");
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", "/console"))
        .insert_header(("set-cookie", cookie(&req, &token, SESSION_TTL_MS / 1000)))
        .insert_header(("cache-control", "no-store"))
        .finish())
}

/// `POST /console/logout`.
pub async fn logout(
    gw: web::Data<Gateway>,
    req: HttpRequest,
    session: Session,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, ConsoleError> {
    session.check_csrf(&form.csrf)?;
    gw.store.end_session(&session.token).await?;
    Ok(HttpResponse::SeeOther()
        .insert_header(("location", "/console/login"))
        .insert_header(("set-cookie", cookie(&req, "", 0)))
        .finish())
}

/// The session cookie; `Secure` when the console is reached over HTTPS (directly or via a proxy).
fn cookie(req: &HttpRequest, value: &str, max_age: i64) -> String {
    let secure = if req.connection_info().scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    format!("{COOKIE}={value}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}")
}
