//! A user's own sessions and password, and a council officer ending a family's sessions.

use actix_web::{HttpResponse, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json};
use super::{Data, Reply, dto};
use crate::app::{accounts, totp};
use crate::domain::BudgetHolderId;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(logout_everywhere)
        .service(change_password)
        .service(start_totp)
        .service(confirm_totp)
        .service(end_family_sessions);
}

/// Log out everywhere: every session of the caller (this token included) is revoked at once.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 204, description = "Every session ended")))]
#[post("/auth/logout-everywhere")]
async fn logout_everywhere(app: Data, auth: Auth) -> Reply {
    accounts::logout_everywhere(&app, &auth.actor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the caller's password. Every other session of the user ends; this token goes on.
#[utoipa::path(tag = "accounts", request_body = dto::PasswordChange, security(("bearer" = [])), responses((status = 204, description = "Password changed")))]
#[post("/me/password")]
async fn change_password(app: Data, auth: Auth, Json(input): Json<dto::PasswordChange>) -> Reply {
    accounts::change_password(
        &app,
        &auth.actor,
        input.current_password,
        input.new_password,
        auth.token,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Start setting up a second factor (an authenticator app). Not active until confirmed; asking
/// again before confirming replaces the pending secret and recovery codes. 409
/// `totp_already_enrolled` once one is confirmed.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = dto::TotpEnrolment)))]
#[post("/me/totp")]
async fn start_totp(app: Data, auth: Auth) -> Reply {
    let enrolment = totp::start(&app, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(dto::TotpEnrolment::from(enrolment)))
}

/// Confirm the pending second factor with the code the app shows: from now on logins need a code.
#[utoipa::path(tag = "accounts", request_body = dto::TotpConfirm, security(("bearer" = [])), responses((status = 204, description = "The second factor is on")))]
#[post("/me/totp/confirm")]
async fn confirm_totp(app: Data, auth: Auth, Json(input): Json<dto::TotpConfirm>) -> Reply {
    totp::confirm(&app, &auth.actor, input.code).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A council officer ends every session of the family login of one of its budget holders.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 204, description = "The family's sessions ended")))]
#[post("/budget-holders/{id}/end-sessions")]
async fn end_family_sessions(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    accounts::end_family_sessions(&app, &auth.actor, BudgetHolderId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
