//! Council pages: the budget holders of the officer's own council and what they have spent.

use actix_web::{HttpResponse, web};
use maud::html;

use super::{PageError, Visitor};
use crate::db::budget_holders;
use crate::domain::{Pence, Role};
use crate::templates::money;
use crate::web::{AppState, blocking};

type Data = web::Data<AppState>;

pub async fn budget_holders(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Council], "/council/budget-holders")?.clone();
    let holders = blocking(&state, move |db| db.read(|conn| budget_holders::list(conn, &actor))).await?;
    let sum = |f: fn(&budget_holders::AllocationView) -> Pence, h: &budget_holders::BudgetHolderView| {
        Pence::from_stored(h.allocations.iter().map(|a| f(a).pence()).sum())
    };
    Ok(visitor.page(
        "Budget holders",
        true,
        html! {
            h1 { "Budget holders" }
            p { "Children and young people with an EHC plan and a personal budget in your area, and how much of each budget is committed to bookings." }
            div.table-wrap {
                table {
                    caption { "Budget holders and spend so far" }
                    thead { tr {
                        th scope="col" { "Reference" } th scope="col" { "Name" } th scope="col" { "Plan ends" }
                        th scope="col" { "Allocated" } th scope="col" { "Committed" } th scope="col" { "Remaining" }
                    } }
                    tbody {
                        @if holders.is_empty() { tr { td colspan="6" { "No budget holders yet." } } }
                        @for h in &holders {
                            tr {
                                td { (h.reference) } td { (h.first_name) } td { (h.plan_end.format("%-d %b %Y").to_string()) }
                                td { (money(sum(|a| a.amount, h))) } td { (money(sum(|a| a.committed, h))) } td { (money(sum(|a| a.remaining, h))) }
                            }
                        }
                    }
                }
            }
            p { "Budget holders are added through the API (POST /api/v1/budget-holders) for now." }
        },
    ))
}
