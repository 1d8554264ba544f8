//! The council's side of providers: checking them and, when it must, suspending them, each
//! council in its own Local Offer listing (`domain::listing`).

use super::{App, AppError, AppResult};
use crate::db::council_listings;
use crate::db::organisations::{self, OrganisationView};
use crate::domain::listing::{self, ListingAction};
use crate::domain::notification::Event;
use crate::domain::{Actor, CouncilId, OrganisationId};

fn officer(actor: &Actor) -> AppResult<CouncilId> {
    actor
        .council()
        .ok_or_else(|| AppError::forbidden("only a council can verify or suspend providers"))
}

/// Every registered organisation, newest first, for an officer checking them; each status is the
/// officer's own council's listing.
pub async fn list(app: &App, actor: &Actor) -> AppResult<Vec<OrganisationView>> {
    let council = officer(actor)?;
    app.read(move |conn| {
        let own = council_listings::of_council(conn, council)?;
        let mut all = organisations::list(conn)?;
        for o in &mut all {
            o.status = listing::council_status(own.get(&OrganisationId(o.id)).copied())
                .as_str()
                .to_string();
        }
        Ok(all)
    })
    .await
}

/// Verify, suspend or reinstate a provider in the officer's own council's listing only. Its
/// services leave that council's searches and bookings when suspended, and the whole directory
/// only once every council listing it has suspended it. Answers the provider as the council's
/// listing now has it.
pub async fn act(app: &App, actor: &Actor, id: OrganisationId, action: ListingAction) -> AppResult<OrganisationView> {
    let council = officer(actor)?;
    let view = app
        .write(move |conn| {
            let mut view = organisations::get(conn, id)?;
            let current = council_listings::of(conn, council, id)?;
            let status = listing::apply(action, current.map(|l| l.status), current.is_some_and(|l| l.verified))?;
            council_listings::put(conn, council, id, status)?;
            let event = match action {
                ListingAction::Verify => Some(Event::ProviderVerified),
                ListingAction::Suspend => Some(Event::ProviderSuspended),
                ListingAction::Reinstate => None,
            };
            if let Some(event) = event {
                let council_name = crate::db::councils::name(conn, council)?.unwrap_or_else(|| "A council".into());
                super::notices::listing(conn, id, &council_name, event)?;
            }
            let directory = listing::directory_status(&council_listings::statuses(conn, id)?);
            organisations::set_directory_status(conn, id, directory)?;
            view.status = listing::council_status(Some(status)).as_str().to_string();
            Ok(view)
        })
        .await?;
    app.services_changed();
    Ok(view)
}
