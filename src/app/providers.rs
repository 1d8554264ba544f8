//! The council's side of providers: checking them and, when it must, suspending them.

use super::{App, AppError, AppResult};
use crate::db::organisations::{self, OrganisationView};
use crate::domain::{Actor, CouncilId, OrganisationId, OrganisationStatus};

fn officer(actor: &Actor) -> AppResult<CouncilId> {
    actor
        .council()
        .ok_or_else(|| AppError::forbidden("only a council can verify or suspend providers"))
}

/// Every registered organisation, newest first, for an officer checking them.
pub async fn list(app: &App, actor: &Actor) -> AppResult<Vec<OrganisationView>> {
    officer(actor)?;
    app.read(|conn| Ok(organisations::list(conn)?)).await
}

/// Verify, suspend or reinstate a provider. A suspended provider's services leave search and
/// cannot be booked.
pub async fn set_status(
    app: &App,
    actor: &Actor,
    id: OrganisationId,
    status: OrganisationStatus,
) -> AppResult<OrganisationView> {
    let council = officer(actor)?;
    let view = app
        .write(move |conn| {
            organisations::set_status(conn, id, status, council)?;
            Ok(organisations::get(conn, id)?)
        })
        .await?;
    app.services_changed();
    Ok(view)
}
