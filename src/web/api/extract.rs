//! Request parsing: JSON bodies whose errors name the field, bearer-token callers, the
//! idempotency key.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::app::{self, App, AppError};
use crate::domain::Actor;

pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body. A malformed body is a 400 saying where it broke; a field of the wrong type is a
/// 400 naming the field's path (`price_options[1].price`).
pub struct Json<T>(pub T);

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let result: Result<T, _> = serde_path_to_error::deserialize(de);
    result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // A field left out is named too (`user.email`): serde's path stops at its parent.
        if let Some(named) = field_in_message(&inner.to_string()) {
            let field = if path == "." {
                named.to_string()
            } else {
                format!("{path}.{named}")
            };
            return ApiError::bad_request(
                "invalid_field",
                format!("{field}: {}", strip_position(&inner.to_string())),
                Some(&field),
            );
        }
        if inner.is_syntax() || inner.is_eof() || path == "." {
            let code = if inner.is_data() {
                "invalid_field"
            } else {
                "malformed_json"
            };
            ApiError::bad_request(code, format!("the request body is not valid: {inner}"), None)
        } else {
            ApiError::bad_request(
                "invalid_field",
                format!("{path}: {}", strip_position(&inner.to_string())),
                Some(&path),
            )
        }
    })
}

/// The field serde names in "missing field `email`".
fn field_in_message(message: &str) -> Option<&str> {
    let start = "missing field `";
    let rest = &message[message.find(start)? + start.len()..];
    rest.find('`').map(|end| &rest[..end])
}

/// serde_json appends " at line 1 column 42"; the field path already says where.
fn strip_position(message: &str) -> &str {
    message.rfind(" at line ").map_or(message, |i| &message[..i])
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if json_type == Some(false) {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::TooLarge(MAX_BODY_BYTES),
                _ => ApiError::bad_request("unreadable_body", "the request body could not be read", None),
            })?;
            if bytes.is_empty() {
                return Err(ApiError::bad_request(
                    "malformed_json",
                    "the request needs a JSON body",
                    None,
                ));
            }
            parse_json(&bytes).map(Json)
        })
    }
}

/// A JSON body that may be left out (empty): `None` then.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = body.await.map_err(|e| match e.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::TooLarge(MAX_BODY_BYTES),
                _ => ApiError::bad_request("unreadable_body", "the request body could not be read", None),
            })?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(OptionalJson(None));
            }
            parse_json(&bytes).map(|v| OptionalJson(Some(v)))
        })
    }
}

fn unauthorized(message: &'static str) -> ApiError {
    ApiError::App(AppError::Unauthorized(message))
}

fn bearer_token(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not readable"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() => {
            Ok(Some(token.trim().to_string()))
        }
        _ => Err(unauthorized(
            "use Authorization: Bearer <token> with a token from /api/v1/auth/login",
        )),
    }
}

async fn resolve(req: HttpRequest) -> Result<Option<Auth>, ApiError> {
    let Some(token) = bearer_token(&req)? else {
        return Ok(None);
    };
    let app = req
        .app_data::<web::Data<App>>()
        .cloned()
        .ok_or(ApiError::App(AppError::Busy))?;
    match app::accounts::actor_for_token(&app, token.clone()).await? {
        Some(caller) if caller.must_enrol && !ENROLMENT_PATHS.contains(&req.path()) => {
            Err(ApiError::App(AppError::EnrolmentRequired))
        }
        Some(mut caller) => {
            caller.actor.via = Some(crate::web::route_template(&req));
            Ok(Some(Auth {
                actor: caller.actor,
                token,
                must_enrol: caller.must_enrol,
            }))
        }
        None => Err(unauthorized("the token is unknown, expired or revoked; log in again")),
    }
}

/// What a council officer or broker without a second factor can reach: who it is, enrolling,
/// logging out.
const ENROLMENT_PATHS: &[&str] = &[
    "/api/v1/me",
    "/api/v1/me/totp",
    "/api/v1/me/totp/confirm",
    "/api/v1/auth/logout",
    "/api/v1/auth/logout-everywhere",
];

/// A logged-in caller (401 otherwise), with the token it presented.
pub struct Auth {
    pub actor: Actor,
    pub token: String,
    /// An officer or broker who must set up two-step login before anything else.
    pub must_enrol: bool,
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            match resolve(req).await? {
                Some(auth) => Ok(auth),
                None => Err(unauthorized("log in first: send Authorization: Bearer <token>")),
            }
        })
    }
}

/// A caller who may or may not be logged in (public pages). A bad token is still a 401.
pub struct MaybeAuth(pub Option<Actor>);

impl FromRequest for MaybeAuth {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(MaybeAuth(resolve(req).await?.map(|auth| auth.actor))) })
    }
}

/// The `Idempotency-Key` header, when sent: 1 to 255 visible ASCII characters.
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let bad = || {
            ApiError::bad_request(
                "invalid_header",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
                Some("Idempotency-Key"),
            )
        };
        let key = match req.headers().get("Idempotency-Key") {
            None => Ok(None),
            Some(value) => match value.to_str().map(str::trim) {
                Ok(key) if !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic()) => {
                    Ok(Some(key.to_string()))
                }
                _ => Err(bad()),
            },
        };
        std::future::ready(key.map(IdempotencyKey))
    }
}

/// A query string read into `T`; a value of the wrong type is a 400 naming the parameter.
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(req.query_string().as_bytes()));
        let parsed: Result<T, _> = serde_path_to_error::deserialize(de);
        std::future::ready(parsed.map(Query).map_err(|e| {
            let field = e.path().to_string();
            let message = e.into_inner().to_string();
            let field = match field.as_str() {
                "." | "" => parameter_named(&message),
                _ => Some(field),
            };
            ApiError::App(AppError::BadParameter {
                field: field.unwrap_or_default(),
                message,
            })
        }))
    }
}

/// serde names an unknown parameter inside its message: "unknown field `x`, expected ...".
fn parameter_named(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_string())
}
