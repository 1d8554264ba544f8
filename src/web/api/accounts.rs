//! Logging in and out, who am I, providers registering.

use actix_web::{HttpResponse, get, post, web};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json};
use super::{Data, Reply, dto};
use crate::app::accounts;
use crate::domain::BudgetHolderId;
use crate::domain::budget::LoginInput;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(logout)
        .service(me)
        .service(register_provider)
        .service(unlock_login);
}

/// Log in: a bearer token for the API, valid for 12 hours or until logged out.
/// An account with a second factor also needs `totp` (401 `totp_required` without it,
/// `totp_invalid` when it is wrong or already used).
#[utoipa::path(tag = "accounts", request_body = dto::Credentials, responses((status = 200, body = dto::LoggedIn)))]
#[post("/auth/login")]
async fn login(app: Data, Json(input): Json<dto::Credentials>) -> Reply {
    let credentials = LoginInput {
        email: input.email,
        password: input.password,
    };
    let session = accounts::login(&app, credentials, input.totp).await?;
    Ok(HttpResponse::Ok().json(dto::LoggedIn::from(session)))
}

/// Log out: the token is revoked on every server at once.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 204, description = "Logged out")))]
#[post("/auth/logout")]
async fn logout(app: Data, auth: Auth) -> Reply {
    accounts::logout(&app, auth.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Who the token belongs to.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = dto::Me)))]
#[get("/me")]
async fn me(auth: Auth) -> Reply {
    Ok(HttpResponse::Ok().json(dto::Me::of(&auth.actor, auth.must_enrol)))
}

/// Register an organisation (a charity, a company or a broker) and its first user. The answer is
/// the same whether or not the email already has an account (then nothing is created): log in
/// with the email and password to find out.
#[utoipa::path(tag = "accounts", request_body = dto::Registration, responses((status = 202, body = dto::RegistrationReceived)))]
#[post("/providers")]
async fn register_provider(app: Data, Json(input): Json<dto::Registration>) -> Reply {
    accounts::register_provider(&app, input.into()).await?;
    Ok(HttpResponse::Accepted().json(dto::RegistrationReceived {
        status: "received".into(),
        message: accounts::REGISTRATION_RECEIVED.into(),
    }))
}

/// A council officer lifts the lock-out on the family login of one of its own budget holders
/// (after too many wrong passwords).
#[utoipa::path(
    tag = "accounts",
    params(("id" = i64, Path)),
    security(("bearer" = [])),
    responses((status = 204, description = "The family can log in again"))
)]
#[post("/budget-holders/{id}/unlock-login")]
async fn unlock_login(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    accounts::unlock_family_login(&app, &auth.actor, BudgetHolderId(id.into_inner())).await?;
    Ok(HttpResponse::NoContent().finish())
}
