//! Pure rules: no I/O here. Everything a request carries is checked against these types before the
//! database sees it.

pub mod access;
pub mod booking;
pub mod budget;
pub mod calendar;
pub mod cells;
pub mod council;
pub mod fcr;
pub mod geo;
pub mod invoice;
pub mod listing;
pub mod money;
pub mod notification;
pub mod organisation;
pub mod oruk;
pub mod paging;
pub mod payment_run;
pub mod personal_budget;
pub mod plan_change;
pub mod ras;
pub mod reports;
pub mod retention;
pub mod search;
pub mod service;
pub mod sessions;
pub mod spending;
pub mod taxonomy;
pub mod threads;
pub mod throttle;
pub mod totp;
pub mod validate;

pub use access::Actor;
pub use money::{Pence, SignedPence};

use validate::Invalid;

/// A rule saying no, in words a person can act on. Each front door turns it into its own answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Values that can never be accepted, each named by its field (422).
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// A well-formed request that the state of things refuses (409).
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
        /// Every part of the request at fault, when there are several (each full session).
        fields: Vec<validate::FieldError>,
    },
    /// Not this actor's to see or do (403).
    #[error("{0}")]
    Forbidden(String),
    /// This actor may do such things, but not this one, for a reason its code names (403).
    #[error("{message}")]
    Denied { code: &'static str, message: String },
}

impl RuleError {
    /// Why, in words for people (without the field names the API adds).
    pub fn reason(&self) -> String {
        match self {
            RuleError::Invalid(invalid) => invalid
                .0
                .iter()
                .map(|e| e.message.clone())
                .collect::<Vec<_>>()
                .join("; "),
            RuleError::Conflict { message, .. } => message.clone(),
            RuleError::Forbidden(message) => message.clone(),
            RuleError::Denied { message, .. } => message.clone(),
        }
    }

    pub fn conflict(code: &'static str, message: impl Into<String>, field: Option<&str>) -> RuleError {
        RuleError::Conflict {
            code,
            message: message.into(),
            field: field.map(str::to_string),
            fields: Vec::new(),
        }
    }

    pub fn forbidden(message: impl Into<String>) -> RuleError {
        RuleError::Forbidden(message.into())
    }

    pub fn denied(code: &'static str, message: impl Into<String>) -> RuleError {
        RuleError::Denied {
            code,
            message: message.into(),
        }
    }
}

/// Bytes as lower-case hex: tokens, their hashes, request and record fingerprints.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Declares a closed set of words stored as text and exchanged as snake_case JSON strings.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(format!(
                        "must be one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_enum;

text_enum!(
    /// The three funding streams of an EHC plan's personal budget.
    Stream { Education = "education", Health = "health", SocialCare = "social_care" }
);

text_enum!(
    /// How an allocation is held (Birmingham policy: direct payment, organised/notional, third party).
    Management { DirectPayment = "direct_payment", Organised = "organised", ThirdParty = "third_party" }
);

impl Stream {
    /// The stream in words, as pages and messages name it: "Social care".
    pub fn label(self) -> &'static str {
        match self {
            Stream::Education => "Education",
            Stream::Health => "Health",
            Stream::SocialCare => "Social care",
        }
    }
}

impl Management {
    /// How an allocation is held, in words: "direct payment".
    pub fn label(self) -> &'static str {
        match self {
            Management::DirectPayment => "direct payment",
            Management::Organised => "organised by the council",
            Management::ThirdParty => "third party",
        }
    }
}

/// An allocation in words: "Social care (direct payment)".
pub fn allocation_name(stream: Stream, management: Management) -> String {
    format!("{} ({})", stream.label(), management.label())
}

text_enum!(
    Role { Provider = "provider", Family = "family", Broker = "broker", Council = "council" }
);

text_enum!(
    OrganisationKind { Vcs = "vcs", Private = "private", Broker = "broker" }
);

text_enum!(
    OrganisationStatus { Unverified = "unverified", Verified = "verified", Suspended = "suspended" }
);

text_enum!(
    ServiceStatus { Draft = "draft", Published = "published", Unpublished = "unpublished" }
);

text_enum!(
    Unit {
        Session = "session", Hour = "hour", Day = "day", Night = "night",
        Week = "week", Journey = "journey", Item = "item",
    }
);

/// Identifiers are database-assigned integers wrapped so one kind cannot stand in for another.
macro_rules! id_type {
    ($($name:ident),+ $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )+};
}

id_type!(
    SessionId,
    SeriesId,
    WaitlistId,
    JobId,
    CouncilId,
    OrganisationId,
    UserId,
    ServiceId,
    PriceOptionId,
    BudgetHolderId,
    AllocationId,
    BookingId,
    PlanOutcomeId,
    InvoiceId,
    InvoiceLineId,
    CreditNoteId,
    PaymentRunId,
    SpendingId,
    RasId,
    PbRequestId,
    AssessmentId,
    PlanReviewId
);
