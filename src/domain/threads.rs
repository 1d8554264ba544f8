//! Messages between a family (or its broker) and a provider, about a service or a booking: who
//! may read and write a thread, what a message may hold, and how many one author may post.

use chrono::{Duration, NaiveDateTime};

use super::access::PlanOwners;
use super::validate::{self, Checker, FieldError, Invalid};
use super::{Actor, BookingId, BudgetHolderId, CouncilId, OrganisationId, Role, ServiceId, UserId};

/// The longest message, in characters.
pub const MAX_BODY: usize = 2000;
/// The most messages one author may post in any hour.
pub const MAX_PER_HOUR: usize = 20;

/// A thread's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ThreadId(pub i64);

/// A message's id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct MessageId(pub i64);

impl std::fmt::Display for ThreadId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A message's text: plain text, trimmed, 1 to [`MAX_BODY`] characters, line breaks kept (as `\n`).
pub fn body(field: &str, value: &str) -> Result<String, FieldError> {
    validate::text(field, &value.replace("\r\n", "\n"), 1, MAX_BODY)
}

/// What a thread is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum About {
    /// A question about a service, before (or without) a booking.
    Service(ServiceId),
    /// A booking: its plan and its provider are the thread's.
    Booking(BookingId),
}

/// A new thread as asked for: about a service or a booking, its first message, and (about a
/// service) which plan it is for.
#[derive(Debug, Clone, Default)]
pub struct NewThreadInput {
    pub service_id: Option<ServiceId>,
    pub booking_id: Option<BookingId>,
    pub budget_holder_id: Option<BudgetHolderId>,
    pub body: String,
}

/// A new thread, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidNewThread {
    pub about: About,
    pub budget_holder_id: Option<BudgetHolderId>,
    pub body: String,
}

impl NewThreadInput {
    /// Exactly one of `service_id` and `booking_id` (the one at fault named), and a body.
    pub fn validate(&self) -> Result<ValidNewThread, Invalid> {
        let mut check = Checker::new();
        let about = match (self.service_id, self.booking_id) {
            (Some(s), None) => Some(About::Service(s)),
            (None, Some(b)) => Some(About::Booking(b)),
            (None, None) => {
                check.add(
                    "service_id",
                    "give the service (service_id) or the booking (booking_id) the message is about",
                );
                None
            }
            (Some(_), Some(_)) => {
                check.add("booking_id", "give either service_id or booking_id, not both");
                None
            }
        };
        let body = check.take(body("body", &self.body));
        check.finish(|| ValidNewThread {
            about: about.unwrap_or(About::Service(ServiceId(0))),
            budget_holder_id: self.budget_holder_id,
            body: body.unwrap_or_default(),
        })
    }
}

/// Whose a thread is: the plan's family, broker and council, the provider, and whether the council
/// has been added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parties {
    pub plan: PlanOwners,
    pub provider: OrganisationId,
    pub council_added: bool,
}

impl Parties {
    /// The family, the plan's broker, the provider's staff; the council's officers once added.
    /// Nobody else, not even another officer of the same council before it is added.
    pub fn may_read(&self, actor: &Actor) -> bool {
        match actor.role {
            Role::Family => actor.user_id == self.plan.family,
            Role::Broker => self.plan.broker.is_some() && actor.organisation_id == self.plan.broker,
            Role::Provider => actor.works_for(self.provider),
            Role::Council => self.council_added && actor.council() == Some(self.plan.council),
        }
    }

    /// Whoever may read it may answer it.
    pub fn may_write(&self, actor: &Actor) -> bool {
        self.may_read(actor)
    }

    /// The family, its broker or the provider may bring the council in; officers cannot add
    /// themselves.
    pub fn may_add_council(&self, actor: &Actor) -> bool {
        actor.role != Role::Council && self.may_read(actor)
    }

    /// Whether `actor`'s reading or writing goes in the plan's access record: a council officer's,
    /// as every officer's reading of a child's record.
    pub fn is_recorded(&self, actor: &Actor) -> bool {
        actor.role == Role::Council
    }
}

/// Whose threads a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThreadScope {
    /// The threads on a family's own plans.
    Family(UserId),
    /// The threads on the plans a broker manages.
    Broker(OrganisationId),
    /// A provider's threads.
    Provider(OrganisationId),
    /// The threads a council has been added to, on its own plans.
    Council(CouncilId),
}

/// The threads `actor` may list.
pub fn scope(actor: &Actor) -> Option<ThreadScope> {
    match actor.role {
        Role::Family => Some(ThreadScope::Family(actor.user_id)),
        Role::Broker => actor.organisation_id.map(ThreadScope::Broker),
        Role::Provider => actor.provider().map(ThreadScope::Provider),
        Role::Council => actor.council().map(ThreadScope::Council),
    }
}

/// Who a thread is with, as the viewer sees it: the provider for a family or broker, the family
/// (or its broker) for the provider, both for the council.
pub fn other_party(viewer: Role, provider: &str, started_by: &str) -> String {
    match viewer {
        Role::Family | Role::Broker => provider.to_string(),
        Role::Provider => started_by.to_string(),
        Role::Council => format!("{started_by} and {provider}"),
    }
}

/// Whether an author who posted at `recent` (the times of its messages in the last hour, in any
/// order) may post one more at `now`; if not, the seconds until it may.
pub fn rate_limit(recent: &[NaiveDateTime], now: NaiveDateTime) -> Result<(), u64> {
    let hour = Duration::hours(1);
    let mut inside: Vec<NaiveDateTime> = recent.iter().copied().filter(|at| *at > now - hour).collect();
    if inside.len() < MAX_PER_HOUR {
        return Ok(());
    }
    inside.sort_unstable();
    // Once this many have left the hour, there is room for one more.
    let leaving = inside.len() + 1 - MAX_PER_HOUR;
    let free_at = inside[leaving - 1] + hour;
    let wait = (free_at - now).num_milliseconds().max(0);
    Err(u64::try_from(wait.div_euclid(1000) + i64::from(wait % 1000 != 0))
        .unwrap_or(1)
        .max(1))
}

/// How an author is named on a thread: the provider's organisation, the broker's organisation,
/// "Family" or "Council". Never an email address.
pub fn author_name(role: Role, organisation: Option<&str>) -> String {
    match (role, organisation) {
        (Role::Provider | Role::Broker, Some(name)) => name.to_string(),
        (Role::Provider, None) => "Provider".into(),
        (Role::Broker, None) => "Broker".into(),
        (Role::Family, _) => "Family".into(),
        (Role::Council, _) => "Council".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::domain::access::testing::actor;

    const PARTIES: Parties = Parties {
        plan: PlanOwners {
            council: CouncilId(1),
            family: UserId(10),
            broker: Some(OrganisationId(7)),
        },
        provider: OrganisationId(4),
        council_added: false,
    };

    fn fields(input: NewThreadInput) -> Vec<String> {
        input
            .validate()
            .err()
            .map(|e| e.0.into_iter().map(|f| f.field).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_thread_is_about_exactly_one_service_or_booking() {
        let body = || "Is there parking?".to_string();
        let about_service = NewThreadInput {
            service_id: Some(ServiceId(3)),
            body: body(),
            ..NewThreadInput::default()
        };
        assert_eq!(about_service.validate().unwrap().about, About::Service(ServiceId(3)));
        let about_booking = NewThreadInput {
            booking_id: Some(BookingId(5)),
            body: body(),
            ..NewThreadInput::default()
        };
        assert_eq!(about_booking.validate().unwrap().about, About::Booking(BookingId(5)));
        let neither = NewThreadInput {
            body: body(),
            ..NewThreadInput::default()
        };
        assert_eq!(fields(neither), ["service_id"]);
        let both = NewThreadInput {
            service_id: Some(ServiceId(3)),
            booking_id: Some(BookingId(5)),
            body: String::new(),
            ..NewThreadInput::default()
        };
        assert_eq!(fields(both), ["booking_id", "body"]);
    }

    #[test]
    fn bodies_are_trimmed_plain_text_up_to_2000_characters() {
        assert_eq!(body("body", "  Hello\r\nthere  ").unwrap(), "Hello\nthere");
        assert_eq!(body("body", &"é".repeat(MAX_BODY)).unwrap().chars().count(), MAX_BODY);
        for bad in ["", "   \n ", &"a".repeat(MAX_BODY + 1), "bell\u{7}"] {
            assert_eq!(body("body", bad).unwrap_err().field, "body", "{bad:?}");
        }
    }

    #[test]
    fn the_family_broker_and_provider_read_the_council_once_added() {
        let family = actor(Role::Family, 10, None, None);
        let broker = actor(Role::Broker, 20, Some(7), None);
        let provider = actor(Role::Provider, 30, Some(4), None);
        let officer = actor(Role::Council, 40, None, Some(1));
        for a in [&family, &broker, &provider] {
            assert!(PARTIES.may_read(a) && PARTIES.may_write(a) && PARTIES.may_add_council(a));
        }
        assert!(!PARTIES.may_read(&officer));
        let added = Parties {
            council_added: true,
            ..PARTIES
        };
        assert!(added.may_read(&officer) && added.may_write(&officer));
        assert!(!added.may_add_council(&officer));
        assert!(added.is_recorded(&officer) && !added.is_recorded(&provider));
    }

    #[test]
    fn nobody_else_reads_it() {
        let added = Parties {
            council_added: true,
            ..PARTIES
        };
        for a in [
            actor(Role::Family, 11, None, None),
            actor(Role::Broker, 20, Some(8), None),
            actor(Role::Broker, 20, None, None),
            actor(Role::Provider, 30, Some(5), None),
            actor(Role::Provider, 30, None, None),
            actor(Role::Council, 40, None, Some(2)),
            // A provider's staff in the broker's organisation are not its broker.
            actor(Role::Provider, 30, Some(7), None),
        ] {
            assert!(!added.may_read(&a), "{a:?}");
        }
        let unbrokered = Parties {
            plan: PlanOwners {
                broker: None,
                ..PARTIES.plan
            },
            ..PARTIES
        };
        assert!(!unbrokered.may_read(&actor(Role::Broker, 20, None, None)));
    }

    fn at(minute: i64) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 7)
            .and_then(|d| d.and_hms_opt(12, 0, 0))
            .map(|t| t + Duration::minutes(minute))
            .unwrap()
    }

    #[test]
    fn twenty_messages_in_any_hour() {
        let now = at(60);
        let nineteen: Vec<_> = (1..=19).map(at).collect();
        assert_eq!(rate_limit(&nineteen, now), Ok(()));
        let twenty: Vec<_> = (1..=20).map(at).collect();
        // The oldest leaves the hour at 13:01, a minute from now.
        assert_eq!(rate_limit(&twenty, now), Err(60));
        // Older than an hour does not count.
        let mut old = nineteen.clone();
        old.push(at(0));
        assert_eq!(rate_limit(&old, now), Ok(()));
        // Never a wait of nothing.
        assert_eq!(rate_limit(&twenty, at(61) - Duration::milliseconds(1)), Err(1));
    }

    #[test]
    fn each_role_lists_its_own_threads_and_sees_the_other_party() {
        assert_eq!(
            scope(&actor(Role::Family, 10, None, None)),
            Some(ThreadScope::Family(UserId(10)))
        );
        assert_eq!(
            scope(&actor(Role::Broker, 20, Some(7), None)),
            Some(ThreadScope::Broker(OrganisationId(7)))
        );
        assert_eq!(scope(&actor(Role::Broker, 20, None, None)), None);
        assert_eq!(
            scope(&actor(Role::Provider, 30, Some(4), None)),
            Some(ThreadScope::Provider(OrganisationId(4)))
        );
        assert_eq!(
            scope(&actor(Role::Council, 40, None, Some(1))),
            Some(ThreadScope::Council(CouncilId(1)))
        );
        assert_eq!(other_party(Role::Family, "Wandle Club", "Family"), "Wandle Club");
        assert_eq!(other_party(Role::Provider, "Wandle Club", "Family"), "Family");
        assert_eq!(
            other_party(Role::Council, "Wandle Club", "Family"),
            "Family and Wandle Club"
        );
    }

    #[test]
    fn authors_are_named_by_role_never_by_email() {
        assert_eq!(author_name(Role::Provider, Some("Wandle Club")), "Wandle Club");
        assert_eq!(author_name(Role::Broker, Some("Wandle Brokerage")), "Wandle Brokerage");
        assert_eq!(author_name(Role::Family, Some("x")), "Family");
        assert_eq!(author_name(Role::Council, None), "Council");
    }
}
