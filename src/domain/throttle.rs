//! Failed logins per account: after a few, each further attempt must wait longer; after more, the
//! account is locked until an officer lifts it (or a long expiry). Counted per normalised email,
//! whether or not an account has it, so the answers never tell whether an account exists.

use chrono::{Duration, NaiveDateTime};
use sha2::{Digest, Sha256};

/// The limits (the defaults are the service's; tests and operators may tighten them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Failures allowed before each further attempt is delayed.
    pub delay_after: u32,
    /// Failures within `window` that lock the account.
    pub lock_after: u32,
    /// The longest delay between two attempts.
    pub max_delay: Duration,
    /// Failures older than this (since the first of a run) are forgotten.
    pub window: Duration,
    /// How long a lock-out lasts unless an officer lifts it first.
    pub lock_for: Duration,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            delay_after: 5,
            lock_after: 10,
            max_delay: Duration::minutes(15),
            window: Duration::hours(24),
            lock_for: Duration::days(30),
        }
    }
}

/// One email's run of failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub window_started_at: NaiveDateTime,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub locked_until: Option<NaiveDateTime>,
}

impl Failures {
    pub fn none(now: NaiveDateTime) -> Failures {
        Failures {
            count: 0,
            window_started_at: now,
            next_attempt_at: None,
            locked_until: None,
        }
    }

    /// Seconds to wait before an attempt may be made, if it may not be made now.
    pub fn refusal(&self, now: NaiveDateTime) -> Option<u64> {
        [self.locked_until, self.next_attempt_at]
            .into_iter()
            .flatten()
            .filter(|until| *until > now)
            .max()
            .map(|until| seconds_up(until - now))
    }

    /// The run after one more failure at `now`.
    pub fn after_failure(&self, now: NaiveDateTime, policy: &Policy) -> Failures {
        let lapsed = self.locked_until.is_none_or(|until| until <= now) && now - self.window_started_at > policy.window;
        let mut next = if lapsed { Failures::none(now) } else { *self };
        next.count = next.count.saturating_add(1);
        if next.count >= policy.lock_after {
            next.locked_until = Some(now + policy.lock_for);
            next.next_attempt_at = None;
        } else if next.count > policy.delay_after {
            next.next_attempt_at = Some(now + delay(next.count - policy.delay_after, policy.max_delay));
        } else if next.count == policy.delay_after {
            next.next_attempt_at = Some(now + delay(1, policy.max_delay));
        }
        next
    }
}

/// 2^n seconds, capped.
fn delay(n: u32, cap: Duration) -> Duration {
    let secs = 1_i64.checked_shl(n.min(40)).unwrap_or(i64::MAX);
    Duration::seconds(secs).min(cap)
}

fn seconds_up(d: Duration) -> u64 {
    let ms = d.num_milliseconds().max(0) as u64;
    ms.div_ceil(1000).max(1)
}

/// What failures are kept under: a hash of the normalised email, never the email itself.
pub fn email_key(email: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"localoffer login throttle\0");
    h.update(email.trim().to_lowercase().as_bytes());
    super::hex(&h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> NaiveDateTime {
        chrono::DateTime::from_timestamp(1_800_000_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    #[test]
    fn delays_grow_after_five_failures_and_ten_lock() {
        let p = Policy::default();
        let mut f = Failures::none(at(0));
        for _ in 0..4 {
            f = f.after_failure(at(0), &p);
            assert_eq!(f.refusal(at(0)), None);
        }
        f = f.after_failure(at(0), &p);
        assert_eq!(f.refusal(at(0)), Some(2), "the fifth failure delays the next attempt");
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 5..9 {
            now += 10_000;
            f = f.after_failure(at(now), &p);
            waits.push(f.refusal(at(now)).unwrap());
        }
        assert_eq!(waits, vec![2, 4, 8, 16]);
        f = f.after_failure(at(now), &p);
        assert_eq!(f.refusal(at(now)), Some(30 * 86_400), "ten failures lock for 30 days");
    }

    #[test]
    fn delays_are_capped_and_old_failures_forgotten() {
        let p = Policy {
            lock_after: 100,
            ..Policy::default()
        };
        let mut f = Failures::none(at(0));
        for _ in 0..30 {
            f = f.after_failure(at(0), &p);
        }
        assert_eq!(f.refusal(at(0)), Some(15 * 60));
        let later = at(25 * 3600);
        assert_eq!(f.after_failure(later, &p).count, 1);
    }

    #[test]
    fn the_key_is_the_normalised_email_hashed() {
        assert_eq!(email_key(" Ann@Example.org "), email_key("ann@example.org"));
        assert_ne!(email_key("ann@example.org"), email_key("bob@example.org"));
        assert!(!email_key("ann@example.org").contains("ann"));
    }
}
