//! The one place errors become HTTP: `{"error": {"code", "message", "field"?, "fields"?}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;
use crate::domain::validate::{FieldError, Invalid};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("you cannot do this as a {0}")]
    WrongRole(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType,
    #[error("the server is too busy to answer; try again")]
    Busy,
    #[error(transparent)]
    Search(#[from] crate::search::SearchError),
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> ApiError {
        ApiError::Db(DbError::Invalid(e))
    }
}

impl ApiError {
    /// Query-string problems are 400s naming the parameter.
    pub fn bad_parameters(invalid: Invalid) -> ApiError {
        let first = invalid.0.into_iter().next();
        ApiError::BadRequest {
            code: "invalid_parameter",
            message: first.as_ref().map_or_else(
                || "invalid parameters".into(),
                |e| format!("{}: {}", e.field, e.message),
            ),
            field: first.map(|e| e.field),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>, field: Option<&str>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::Db(DbError::NotFound(_))
            | ApiError::Db(DbError::UnknownReference { .. })
            | ApiError::NotFound(_) => "not_found",
            ApiError::Db(DbError::Forbidden(_)) | ApiError::WrongRole(_) => "forbidden",
            ApiError::Db(DbError::Conflict { code, .. }) => code,
            ApiError::Db(DbError::Invalid(_)) => "invalid",
            ApiError::Db(DbError::Pool(_)) | ApiError::Busy => "busy",
            ApiError::Db(_) | ApiError::Search(_) => "internal",
            ApiError::BadRequest { code, .. } => code,
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::Db(DbError::Conflict { field, .. }) | ApiError::BadRequest { field, .. } => field.as_deref(),
            ApiError::Db(DbError::UnknownReference { field, .. }) => Some(field),
            ApiError::Db(DbError::Invalid(Invalid(errors))) => errors.first().map(|e| e.field.as_str()),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::Db(DbError::Invalid(Invalid(errors))) => errors
                .first()
                .map(|e| format!("{}: {}", e.field, e.message))
                .unwrap_or_else(|| "invalid request".into()),
            e if e.status_code().is_server_error() && !matches!(e, ApiError::Busy) => {
                "something went wrong on our side; nothing was changed".into()
            }
            e => e.to_string(),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: ErrorBody<'a>,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a [FieldError]>,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Db(DbError::NotFound(_))
            | ApiError::Db(DbError::UnknownReference { .. })
            | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Db(DbError::Forbidden(_)) | ApiError::WrongRole(_) => StatusCode::FORBIDDEN,
            ApiError::Db(DbError::Conflict { .. }) => StatusCode::CONFLICT,
            ApiError::Db(DbError::Invalid(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Db(DbError::Pool(_)) | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Db(_) | ApiError::Search(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let fields = match self {
            ApiError::Db(DbError::Invalid(Invalid(errors))) => Some(errors.as_slice()),
            _ => None,
        };
        let body = Body {
            error: ErrorBody {
                code: self.code(),
                message: self.message(),
                field: self.field(),
                fields,
            },
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        response.json(body)
    }
}
