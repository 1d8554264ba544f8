//! Logging in and out, who am I, providers registering.

use actix_web::{HttpResponse, get, post};
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json};
use super::{Data, Reply, dto};
use crate::app::accounts;

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(login)
        .service(logout)
        .service(me)
        .service(register_provider);
}

/// Log in: a bearer token for the API, valid for 12 hours or until logged out.
#[utoipa::path(tag = "accounts", request_body = dto::Login, responses((status = 200, body = dto::LoggedIn)))]
#[post("/auth/login")]
async fn login(app: Data, Json(input): Json<dto::Login>) -> Reply {
    let session = accounts::login(&app, input.into()).await?;
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
    Ok(HttpResponse::Ok().json(dto::Me::from(&auth.actor)))
}

/// Register an organisation (a charity, a company or a broker) and its first user.
#[utoipa::path(tag = "accounts", request_body = dto::Registration, responses((status = 201, body = dto::Registered)))]
#[post("/providers")]
async fn register_provider(app: Data, Json(input): Json<dto::Registration>) -> Reply {
    let registered = accounts::register_provider(&app, input.into(), false).await?;
    Ok(HttpResponse::Created().json(dto::Registered {
        organisation_id: registered.organisation_id,
        user_id: registered.user_id,
    }))
}
