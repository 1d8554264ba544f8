//! Calendar feeds: what a family's, a broker's or a provider's calendar shows of its sessions, and
//! the secret tokens their addresses carry.

use chrono::{Duration, NaiveDateTime};

use super::sessions::{SeatStatus, SessionStatus};
use super::{BookingId, SessionId};

/// Sessions that started up to this many days ago stay in the feed (what was attended, charged
/// or cancelled lately), so calendar apps do not see them vanish the day after.
pub const WINDOW_DAYS: i64 = 31;

/// The earliest start a feed built at `now` shows.
pub fn window_start(now: NaiveDateTime) -> NaiveDateTime {
    now - Duration::days(WINDOW_DAYS)
}

/// A feed token as we make them: 32 random bytes in lower-case hex.
pub fn is_token(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// How an event stands in a calendar app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventState {
    Confirmed,
    /// Shown struck through (or dropped) by calendar apps: the provider cancelled the session, or
    /// the family cancelled its place.
    Cancelled,
}

/// A booked place as the family's calendar shows it: on while it is booked or was run,
/// cancelled once the provider cancelled the session or the family cancelled the place.
pub fn seat_state(seat: SeatStatus, session: SessionStatus) -> EventState {
    if session == SessionStatus::Cancelled {
        return EventState::Cancelled;
    }
    match seat {
        SeatStatus::Booked | SeatStatus::Attended | SeatStatus::AbsentCharged | SeatStatus::AbsentRefunded => {
            EventState::Confirmed
        }
        SeatStatus::Refunded | SeatStatus::Charged | SeatStatus::SessionCancelled => EventState::Cancelled,
    }
}

/// A session as its provider's calendar shows it.
pub fn session_state(session: SessionStatus) -> EventState {
    match session {
        SessionStatus::Scheduled => EventState::Confirmed,
        SessionStatus::Cancelled => EventState::Cancelled,
    }
}

/// "3 of 12 places booked" (places held for a waiting-list offer count as booked).
pub fn places_booked(taken: i32, places: i32) -> String {
    let noun = if places == 1 { "place" } else { "places" };
    format!("{} of {places} {noun} booked", taken.max(0))
}

/// The stable id of a booked place's event: the same booking and session, the same event.
pub fn seat_uid(booking: BookingId, session: SessionId) -> String {
    format!("seat-{booking}-{session}@localoffer")
}

/// The stable id of a provider's session event.
pub fn session_uid(session: SessionId) -> String {
    format!("session-{session}@localoffer")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_lower_case_hex_digits() {
        assert!(is_token(&"ab01".repeat(16)));
        assert!(!is_token(&"AB01".repeat(16)));
        assert!(!is_token(&"ab01".repeat(15)));
        assert!(!is_token(&format!("{}.ics", "a".repeat(60))));
        assert!(!is_token(""));
    }

    #[test]
    fn a_place_is_on_until_someone_cancels_it() {
        use SeatStatus::*;
        for seat in [Booked, Attended, AbsentCharged, AbsentRefunded] {
            assert_eq!(
                seat_state(seat, SessionStatus::Scheduled),
                EventState::Confirmed,
                "{seat}"
            );
            assert_eq!(
                seat_state(seat, SessionStatus::Cancelled),
                EventState::Cancelled,
                "{seat}"
            );
        }
        for seat in [Refunded, Charged, SessionCancelled] {
            assert_eq!(
                seat_state(seat, SessionStatus::Scheduled),
                EventState::Cancelled,
                "{seat}"
            );
        }
        assert_eq!(session_state(SessionStatus::Cancelled), EventState::Cancelled);
    }

    #[test]
    fn places_and_ids_read_plainly() {
        assert_eq!(places_booked(3, 12), "3 of 12 places booked");
        assert_eq!(places_booked(0, 1), "0 of 1 place booked");
        assert_eq!(seat_uid(BookingId(4), SessionId(9)), "seat-4-9@localoffer");
        assert_eq!(session_uid(SessionId(9)), "session-9@localoffer");
    }
}
