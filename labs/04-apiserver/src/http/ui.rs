//! The dashboard's static files, served under `/ui/` without credentials.
//!
//! The page, its script and its style sheet are compiled into the binary (`include_str!`), so
//! the dashboard needs no build step, no CDN and no file next to the server. They are the only
//! things served without a token: the page holds no data. Every piece of data it shows, it
//! asks for through the API with the bearer token the user signs in with, so authentication
//! and RBAC apply to the dashboard exactly as they apply to kubectl.

use bytes::Bytes;
use hyper::{Method, Response, StatusCode, header};

use super::body::{ShellBody, status_body};

/// The prefix the dashboard lives under.
pub const UI_PREFIX: &str = "/ui";

// ANCHOR: ui_assets
/// The dashboard's files: path under `/ui/`, content type, content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "",
        "text/html; charset=utf-8",
        include_str!("../../ui/index.html"),
    ),
    (
        "index.html",
        "text/html; charset=utf-8",
        include_str!("../../ui/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../ui/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("../../ui/style.css"),
    ),
];

/// What the browser may do with the page: load its own files and talk to this server only;
/// no inline script, no frames around it.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";
// ANCHOR_END: ui_assets

/// Whether `path` belongs to the dashboard (`/ui` or anything under `/ui/`).
pub fn is_ui_path(path: &str) -> bool {
    path == UI_PREFIX || path.starts_with("/ui/")
}

/// The file served at `path` (`/ui/` is the page itself): its content type and content.
pub fn ui_asset(path: &str) -> Option<(&'static str, &'static str)> {
    let name = path.strip_prefix("/ui/")?;
    ASSETS
        .iter()
        .find(|(asset, _, _)| *asset == name)
        .map(|(_, content_type, content)| (*content_type, *content))
}

// ANCHOR: serve_ui
/// Answers a request for a dashboard path: `/ui` redirects to `/ui/`, a known file is a 200
/// (a `HEAD` without its body), an unknown one a 404, any other method a 405; each as a
/// `Status` body like the rest of the API.
pub(crate) fn serve_ui(method: &Method, path: &str) -> Response<ShellBody> {
    if path == UI_PREFIX {
        return Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header(header::LOCATION, "/ui/")
            .body(ShellBody::Full(Some(Bytes::new())))
            .unwrap_or_else(|_| plain(500, "InternalError", "building the redirect"));
    }
    if method != Method::GET && method != Method::HEAD {
        return plain(
            405,
            "MethodNotAllowed",
            &format!("{path}: the dashboard's files are read-only (GET or HEAD), not {method}"),
        );
    }
    let Some((content_type, content)) = ui_asset(path) else {
        return plain(
            404,
            "NotFound",
            &format!("{path}: no such dashboard file (the dashboard is at /ui/)"),
        );
    };
    let body = if method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from_static(content.as_bytes())
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header(header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY)
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(ShellBody::Full(Some(body)))
        .unwrap_or_else(|_| plain(500, "InternalError", "building the response"))
}
// ANCHOR_END: serve_ui

fn plain(code: u16, reason: &str, message: &str) -> Response<ShellBody> {
    let mut response = Response::new(ShellBody::Full(Some(Bytes::from(status_body(
        code, reason, message,
    )))));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    response
}
