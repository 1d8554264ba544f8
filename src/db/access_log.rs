//! The access record: who read or changed a budget holder's data, other than its family.
//! Append-only: this file has no update and no delete.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{access_log, councils, organisations, users};
use super::{Conn, DbResult, now};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::{Actor, BudgetHolderId, UserId};

/// Who did it: a user in a role, or the operator at the command line (no user).
#[derive(Debug, Clone, Copy)]
pub struct Who<'a> {
    pub user: Option<UserId>,
    pub role: &'a str,
}

impl<'a> From<&'a Actor> for Who<'a> {
    fn from(actor: &'a Actor) -> Who<'a> {
        Who {
            user: Some(actor.user_id),
            role: actor.role.as_str(),
        }
    }
}

/// Append one entry per budget holder for what `who` did, through `route`.
pub fn append(conn: &mut Conn, who: Who<'_>, holders: &[BudgetHolderId], action: &str, route: &str) -> DbResult<()> {
    let at = now();
    // One row at a time: multi-row VALUES is not available across backends.
    for holder in holders {
        diesel::insert_into(access_log::table)
            .values((
                access_log::at.eq(at),
                access_log::user_id.eq(who.user.map(|u| u.0)),
                access_log::role.eq(who.role),
                access_log::budget_holder_id.eq(holder.0),
                access_log::action.eq(action),
                access_log::route.eq(route),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// One entry, with who the user is: its email, and the organisation or council it acts for.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub at: NaiveDateTime,
    /// None for the operator's commands.
    pub user_id: Option<UserId>,
    /// `council`, `broker`, `provider`, `family` (another family's login) or `operator`.
    pub role: String,
    pub action: String,
    pub route: String,
    pub email: String,
    /// The council's or organisation's name, when the user acts for one.
    pub acting_for: Option<String>,
}

/// A page of a budget holder's access record, newest first.
pub fn list(conn: &mut Conn, holder: BudgetHolderId, page: PageRequest) -> DbResult<Page<AccessEntry>> {
    let of_holder = || access_log::table.filter(access_log::budget_holder_id.eq(holder.0));
    let total: i64 = of_holder().count().get_result(conn)?;
    let rows: Vec<(NaiveDateTime, Option<i64>, String, String, String)> = of_holder()
        .order(access_log::id.desc())
        .offset(page.offset())
        .limit(page.limit())
        .select((
            access_log::at,
            access_log::user_id,
            access_log::role,
            access_log::action,
            access_log::route,
        ))
        .load(conn)?;
    // Who each user is, in three queries for the whole page rather than two per entry.
    let mut user_ids: Vec<i64> = rows.iter().filter_map(|r| r.1).collect();
    user_ids.sort_unstable();
    user_ids.dedup();
    let people: HashMap<i64, (String, Option<i64>, Option<i64>)> = users::table
        .filter(users::id.eq_any(&user_ids))
        .select((users::id, users::email, users::organisation_id, users::council_id))
        .load::<(i64, String, Option<i64>, Option<i64>)>(conn)?
        .into_iter()
        .map(|(id, email, organisation, council)| (id, (email, organisation, council)))
        .collect();
    let organisation_ids: Vec<i64> = people.values().filter_map(|p| p.1).collect();
    let organisation_names: HashMap<i64, String> = organisations::table
        .filter(organisations::id.eq_any(&organisation_ids))
        .select((organisations::id, organisations::name))
        .load(conn)?
        .into_iter()
        .collect();
    let council_ids: Vec<i64> = people.values().filter_map(|p| p.2).collect();
    let council_names: HashMap<i64, String> = councils::table
        .filter(councils::id.eq_any(&council_ids))
        .select((councils::id, councils::name))
        .load(conn)?
        .into_iter()
        .collect();
    let entries = rows
        .into_iter()
        .map(|(at, user, role, action, route)| {
            let (email, organisation, council) = user.and_then(|u| people.get(&u)).cloned().unwrap_or_default();
            let acting_for = match (organisation, council) {
                (Some(o), _) => organisation_names.get(&o).cloned(),
                (None, Some(c)) => council_names.get(&c).cloned(),
                (None, None) => None,
            };
            AccessEntry {
                at,
                user_id: user.map(UserId),
                role,
                action,
                route,
                email,
                acting_for,
            }
        })
        .collect();
    Ok(Page::new(entries, u64::try_from(total).unwrap_or(0), page))
}
