//! Resource allocation systems: each version stored whole, frozen by one guarded statement the
//! first time an assessment uses it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::ras;
use super::{Conn, DbError, DbResult, now};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::ras::{RasDefinition, ValidRas};
use crate::domain::{CouncilId, RasId, Stream, UserId};

#[derive(Debug, Clone)]
pub struct RasView {
    pub id: RasId,
    pub council_id: CouncilId,
    pub name: String,
    pub stream: Stream,
    pub version: i32,
    pub definition: RasDefinition,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// Set by its first assessment: from then on it never changes.
    pub first_used_at: Option<NaiveDateTime>,
    /// Whether a newer version of the same name and stream exists (new assessments use that).
    pub superseded: bool,
}

type Row = (
    i64,
    i64,
    String,
    String,
    i32,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

macro_rules! columns {
    () => {
        (
            ras::id,
            ras::council_id,
            ras::name,
            ras::stream,
            ras::version,
            ras::definition,
            ras::created_at,
            ras::updated_at,
            ras::first_used_at,
        )
    };
}

fn view(conn: &mut Conn, r: Row) -> DbResult<RasView> {
    let (id, council, name, stream, version, definition, created_at, updated_at, first_used_at) = r;
    let definition: RasDefinition =
        serde_json::from_str(&definition).map_err(|e| DbError::Corrupt(format!("RAS {id} cannot be read: {e}")))?;
    let newer: i64 = ras::table
        .filter(ras::council_id.eq(council))
        .filter(ras::name.eq(&name))
        .filter(ras::stream.eq(&stream))
        .filter(ras::version.gt(version))
        .count()
        .get_result(conn)?;
    Ok(RasView {
        id: RasId(id),
        council_id: CouncilId(council),
        stream: stream.parse().unwrap_or(Stream::SocialCare),
        name,
        version,
        definition,
        created_at,
        updated_at,
        first_used_at,
        superseded: newer > 0,
    })
}

fn stored(definition: &RasDefinition) -> DbResult<String> {
    serde_json::to_string(definition).map_err(|e| DbError::Corrupt(format!("a RAS cannot be stored: {e}")))
}

/// A new version: one more than the newest of the same name and stream (1 for a new one). Two
/// officers racing for the same number meet the unique key; the caller retries.
pub fn create(conn: &mut Conn, council: CouncilId, r: &ValidRas, by: UserId) -> DbResult<RasId> {
    let newest: Option<i32> = ras::table
        .filter(ras::council_id.eq(council.0))
        .filter(ras::name.eq(&r.name))
        .filter(ras::stream.eq(r.stream.as_str()))
        .select(diesel::dsl::max(ras::version))
        .get_result(conn)?;
    let at = now();
    let id = diesel::insert_into(ras::table)
        .values((
            ras::council_id.eq(council.0),
            ras::name.eq(&r.name),
            ras::stream.eq(r.stream.as_str()),
            ras::version.eq(newest.unwrap_or(0) + 1),
            ras::definition.eq(stored(&r.definition)?),
            ras::created_by.eq(by.0),
            ras::created_at.eq(at),
            ras::updated_at.eq(at),
        ))
        .returning(ras::id)
        .get_result::<i64>(conn)?;
    Ok(RasId(id))
}

/// Change a version nobody has used yet (its name and stream stay). False once it is in use.
pub fn update_unused(conn: &mut Conn, id: RasId, definition: &RasDefinition) -> DbResult<bool> {
    let n = diesel::update(ras::table.find(id.0).filter(ras::first_used_at.is_null()))
        .set((ras::definition.eq(stored(definition)?), ras::updated_at.eq(now())))
        .execute(conn)?;
    Ok(n == 1)
}

/// Mark a version used (a no-op once it is). Run before reading the definition an assessment
/// scores with, so a concurrent change either lands first or is refused.
pub fn mark_used(conn: &mut Conn, id: RasId) -> DbResult<()> {
    diesel::update(ras::table.find(id.0).filter(ras::first_used_at.is_null()))
        .set(ras::first_used_at.eq(Some(now())))
        .execute(conn)?;
    Ok(())
}

pub fn load(conn: &mut Conn, council: CouncilId, id: RasId) -> DbResult<Option<RasView>> {
    let row: Option<Row> = ras::table
        .filter(ras::id.eq(id.0))
        .filter(ras::council_id.eq(council.0))
        .select(columns!())
        .get_result(conn)
        .optional()?;
    row.map(|r| view(conn, r)).transpose()
}

/// A council's versions, by name, stream and newest version first; `current` keeps only the
/// newest of each name and stream.
pub fn list(conn: &mut Conn, council: CouncilId, stream: Option<Stream>, page: PageRequest) -> DbResult<Page<RasView>> {
    let filtered = || {
        let mut q = ras::table.filter(ras::council_id.eq(council.0)).into_boxed();
        if let Some(s) = stream {
            q = q.filter(ras::stream.eq(s.as_str()));
        }
        q
    };
    let total: i64 = filtered().count().get_result(conn)?;
    let rows: Vec<Row> = filtered()
        .order((ras::name, ras::stream, ras::version.desc()))
        .offset(page.offset())
        .limit(page.limit())
        .select(columns!())
        .load(conn)?;
    let items = rows.into_iter().map(|r| view(conn, r)).collect::<DbResult<Vec<_>>>()?;
    Ok(Page::new(items, total as u64, page))
}

/// A council's versions in force: the newest of each name and stream.
pub fn current(conn: &mut Conn, council: CouncilId) -> DbResult<Vec<RasView>> {
    let rows: Vec<Row> = ras::table
        .filter(ras::council_id.eq(council.0))
        .order((ras::name, ras::stream, ras::version.desc()))
        .select(columns!())
        .load(conn)?;
    let mut seen = std::collections::HashSet::new();
    rows.into_iter()
        .filter(|r| seen.insert((r.2.clone(), r.3.clone())))
        .map(|r| view(conn, r))
        .collect()
}
