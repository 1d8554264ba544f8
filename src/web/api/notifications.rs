//! Notices and email choices, and the links mailed about accounts: invitations, password resets
//! and email confirmation.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, put, web};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, OptionalJson, Query};
use super::{Data, Reply, dto};
use crate::app::notifications::{Notice, Notices, Preference};
use crate::app::{account_links, notifications};
use crate::domain::notification::{Event, MailStatus};
use crate::domain::{BudgetHolderId, UserId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(list)
        .service(mark_read)
        .service(preferences)
        .service(set_preferences)
        .service(request_reset)
        .service(confirm_reset)
        .service(accept_invitation)
        .service(confirm_email)
        .service(resend_confirmation)
        .service(reinvite_family)
        .service(reinvite_officer);
}

/// One notice: what happened, in words, and the page about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Notification {
    pub id: i64,
    pub event: Event,
    /// Also the email's subject: never personal data.
    pub title: String,
    pub paragraphs: Vec<String>,
    /// A path on this site.
    pub link: String,
    pub created_at: NaiveDateTime,
    pub read: bool,
    /// The email: `pending`, `sent`, `failed` (after its retries) or `off` (turned off, or an
    /// account that cannot receive mail).
    pub mail: MailStatus,
}

impl From<&Notice> for Notification {
    fn from(n: &Notice) -> Notification {
        Notification {
            id: n.id,
            event: n.event,
            title: n.title.clone(),
            paragraphs: n.paragraphs.clone(),
            link: n.link.clone(),
            created_at: n.created_at,
            read: n.read,
            mail: n.mail,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
    /// Unread notices in the whole list.
    pub unread: i64,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&Notices> for NotificationList {
    fn from(n: &Notices) -> NotificationList {
        NotificationList {
            notifications: n.page.items.iter().map(Into::into).collect(),
            unread: n.unread,
            total: n.page.total,
            page: n.page.page,
            per_page: n.page.per_page,
        }
    }
}

/// The caller's notices, newest first.
#[utoipa::path(tag = "notifications", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = NotificationList)))]
#[get("/notifications")]
async fn list(app: Data, auth: Auth, q: Query<dto::Paging>) -> Reply {
    let notices = notifications::list(&app, &auth.actor, q.request()?).await?;
    Ok(HttpResponse::Ok().json(NotificationList::from(&notices)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Mark notices up to and including this id; every one when left out.
    #[serde(default)]
    pub up_to: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Marked {
    pub marked: usize,
}

/// Mark the caller's notices read.
#[utoipa::path(tag = "notifications", request_body(content = MarkRead, description = "May be left out: every notice"), security(("bearer" = [])), responses((status = 200, body = Marked)))]
#[post("/notifications/read")]
async fn mark_read(app: Data, auth: Auth, OptionalJson(b): OptionalJson<MarkRead>) -> Reply {
    let marked = notifications::mark_read(&app, &auth.actor, b.unwrap_or_default().up_to).await?;
    Ok(HttpResponse::Ok().json(Marked { marked }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPreference {
    pub event: Event,
    /// What it is, in words.
    pub label: String,
    /// Whether it is emailed.
    pub email: bool,
    /// Emails the law or money needs: always on.
    pub required: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationPreferences {
    pub events: Vec<NotificationPreference>,
}

impl From<Vec<Preference>> for NotificationPreferences {
    fn from(all: Vec<Preference>) -> NotificationPreferences {
        NotificationPreferences {
            events: all
                .into_iter()
                .map(|p| NotificationPreference {
                    event: p.event,
                    label: p.event.label().to_string(),
                    email: p.email,
                    required: p.required,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceChoices {
    /// Event -> whether it is emailed; events left out keep their choice. A required one turned
    /// off is a 422 naming `events.<event>`.
    pub events: BTreeMap<String, bool>,
}

/// Which emails the caller gets, for each event the caller can hear of.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), responses((status = 200, body = NotificationPreferences)))]
#[get("/me/notification-preferences")]
async fn preferences(app: Data, auth: Auth) -> Reply {
    let all = notifications::preferences(&app, &auth.actor).await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences::from(all)))
}

/// Turn emails on or off.
#[utoipa::path(tag = "notifications", request_body = PreferenceChoices, security(("bearer" = [])), responses((status = 200, body = NotificationPreferences)))]
#[put("/me/notification-preferences")]
async fn set_preferences(app: Data, auth: Auth, Json(b): Json<PreferenceChoices>) -> Reply {
    let all = notifications::set_preferences(&app, &auth.actor, b.events).await?;
    Ok(HttpResponse::Ok().json(NotificationPreferences::from(all)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetRequest {
    pub email: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Received {
    pub status: String,
    pub message: String,
}

/// Ask for a password reset link. 202 whether or not the email has an account: if it has, a link
/// (single use, 1 hour) is emailed to it.
#[utoipa::path(tag = "accounts", request_body = ResetRequest, responses((status = 202, body = Received)))]
#[post("/auth/password-reset")]
async fn request_reset(app: Data, Json(b): Json<ResetRequest>) -> Reply {
    account_links::request_reset(&app, b.email).await?;
    Ok(HttpResponse::Accepted().json(Received {
        status: "received".into(),
        message: "If this email has an account, a link to reset its password is on its way.".into(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// From the link: `{public url}/password-reset/{token}`.
    pub token: String,
    pub password: String,
}

/// Choose a new password with a reset link's token. Every session of the account ends. 404
/// `not_found` for a token we never sent, 410 `token_used` or `token_expired`.
#[utoipa::path(tag = "accounts", request_body = ResetConfirm, responses((status = 204, description = "Password changed: log in with it")))]
#[post("/auth/password-reset/confirm")]
async fn confirm_reset(app: Data, Json(b): Json<ResetConfirm>) -> Reply {
    account_links::reset_password(&app, b.token, b.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationAccept {
    pub password: String,
}

/// Accept an invitation (`{public url}/invitations/{token}`) by choosing a password. 410
/// `token_used` or `token_expired` (a council can send a new one).
#[utoipa::path(tag = "accounts", params(("token" = String, Path)), request_body = InvitationAccept, responses((status = 204, description = "Password set: log in with it")))]
#[post("/invitations/{token}/accept")]
async fn accept_invitation(app: Data, token: web::Path<String>, Json(b): Json<InvitationAccept>) -> Reply {
    account_links::accept_invitation(&app, token.into_inner(), b.password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailConfirm {
    /// From the link: `{public url}/confirm-email/{token}`.
    pub token: String,
}

/// Confirm a provider's email address: the services it asked to publish meanwhile are published.
#[utoipa::path(tag = "accounts", request_body = EmailConfirm, responses((status = 204, description = "Email confirmed")))]
#[post("/auth/confirm-email")]
async fn confirm_email(app: Data, Json(b): Json<EmailConfirm>) -> Reply {
    account_links::confirm_email(&app, b.token).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Send the caller a new confirmation link. 409 `already_confirmed`.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 202, body = Received)))]
#[post("/me/confirm-email")]
async fn resend_confirmation(app: Data, auth: Auth) -> Reply {
    account_links::resend_confirmation(&app, &auth.actor).await?;
    Ok(HttpResponse::Accepted().json(Received {
        status: "sent".into(),
        message: "A new confirmation link is on its way to your email address.".into(),
    }))
}

/// A council sends the family of a plan a new invitation (the earlier link stops working).
/// 409 `password_set` once the family has chosen a password.
#[utoipa::path(tag = "plans", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 202, body = Received)))]
#[post("/budget-holders/{id}/invitation")]
async fn reinvite_family(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    account_links::reinvite_family(&app, &auth.actor, BudgetHolderId(id.into_inner())).await?;
    Ok(HttpResponse::Accepted().json(Received {
        status: "sent".into(),
        message: "A new invitation is on its way to the family.".into(),
    }))
}

/// A council admin sends one of its officers a new invitation. 409 `password_set`.
#[utoipa::path(tag = "personal budgets", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 202, body = Received)))]
#[post("/council/users/{id}/invitation")]
async fn reinvite_officer(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    account_links::reinvite_officer(&app, &auth.actor, UserId(id.into_inner())).await?;
    Ok(HttpResponse::Accepted().json(Received {
        status: "sent".into(),
        message: "A new invitation is on its way.".into(),
    }))
}
