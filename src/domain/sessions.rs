//! Dated sessions: the Europe/London wall-clock times people read and write, the UTC instants
//! stored; weekly series expanded into dates; what one session costs; when a family's
//! cancellation is charged; what attendance does to the money.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::service::Day;
use super::validate::{Checker, FieldError, Invalid};
use super::{Pence, RuleError, Unit, text_enum};

/// How a provider's sessions are run: how late a family may cancel and still be refunded, how
/// long a waiting-list offer stays open, and what a late cancellation or an absence costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    pub cancellation_notice_hours: i32,
    pub offer_window_hours: i32,
    pub late_cancellation: Policy,
    pub absence: Policy,
}

impl Default for SessionPolicy {
    fn default() -> SessionPolicy {
        SessionPolicy {
            cancellation_notice_hours: DEFAULT_NOTICE_HOURS,
            offer_window_hours: DEFAULT_OFFER_WINDOW_HOURS,
            late_cancellation: Policy::Charged,
            absence: Policy::Charged,
        }
    }
}

impl SessionPolicy {
    /// A policy as given, with the defaults for what is left out; each bad value named.
    pub fn checked(
        notice: Option<i32>,
        window: Option<i32>,
        late: Option<Policy>,
        absence: Option<Policy>,
    ) -> Result<SessionPolicy, Invalid> {
        let d = SessionPolicy::default();
        let mut c = Checker::new();
        let notice = notice.unwrap_or(d.cancellation_notice_hours);
        if !(0..=MAX_NOTICE_HOURS).contains(&notice) {
            c.add(
                "cancellation_notice_hours",
                format!("must be from 0 to {MAX_NOTICE_HOURS} hours"),
            );
        }
        let window = window.unwrap_or(d.offer_window_hours);
        if !(1..=MAX_OFFER_WINDOW_HOURS).contains(&window) {
            c.add(
                "offer_window_hours",
                format!("must be from 1 to {MAX_OFFER_WINDOW_HOURS} hours"),
            );
        }
        c.finish(|| SessionPolicy {
            cancellation_notice_hours: notice,
            offer_window_hours: window,
            late_cancellation: late.unwrap_or(d.late_cancellation),
            absence: absence.unwrap_or(d.absence),
        })
    }
}

/// Where the sessions happen, and so whose clock they are read by.
pub const LONDON: Tz = chrono_tz::Europe::London;

/// The most sessions one request may publish (a year of weekdays and some).
pub const MAX_NEW_SESSIONS: usize = 400;
/// The most sessions one booking may hold.
pub const MAX_BOOKED_SESSIONS: usize = 400;
pub const MAX_PLACES: i32 = 10_000;
/// The longest a session may run.
pub const MAX_SESSION_HOURS: i64 = 24 * 7;

pub const DEFAULT_NOTICE_HOURS: i32 = 48;
pub const MAX_NOTICE_HOURS: i32 = 24 * 30;
pub const DEFAULT_OFFER_WINDOW_HOURS: i32 = 24;
pub const MAX_OFFER_WINDOW_HOURS: i32 = 24 * 7;

text_enum!(
    SessionStatus { Scheduled = "scheduled", Cancelled = "cancelled" }
);

text_enum!(
    /// What happens to the money when a family cancels late, or a child does not come.
    Policy { Charged = "charged", Refunded = "refunded" }
);

text_enum!(
    /// One booked session, from the booking to what became of it.
    SeatStatus {
        Booked = "booked",
        /// Cancelled in time (or by the provider's policy): the money went back.
        Refunded = "refunded",
        /// Cancelled after the notice: the place went back, the money is the provider's.
        Charged = "charged",
        Attended = "attended",
        AbsentCharged = "absent_charged",
        AbsentRefunded = "absent_refunded",
        /// The provider cancelled the session: the money went back.
        SessionCancelled = "session_cancelled",
    }
);

impl SeatStatus {
    /// Money stays committed for a place held or used, and for a charge.
    pub fn holds_money(self) -> bool {
        matches!(
            self,
            SeatStatus::Booked | SeatStatus::Charged | SeatStatus::Attended | SeatStatus::AbsentCharged
        )
    }

    /// A place is taken while booked, and stays taken once the session has been run.
    pub fn holds_place(self) -> bool {
        matches!(
            self,
            SeatStatus::Booked | SeatStatus::Attended | SeatStatus::AbsentCharged | SeatStatus::AbsentRefunded
        )
    }

    /// Delivered, for invoicing: attended, or charged as late-cancelled or absent.
    pub fn delivered(self) -> bool {
        matches!(
            self,
            SeatStatus::Attended | SeatStatus::Charged | SeatStatus::AbsentCharged
        )
    }
}

text_enum!(
    /// A waiting list place, from joining to its end.
    WaitStatus {
        Waiting = "waiting", Offered = "offered", Accepted = "accepted",
        Declined = "declined", Expired = "expired",
    }
);

/// A wall-clock time in England as a UTC instant. A time the clocks skip (01:30 on the last
/// Sunday of March) is refused; one they pass twice (01:30 on the last Sunday of October) is the
/// first of the two.
pub fn london_to_utc(field: &str, local: NaiveDateTime) -> Result<NaiveDateTime, FieldError> {
    LONDON
        .from_local_datetime(&local)
        .earliest()
        .map(|at| at.naive_utc())
        .ok_or_else(|| FieldError::new(field, "is a time the clocks skip in England (they go forward an hour)"))
}

/// A stored instant as England's wall clock shows it.
pub fn in_london(at: NaiveDateTime) -> DateTime<Tz> {
    LONDON.from_utc_datetime(&at)
}

/// The day in England an instant falls on.
pub fn london_date(at: NaiveDateTime) -> NaiveDate {
    in_london(at).date_naive()
}

/// "Saturday 13 February 2027, 10:00 to 15:00", as a family reads a session.
pub fn describe(starts_at: NaiveDateTime, ends_at: NaiveDateTime) -> String {
    let (s, e) = (in_london(starts_at), in_london(ends_at));
    if s.date_naive() == e.date_naive() {
        format!(
            "{}, {} to {}",
            s.format("%A %-d %B %Y"),
            s.format("%H:%M"),
            e.format("%H:%M")
        )
    } else {
        format!(
            "{} to {}",
            s.format("%A %-d %B %Y %H:%M"),
            e.format("%A %-d %B %Y %H:%M")
        )
    }
}

/// A local date-time as the API takes it: `2027-01-09T10:00:00` (or with seconds left off), read
/// on England's clock; or an instant with its offset, `2027-01-09T10:00:00+00:00`.
pub fn parse_time(field: &str, text: &str) -> Result<NaiveDateTime, FieldError> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.naive_utc());
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .map_err(|_| {
            FieldError::new(
                field,
                "must be a date and time such as 2027-01-09T10:00:00 (England's clock)",
            )
        })?;
    london_to_utc(field, local)
}

fn clock(field: &str, text: &str) -> Result<NaiveTime, FieldError> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| FieldError::new(field, "must be a 24-hour time such as 09:30"))
}

/// A session's start and end as UTC instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Times {
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

impl Times {
    pub fn check(self, prefix: &str, now: NaiveDateTime) -> Result<Times, FieldError> {
        if self.ends_at <= self.starts_at {
            return Err(FieldError::new(format!("{prefix}ends_at"), "must be after starts_at"));
        }
        if self.ends_at - self.starts_at > Duration::hours(MAX_SESSION_HOURS) {
            return Err(FieldError::new(
                format!("{prefix}ends_at"),
                format!("a session may last at most {MAX_SESSION_HOURS} hours"),
            ));
        }
        if self.starts_at <= now {
            return Err(FieldError::new(format!("{prefix}starts_at"), "must be in the future"));
        }
        Ok(self)
    }

    pub fn minutes(self) -> i64 {
        (self.ends_at - self.starts_at).num_minutes()
    }
}

/// A weekly series as a provider sets it: "every Saturday 10:00-15:00 from 9 January to 17 July,
/// except 13 and 20 February".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weekly {
    pub days: Vec<Day>,
    pub from: NaiveDate,
    pub until: NaiveDate,
    pub starts: String,
    pub ends: String,
    pub except: Vec<NaiveDate>,
}

pub fn weekday(day: Day) -> chrono::Weekday {
    match day {
        Day::Monday => chrono::Weekday::Mon,
        Day::Tuesday => chrono::Weekday::Tue,
        Day::Wednesday => chrono::Weekday::Wed,
        Day::Thursday => chrono::Weekday::Thu,
        Day::Friday => chrono::Weekday::Fri,
        Day::Saturday => chrono::Weekday::Sat,
        Day::Sunday => chrono::Weekday::Sun,
    }
}

/// Items in words: "a", "a and b", "a, b and c".
fn in_words(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl Weekly {
    /// Its days Monday first, each once.
    pub fn days_in_order(&self) -> Vec<Day> {
        let mut days = self.days.clone();
        days.sort();
        days.dedup();
        days
    }

    /// The days it skips, in order.
    pub fn exceptions_in_order(&self) -> Vec<NaiveDate> {
        let mut except: Vec<NaiveDate> = self
            .except
            .iter()
            .copied()
            .filter(|d| (self.from..=self.until).contains(d))
            .collect();
        except.sort();
        except.dedup();
        except
    }

    /// "Every Saturday, 10:00 to 15:00 (UK time), from 9 January 2027 to 17 July 2027, except
    /// 13 February 2027 and 20 February 2027", as a person reads the series.
    pub fn describe(&self) -> String {
        let days: Vec<String> = self
            .days_in_order()
            .iter()
            .map(|d| {
                let name = d.as_str();
                let mut chars = name.chars();
                chars
                    .next()
                    .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
                    .unwrap_or_default()
            })
            .collect();
        let date = |d: &NaiveDate| d.format("%-d %B %Y").to_string();
        let mut out = format!(
            "Every {}, {} to {} (UK time), from {} to {}",
            in_words(&days),
            self.starts.trim(),
            self.ends.trim(),
            date(&self.from),
            date(&self.until)
        );
        let except: Vec<String> = self.exceptions_in_order().iter().map(date).collect();
        if !except.is_empty() {
            out.push_str(", except ");
            out.push_str(&in_words(&except));
        }
        out
    }

    /// Every session of the series, in order, each at the same wall-clock time whatever the
    /// clocks do in between.
    pub fn expand(&self, now: NaiveDateTime) -> Result<Vec<Times>, Invalid> {
        let mut c = Checker::new();
        if self.days.is_empty() {
            c.add("weekly.days", "must name at least one day");
        }
        if self.until < self.from {
            c.add("weekly.until", "must not be before from");
        } else if (self.until - self.from).num_days() > 2 * 366 {
            c.add("weekly.until", "a series may run for at most two years");
        }
        let starts = c.take(clock("weekly.starts", &self.starts));
        let ends = c.take(clock("weekly.ends", &self.ends));
        if let (Some(s), Some(e)) = (starts, ends)
            && e <= s
        {
            c.add("weekly.ends", "must be after starts");
        }
        c.finish(|| ())?;
        let (Some(starts), Some(ends)) = (starts, ends) else {
            return Err(Invalid::one("weekly", "is incomplete"));
        };
        let days: Vec<chrono::Weekday> = self.days.iter().map(|d| weekday(*d)).collect();
        let mut out = Vec::new();
        let mut day = self.from;
        while day <= self.until {
            if days.contains(&day.weekday()) && !self.except.contains(&day) {
                let field = format!("weekly ({day})");
                let times = Times {
                    starts_at: london_to_utc(&field, day.and_time(starts))?,
                    ends_at: london_to_utc(&field, day.and_time(ends))?,
                };
                if times.starts_at > now {
                    out.push(times);
                }
            }
            day = day.succ_opt().unwrap_or(day);
            if day == NaiveDate::MAX {
                break;
            }
        }
        if out.is_empty() {
            return Err(Invalid::one("weekly", "gives no session in the future"));
        }
        if out.len() > MAX_NEW_SESSIONS {
            return Err(Invalid::one(
                "weekly",
                format!(
                    "gives {} sessions; publish at most {MAX_NEW_SESSIONS} at once",
                    out.len()
                ),
            ));
        }
        Ok(out)
    }
}

/// Places for new sessions: as given, or the service's capacity.
pub fn places(field: &str, given: Option<i32>, capacity: Option<i32>) -> Result<i32, FieldError> {
    match given.or(capacity) {
        Some(p) if (1..=MAX_PLACES).contains(&p) => Ok(p),
        Some(_) => Err(FieldError::new(field, format!("must be from 1 to {MAX_PLACES}"))),
        None => Err(FieldError::new(
            field,
            "is needed: the service does not say how many places a session has",
        )),
    }
}

/// Places changed on a session: never below those already taken.
pub fn check_places(places: i32, taken: i32) -> Result<i32, RuleError> {
    if !(1..=MAX_PLACES).contains(&places) {
        return Err(Invalid::one("places", format!("must be from 1 to {MAX_PLACES}")).into());
    }
    if places < taken {
        return Err(RuleError::conflict(
            "places_taken",
            format!("{taken} places are already taken; a session cannot have fewer"),
            Some("places"),
        ));
    }
    Ok(places)
}

/// What one session costs from a price option: its price, unless the option is charged by the
/// hour, when it is the session's length in hours rounded to the nearest quarter hour (to the
/// nearest penny, halves up).
pub fn session_price(unit: Unit, price: Pence, times: Times) -> Pence {
    if unit != Unit::Hour {
        return price;
    }
    let quarters = (times.minutes() + 7) / 15;
    // price x quarters / 4, to the nearest penny: (2pq + 4) / 8 rounds halves up.
    let pence = (2 * price.pence() * quarters + 4) / 8;
    Pence::from_stored(pence)
}

/// What a family's cancellation of one session does now: refunded up to `notice_hours` before it
/// starts, after that as the provider's policy says. A session that has started cannot be
/// cancelled.
pub fn cancellation(
    now: NaiveDateTime,
    starts_at: NaiveDateTime,
    notice_hours: i32,
    late: Policy,
) -> Result<SeatStatus, RuleError> {
    if now >= starts_at {
        return Err(RuleError::conflict(
            "session_started",
            "a session that has started cannot be cancelled",
            Some("session_ids"),
        ));
    }
    if now <= starts_at - Duration::hours(i64::from(notice_hours)) || late == Policy::Refunded {
        Ok(SeatStatus::Refunded)
    } else {
        Ok(SeatStatus::Charged)
    }
}

/// The latest a family may cancel and be refunded.
pub fn refund_deadline(starts_at: NaiveDateTime, notice_hours: i32) -> NaiveDateTime {
    starts_at - Duration::hours(i64::from(notice_hours))
}

text_enum!(
    Attendance { Attended = "attended", Absent = "absent" }
);

/// What marking a child present or absent does to the seat, once the session has started.
pub fn attendance(
    now: NaiveDateTime,
    starts_at: NaiveDateTime,
    seat: SeatStatus,
    mark: Attendance,
    absence: Policy,
) -> Result<SeatStatus, RuleError> {
    if now < starts_at {
        return Err(RuleError::conflict(
            "session_not_started",
            "attendance is marked once the session has started",
            Some("attendance"),
        ));
    }
    if !matches!(
        seat,
        SeatStatus::Booked | SeatStatus::Attended | SeatStatus::AbsentCharged | SeatStatus::AbsentRefunded
    ) {
        return Err(RuleError::conflict(
            "not_booked",
            format!("this place is {seat}: there is no attendance to mark"),
            Some("attendance"),
        ));
    }
    Ok(match (mark, absence) {
        (Attendance::Attended, _) => SeatStatus::Attended,
        (Attendance::Absent, Policy::Charged) => SeatStatus::AbsentCharged,
        (Attendance::Absent, Policy::Refunded) => SeatStatus::AbsentRefunded,
    })
}

/// A booking reference a person can read out on the phone: eight letters and digits with none
/// that look alike (no I, L, O, U), in two groups.
pub fn reference(random: [u8; 8]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let chars: String = random.iter().map(|b| ALPHABET[usize::from(*b) % 32] as char).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    const NOW: &str = "2026-12-01T12:00:00";

    #[test]
    fn a_series_is_described_in_words() {
        let w = Weekly {
            days: vec![Day::Saturday, Day::Wednesday, Day::Saturday],
            from: d("2027-01-09"),
            until: d("2027-07-17"),
            starts: "10:00".into(),
            ends: "15:00".into(),
            except: vec![d("2027-02-20"), d("2027-02-13"), d("2028-01-01")],
        };
        assert_eq!(w.days_in_order(), [Day::Wednesday, Day::Saturday]);
        assert_eq!(w.exceptions_in_order(), [d("2027-02-13"), d("2027-02-20")]);
        assert_eq!(
            w.describe(),
            "Every Wednesday and Saturday, 10:00 to 15:00 (UK time), from 9 January 2027 to \
             17 July 2027, except 13 February 2027 and 20 February 2027"
        );
        let plain = Weekly {
            days: vec![Day::Monday, Day::Tuesday, Day::Friday],
            except: Vec::new(),
            ..w
        };
        assert_eq!(
            plain.describe(),
            "Every Monday, Tuesday and Friday, 10:00 to 15:00 (UK time), from 9 January 2027 to 17 July 2027"
        );
    }

    #[test]
    fn london_times_follow_the_clocks() {
        // Winter: GMT, so 10:00 is 10:00 UTC. Summer: BST, so 10:00 is 09:00 UTC.
        assert_eq!(
            london_to_utc("x", t("2027-01-09T10:00:00")).unwrap(),
            t("2027-01-09T10:00:00")
        );
        assert_eq!(
            london_to_utc("x", t("2027-07-10T10:00:00")).unwrap(),
            t("2027-07-10T09:00:00")
        );
        // The clocks go forward at 01:00 on 28 March 2027: 01:30 does not exist.
        assert_eq!(
            london_to_utc("starts_at", t("2027-03-28T01:30:00")).unwrap_err().field,
            "starts_at"
        );
        // They go back at 02:00 on 31 October 2027: 01:30 happens twice; the first is BST.
        assert_eq!(
            london_to_utc("x", t("2027-10-31T01:30:00")).unwrap(),
            t("2027-10-31T00:30:00")
        );
        assert_eq!(
            in_london(t("2027-07-10T09:00:00")).format("%H:%M %:z").to_string(),
            "10:00 +01:00"
        );
        assert_eq!(london_date(t("2027-07-10T23:30:00")), d("2027-07-11"));
    }

    #[test]
    fn times_are_read_on_englands_clock_or_with_their_offset() {
        assert_eq!(
            parse_time("s", "2027-07-10T10:00:00").unwrap(),
            t("2027-07-10T09:00:00")
        );
        assert_eq!(parse_time("s", "2027-07-10T10:00").unwrap(), t("2027-07-10T09:00:00"));
        assert_eq!(
            parse_time("s", "2027-07-10T10:00:00+01:00").unwrap(),
            t("2027-07-10T09:00:00")
        );
        assert_eq!(
            parse_time("s", "2027-07-10T09:00:00Z").unwrap(),
            t("2027-07-10T09:00:00")
        );
        for bad in ["", "10:00", "2027-13-01T10:00:00", "tomorrow"] {
            assert_eq!(parse_time("starts_at", bad).unwrap_err().field, "starts_at", "{bad}");
        }
    }

    #[test]
    fn a_weekly_series_keeps_its_wall_clock_time_across_the_clock_change() {
        let series = Weekly {
            days: vec![Day::Saturday],
            from: d("2027-03-20"),
            until: d("2027-04-03"),
            starts: "10:00".into(),
            ends: "15:00".into(),
            except: vec![],
        };
        let sessions = series.expand(t(NOW)).unwrap();
        let shown: Vec<String> = sessions
            .iter()
            .map(|s| in_london(s.starts_at).format("%Y-%m-%d %H:%M").to_string())
            .collect();
        assert_eq!(shown, ["2027-03-20 10:00", "2027-03-27 10:00", "2027-04-03 10:00"]);
        // In UTC the one after the clocks go forward starts an hour earlier.
        assert_eq!(sessions[1].starts_at, t("2027-03-27T10:00:00"));
        assert_eq!(sessions[2].starts_at, t("2027-04-03T09:00:00"));
        assert!(sessions.iter().all(|s| s.minutes() == 300));
    }

    #[test]
    fn a_series_skips_its_exceptions_and_the_past() {
        let series = Weekly {
            days: vec![Day::Saturday, Day::Wednesday],
            from: d("2026-11-25"),
            until: d("2026-12-19"),
            starts: "16:00".into(),
            ends: "18:00".into(),
            except: vec![d("2026-12-12")],
        };
        let days: Vec<NaiveDate> = series
            .expand(t(NOW))
            .unwrap()
            .iter()
            .map(|s| london_date(s.starts_at))
            .collect();
        // 25, 28 Nov are past; 12 Dec is an exception.
        assert_eq!(
            days,
            ["2026-12-02", "2026-12-05", "2026-12-09", "2026-12-16", "2026-12-19"].map(d)
        );
    }

    #[test]
    fn a_series_names_what_is_wrong_with_it() {
        let base = Weekly {
            days: vec![Day::Monday],
            from: d("2027-01-04"),
            until: d("2027-02-01"),
            starts: "10:00".into(),
            ends: "09:00".into(),
            except: vec![],
        };
        assert_eq!(base.expand(t(NOW)).unwrap_err().0[0].field, "weekly.ends");
        let none = Weekly {
            days: vec![],
            ..base.clone()
        };
        assert_eq!(none.expand(t(NOW)).unwrap_err().0[0].field, "weekly.days");
        let backwards = Weekly {
            until: d("2027-01-01"),
            ends: "11:00".into(),
            ..base.clone()
        };
        assert_eq!(backwards.expand(t(NOW)).unwrap_err().0[0].field, "weekly.until");
        let past = Weekly {
            from: d("2026-01-05"),
            until: d("2026-02-02"),
            ends: "11:00".into(),
            ..base.clone()
        };
        assert_eq!(past.expand(t(NOW)).unwrap_err().0[0].field, "weekly");
        let bad_time = Weekly {
            starts: "25:00".into(),
            ..base
        };
        assert_eq!(bad_time.expand(t(NOW)).unwrap_err().0[0].field, "weekly.starts");
    }

    #[test]
    fn one_off_times_must_be_in_the_future_and_in_order() {
        let now = t(NOW);
        let ok = Times {
            starts_at: t("2027-01-09T10:00:00"),
            ends_at: t("2027-01-09T15:00:00"),
        };
        assert!(ok.check("", now).is_ok());
        assert_eq!(
            Times {
                ends_at: ok.starts_at,
                ..ok
            }
            .check("", now)
            .unwrap_err()
            .field,
            "ends_at"
        );
        assert_eq!(
            Times {
                starts_at: t("2026-11-01T10:00:00"),
                ends_at: t("2026-11-01T11:00:00")
            }
            .check("", now)
            .unwrap_err()
            .field,
            "starts_at"
        );
    }

    #[test]
    fn places_default_to_the_capacity_and_never_fall_below_those_taken() {
        assert_eq!(places("places", None, Some(12)).unwrap(), 12);
        assert_eq!(places("places", Some(5), Some(12)).unwrap(), 5);
        assert!(places("places", None, None).is_err());
        assert!(places("places", Some(0), Some(12)).is_err());
        assert_eq!(check_places(6, 6).unwrap(), 6);
        assert!(matches!(
            check_places(5, 6),
            Err(RuleError::Conflict {
                code: "places_taken",
                ..
            })
        ));
        assert!(matches!(check_places(0, 0), Err(RuleError::Invalid(_))));
    }

    #[test]
    fn an_hourly_price_costs_the_length_rounded_to_the_quarter_hour() {
        let at = |minutes: i64| Times {
            starts_at: t("2027-01-09T10:00:00"),
            ends_at: t("2027-01-09T10:00:00") + Duration::minutes(minutes),
        };
        let p = |pence| Pence::from_stored(pence);
        assert_eq!(session_price(Unit::Session, p(4500), at(300)), p(4500));
        assert_eq!(session_price(Unit::Day, p(9000), at(60)), p(9000));
        assert_eq!(session_price(Unit::Hour, p(1800), at(300)), p(9000), "5 hours");
        assert_eq!(session_price(Unit::Hour, p(1800), at(97)), p(2700), "1h37 is 1.5 hours");
        assert_eq!(
            session_price(Unit::Hour, p(1800), at(82)),
            p(2250),
            "1h22 is 1.25 hours"
        );
        assert_eq!(
            session_price(Unit::Hour, p(1800), at(7)),
            p(0),
            "under 8 minutes is nothing"
        );
        // £15.01 for 1.25 hours is £18.7625: to the penny, £18.76.
        assert_eq!(session_price(Unit::Hour, p(1501), at(75)), p(1876));
        // £10.02 for 0.25 hours is £2.505: halves go up.
        assert_eq!(session_price(Unit::Hour, p(1002), at(15)), p(251));
    }

    #[test]
    fn a_cancellation_is_refunded_up_to_the_notice_and_charged_after() {
        let starts = t("2027-01-09T10:00:00");
        let minute = Duration::minutes(1);
        let deadline = refund_deadline(starts, 48);
        assert_eq!(deadline, t("2027-01-07T10:00:00"));
        assert_eq!(
            cancellation(deadline - minute, starts, 48, Policy::Charged).unwrap(),
            SeatStatus::Refunded
        );
        assert_eq!(
            cancellation(deadline, starts, 48, Policy::Charged).unwrap(),
            SeatStatus::Refunded
        );
        assert_eq!(
            cancellation(deadline + minute, starts, 48, Policy::Charged).unwrap(),
            SeatStatus::Charged
        );
        assert_eq!(
            cancellation(deadline + minute, starts, 48, Policy::Refunded).unwrap(),
            SeatStatus::Refunded
        );
        assert!(cancellation(starts, starts, 48, Policy::Charged).is_err());
        assert_eq!(
            cancellation(starts - minute, starts, 0, Policy::Charged).unwrap(),
            SeatStatus::Refunded
        );
    }

    #[test]
    fn attendance_is_marked_after_the_start_and_absence_follows_the_policy() {
        let starts = t("2027-01-09T10:00:00");
        let after = starts + Duration::hours(6);
        assert_eq!(
            attendance(after, starts, SeatStatus::Booked, Attendance::Attended, Policy::Charged).unwrap(),
            SeatStatus::Attended
        );
        assert_eq!(
            attendance(after, starts, SeatStatus::Booked, Attendance::Absent, Policy::Charged).unwrap(),
            SeatStatus::AbsentCharged
        );
        assert_eq!(
            attendance(
                after,
                starts,
                SeatStatus::Attended,
                Attendance::Absent,
                Policy::Refunded
            )
            .unwrap(),
            SeatStatus::AbsentRefunded
        );
        assert!(
            attendance(
                starts - Duration::minutes(1),
                starts,
                SeatStatus::Booked,
                Attendance::Attended,
                Policy::Charged
            )
            .is_err()
        );
        assert!(
            attendance(
                after,
                starts,
                SeatStatus::Refunded,
                Attendance::Attended,
                Policy::Charged
            )
            .is_err()
        );
        assert!(
            attendance(
                after,
                starts,
                SeatStatus::SessionCancelled,
                Attendance::Attended,
                Policy::Charged
            )
            .is_err()
        );
    }

    #[test]
    fn seats_hold_money_and_places_as_their_state_says() {
        for s in SeatStatus::ALL {
            // A place held always has its money held, unless the provider refunds absences.
            if s.holds_place() && *s != SeatStatus::AbsentRefunded {
                assert!(s.holds_money(), "{s}");
            }
            if s.delivered() {
                assert!(s.holds_money(), "{s}");
            }
        }
        assert!(!SeatStatus::Charged.holds_place() && SeatStatus::Charged.holds_money());
        assert!(!SeatStatus::Refunded.holds_money() && !SeatStatus::SessionCancelled.holds_money());
    }

    #[test]
    fn a_policy_defaults_to_48_hours_notice_and_a_24_hour_offer() {
        let p = SessionPolicy::checked(None, None, None, None).unwrap();
        assert_eq!((p.cancellation_notice_hours, p.offer_window_hours), (48, 24));
        assert_eq!((p.late_cancellation, p.absence), (Policy::Charged, Policy::Charged));
        let e = SessionPolicy::checked(Some(-1), Some(0), None, None).unwrap_err();
        assert_eq!(
            e.0.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(),
            ["cancellation_notice_hours", "offer_window_hours"]
        );
        assert!(SessionPolicy::checked(Some(0), Some(168), Some(Policy::Refunded), None).is_ok());
    }

    #[test]
    fn references_are_readable() {
        let r = reference([0, 31, 10, 18, 255, 1, 2, 3]);
        assert_eq!(r, "0ZAJ-Z123");
        assert!(!r.contains(['I', 'L', 'O', 'U']));
    }
}
