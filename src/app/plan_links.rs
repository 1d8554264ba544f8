//! A family answers a plan that a council other than its own added for it: accepted, the plan is
//! the family's like any other; declined, the family never sees it.

use super::{App, AppError, AppResult};
use crate::db::plan_links::{self, PendingLink};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::{Actor, BudgetHolderId, Role, UserId};

fn family(actor: &Actor) -> AppResult<UserId> {
    if actor.role == Role::Family {
        Ok(actor.user_id)
    } else {
        Err(AppError::wrong_role(actor))
    }
}

/// A page of the family's links waiting for its answer: each council's name and the date only.
pub async fn pending(app: &App, actor: &Actor, page: PageRequest) -> AppResult<Page<PendingLink>> {
    let user = family(actor)?;
    app.read(move |conn| Ok(plan_links::pending(conn, user, page)?)).await
}

/// The family's answer. Accepting hands the plan to the family (returned); declining leaves it
/// with the council alone. A link that is not the family's, or already answered, is not found.
pub async fn decide(app: &App, actor: &Actor, id: i64, accept: bool) -> AppResult<Option<BudgetHolderId>> {
    let user = family(actor)?;
    app.write(move |conn| {
        let holder = plan_links::decide(conn, id, user, accept)?.ok_or_else(|| AppError::not_found("plan link"))?;
        if !accept {
            return Ok(None);
        }
        plan_links::hand_over(conn, holder, user)?;
        Ok(Some(holder))
    })
    .await
}
