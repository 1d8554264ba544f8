//! Users and server-side sessions (so a revoked token is dead at once, on every server).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use super::schema::{sessions, users};
use super::{Conn, DbResult, now};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::personal_budget::Permissions;
use crate::domain::{Actor, CouncilId, OrganisationId, Role, UserId};

pub const SESSION_LIFETIME_HOURS: i64 = 12;

/// How long a session may go unused before it is dead (`serve --idle-timeout-minutes`).
pub const DEFAULT_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A session's last use is written at most this often, to spare writes.
const TOUCH_EVERY_SECONDS: i64 = 60;

pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub council_id: Option<CouncilId>,
}

/// A taken email is a unique violation for the caller to name.
pub fn insert(conn: &mut Conn, user: NewUser<'_>) -> DbResult<UserId> {
    let id = diesel::insert_into(users::table)
        .values((
            users::email.eq(user.email),
            users::password_hash.eq(user.password_hash),
            users::role.eq(user.role.as_str()),
            users::organisation_id.eq(user.organisation_id.map(|o| o.0)),
            users::council_id.eq(user.council_id.map(|c| c.0)),
            users::created_at.eq(now()),
            // Made by a council, the operator or an invitation: the address is the one given.
            // A provider registering itself is marked unconfirmed until it opens its link.
            users::email_confirmed_at.eq(Some(now())),
        ))
        .returning(users::id)
        .get_result::<i64>(conn)?;
    Ok(UserId(id))
}

/// The columns a [`UserRow`] is read from, in its order.
type UserColumns = (
    users::id,
    users::email,
    users::password_hash,
    users::role,
    users::organisation_id,
    users::council_id,
    users::permissions,
    users::disabled_at,
);
const USER_COLUMNS: UserColumns = (
    users::id,
    users::email,
    users::password_hash,
    users::role,
    users::organisation_id,
    users::council_id,
    users::permissions,
    users::disabled_at,
);

#[derive(Debug, Clone, Queryable)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub organisation_id: Option<i64>,
    pub council_id: Option<i64>,
    pub permissions: String,
    pub disabled_at: Option<NaiveDateTime>,
}

impl UserRow {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: UserId(self.id),
            // The CHECK constraint keeps roles to the enum's words.
            role: self.role.parse().unwrap_or(Role::Family),
            organisation_id: self.organisation_id.map(OrganisationId),
            council_id: self.council_id.map(CouncilId),
            permissions: Permissions::parse(&self.permissions),
            via: None,
        }
    }

    /// A council user its council turned off cannot log in.
    pub fn can_log_in(&self) -> bool {
        self.disabled_at.is_none()
    }
}

pub fn find_by_email(conn: &mut Conn, email: &str) -> DbResult<Option<UserRow>> {
    // No account has control characters in its email (and PostgreSQL text cannot hold NUL).
    if email.chars().any(char::is_control) {
        return Ok(None);
    }
    Ok(users::table
        .filter(users::email.eq(email.trim().to_lowercase()))
        .select(USER_COLUMNS)
        .get_result::<UserRow>(conn)
        .optional()?)
}

pub fn find_by_id(conn: &mut Conn, id: UserId) -> DbResult<Option<UserRow>> {
    Ok(users::table
        .find(id.0)
        .select(USER_COLUMNS)
        .get_result::<UserRow>(conn)
        .optional()?)
}

pub fn token_hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    crate::domain::hex(&digest)
}

/// Start a session; returns the bearer token (only its hash is stored).
pub fn create_session(conn: &mut Conn, user: UserId) -> DbResult<(String, NaiveDateTime)> {
    let bytes: [u8; 32] = rand::random();
    let token = crate::domain::hex(&bytes);
    let created = now();
    let expires = created + Duration::hours(SESSION_LIFETIME_HOURS);
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(token_hash(&token)),
            sessions::user_id.eq(user.0),
            sessions::created_at.eq(created),
            sessions::expires_at.eq(expires),
            sessions::last_seen_at.eq(created),
        ))
        .execute(conn)?;
    Ok((token, expires))
}

/// A live session: its holder and when it was last used.
pub struct LiveSession {
    pub actor: Actor,
    pub last_seen_at: NaiveDateTime,
}

/// The session this token belongs to, unless it is unknown, revoked, past its 12 hours or unused
/// for longer than `idle`.
pub fn live_session(conn: &mut Conn, token: &str, idle: Duration) -> DbResult<Option<LiveSession>> {
    let at = now();
    let row = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(token_hash(token)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(at))
        .filter(sessions::last_seen_at.gt(at - idle))
        .filter(users::disabled_at.is_null())
        .select((USER_COLUMNS, sessions::last_seen_at))
        .get_result::<(UserRow, NaiveDateTime)>(conn)
        .optional()?;
    Ok(row.map(|(u, last_seen_at)| LiveSession {
        actor: u.actor(),
        last_seen_at,
    }))
}

/// Whether a session last used at `last_seen_at` should have its use written now: at most once a
/// minute, and more often when the idle timeout is shorter than two minutes (tests).
pub fn needs_touch(last_seen_at: NaiveDateTime, idle: Duration) -> bool {
    let every = Duration::seconds(TOUCH_EVERY_SECONDS).min(idle / 2);
    now() - last_seen_at >= every
}

/// Record that a session was used now.
pub fn touch_session(conn: &mut Conn, token: &str) -> DbResult<()> {
    diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash(token)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::last_seen_at.eq(now()))
    .execute(conn)?;
    Ok(())
}

/// End every live session of a user, but the one with `keep`'s token; returns how many ended.
pub fn revoke_sessions_of(conn: &mut Conn, user: UserId, keep: Option<&str>) -> DbResult<usize> {
    let kept = keep.map(token_hash).unwrap_or_default();
    Ok(diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user.0))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::token_hash.ne(kept)),
    )
    .set(sessions::revoked_at.eq(Some(now())))
    .execute(conn)?)
}

/// Store a new password hash for a user.
pub fn set_password_hash(conn: &mut Conn, user: UserId, hash: &str) -> DbResult<()> {
    diesel::update(users::table.find(user.0))
        .set(users::password_hash.eq(hash))
        .execute(conn)?;
    Ok(())
}

/// Whether the user has shown they read mail at their address (`None`: not yet).
pub fn set_email_confirmed(conn: &mut Conn, user: UserId, confirmed: bool) -> DbResult<()> {
    diesel::update(users::table.find(user.0))
        .set(users::email_confirmed_at.eq(confirmed.then(now)))
        .execute(conn)?;
    Ok(())
}

pub fn email_confirmed(conn: &mut Conn, user: UserId) -> DbResult<bool> {
    let at: Option<NaiveDateTime> = users::table
        .find(user.0)
        .select(users::email_confirmed_at)
        .get_result(conn)?;
    Ok(at.is_some())
}

/// Close a login for good and remove its email: no password matches "!" (not a PHC string), and
/// its sessions end.
pub fn disable(conn: &mut Conn, user: UserId) -> DbResult<()> {
    diesel::update(users::table.find(user.0))
        .set((
            users::email.eq(format!("erased-{}@erased.invalid", user.0)),
            users::password_hash.eq(NO_PASSWORD),
        ))
        .execute(conn)?;
    revoke_sessions_of(conn, user, None)?;
    Ok(())
}

/// Delete sessions that can no longer be used: expired at `at`, or revoked. Returns how many.
/// (An idle session dies within its absolute lifetime anyway, and the idle timeout is a
/// server's setting, so idleness alone deletes nothing.)
pub fn purge_sessions(conn: &mut Conn, at: NaiveDateTime) -> DbResult<usize> {
    Ok(
        diesel::delete(sessions::table.filter(sessions::expires_at.le(at).or(sessions::revoked_at.is_not_null())))
            .execute(conn)?,
    )
}

/// Who a user is, by id.
pub fn actor(conn: &mut Conn, user: UserId) -> DbResult<Option<Actor>> {
    Ok(find_by_id(conn, user)?.map(|u| u.actor()))
}

pub fn revoke_session(conn: &mut Conn, token: &str) -> DbResult<bool> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::token_hash.eq(token_hash(token)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now())))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn set_permissions(conn: &mut Conn, user: UserId, permissions: &Permissions) -> DbResult<()> {
    diesel::update(users::table.find(user.0))
        .set(users::permissions.eq(permissions.stored()))
        .execute(conn)?;
    Ok(())
}

/// Turn a council user off (their sessions end at once) or back on.
pub fn set_disabled(conn: &mut Conn, user: UserId, disabled: bool) -> DbResult<()> {
    diesel::update(users::table.find(user.0))
        .set(users::disabled_at.eq(disabled.then(now)))
        .execute(conn)?;
    if disabled {
        revoke_sessions_of(conn, user, None)?;
    }
    Ok(())
}

/// A council's user, as its admins see it.
#[derive(Debug, Clone)]
pub struct CouncilUser {
    pub id: UserId,
    pub email: String,
    pub permissions: Permissions,
    pub active: bool,
    /// Whether a password is set (an account made without one waits for it).
    pub password_set: bool,
    pub created_at: NaiveDateTime,
}

fn council_user(row: UserRow, created_at: NaiveDateTime) -> CouncilUser {
    CouncilUser {
        id: UserId(row.id),
        active: row.can_log_in(),
        password_set: row.password_hash != NO_PASSWORD,
        permissions: Permissions::parse(&row.permissions),
        email: row.email,
        created_at,
    }
}

/// The hash of an account with no password yet: nothing verifies against it.
pub const NO_PASSWORD: &str = "!";

/// One page of a council's users, oldest first.
pub fn council_users(conn: &mut Conn, council: CouncilId, page: PageRequest) -> DbResult<Page<CouncilUser>> {
    let mine = || {
        users::table
            .filter(users::council_id.eq(council.0))
            .filter(users::role.eq(Role::Council.as_str()))
    };
    let total: i64 = mine().count().get_result(conn)?;
    let rows: Vec<(UserRow, NaiveDateTime)> = mine()
        .order(users::id)
        .offset(page.offset())
        .limit(page.limit())
        .select((USER_COLUMNS, users::created_at))
        .load(conn)?;
    let items = rows.into_iter().map(|(r, at)| council_user(r, at)).collect();
    Ok(Page::new(items, total as u64, page))
}

/// One of a council's users.
pub fn council_user_of(conn: &mut Conn, council: CouncilId, user: UserId) -> DbResult<Option<CouncilUser>> {
    let row: Option<(UserRow, NaiveDateTime)> = users::table
        .filter(users::id.eq(user.0))
        .filter(users::council_id.eq(council.0))
        .filter(users::role.eq(Role::Council.as_str()))
        .select((USER_COLUMNS, users::created_at))
        .get_result(conn)
        .optional()?;
    Ok(row.map(|(r, at)| council_user(r, at)))
}

/// How many of a council's active users are admins (the last one cannot be taken away).
pub fn active_admins(conn: &mut Conn, council: CouncilId) -> DbResult<usize> {
    let rows: Vec<String> = users::table
        .filter(users::council_id.eq(council.0))
        .filter(users::role.eq(Role::Council.as_str()))
        .filter(users::disabled_at.is_null())
        .select(users::permissions)
        .load(conn)?;
    Ok(rows
        .iter()
        .filter(|p| Permissions::parse(p).has(crate::domain::personal_budget::Permission::Admin))
        .count())
}
