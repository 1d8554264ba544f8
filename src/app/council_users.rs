//! A council's own users and what each may do: a council admin adds officers with permissions
//! (assess, decide, admin), changes them, and turns accounts off. The last admin stays.

use serde::Deserialize;

use super::{App, AppError, AppResult};
use crate::db::users::{self, CouncilUser, NO_PASSWORD, NewUser};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::personal_budget::{Permission, Permissions};
use crate::domain::validate::{self, Checker};
use crate::domain::{Actor, Role, UserId};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCouncilUser {
    pub email: String,
    /// Without one the account cannot log in until a password is set for it.
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouncilUserChange {
    #[serde(default)]
    pub permissions: Option<Vec<Permission>>,
    /// False turns the account off (its sessions end at once); true turns it back on.
    #[serde(default)]
    pub active: Option<bool>,
}

/// A council admin adds an officer. 409 `email_taken` when the email has an account.
pub async fn create(app: &App, actor: &Actor, input: NewCouncilUser) -> AppResult<CouncilUser> {
    let council = actor.council_with(Permission::Admin)?;
    let mut c = Checker::new();
    let email = c.take(validate::email("email", &input.email));
    let password = match &input.password {
        Some(p) => c.take(validate::password("password", p)),
        None => None,
    };
    c.finish(|| ())?;
    let email = email.ok_or_else(|| AppError::Internal("validation passed without an email".into()))?;
    let hash = match password {
        Some(p) => app.passwords.hash(p).await?,
        None => NO_PASSWORD.to_string(),
    };
    let permissions = Permissions::from(input.permissions);
    app.write(move |conn| {
        let id = users::insert(
            conn,
            NewUser {
                email: &email,
                password_hash: &hash,
                role: Role::Council,
                organisation_id: None,
                council_id: Some(council),
            },
        )
        .map_err(|e| {
            if e.is_unique_violation() {
                AppError::conflict(
                    "email_taken",
                    "an account with this email already exists",
                    Some("email"),
                )
            } else {
                e.into()
            }
        })?;
        users::set_permissions(conn, id, &permissions)?;
        if hash == NO_PASSWORD {
            // Without a password the officer is invited by email to choose one.
            super::account_links::send_link(conn, id, crate::domain::notification::TokenPurpose::Invitation)?;
        }
        tracing::info!(user = %id, "council user added");
        users::council_user_of(conn, council, id)?.ok_or_else(|| AppError::not_found("council user"))
    })
    .await
}

/// The council's users, oldest first (admins only: it shows who may do what).
pub async fn list(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<CouncilUser>> {
    let council = actor.council_with(Permission::Admin)?;
    app.read(move |conn| Ok(users::council_users(conn, council, page)?))
        .await
}

/// Change a user's permissions or turn the account off or on. 409 `last_admin` when it would
/// leave the council with no active admin.
pub async fn change(app: &App, actor: &Actor, id: UserId, change: CouncilUserChange) -> AppResult<CouncilUser> {
    let council = actor.council_with(Permission::Admin)?;
    app.write(move |conn| {
        let current = users::council_user_of(conn, council, id)?.ok_or_else(|| AppError::not_found("council user"))?;
        if let Some(p) = change.permissions {
            users::set_permissions(conn, id, &Permissions::from(p))?;
        }
        if let Some(active) = change.active
            && active != current.active
        {
            users::set_disabled(conn, id, !active)?;
        }
        if users::active_admins(conn, council)? == 0 {
            return Err(AppError::conflict(
                "last_admin",
                "the council must keep at least one active admin",
                Some("permissions"),
            ));
        }
        users::council_user_of(conn, council, id)?.ok_or_else(|| AppError::not_found("council user"))
    })
    .await
}
