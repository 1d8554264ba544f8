//! A council's own set-up: its settings and its broker organisations.

use super::{App, AppError, AppResult};
use crate::db::councils;
use crate::db::organisations::{self, BrokerView};
use crate::domain::council::{CouncilSettings, SettingsInput};
use crate::domain::organisation::RegistrationInput;
use crate::domain::{Actor, CouncilId, OrganisationId, OrganisationKind, UserId};

fn officer(actor: &Actor) -> AppResult<CouncilId> {
    actor.council().ok_or_else(|| AppError::wrong_role(actor))
}

pub async fn settings(app: &App, actor: &Actor) -> AppResult<CouncilSettings> {
    let council = officer(actor)?;
    app.read(move |conn| Ok(councils::settings(conn, council)?)).await
}

/// Change the settings the input names; the rest stay as they are.
pub async fn change_settings(app: &App, actor: &Actor, input: SettingsInput) -> AppResult<CouncilSettings> {
    let council = officer(actor)?;
    app.write(move |conn| {
        let settings = input.apply(councils::settings(conn, council)?)?;
        councils::set_settings(conn, council, settings)?;
        Ok(settings)
    })
    .await
}

/// The broker organisations the council set up.
pub async fn brokers(app: &App, actor: &Actor) -> AppResult<Vec<BrokerView>> {
    let council = officer(actor)?;
    app.read(move |conn| Ok(organisations::brokers_of(conn, council)?))
        .await
}

/// A broker organisation and its first login, set up by the council for its own plans.
pub async fn create_broker(app: &App, actor: &Actor, input: RegistrationInput) -> AppResult<(OrganisationId, UserId)> {
    let council = officer(actor)?;
    let reg = RegistrationInput {
        organisation: crate::domain::organisation::OrganisationInput {
            kind: OrganisationKind::Broker,
            ..input.organisation
        },
        ..input
    }
    .validate()?;
    let hash = app.passwords.hash(reg.user.password.clone()).await?;
    app.blocking(move |app| {
        app.db.write_as(move |conn| {
            let (organisation, user) = organisations::register(conn, &reg, &hash).map_err(|e| {
                if e.is_unique_violation() {
                    AppError::conflict(
                        "email_taken",
                        "an account with this email already exists",
                        Some("user.email"),
                    )
                } else {
                    e.into()
                }
            })?;
            organisations::set_council(conn, organisation, council)?;
            tracing::info!(%organisation, "broker set up by its council");
            Ok((organisation, user))
        })
    })
    .await
}
