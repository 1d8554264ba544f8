//! The one place the API's errors become HTTP: `{"error": {"code", "message", "field"?, "fields"?}}`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};

use super::dto::{ErrorBody, ErrorEnvelope};
use crate::app::AppError;
use crate::domain::validate::Invalid;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    /// A body or header that cannot be read at all.
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("send the body as JSON with Content-Type: application/json")]
    UnsupportedMediaType,
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> ApiError {
        ApiError::App(AppError::Invalid(e))
    }
}

impl ApiError {
    pub fn bad_request(code: &'static str, message: impl Into<String>, field: Option<&str>) -> ApiError {
        ApiError::BadRequest {
            code,
            message: message.into(),
            field: field.map(str::to_string),
        }
    }

    /// Query-string problems are 400s naming the parameter.
    pub fn bad_parameters(invalid: Invalid) -> ApiError {
        ApiError::App(AppError::bad_parameters(invalid))
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::App(AppError::NotFound(message.into()))
    }

    fn code(&self) -> &'static str {
        match self {
            ApiError::App(e) => match e {
                AppError::Invalid(_) => "invalid",
                AppError::BadParameter { .. } => "invalid_parameter",
                AppError::UnknownReference { .. } | AppError::NotFound(_) => "not_found",
                AppError::Forbidden(_) => "forbidden",
                AppError::Denied { code, .. } => code,
                AppError::Unauthorized(_) => "unauthorized",
                AppError::SecondFactor { code, .. } => code,
                AppError::EnrolmentRequired => "totp_enrolment_required",
                AppError::Conflict { code, .. } => code,
                AppError::Gone { code, .. } => code,
                AppError::Busy => "busy",
                AppError::TooManyAttempts { .. } => "too_many_attempts",
                AppError::Internal(_) => "internal",
            },
            ApiError::BadRequest { code, .. } => code,
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::App(AppError::Conflict { field, .. }) | ApiError::BadRequest { field, .. } => field.as_deref(),
            ApiError::App(AppError::SecondFactor { .. }) => Some("totp"),
            ApiError::App(AppError::Gone { .. }) => Some("token"),
            ApiError::App(AppError::UnknownReference { field, .. } | AppError::BadParameter { field, .. }) => {
                Some(field.as_str()).filter(|f| !f.is_empty())
            }
            ApiError::App(AppError::Invalid(Invalid(errors))) => errors.first().map(|e| e.field.as_str()),
            _ => None,
        }
    }

    fn message(&self) -> String {
        match self {
            ApiError::App(AppError::Invalid(Invalid(errors))) => errors
                .first()
                .map(|e| format!("{}: {}", e.field, e.message))
                .unwrap_or_else(|| "invalid request".into()),
            ApiError::App(AppError::Internal(_)) => "something went wrong on our side; nothing was changed".into(),
            e => e.to_string(),
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::App(e) => match e {
                AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                AppError::BadParameter { .. } => StatusCode::BAD_REQUEST,
                AppError::UnknownReference { .. } | AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::Forbidden(_) | AppError::Denied { .. } => StatusCode::FORBIDDEN,
                AppError::Unauthorized(_) | AppError::SecondFactor { .. } => StatusCode::UNAUTHORIZED,
                AppError::EnrolmentRequired => StatusCode::FORBIDDEN,
                AppError::Conflict { .. } => StatusCode::CONFLICT,
                AppError::Gone { .. } => StatusCode::GONE,
                AppError::Busy => StatusCode::SERVICE_UNAVAILABLE,
                AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
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
            ApiError::App(AppError::Invalid(Invalid(errors))) => Some(errors.iter().map(Into::into).collect()),
            ApiError::App(AppError::Conflict { fields, .. }) if !fields.is_empty() => {
                Some(fields.iter().map(Into::into).collect())
            }
            _ => None,
        };
        let body = ErrorEnvelope {
            error: ErrorBody {
                code: self.code().to_string(),
                message: self.message(),
                field: self.field().map(str::to_string),
                fields,
            },
        };
        let mut response = HttpResponse::build(status);
        if status == StatusCode::UNAUTHORIZED {
            response.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let ApiError::App(AppError::TooManyAttempts { retry_after_secs }) = self {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
        }
        response.json(body)
    }
}
