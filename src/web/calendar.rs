//! The calendar feed itself, at its secret address outside the API: `/calendar/{token}.ics`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::api::ApiError;
use crate::app::{App, calendar};

/// A feed as `text/calendar`, never cached by anyone in between; 404 for an unknown or revoked token.
pub async fn feed(app: web::Data<App>, token: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let ics = calendar::feed(&app, token.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("no such calendar feed"))?;
    Ok(HttpResponse::Ok()
        .content_type("text/calendar; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header(("X-Robots-Tag", "noindex"))
        .body(ics))
}

/// The address a calendar app subscribes to, on the host the caller reached us by.
pub fn address(req: &HttpRequest, token: &str) -> String {
    let info = req.connection_info();
    format!("{}://{}/calendar/{token}.ics", info.scheme(), info.host())
}

/// Paths that carry a secret after them: a calendar feed's token, a mailed link's token.
const SECRET_AFTER: &[&str] = &[
    "/calendar/",
    "/invitations/",
    "/password-reset/",
    "/confirm-email/",
    "/api/v1/invitations/",
];

/// The path as request logs may show it: a token in it is a password, so it is left out.
pub fn loggable_path(path: &str) -> String {
    match SECRET_AFTER.iter().find(|p| path.starts_with(*p)) {
        Some(prefix) => format!("{prefix}…"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::loggable_path;

    #[test]
    fn feed_tokens_stay_out_of_the_logs() {
        assert_eq!(
            loggable_path(&format!("/calendar/{}.ics", "a".repeat(64))),
            "/calendar/…"
        );
        assert_eq!(loggable_path("/calendar/"), "/calendar/…");
        assert_eq!(loggable_path("/api/v1/me/calendar"), "/api/v1/me/calendar");
        assert_eq!(loggable_path("/search"), "/search");
        assert_eq!(loggable_path("/api/v1/invitations/abc/accept"), "/api/v1/invitations/…");
        assert_eq!(loggable_path("/password-reset/abc"), "/password-reset/…");
        assert_eq!(loggable_path("/password-reset"), "/password-reset");
    }
}
