//! Telling people: which events tell whom, which of them a person may turn off, what each notice
//! says (in words with no personal data in its title), when a failed mail is tried again, and the
//! single-use links mailed for invitations, password resets and email confirmation.

use std::collections::BTreeMap;

use chrono::Duration;

use super::validate::{FieldError, Invalid};
use super::{Role, text_enum};

text_enum!(
    /// Something that happened which someone should hear about.
    Event {
        BookingRequested = "booking_requested",
        BookingConfirmed = "booking_confirmed",
        BookingDeclined = "booking_declined",
        BookingCancelled = "booking_cancelled",
        SessionCancelled = "session_cancelled",
        SessionMoved = "session_moved",
        SessionReminder = "session_reminder",
        WaitlistOffer = "waitlist_offer",
        WaitlistOfferExpired = "waitlist_offer_expired",
        InvoiceIssued = "invoice_issued",
        InvoiceApproved = "invoice_approved",
        InvoiceDisputed = "invoice_disputed",
        InvoicePaid = "invoice_paid",
        RequestReceived = "pb_request_received",
        RequestDecided = "pb_request_decided",
        ReviewDue = "review_due",
        ProviderVerified = "provider_verified",
        ProviderSuspended = "provider_suspended",
        NewMessage = "new_message",
        Invitation = "invitation",
        PasswordReset = "password_reset",
        ConfirmEmail = "confirm_email",
    }
);

impl Event {
    /// Mail about an account itself (a link to set a password or confirm an address): always
    /// sent, never listed among notices, its link forgotten once sent.
    pub fn is_account_mail(self) -> bool {
        matches!(self, Event::Invitation | Event::PasswordReset | Event::ConfirmEmail)
    }

    /// Mail the law or money needs: a person cannot turn it off. A change to what a family has
    /// booked or will be charged, an invoice to pay or paid, a suspension, and a personal-budget
    /// decision (which starts the time to ask for a review).
    pub fn is_required(self) -> bool {
        self.is_account_mail()
            || matches!(
                self,
                Event::BookingConfirmed
                    | Event::BookingDeclined
                    | Event::BookingCancelled
                    | Event::SessionCancelled
                    | Event::SessionMoved
                    | Event::InvoiceIssued
                    | Event::InvoiceApproved
                    | Event::InvoiceDisputed
                    | Event::InvoicePaid
                    | Event::RequestDecided
                    | Event::ProviderSuspended
            )
    }

    /// What a preference is called on the settings page.
    pub fn label(self) -> &'static str {
        match self {
            Event::BookingRequested => "A family asks to book one of your services",
            Event::BookingConfirmed => "A booking is confirmed",
            Event::BookingDeclined => "A booking is declined",
            Event::BookingCancelled => "A booking is cancelled",
            Event::SessionCancelled => "A booked session is cancelled",
            Event::SessionMoved => "A booked session moves to another time",
            Event::SessionReminder => "A reminder 48 hours before each booked session",
            Event::WaitlistOffer => "A place is offered from a waiting list",
            Event::WaitlistOfferExpired => "A waiting-list offer runs out",
            Event::InvoiceIssued => "An invoice is sent to you",
            Event::InvoiceApproved => "An invoice of yours is approved",
            Event::InvoiceDisputed => "An invoice of yours is disputed",
            Event::InvoicePaid => "An invoice of yours is paid",
            Event::RequestReceived => "A family asks for a personal budget",
            Event::RequestDecided => "A personal-budget request is decided",
            Event::ReviewDue => "A six-week review falls due",
            Event::ProviderVerified => "Your organisation is verified by a council",
            Event::ProviderSuspended => "Your organisation is suspended by a council",
            Event::NewMessage => "A new message in a conversation",
            Event::Invitation => "An invitation to set a password",
            Event::PasswordReset => "A link to reset a forgotten password",
            Event::ConfirmEmail => "A link to confirm an email address",
        }
    }

    /// The words of the notice's one link.
    pub fn action(self) -> &'static str {
        match self {
            Event::BookingRequested
            | Event::BookingConfirmed
            | Event::BookingDeclined
            | Event::BookingCancelled
            | Event::SessionCancelled
            | Event::SessionMoved
            | Event::SessionReminder => "See the booking",
            Event::WaitlistOffer | Event::WaitlistOfferExpired => "See your waiting lists",
            Event::InvoiceIssued | Event::InvoiceApproved | Event::InvoiceDisputed | Event::InvoicePaid => {
                "See the invoice"
            }
            Event::RequestReceived | Event::RequestDecided => "See the request",
            Event::ReviewDue => "See what is due",
            Event::ProviderVerified | Event::ProviderSuspended => "See your organisation",
            Event::NewMessage => "Read the conversation",
            Event::Invitation => "Set your password",
            Event::PasswordReset => "Choose a new password",
            Event::ConfirmEmail => "Confirm your email address",
        }
    }

    /// The events a person in this role can hear about and choose between (account mail aside).
    pub fn for_role(role: Role) -> &'static [Event] {
        match role {
            Role::Provider => &[
                Event::BookingRequested,
                Event::BookingCancelled,
                Event::InvoiceApproved,
                Event::InvoiceDisputed,
                Event::InvoicePaid,
                Event::ProviderVerified,
                Event::ProviderSuspended,
                Event::NewMessage,
            ],
            Role::Family | Role::Broker => &[
                Event::BookingConfirmed,
                Event::BookingDeclined,
                Event::BookingCancelled,
                Event::SessionCancelled,
                Event::SessionMoved,
                Event::SessionReminder,
                Event::WaitlistOffer,
                Event::WaitlistOfferExpired,
                Event::InvoiceIssued,
                Event::RequestDecided,
                Event::NewMessage,
            ],
            Role::Council => &[
                Event::InvoiceIssued,
                Event::RequestReceived,
                Event::ReviewDue,
                Event::NewMessage,
            ],
        }
    }
}

/// The events whose mail a person has turned off (stored comma separated on the user).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MailOff(Vec<Event>);

impl MailOff {
    /// Unknown words are dropped: an event retired from the list is no longer chosen.
    pub fn parse(text: &str) -> MailOff {
        let mut off: Vec<Event> = text.split(',').filter_map(|w| w.trim().parse().ok()).collect();
        off.sort();
        off.dedup();
        MailOff(off)
    }

    pub fn to_text(&self) -> String {
        self.0.iter().map(|e| e.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Whether mail for this event goes out: required mail always does.
    pub fn wants(&self, event: Event) -> bool {
        event.is_required() || !self.0.contains(&event)
    }

    /// Each event this role can choose, with whether its mail goes out.
    pub fn choices(&self, role: Role) -> Vec<(Event, bool)> {
        Event::for_role(role).iter().map(|e| (*e, self.wants(*e))).collect()
    }

    /// Apply a person's choices (`event -> mail on?`); every fault named `events.<event>`. Events
    /// not named keep their choice.
    pub fn with_choices(&self, role: Role, choices: &BTreeMap<String, bool>) -> Result<MailOff, Invalid> {
        let mut off = self.0.clone();
        let mut faults = Vec::new();
        for (word, on) in choices {
            let field = format!("events.{word}");
            let event = match word.parse::<Event>() {
                Ok(e) if Event::for_role(role).contains(&e) => e,
                Ok(_) => {
                    faults.push(FieldError::new(&field, "is not something you are told about"));
                    continue;
                }
                Err(e) => {
                    faults.push(FieldError::new(&field, format!("is not an event: {e}")));
                    continue;
                }
            };
            if event.is_required() && !on {
                faults.push(FieldError::new(
                    &field,
                    "cannot be turned off: it is about money or a decision you have a right to hear of",
                ));
            } else if *on {
                off.retain(|e| *e != event);
            } else if !off.contains(&event) {
                off.push(event);
            }
        }
        if !faults.is_empty() {
            return Err(Invalid(faults));
        }
        off.sort();
        Ok(MailOff(off))
    }
}

/// What a notice says: its title (also the mail's subject, so never personal data), the
/// paragraphs of its body, and the page on the site it links to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub event: Event,
    pub title: String,
    pub paragraphs: Vec<String>,
    /// A path on the site, `/bookings/12`; the sender puts the public address before it.
    pub link: String,
}

impl Letter {
    pub fn new(event: Event, title: &str, paragraphs: Vec<String>, link: String) -> Letter {
        Letter {
            event,
            title: title.to_string(),
            paragraphs,
            link,
        }
    }
}

text_enum!(
    /// Where a notice's email stands.
    MailStatus { Pending = "pending", Sent = "sent", Failed = "failed", Off = "off" }
);

/// Attempts at one mail before it is given up as failed.
pub const MAIL_ATTEMPTS: i32 = 8;

/// When a mail that could not be delivered is tried again: `base`, then twice as long each time,
/// at most an hour apart; `None` once [`MAIL_ATTEMPTS`] have been made.
pub fn retry_after(attempts: i32, base: Duration) -> Option<Duration> {
    if attempts >= MAIL_ATTEMPTS {
        return None;
    }
    let doubled = base * (1i32 << attempts.clamp(1, 12).saturating_sub(1));
    Some(doubled.min(Duration::hours(1)))
}

text_enum!(
    /// What a mailed single-use link is for.
    TokenPurpose { Invitation = "invitation", PasswordReset = "password_reset", ConfirmEmail = "confirm_email" }
);

impl TokenPurpose {
    /// How long a link works: a week to accept an invitation or confirm an address, an hour to
    /// reset a password.
    pub fn lifetime(self) -> Duration {
        match self {
            TokenPurpose::Invitation | TokenPurpose::ConfirmEmail => Duration::days(7),
            TokenPurpose::PasswordReset => Duration::hours(1),
        }
    }

    /// The page the mailed link opens (`{public url}{path}/{token}`).
    pub fn path(self) -> &'static str {
        match self {
            TokenPurpose::Invitation => "/invitations",
            TokenPurpose::PasswordReset => "/password-reset",
            TokenPurpose::ConfirmEmail => "/confirm-email",
        }
    }

    pub fn event(self) -> Event {
        match self {
            TokenPurpose::Invitation => Event::Invitation,
            TokenPurpose::PasswordReset => Event::PasswordReset,
            TokenPurpose::ConfirmEmail => Event::ConfirmEmail,
        }
    }

    /// The mail carrying the link: an account's own business, nothing personal in it.
    pub fn letter(self, token: &str) -> Letter {
        let link = format!("{}/{token}", self.path());
        let (title, paragraphs): (&str, Vec<String>) = match self {
            TokenPurpose::Invitation => (
                "You are invited to the Local Offer",
                vec![
                    "Your council has made you an account on the Local Offer, where you can see your plan, \
                     find services and book them with your budget."
                        .into(),
                    "Use the link below to choose your password. It works once, for 7 days. If it has run \
                     out, ask your council to send another."
                        .into(),
                ],
            ),
            TokenPurpose::PasswordReset => (
                "Reset your Local Offer password",
                vec![
                    "Someone asked to reset the password of the account with this email address.".into(),
                    "Use the link below to choose a new one. It works once, for 1 hour. If you did not ask, \
                     you can ignore this email: your password has not changed."
                        .into(),
                ],
            ),
            TokenPurpose::ConfirmEmail => (
                "Confirm your email address",
                vec![
                    "Thank you for registering your organisation on the Local Offer.".into(),
                    "Use the link below to confirm this is your email address. Until you do, you can keep \
                     drafts but your services are not shown to families. The link works for 7 days."
                        .into(),
                ],
            ),
        };
        Letter::new(self.event(), title, paragraphs, link)
    }
}

/// Why a mailed link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenFault {
    Unknown,
    Used,
    Expired,
}

/// Whether a stored token can be used now.
pub fn check_token(
    used: bool,
    expires_at: chrono::NaiveDateTime,
    now: chrono::NaiveDateTime,
) -> Result<(), TokenFault> {
    if used {
        Err(TokenFault::Used)
    } else if now >= expires_at {
        Err(TokenFault::Expired)
    } else {
        Ok(())
    }
}

/// Messages' bodies and other free text mailed on are cut to this many characters in a notice.
pub const EXCERPT_CHARS: usize = 200;

/// The start of a longer text, cut at a word, for a notice.
pub fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_string();
    }
    let cut: String = text.chars().take(EXCERPT_CHARS).collect();
    let at_word = cut.rfind(char::is_whitespace).map_or(cut.as_str(), |i| &cut[..i]);
    format!("{}…", at_word.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_mail_cannot_be_turned_off_and_the_rest_can() {
        let off = MailOff::default();
        let mut choices = BTreeMap::new();
        choices.insert("session_reminder".to_string(), false);
        let chosen = off.with_choices(Role::Family, &choices).unwrap();
        assert!(!chosen.wants(Event::SessionReminder));
        assert!(chosen.wants(Event::BookingConfirmed));
        assert_eq!(chosen.to_text(), "session_reminder");
        assert_eq!(MailOff::parse(&chosen.to_text()), chosen);

        choices.insert("booking_cancelled".to_string(), false);
        let err = off.with_choices(Role::Family, &choices).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].field, "events.booking_cancelled");
    }

    #[test]
    fn choices_name_unknown_and_other_roles_events() {
        let mut choices = BTreeMap::new();
        choices.insert("nonsense".to_string(), true);
        choices.insert("review_due".to_string(), false);
        let err = MailOff::default().with_choices(Role::Provider, &choices).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["events.nonsense", "events.review_due"]);
    }

    #[test]
    fn turning_back_on_removes_the_choice() {
        let off = MailOff::parse("new_message,session_reminder,retired_event");
        assert_eq!(off.to_text(), "session_reminder,new_message");
        let mut choices = BTreeMap::new();
        choices.insert("new_message".to_string(), true);
        let on = off.with_choices(Role::Family, &choices).unwrap();
        assert_eq!(on.to_text(), "session_reminder");
        assert!(on.wants(Event::NewMessage));
    }

    #[test]
    fn every_role_hears_of_messages_and_account_mail_is_never_a_choice() {
        for role in [Role::Family, Role::Broker, Role::Provider, Role::Council] {
            assert!(Event::for_role(role).contains(&Event::NewMessage));
            assert!(Event::for_role(role).iter().all(|e| !e.is_account_mail()));
        }
    }

    #[test]
    fn failed_mail_backs_off_then_gives_up() {
        let base = Duration::seconds(30);
        let waits: Vec<Option<i64>> = (1..=9).map(|a| retry_after(a, base).map(|d| d.num_seconds())).collect();
        assert_eq!(
            waits,
            [
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(960),
                Some(1920),
                None,
                None
            ]
        );
        assert_eq!(retry_after(7, Duration::minutes(1)), Some(Duration::hours(1)));
    }

    #[test]
    fn tokens_work_once_and_until_they_expire() {
        let now = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        let expires = now + TokenPurpose::PasswordReset.lifetime();
        assert_eq!(check_token(false, expires, now), Ok(()));
        assert_eq!(check_token(true, expires, now), Err(TokenFault::Used));
        assert_eq!(check_token(false, expires, expires), Err(TokenFault::Expired));
        assert_eq!(TokenPurpose::Invitation.lifetime(), Duration::days(7));
    }

    #[test]
    fn account_letters_carry_their_link_and_nothing_personal_in_the_title() {
        let letter = TokenPurpose::Invitation.letter("abc123");
        assert_eq!(letter.link, "/invitations/abc123");
        assert!(!letter.title.contains("abc123"));
        assert_eq!(TokenPurpose::PasswordReset.letter("t").link, "/password-reset/t");
        assert_eq!(TokenPurpose::ConfirmEmail.letter("t").link, "/confirm-email/t");
    }

    #[test]
    fn excerpts_cut_at_a_word() {
        assert_eq!(excerpt("  short  "), "short");
        let long = "word ".repeat(100);
        let cut = excerpt(&long);
        assert!(cut.ends_with("word…"), "{cut}");
        assert!(cut.chars().count() <= EXCERPT_CHARS + 1);
    }
}
