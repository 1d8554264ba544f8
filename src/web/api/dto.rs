//! The API's wire types: what a request may carry and what an answer holds, each with its
//! OpenAPI schema. Requests turn into the domain's inputs; the store's read models and the use
//! cases' results turn into answers. Nothing else in the crate knows these shapes.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{KnownFormat, RefOr};
use utoipa::{IntoParams, ToSchema};

use crate::app::{self, AppError};
use crate::db::access_log::AccessEntry;
use crate::db::bookings::BookingView;
use crate::db::budget_holders::{AllocationView, BudgetHolderView, PlanOutcomeView};
use crate::db::ledger::StatementEntry;
use crate::db::organisations::{BrokerView, OrganisationView};
use crate::db::reports::{OutcomeProgress, PricedBelowCost, QuarterlyReturn, ReturnLine, ServedBy};
use crate::db::services::{PriceOptionView, ServiceView};
use crate::db::sessions::{Seat, SessionView};
use crate::domain::booking::{BookingInput, BookingStatus, LedgerKind};
use crate::domain::budget::{AllocationInput, BudgetHolderInput, FamilyInput, LoginInput, PlanOutcomeInput};
use crate::domain::council::SettingsInput;
use crate::domain::fcr::{FcrBreakdown, FcrInput, Occupancy};
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::paging::{Page, PageRequest};
use crate::domain::plan_change::{AdjustmentInput, PlanDetailsInput};
use crate::domain::reports::{GapRow, SpendingRow};
use crate::domain::service::{Day, Location, LocationInput, PriceOptionInput, ServiceInput, Session};
use crate::domain::sessions::{Policy, SeatStatus, SessionStatus, WaitStatus};
use crate::domain::spending::PaymentSchedule;
use crate::domain::taxonomy::{Term, Vocabulary};
use crate::domain::validate::FieldError;
use crate::domain::{
    AllocationId, BookingId, BudgetHolderId, CouncilId, Management, OrganisationId, OrganisationKind, Pence,
    PlanOutcomeId, PriceOptionId, Role, SeriesId, ServiceId, ServiceStatus, SessionId, SignedPence, Stream, Unit,
    UserId, WaitlistId,
};
use crate::search::Hit;

// ---- Schemas for the domain's own scalar types -------------------------------------------------

/// The domain's closed word sets are strings with their words listed.
macro_rules! word_schemas {
    ($($ty:ty),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(<$ty>::ALL.iter().map(|w| w.as_str())))
                    .into()
            }
        }
        impl ToSchema for $ty {}
    )+};
}

word_schemas!(
    Policy,
    SessionStatus,
    SeatStatus,
    WaitStatus,
    crate::domain::sessions::Attendance,
    Stream,
    Management,
    Role,
    OrganisationKind,
    ServiceStatus,
    Unit,
    BookingStatus,
    LedgerKind,
    Day,
    Vocabulary,
    crate::domain::invoice::InvoiceStatus,
    crate::domain::invoice::Payer,
    crate::domain::invoice::InvoicePeriod,
    crate::domain::spending::PaymentSchedule,
    crate::domain::spending::SpendingStatus,
    crate::domain::payment_run::PaymentRunStatus,
    crate::domain::personal_budget::RequestKind,
    crate::domain::personal_budget::RequestStatus,
    crate::domain::personal_budget::Outcome,
    crate::domain::personal_budget::DecisionStage,
    crate::domain::personal_budget::Permission,
    crate::domain::personal_budget::ReviewKind,
    crate::domain::personal_budget::DueKind,
    crate::domain::notification::Event,
    crate::domain::notification::MailStatus,
);

/// Database ids are 64-bit integers.
macro_rules! id_schemas {
    ($($ty:ty),+ $(,)?) => {$(
        impl utoipa::PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .into()
            }
        }
        impl ToSchema for $ty {}
    )+};
}

id_schemas!(
    SessionId,
    SeriesId,
    WaitlistId,
    CouncilId,
    OrganisationId,
    UserId,
    ServiceId,
    PriceOptionId,
    BudgetHolderId,
    AllocationId,
    BookingId,
    PlanOutcomeId,
    crate::domain::InvoiceId,
    crate::domain::InvoiceLineId,
    crate::domain::CreditNoteId,
    crate::domain::PaymentRunId,
    crate::domain::SpendingId,
    crate::domain::RasId,
    crate::domain::PbRequestId,
    crate::domain::AssessmentId,
    crate::domain::PlanReviewId,
);

fn decimal_string(description: &str, pattern: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(Some(pattern))
        .description(Some(description))
        .examples([example])
        .into()
}

impl utoipa::PartialSchema for Pence {
    fn schema() -> RefOr<Schema> {
        decimal_string(
            "An amount of money in pounds as a string, at most two decimal places; a JSON number is refused",
            r"^[0-9]+(\.[0-9]{1,2})?$",
            "45.00",
        )
    }
}
impl ToSchema for Pence {}

impl utoipa::PartialSchema for SignedPence {
    fn schema() -> RefOr<Schema> {
        decimal_string(
            "A movement of money in pounds as a string: negative when money leaves an allocation",
            r"^-?[0-9]+\.[0-9]{2}$",
            "-45.00",
        )
    }
}
impl ToSchema for SignedPence {}

impl utoipa::PartialSchema for Occupancy {
    fn schema() -> RefOr<Schema> {
        decimal_string(
            "The share of places expected to be filled, more than 0 and at most 1, as a string",
            r"^[0-9]+(\.[0-9]+)?$",
            "0.85",
        )
    }
}
impl ToSchema for Occupancy {}

/// Instants on the wire are UTC, RFC 3339.
fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

// ---- Errors ---------------------------------------------------------------------------------------

/// Every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorEnvelope {
    pub error: ErrorBody,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable word a client can act on, such as `insufficient_funds` or `not_found`.
    pub code: String,
    pub message: String,
    /// The request field (or parameter, or header) at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every invalid field for 422 answers; every part at fault for a 409 with several (each full session).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldProblem>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

impl From<&FieldError> for FieldProblem {
    fn from(e: &FieldError) -> FieldProblem {
        FieldProblem {
            field: e.field.clone(),
            message: e.message.clone(),
        }
    }
}

// ---- Accounts -------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub email: String,
    pub password: String,
}

impl From<Login> for LoginInput {
    fn from(l: Login) -> LoginInput {
        LoginInput {
            email: l.email,
            password: l.password,
        }
    }
}

/// A new plan's family login: the password is optional (the family is invited by email).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FamilyLogin {
    pub email: String,
    /// Given when the council hands the account over in person; left out, the family gets an
    /// invitation link (single use, 7 days) to set its own.
    #[serde(default)]
    #[schema(required = false)]
    pub password: Option<String>,
}

impl From<FamilyLogin> for FamilyInput {
    fn from(l: FamilyLogin) -> FamilyInput {
        FamilyInput {
            email: l.email,
            password: l.password,
        }
    }
}

/// A login: the password, and the second factor's code when the account has one.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    pub email: String,
    pub password: String,
    /// The six-digit code from the authenticator app, or one of the recovery codes (each works once).
    #[serde(default)]
    pub totp: Option<String>,
}

/// A second factor being set up: add the secret to an authenticator app (or open the otpauth
/// address), keep the recovery codes somewhere safe (they are shown this once), then confirm.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32 (RFC 4648), for typing into an app.
    pub secret: String,
    pub otpauth_uri: String,
    pub recovery_codes: Vec<String>,
}

impl From<crate::app::totp::Enrolment> for TotpEnrolment {
    fn from(e: crate::app::totp::Enrolment) -> TotpEnrolment {
        TotpEnrolment {
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
            recovery_codes: e.recovery_codes,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpConfirm {
    /// The six-digit code the app shows now.
    pub code: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoggedIn {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub role: Role,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

impl From<app::accounts::Session> for LoggedIn {
    fn from(s: app::accounts::Session) -> LoggedIn {
        LoggedIn {
            token: s.token,
            role: s.actor.role,
            user_id: s.actor.user_id,
            expires_at: utc(s.expires_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user_id: UserId,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub council_id: Option<CouncilId>,
    /// True for an officer or broker who must set up two-step login (`POST /me/totp`) before
    /// anything else: until then other calls are 403 `totp_enrolment_required`.
    pub totp_enrolment_required: bool,
}

impl Me {
    pub fn of(a: &crate::domain::Actor, totp_enrolment_required: bool) -> Me {
        Me {
            user_id: a.user_id,
            role: a.role,
            organisation_id: a.organisation_id,
            council_id: a.council_id,
            totp_enrolment_required,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub organisation: NewOrganisation,
    pub user: Login,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOrganisation {
    pub name: String,
    /// `vcs` (charity or voluntary group), `private` or `broker` (manages budgets for families).
    pub kind: OrganisationKind,
    #[serde(default)]
    pub charity_number: Option<String>,
    #[serde(default)]
    pub company_number: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub description: String,
}

impl From<Registration> for RegistrationInput {
    fn from(r: Registration) -> RegistrationInput {
        let o = r.organisation;
        RegistrationInput {
            organisation: OrganisationInput {
                name: o.name,
                kind: o.kind,
                charity_number: o.charity_number,
                company_number: o.company_number,
                website: o.website,
                phone: o.phone,
                email: o.email,
                description: o.description,
            },
            user: r.user.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Registered {
    pub organisation_id: OrganisationId,
    pub user_id: UserId,
}

/// The answer to a registration, the same whether or not the email already had an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegistrationReceived {
    /// Always `received`.
    pub status: String,
    pub message: String,
}

// ---- Organisations and services ------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Organisation {
    pub id: i64,
    pub name: String,
    /// Not stated for organisations imported from another directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub charity_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub description: String,
    /// `unverified`, `verified` or `suspended`.
    pub status: String,
}

impl From<OrganisationView> for Organisation {
    fn from(o: OrganisationView) -> Organisation {
        Organisation {
            id: o.id,
            name: o.name,
            kind: o.kind,
            charity_number: o.charity_number,
            company_number: o.company_number,
            website: o.website,
            phone: o.phone,
            email: o.email,
            description: o.description,
            status: o.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WeeklySession {
    pub day: Day,
    /// 24-hour time, `HH:MM`.
    pub starts: String,
    pub ends: String,
}

impl From<WeeklySession> for Session {
    fn from(s: WeeklySession) -> Session {
        Session {
            day: s.day,
            starts: s.starts,
            ends: s.ends,
        }
    }
}

impl From<&Session> for WeeklySession {
    fn from(s: &Session) -> WeeklySession {
        WeeklySession {
            day: s.day,
            starts: s.starts.clone(),
            ends: s.ends.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Place {
    pub postcode: Option<String>,
    pub lat: f64,
    pub lon: f64,
    pub address: Option<String>,
}

impl From<&Location> for Place {
    fn from(l: &Location) -> Place {
        Place {
            postcode: l.postcode.clone(),
            lat: l.lat,
            lon: l.lon,
            address: l.address.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FullCost {
    pub annual_direct_costs: Pence,
    pub annual_overheads: Pence,
    pub annual_full_cost: Pence,
    pub units_per_year: i64,
    pub occupancy: Occupancy,
    /// Units expected to be sold and paid for: units_per_year x occupancy.
    #[schema(value_type = String)]
    pub units_sold: rust_decimal::Decimal,
    pub direct_cost_per_unit: Pence,
    pub overheads_per_unit: Pence,
    /// Rounded up to the penny so the price never falls short of the cost.
    pub full_cost_per_unit: Pence,
}

impl From<&FcrBreakdown> for FullCost {
    fn from(f: &FcrBreakdown) -> FullCost {
        FullCost {
            annual_direct_costs: f.annual_direct_costs,
            annual_overheads: f.annual_overheads,
            annual_full_cost: f.annual_full_cost,
            units_per_year: f.units_per_year,
            occupancy: f.occupancy,
            units_sold: f.units_sold,
            direct_cost_per_unit: f.direct_cost_per_unit,
            overheads_per_unit: f.overheads_per_unit,
            full_cost_per_unit: f.full_cost_per_unit,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PriceOption {
    pub id: PriceOptionId,
    pub label: String,
    pub unit: Unit,
    pub price: Pence,
    /// The full-cost-recovery working, when the price came from the calculator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fcr: Option<FullCost>,
}

impl From<&PriceOptionView> for PriceOption {
    fn from(o: &PriceOptionView) -> PriceOption {
        PriceOption {
            id: o.id,
            label: o.label.clone(),
            unit: o.unit,
            price: o.price,
            fcr: o.fcr.as_ref().map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Service {
    pub id: ServiceId,
    pub organisation: OrganisationRef,
    pub name: String,
    pub description: String,
    /// Outcome term ids.
    pub outcomes: Vec<String>,
    pub service_types: Vec<String>,
    pub needs: Vec<String>,
    pub min_age: i32,
    pub max_age: i32,
    /// False for a service imported from a feed that gave no ages: `min_age` to `max_age` is
    /// then the whole Local Offer's 0 to 25, which the feed never claimed.
    pub ages_stated: bool,
    pub funding_streams: Vec<Stream>,
    /// Null for a service imported from a directory that did not say where it happens.
    pub location: Option<Place>,
    pub reach_miles: Option<f64>,
    /// Places per session; null when not stated.
    pub capacity: Option<i32>,
    pub schedule: Vec<WeeklySession>,
    pub status: ServiceStatus,
    pub price_options: Vec<PriceOption>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub cancellation_notice_hours: i32,
    pub offer_window_hours: i32,
    pub late_cancellation: Policy,
    pub absence: Policy,
    /// Whether a council has verified the provider.
    #[schema(required = false)]
    pub verified: bool,
    /// The council that verified it; absent while it is not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
}

impl From<&ServiceView> for Service {
    fn from(v: &ServiceView) -> Service {
        Service {
            id: v.id,
            organisation: OrganisationRef {
                id: v.organisation.id,
                name: v.organisation.name.clone(),
            },
            name: v.name.clone(),
            description: v.description.clone(),
            outcomes: v.outcomes.clone(),
            service_types: v.service_types.clone(),
            needs: v.needs.clone(),
            min_age: v.min_age,
            ages_stated: v.ages_stated,
            max_age: v.max_age,
            funding_streams: v.funding_streams.clone(),
            location: v.location.as_ref().map(Into::into),
            reach_miles: v.reach_miles,
            capacity: v.capacity,
            schedule: v.schedule.iter().map(Into::into).collect(),
            status: v.status,
            price_options: v.price_options.iter().map(Into::into).collect(),
            url: v.url.clone(),
            email: v.email.clone(),
            created_at: utc(v.created_at),
            updated_at: utc(v.updated_at),
            cancellation_notice_hours: v.policy.cancellation_notice_hours,
            offer_window_hours: v.policy.offer_window_hours,
            late_cancellation: v.policy.late_cancellation,
            absence: v.policy.absence,
            verified: v.verified_by.is_some(),
            verified_by: v.verified_by.clone(),
        }
    }
}

/// Which page of a list: `page` from 1 (default 1), `per_page` from 1 to 200 (default 50).
/// Every list answer says its `total`, `page` and `per_page`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Paging {
    /// The page, from 1; 1 if not given.
    pub page: Option<u32>,
    /// Rows per page, 1 to 200; 50 if not given.
    pub per_page: Option<u32>,
}

impl Paging {
    pub fn request(&self) -> Result<PageRequest, AppError> {
        PageRequest::new(self.page, self.per_page).map_err(AppError::bad_parameters)
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<Service>,
    /// Services in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewService {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Outcome term ids (`GET /taxonomy?vocabulary=outcome`); a published service names one at least.
    #[serde(default)]
    pub outcomes: Vec<String>,
    #[serde(default)]
    pub service_types: Vec<String>,
    #[serde(default)]
    pub needs: Vec<String>,
    pub min_age: i32,
    pub max_age: i32,
    pub funding_streams: Vec<Stream>,
    pub location: NewLocation,
    /// How far the provider travels to families, in miles.
    #[serde(default)]
    pub reach_miles: Option<f64>,
    /// Places per session, 1 to 10000; leave out (or null) for a service without places
    /// (equipment, travel). Sessions take it as their places unless told otherwise.
    #[serde(default)]
    pub capacity: Option<i32>,
    #[serde(default)]
    pub schedule: Vec<WeeklySession>,
    /// `draft` unless given.
    #[serde(default = "draft")]
    pub status: ServiceStatus,
    pub price_options: Vec<NewPriceOption>,
    /// Hours before a session after which a family's cancellation is charged (0 to 720); 48 if not given.
    #[serde(default)]
    pub cancellation_notice_hours: Option<i32>,
    /// Hours a waiting-list offer stays open (1 to 168); 24 if not given.
    #[serde(default)]
    pub offer_window_hours: Option<i32>,
    /// What a cancellation after the notice costs: `charged` (the default) or `refunded`.
    #[serde(default)]
    pub late_cancellation: Option<Policy>,
    /// What an absence costs: `charged` (the default) or `refunded`.
    #[serde(default)]
    pub absence: Option<Policy>,
}

fn draft() -> ServiceStatus {
    ServiceStatus::Draft
}

/// Where the service happens: coordinates, or a postcode to place it at.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    #[serde(default)]
    pub postcode: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    pub address: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPriceOption {
    /// An existing option's id when re-pricing it through `PUT`, so its bookings keep pointing at it.
    #[serde(default)]
    pub id: Option<PriceOptionId>,
    pub label: String,
    pub unit: Unit,
    /// The price; or leave it out and give `fcr` to price at full cost.
    #[serde(default)]
    pub price: Option<Pence>,
    #[serde(default)]
    pub fcr: Option<FullCostInput>,
}

/// What the full-cost calculator needs.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FullCostInput {
    pub annual_direct_costs: Pence,
    pub annual_overheads: Pence,
    pub units_per_year: i64,
    pub occupancy: Occupancy,
}

impl From<NewService> for ServiceInput {
    fn from(s: NewService) -> ServiceInput {
        ServiceInput {
            name: s.name,
            description: s.description,
            outcomes: s.outcomes,
            service_types: s.service_types,
            needs: s.needs,
            min_age: s.min_age,
            max_age: s.max_age,
            funding_streams: s.funding_streams,
            location: LocationInput {
                postcode: s.location.postcode,
                lat: s.location.lat,
                lon: s.location.lon,
                address: s.location.address,
            },
            reach_miles: s.reach_miles,
            capacity: s.capacity,
            schedule: s.schedule.into_iter().map(Into::into).collect(),
            status: s.status,
            price_options: s
                .price_options
                .into_iter()
                .map(|o| PriceOptionInput {
                    id: o.id,
                    label: o.label,
                    unit: o.unit,
                    price: o.price,
                    fcr: o.fcr.map(|f| FcrInput {
                        annual_direct_costs: f.annual_direct_costs,
                        annual_overheads: f.annual_overheads,
                        units_per_year: f.units_per_year,
                        occupancy: f.occupancy,
                    }),
                })
                .collect(),
            cancellation_notice_hours: s.cancellation_notice_hours,
            offer_window_hours: s.offer_window_hours,
            late_cancellation: s.late_cancellation,
            absence: s.absence,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TaxonomyTerm {
    pub id: String,
    pub vocabulary: Vocabulary,
    pub label: String,
    pub parent: Option<String>,
    pub synonyms: Vec<String>,
}

impl From<&Term> for TaxonomyTerm {
    fn from(t: &Term) -> TaxonomyTerm {
        TaxonomyTerm {
            id: t.id.0.clone(),
            vocabulary: t.vocabulary,
            label: t.label.clone(),
            parent: t.parent.as_ref().map(|p| p.0.clone()),
            synonyms: t.synonyms.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Taxonomy {
    pub version: String,
    pub source: String,
    pub terms: Vec<TaxonomyTerm>,
}

// ---- Plans ----------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Allocation {
    pub id: AllocationId,
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    /// Held by bookings (and their invoices) not yet approved, and by spending in review.
    pub committed: Pence,
    /// Approved invoices less credit notes, and accepted direct-payment spending.
    pub spent: Pence,
    /// amount - committed - spent.
    pub remaining: Pence,
    pub admin_fee: Pence,
    /// How a direct payment is paid in; null for other allocations.
    pub payment_schedule: Option<PaymentSchedule>,
}

impl From<&AllocationView> for Allocation {
    fn from(a: &AllocationView) -> Allocation {
        Allocation {
            id: a.id,
            stream: a.stream,
            management: a.management,
            amount: a.amount,
            committed: a.committed,
            spent: a.spent,
            remaining: a.remaining,
            admin_fee: a.admin_fee,
            payment_schedule: (a.management == Management::DirectPayment).then_some(a.payment_schedule),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanOutcome {
    pub id: PlanOutcomeId,
    pub text: String,
    pub terms: Vec<String>,
    /// `not_started`, `partly_met` or `fully_met`.
    pub status: String,
}

impl From<&PlanOutcomeView> for PlanOutcome {
    fn from(o: &PlanOutcomeView) -> PlanOutcome {
        PlanOutcome {
            id: o.id,
            text: o.text.clone(),
            terms: o.terms.clone(),
            status: o.status.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetHolder {
    pub id: BudgetHolderId,
    pub council_id: CouncilId,
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    pub broker_organisation_id: Option<OrganisationId>,
    /// True once the council erased the record after its retention period: the personal fields
    /// are empty, the allocations and their ledger remain.
    pub erased: bool,
    pub outcomes: Vec<PlanOutcome>,
    pub allocations: Vec<Allocation>,
    /// The child's needs, as need term ids (`GET /api/v1/taxonomy` has their labels).
    pub needs: Vec<String>,
}

impl From<&BudgetHolderView> for BudgetHolder {
    fn from(h: &BudgetHolderView) -> BudgetHolder {
        BudgetHolder {
            id: h.id,
            council_id: h.council_id,
            reference: h.reference.clone(),
            first_name: h.first_name.clone(),
            date_of_birth: h.date_of_birth,
            postcode: h.postcode.clone(),
            plan_start: h.plan_start,
            plan_end: h.plan_end,
            broker_organisation_id: h.broker_organisation_id,
            erased: h.erased,
            outcomes: h.outcomes.iter().map(Into::into).collect(),
            allocations: h.allocations.iter().map(Into::into).collect(),
            needs: h.needs.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedBudgetHolder {
    #[serde(flatten)]
    pub budget_holder: BudgetHolder,
    pub family_user_id: UserId,
    /// False when the family already had a login made by this council (a brother's or sister's
    /// plan) and the plan was added to it; a login another council made is answered as a new one.
    pub family_account_created: bool,
}

impl From<&app::plans::CreatedPlan> for CreatedBudgetHolder {
    fn from(c: &app::plans::CreatedPlan) -> CreatedBudgetHolder {
        CreatedBudgetHolder {
            budget_holder: (&c.plan).into(),
            family_user_id: c.family_user_id,
            family_account_created: c.family_account_created,
        }
    }
}

/// One reading or change of a budget holder's data by someone other than its family.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLogEntry {
    pub at: DateTime<Utc>,
    /// The user who did it; null for the operator's own command (`localoffer erase`).
    pub user_id: Option<UserId>,
    /// `council`, `broker`, `provider`, `family` (another family's login) or `operator`.
    pub role: String,
    /// What was done: `read plan`, `read statement`, `read bookings`, `changed allocation`, `erased` ...
    pub action: String,
    /// The route template it came through, such as `GET /api/v1/budget-holders/{id}`.
    pub route: String,
    /// The council or organisation the user acts for.
    pub acting_for: Option<String>,
}

/// A budget holder's access record, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessLog {
    pub entries: Vec<AccessLogEntry>,
    /// Entries in the whole record.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&Page<AccessEntry>> for AccessLog {
    fn from(p: &Page<AccessEntry>) -> AccessLog {
        AccessLog {
            entries: p
                .items
                .iter()
                .map(|e| AccessLogEntry {
                    at: utc(e.at),
                    user_id: e.user_id,
                    role: e.role.clone(),
                    action: e.action.clone(),
                    route: e.route.clone(),
                    acting_for: e.acting_for.clone(),
                })
                .collect(),
            total: p.total,
            page: p.page,
            per_page: p.per_page,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BudgetHolderList {
    pub budget_holders: Vec<BudgetHolder>,
    /// Rows in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBudgetHolder {
    /// The EHC plan's reference, unique within the council.
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    /// Home postcode: matches are measured from here.
    pub postcode: String,
    pub plan_start: NaiveDate,
    pub plan_end: NaiveDate,
    /// The family's login; an email that already has a family login adds this plan to it.
    /// Without a password, the family is emailed an invitation to choose its own.
    pub family: FamilyLogin,
    #[serde(default)]
    pub broker_organisation_id: Option<OrganisationId>,
    /// Section E outcomes, each mapped to outcome terms.
    pub outcomes: Vec<NewPlanOutcome>,
    /// Section J: one allocation per funding stream.
    pub allocations: Vec<NewAllocation>,
    /// The child's needs, as need term ids (at most 30). Matches prefer services for these needs
    /// and leave out services tagged only with other needs; none recorded leaves matches open.
    #[serde(default)]
    pub needs: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPlanOutcome {
    pub text: String,
    pub terms: Vec<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAllocation {
    pub stream: Stream,
    pub management: Management,
    pub amount: Pence,
    /// A third party's admin fee, taken out of the amount.
    #[serde(default)]
    pub admin_fee: Option<Pence>,
    /// A direct payment's schedule: `four_weekly` (the default) or `monthly`, paid in advance.
    /// Refused for other allocations.
    #[serde(default)]
    #[schema(required = false)]
    pub payment_schedule: Option<PaymentSchedule>,
}

impl From<NewBudgetHolder> for BudgetHolderInput {
    fn from(h: NewBudgetHolder) -> BudgetHolderInput {
        BudgetHolderInput {
            reference: h.reference,
            first_name: h.first_name,
            date_of_birth: h.date_of_birth,
            postcode: h.postcode,
            plan_start: h.plan_start,
            plan_end: h.plan_end,
            family: h.family.into(),
            broker_organisation_id: h.broker_organisation_id,
            outcomes: h
                .outcomes
                .into_iter()
                .map(|o| PlanOutcomeInput {
                    text: o.text,
                    terms: o.terms,
                })
                .collect(),
            allocations: h
                .allocations
                .into_iter()
                .map(|a| AllocationInput {
                    stream: a.stream,
                    management: a.management,
                    amount: a.amount,
                    admin_fee: a.admin_fee,
                    payment_schedule: a.payment_schedule,
                })
                .collect(),
            needs: h.needs,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LedgerEntry {
    pub id: i64,
    pub allocation_id: AllocationId,
    pub stream: String,
    pub booking_id: Option<BookingId>,
    pub kind: LedgerKind,
    pub amount: SignedPence,
    pub balance_after: Pence,
    pub description: String,
    pub at: DateTime<Utc>,
}

impl From<&StatementEntry> for LedgerEntry {
    fn from(e: &StatementEntry) -> LedgerEntry {
        LedgerEntry {
            id: e.id,
            allocation_id: e.allocation_id,
            stream: e.stream.clone(),
            booking_id: e.booking_id,
            kind: e.kind,
            amount: e.amount,
            balance_after: e.balance_after,
            description: e.description.clone(),
            at: utc(e.at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Statement {
    pub budget_holder_id: BudgetHolderId,
    pub allocations: Vec<Allocation>,
    /// One page of the movements, oldest first.
    pub entries: Vec<LedgerEntry>,
    /// Movements in the whole statement.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&app::plans::Statement> for Statement {
    fn from(s: &app::plans::Statement) -> Statement {
        Statement {
            budget_holder_id: s.budget_holder_id,
            allocations: s.allocations.iter().map(Into::into).collect(),
            entries: s.entries.items.iter().map(Into::into).collect(),
            total: s.entries.total,
            page: s.entries.page,
            per_page: s.entries.per_page,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeStatusChange {
    /// `not_started`, `partly_met` or `fully_met`.
    pub status: String,
}

// ---- Changing a plan, brokers, council settings ----------------------------------------------------

/// A plan's details as the council corrects or renews them (every field is replaced).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanDetails {
    /// The EHC plan's reference, unique within the council.
    pub reference: String,
    pub first_name: String,
    pub date_of_birth: NaiveDate,
    /// Home postcode: matches are measured from here.
    pub postcode: String,
    pub plan_start: NaiveDate,
    /// After `plan_start`, at most three years later.
    pub plan_end: NaiveDate,
}

impl From<PlanDetails> for PlanDetailsInput {
    fn from(d: PlanDetails) -> PlanDetailsInput {
        PlanDetailsInput {
            reference: d.reference,
            first_name: d.first_name,
            date_of_birth: d.date_of_birth,
            postcode: d.postcode,
            plan_start: d.plan_start,
            plan_end: d.plan_end,
        }
    }
}

/// A new amount for an allocation, recorded in the ledger with its reason.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Adjustment {
    /// The allocation's new amount; at least what is already committed.
    pub amount: Pence,
    /// Why it changed (1 to 500 characters); shown in the statement.
    pub reason: String,
}

impl From<Adjustment> for AdjustmentInput {
    fn from(a: Adjustment) -> AdjustmentInput {
        AdjustmentInput {
            amount: a.amount,
            reason: a.reason,
        }
    }
}

impl From<NewAllocation> for AllocationInput {
    fn from(a: NewAllocation) -> AllocationInput {
        AllocationInput {
            stream: a.stream,
            management: a.management,
            amount: a.amount,
            admin_fee: a.admin_fee,
            payment_schedule: a.payment_schedule,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerChange {
    /// One of the council's broker organisations; null or left out for none.
    #[serde(default)]
    pub broker_organisation_id: Option<OrganisationId>,
}

/// A broker organisation the council sets up, and its first login.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBroker {
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub description: String,
    /// The broker's first login.
    pub user: Login,
}

impl From<NewBroker> for RegistrationInput {
    fn from(b: NewBroker) -> RegistrationInput {
        RegistrationInput {
            organisation: OrganisationInput {
                name: b.name,
                kind: OrganisationKind::Broker,
                charity_number: None,
                company_number: None,
                website: b.website,
                phone: b.phone,
                email: b.email,
                description: b.description,
            },
            user: b.user.into(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Broker {
    pub id: OrganisationId,
    pub name: String,
    /// Its logins' email addresses.
    pub logins: Vec<String>,
    /// How many of the council's plans it manages.
    pub families: i64,
}

impl From<&BrokerView> for Broker {
    fn from(b: &BrokerView) -> Broker {
        Broker {
            id: b.id,
            name: b.name.clone(),
            logins: b.logins.clone(),
            families: b.families,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BrokerList {
    pub brokers: Vec<Broker>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CouncilSettings {
    /// Whether the council's families may book providers no council has verified; true if never
    /// changed. When false, such a booking is refused with 409 `provider_not_verified`. Left out
    /// of a change, it keeps its value.
    #[serde(default)]
    #[schema(required = false)]
    pub unverified_bookable: Option<bool>,
    /// How delivered sessions are grouped into invoices: `calendar_month` (the default) or
    /// `four_weekly`, counted from `period_anchor`.
    #[serde(default)]
    #[schema(required = false)]
    pub invoice_period: Option<crate::domain::invoice::InvoicePeriod>,
    /// The first day of a four-weekly period (2026-04-06 unless changed).
    #[serde(default)]
    #[schema(required = false)]
    pub period_anchor: Option<chrono::NaiveDate>,
    /// Direct-payment spending over this amount goes to the audit queue (250.00 unless changed).
    #[serde(default)]
    #[schema(required = false)]
    pub audit_over: Option<Pence>,
    /// The share of the rest, 0 to 100, that goes there too (10 unless changed).
    #[serde(default)]
    #[schema(required = false)]
    pub audit_sample_percent: Option<i32>,
}

impl From<crate::domain::council::CouncilSettings> for CouncilSettings {
    fn from(s: crate::domain::council::CouncilSettings) -> CouncilSettings {
        CouncilSettings {
            unverified_bookable: Some(s.unverified_bookable),
            invoice_period: Some(s.invoice_period),
            period_anchor: Some(s.period_anchor),
            audit_over: Some(s.audit.over),
            audit_sample_percent: Some(s.audit.percent),
        }
    }
}

impl From<CouncilSettings> for SettingsInput {
    fn from(s: CouncilSettings) -> SettingsInput {
        SettingsInput {
            unverified_bookable: s.unverified_bookable,
            invoice_period: s.invoice_period,
            period_anchor: s.period_anchor,
            audit_over: s.audit_over,
            audit_sample_percent: s.audit_sample_percent,
        }
    }
}

// ---- Search and matches ---------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchHit {
    pub service_id: i64,
    pub name: String,
    pub organisation: OrganisationRef,
    pub distance_miles: Option<f64>,
    pub price_from: Option<Pence>,
    /// Which of the requested outcomes (or the plan's outcomes) the service meets, exactly or
    /// through a narrower term it claims.
    pub outcomes_matched: Vec<String>,
    /// Requested outcomes the service meets less exactly, through a broader term it claims
    /// ("friends, relationships and community" for "making and keeping friends"); such services
    /// rank below those meeting the outcome exactly.
    pub outcomes_matched_broadly: Vec<String>,
    pub score: f64,
    pub outcomes: Vec<String>,
    pub service_types: Vec<String>,
    pub min_age: u64,
    pub max_age: u64,
    /// False when the feed the service came from gave no ages (then 0 to 25 is not a claim).
    pub ages_stated: bool,
    pub postcode: Option<String>,
    pub reach_miles: Option<f64>,
    /// The earliest session still to come with a place left; null when there is none.
    #[schema(required = true)]
    pub next_session: Option<NextSession>,
    /// Whether a council has verified the provider.
    #[schema(required = false)]
    pub verified: bool,
    /// The council that verified it; absent while it is not verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
}

/// A service's next session with a place left, read from the database when the page is asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextSession {
    /// England's clock, with its offset: `2027-01-09T10:00:00+00:00`.
    #[schema(format = DateTime)]
    pub starts_at: String,
    pub places_left: i32,
}

impl From<app::search::NextSession> for NextSession {
    fn from(n: app::search::NextSession) -> NextSession {
        NextSession {
            starts_at: london(n.starts_at),
            places_left: n.places_left,
        }
    }
}

impl SearchHit {
    /// A hit of the index, with its service's next open session (if it has one) and the council
    /// that verified its provider (if one has).
    pub fn new(h: &Hit, next: Option<app::search::NextSession>, verified_by: Option<&str>) -> SearchHit {
        SearchHit {
            service_id: h.service_id,
            name: h.name.clone(),
            organisation: OrganisationRef {
                id: h.organisation.id,
                name: h.organisation.name.clone(),
            },
            distance_miles: h.distance_miles,
            price_from: h.price_from,
            outcomes_matched: h.outcomes_matched.clone(),
            outcomes_matched_broadly: h.outcomes_matched_broadly.clone(),
            score: h.score,
            outcomes: h.outcomes.clone(),
            service_types: h.service_types.clone(),
            min_age: h.min_age,
            ages_stated: h.ages_stated,
            max_age: h.max_age,
            postcode: h.postcode.clone(),
            reach_miles: h.reach_miles,
            next_session: next.map(Into::into),
            verified: verified_by.is_some(),
            verified_by: verified_by.map(str::to_string),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Facets {
    /// Results per outcome term id (with the terms above them).
    pub outcomes: HashMap<String, u64>,
    pub service_types: HashMap<String, u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SearchResults {
    pub total: usize,
    pub page: usize,
    pub per_page: usize,
    pub results: Vec<SearchHit>,
    pub facets: Facets,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Home {
    pub postcode_district: String,
    /// `postcode` when placed exactly, `district` when at the district's centre.
    pub precision: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeMatches {
    pub outcome_id: PlanOutcomeId,
    pub text: String,
    pub terms: Vec<String>,
    pub services: Vec<SearchHit>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Matches {
    pub budget_holder_id: BudgetHolderId,
    pub radius_miles: f64,
    pub age: i32,
    /// Null when the home postcode cannot be placed.
    pub home: Option<Home>,
    pub outcomes: Vec<OutcomeMatches>,
}

impl From<&app::plans::PlanMatches> for Matches {
    fn from(m: &app::plans::PlanMatches) -> Matches {
        Matches {
            budget_holder_id: m.plan.id,
            radius_miles: m.radius_miles,
            age: m.age,
            home: m.home.map(|h| Home {
                postcode_district: m.district.clone(),
                precision: match h.precision {
                    crate::geocode::Precision::Postcode => "postcode".into(),
                    crate::geocode::Precision::District => "district".into(),
                },
            }),
            outcomes: m
                .outcomes
                .iter()
                .map(|o| OutcomeMatches {
                    outcome_id: o.outcome_id,
                    text: o.text.clone(),
                    terms: o.terms.clone(),
                    services: o
                        .services
                        .iter()
                        .map(|h| SearchHit::new(h, m.next_session(h), m.verified_by(h)))
                        .collect(),
                })
                .collect(),
        }
    }
}

// ---- Bookings -------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBooking {
    pub budget_holder_id: BudgetHolderId,
    /// One of the budget holder's allocations; the service must accept its stream.
    pub allocation_id: AllocationId,
    pub price_option_id: PriceOptionId,
    /// How many units of the price option, 1 to 1000, for a service without dated sessions.
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Or the dated sessions to book (at most 400): all are booked, or none (409 `session_full`
    /// names each full one).
    #[serde(default)]
    pub session_ids: Vec<SessionId>,
    /// Or every session still to come of a weekly series, within the plan period.
    #[serde(default)]
    pub series_id: Option<SeriesId>,
    /// What the family chooses to share with the provider: needs, medication, contact on the day.
    #[serde(default)]
    pub notes: String,
    /// How the provider reaches the family about this booking; the family's email if left out.
    #[serde(default)]
    pub contact: String,
}

impl From<NewBooking> for BookingInput {
    fn from(b: NewBooking) -> BookingInput {
        BookingInput {
            budget_holder_id: b.budget_holder_id,
            price_option_id: b.price_option_id,
            allocation_id: b.allocation_id,
            quantity: b.quantity,
            session_ids: b.session_ids,
            series_id: b.series_id,
            notes: b.notes,
            contact: b.contact,
        }
    }
}

/// An instant as England's clock shows it, with its offset: `2027-07-10T10:00:00+01:00`.
fn london(at: NaiveDateTime) -> String {
    crate::domain::sessions::in_london(at).to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// One booked session and how it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct BookedSession {
    pub session_id: SessionId,
    /// England's wall-clock time, with its offset.
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: String,
    pub status: SeatStatus,
    /// What this session costs on this booking (kept as booked).
    pub price: Pence,
    /// `cancelled` when the provider cancelled the session.
    pub session_status: SessionStatus,
}

impl From<&Seat> for BookedSession {
    fn from(s: &Seat) -> BookedSession {
        BookedSession {
            session_id: s.session.id,
            starts_at: london(s.session.times.starts_at),
            ends_at: london(s.session.times.ends_at),
            status: s.status,
            price: s.price,
            session_status: s.session.status,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Booking {
    pub id: BookingId,
    /// A reference a person can read out on the phone, such as `K7M2-QX4P`.
    pub reference: String,
    pub status: BookingStatus,
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub service_id: ServiceId,
    pub service_name: String,
    pub price_option_id: PriceOptionId,
    pub price_option_label: String,
    /// Units bought, or the number of sessions booked.
    pub quantity: i64,
    /// The option's price when booked; re-pricing the service does not change it.
    pub unit_price: Pence,
    pub total: Pence,
    /// The dated sessions booked (empty for a booking by quantity).
    pub sessions: Vec<BookedSession>,
    pub notes: String,
    pub contact: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&BookingView> for Booking {
    fn from(b: &BookingView) -> Booking {
        Booking {
            id: b.id,
            reference: b.reference.clone(),
            status: b.status,
            budget_holder_id: b.budget_holder_id,
            allocation_id: b.allocation_id,
            service_id: b.service_id,
            service_name: b.service_name.clone(),
            price_option_id: b.price_option_id,
            price_option_label: b.price_option_label.clone(),
            quantity: b.quantity,
            unit_price: b.unit_price,
            total: b.total,
            sessions: b.seats.iter().map(Into::into).collect(),
            notes: b.notes.clone(),
            contact: b.contact.clone(),
            created_at: utc(b.created_at),
            updated_at: utc(b.updated_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedBooking {
    #[serde(flatten)]
    pub booking: Booking,
    /// What was left on the allocation straight after this booking.
    pub remaining: Pence,
}

impl From<&app::bookings::Booked> for CreatedBooking {
    fn from(b: &app::bookings::Booked) -> CreatedBooking {
        CreatedBooking {
            booking: (&b.booking).into(),
            remaining: b.remaining,
        }
    }
}

/// Which sessions to cancel; every one still to come if left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelSessions {
    #[serde(default)]
    pub session_ids: Option<Vec<SessionId>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledBooking {
    #[serde(flatten)]
    pub booking: Booking,
    /// Sessions whose money went back to the allocation.
    pub refunded: Vec<BookedSession>,
    /// Sessions cancelled after the provider's notice and charged by its policy.
    pub charged: Vec<BookedSession>,
}

impl From<&app::bookings::Cancelled> for CancelledBooking {
    fn from(c: &app::bookings::Cancelled) -> CancelledBooking {
        CancelledBooking {
            booking: (&c.booking).into(),
            refunded: c.refunded.iter().map(Into::into).collect(),
            charged: c.charged.iter().map(Into::into).collect(),
        }
    }
}

// ---- Sessions -------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct DatedSession {
    pub id: SessionId,
    pub service_id: ServiceId,
    /// The weekly series it was published in, if any.
    pub series_id: Option<SeriesId>,
    /// England's wall-clock time, with its offset.
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: String,
    pub places: i32,
    pub places_left: i32,
    pub status: SessionStatus,
    /// Where it started before the provider moved it.
    #[schema(format = DateTime)]
    pub moved_from: Option<String>,
}

impl From<&SessionView> for DatedSession {
    fn from(s: &SessionView) -> DatedSession {
        DatedSession {
            id: s.id,
            service_id: s.service_id,
            series_id: s.series_id,
            starts_at: london(s.times.starts_at),
            ends_at: london(s.times.ends_at),
            places: s.places,
            places_left: s.places_left(),
            status: s.status,
            moved_from: s.moved_from.map(london),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<DatedSession>,
    /// Rows in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// One session (`starts_at` and `ends_at`, England's clock) or a weekly series (`weekly`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSessions {
    /// `2027-01-09T10:00:00`, read on England's clock (or with an offset).
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
    #[serde(default)]
    pub weekly: Option<NewSeries>,
    /// Places per session; the service's capacity if left out.
    #[serde(default)]
    pub places: Option<i32>,
}

/// "Every Saturday 10:00-15:00 from 9 January to 17 July, except 13 February."
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSeries {
    pub days: Vec<Day>,
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// `HH:MM`, England's clock.
    pub starts: String,
    pub ends: String,
    #[serde(default)]
    pub except: Vec<NaiveDate>,
}

impl NewSessions {
    pub fn into_request(self) -> Result<app::sessions::NewSessions, crate::domain::validate::Invalid> {
        use crate::domain::validate::Invalid;
        match (self.starts_at, self.ends_at, self.weekly) {
            (Some(starts_at), Some(ends_at), None) => Ok(app::sessions::NewSessions::One { starts_at, ends_at }),
            (None, None, Some(w)) => Ok(app::sessions::NewSessions::Weekly(crate::domain::sessions::Weekly {
                days: w.days,
                from: w.from,
                until: w.until,
                starts: w.starts,
                ends: w.ends,
                except: w.except,
            })),
            (Some(_), None, None) => Err(Invalid::one("ends_at", "is needed with starts_at")),
            (None, Some(_), None) => Err(Invalid::one("starts_at", "is needed with ends_at")),
            _ => Err(Invalid::one("weekly", "give either starts_at and ends_at, or weekly")),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionChange {
    /// Never below the places already taken.
    #[serde(default)]
    pub places: Option<i32>,
    #[serde(default)]
    pub starts_at: Option<String>,
    #[serde(default)]
    pub ends_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegisterLine {
    pub booking_id: BookingId,
    pub reference: String,
    pub first_name: String,
    /// The child's age on the day of the session.
    pub age: i32,
    /// What the family chose to share: needs, medication, contact on the day.
    pub notes: String,
    pub contact: String,
    pub status: SeatStatus,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Register {
    pub session: DatedSession,
    pub service_name: String,
    pub lines: Vec<RegisterLine>,
}

impl From<&app::sessions::Register> for Register {
    fn from(r: &app::sessions::Register) -> Register {
        let day = crate::domain::sessions::london_date(r.session.times.starts_at);
        Register {
            session: (&r.session).into(),
            service_name: r.service_name.clone(),
            lines: r
                .lines
                .iter()
                .map(|l| RegisterLine {
                    booking_id: l.booking_id,
                    reference: l.reference.clone(),
                    first_name: l.first_name.clone(),
                    age: crate::domain::budget::age_on(l.date_of_birth, day),
                    notes: l.notes.clone(),
                    contact: l.contact.clone(),
                    status: l.status,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Attendance {
    pub attendance: Vec<AttendanceMark>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceMark {
    pub booking_id: BookingId,
    pub status: crate::domain::sessions::Attendance,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinWaitlist {
    pub budget_holder_id: BudgetHolderId,
    pub allocation_id: AllocationId,
    pub price_option_id: PriceOptionId,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntry {
    pub id: WaitlistId,
    pub session_id: SessionId,
    pub budget_holder_id: BudgetHolderId,
    pub status: WaitStatus,
    /// While an offer is open: when it lapses (England's clock, with its offset).
    #[schema(format = DateTime)]
    pub offer_expires_at: Option<String>,
    /// The booking an accepted offer became.
    pub booking_id: Option<BookingId>,
}

impl From<&crate::db::waitlist::Entry> for WaitlistEntry {
    fn from(e: &crate::db::waitlist::Entry) -> WaitlistEntry {
        WaitlistEntry {
            id: e.id,
            session_id: e.session_id,
            budget_holder_id: e.budget_holder_id,
            status: e.status,
            offer_expires_at: e.offer_expires_at.map(london),
            booking_id: e.booking_id,
        }
    }
}

/// A plan a council other than the family's own added for it, waiting for the family's answer:
/// who added it and when, nothing of the plan itself until it is accepted.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanLink {
    pub id: i64,
    /// The council that added the plan.
    pub council: String,
    pub created_at: DateTime<Utc>,
}

impl From<&crate::db::plan_links::PendingLink> for PlanLink {
    fn from(l: &crate::db::plan_links::PendingLink) -> PlanLink {
        PlanLink {
            id: l.id,
            council: l.council.clone(),
            created_at: utc(l.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlanLinks {
    pub links: Vec<PlanLink>,
    /// Rows in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// The family's answer to a plan link.
#[derive(Debug, Serialize, ToSchema)]
pub struct PlanLinkDecision {
    pub id: i64,
    /// `accepted` or `declined`.
    pub status: String,
    /// Once accepted: the plan, now among the family's own.
    pub budget_holder_id: Option<BudgetHolderId>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistEntries {
    pub entries: Vec<WaitlistEntry>,
    /// Rows in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WaitlistAccepted {
    #[serde(flatten)]
    pub entry: WaitlistEntry,
    pub booking: Booking,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarLink {
    /// A secret address for a calendar app; getting a new one stops the old one working.
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BookingList {
    pub bookings: Vec<Booking>,
    /// Rows in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

// ---- Reports --------------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct Gap {
    pub outcome: String,
    /// A postcode district, `OTHER` for small areas pooled together, or `ALL`.
    pub area: String,
    /// Withheld (null) where fewer budget holders than `min_holders` could identify a child.
    pub suppressed: bool,
    pub demand_holders: Option<u64>,
    pub demand_money: Option<Pence>,
    pub supply_services: u64,
    pub supply_places: i64,
    pub median_price: Option<Pence>,
    pub min_price: Option<Pence>,
    pub unmet_searches: u64,
    pub gap_score: f64,
    /// The cheapest nearby service costs more than the median budget left here.
    pub unaffordable: bool,
}

impl From<&GapRow> for Gap {
    fn from(g: &GapRow) -> Gap {
        Gap {
            outcome: g.outcome.clone(),
            area: g.area.clone(),
            suppressed: g.suppressed,
            demand_holders: g.demand_holders,
            demand_money: g.demand_money,
            supply_services: g.supply_services,
            supply_places: g.supply_places,
            median_price: g.median_price,
            min_price: g.min_price,
            unmet_searches: g.unmet_searches,
            gap_score: g.gap_score,
            unaffordable: g.unaffordable,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GapReport {
    pub min_holders: usize,
    pub rows: Vec<Gap>,
    /// Rows in the whole report.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl GapReport {
    pub fn new(min_holders: usize, page: &Page<GapRow>) -> GapReport {
        GapReport {
            min_holders,
            rows: page.items.iter().map(Into::into).collect(),
            total: page.total,
            page: page.page,
            per_page: page.per_page,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Spending {
    pub budget_holder_id: i64,
    pub reference: String,
    pub allocation_id: i64,
    pub stream: String,
    pub management: Management,
    pub allocated: Pence,
    pub committed: Pence,
    pub delivered: Pence,
    pub remaining: Pence,
    /// Share of the plan period elapsed, 0 to 1.
    pub elapsed: f64,
    /// `underused`, `six_week_review_due`, `direct_payment_surplus`.
    pub flags: Vec<String>,
}

impl From<&SpendingRow> for Spending {
    fn from(r: &SpendingRow) -> Spending {
        Spending {
            budget_holder_id: r.budget_holder_id,
            reference: r.reference.clone(),
            allocation_id: r.allocation_id,
            stream: r.stream.clone(),
            management: r.management,
            allocated: r.allocated,
            committed: r.committed,
            delivered: r.delivered,
            remaining: r.remaining,
            elapsed: r.elapsed,
            flags: r.flags.iter().map(|f| f.to_string()).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpendingTotals {
    pub allocated: Pence,
    pub committed: Pence,
    pub delivered: Pence,
    pub remaining: Pence,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SpendingReport {
    /// Sums over every allocation, not only this page's.
    pub totals: SpendingTotals,
    pub allocations: Vec<Spending>,
    /// Allocations in the whole report.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl From<&app::reports::Spending> for SpendingReport {
    fn from(report: &app::reports::Spending) -> SpendingReport {
        let t = report.totals;
        SpendingReport {
            totals: SpendingTotals {
                allocated: t.allocated,
                committed: t.committed,
                delivered: t.delivered,
                remaining: t.remaining,
            },
            allocations: report.allocations.items.iter().map(Into::into).collect(),
            total: report.allocations.total,
            page: report.allocations.page,
            per_page: report.allocations.per_page,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PricedBelowFullCost {
    pub service_id: i64,
    pub service: String,
    pub organisation: String,
    pub price_option: String,
    pub price: Pence,
    pub full_cost: Option<Pence>,
}

impl From<&PricedBelowCost> for PricedBelowFullCost {
    fn from(p: &PricedBelowCost) -> PricedBelowFullCost {
        PricedBelowFullCost {
            service_id: p.service_id,
            service: p.service.clone(),
            organisation: p.organisation.clone(),
            price_option: p.price_option.clone(),
            price: Pence::from_stored(p.price),
            full_cost: p.full_cost.map(Pence::from_stored),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProvidersAtRisk {
    pub priced_below_full_cost: Vec<PricedBelowFullCost>,
    /// Price options in the whole report.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Served {
    pub booking_id: i64,
    pub service_id: i64,
    pub service: String,
    pub status: String,
}

impl From<&ServedBy> for Served {
    fn from(s: &ServedBy) -> Served {
        Served {
            booking_id: s.booking_id,
            service_id: s.service_id,
            service: s.service.clone(),
            status: s.status.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeProgressRow {
    pub budget_holder_id: i64,
    pub reference: String,
    pub outcome_id: i64,
    pub text: String,
    pub terms: Vec<String>,
    pub status: String,
    pub served_by: Vec<Served>,
}

impl From<&OutcomeProgress> for OutcomeProgressRow {
    fn from(o: &OutcomeProgress) -> OutcomeProgressRow {
        OutcomeProgressRow {
            budget_holder_id: o.budget_holder_id,
            reference: o.reference.clone(),
            outcome_id: o.outcome_id,
            text: o.text.clone(),
            terms: o.terms.clone(),
            status: o.status.clone(),
            served_by: o.served_by.iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeReport {
    pub outcomes: Vec<OutcomeProgressRow>,
    /// Plan outcomes in the whole report.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarterLine {
    pub at: DateTime<Utc>,
    pub kind: LedgerKind,
    pub description: String,
    pub amount: SignedPence,
}

impl From<&ReturnLine> for QuarterLine {
    fn from(l: &ReturnLine) -> QuarterLine {
        QuarterLine {
            at: utc(l.at),
            kind: l.kind,
            description: l.description.clone(),
            amount: l.amount,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AllocationQuarter {
    pub allocation_id: AllocationId,
    pub stream: String,
    pub management: String,
    /// Such as `2026-Q4`.
    pub quarter: String,
    pub opening_balance: SignedPence,
    pub money_in: SignedPence,
    pub spent: SignedPence,
    pub refunded: SignedPence,
    pub admin_fees: SignedPence,
    pub closing_balance: SignedPence,
    pub lines: Vec<QuarterLine>,
    /// For a direct payment: the quarter's payments in, invoices paid, spending and the surplus
    /// test at its end; absent for other allocations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_payment: Option<super::spending::DirectPaymentReturn>,
}

impl From<&QuarterlyReturn> for AllocationQuarter {
    fn from(r: &QuarterlyReturn) -> AllocationQuarter {
        AllocationQuarter {
            allocation_id: r.allocation_id,
            stream: r.stream.clone(),
            management: r.management.clone(),
            quarter: r.quarter.clone(),
            opening_balance: r.opening_balance,
            money_in: r.money_in,
            spent: r.spent,
            refunded: r.refunded,
            admin_fees: r.admin_fees,
            closing_balance: r.closing_balance,
            lines: r.lines.iter().map(Into::into).collect(),
            direct_payment: r.direct_payment.as_ref().map(Into::into),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuarterlyReturnReport {
    pub budget_holder_id: BudgetHolderId,
    pub allocations: Vec<AllocationQuarter>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when the database answers.
    pub status: String,
}

/// A list answer from one page: its rows in their wire form, and where the page sits.
macro_rules! paged {
    ($list:ident, $field:ident, $from:ty) => {
        impl From<&Page<$from>> for $list {
            fn from(page: &Page<$from>) -> $list {
                $list {
                    $field: page.items.iter().map(Into::into).collect(),
                    total: page.total,
                    page: page.page,
                    per_page: page.per_page,
                }
            }
        }
    };
}

paged!(ServiceList, services, ServiceView);
paged!(BudgetHolderList, budget_holders, BudgetHolderView);
paged!(SessionList, sessions, SessionView);
paged!(BookingList, bookings, BookingView);
paged!(WaitlistEntries, entries, crate::db::waitlist::Entry);
paged!(PlanLinks, links, crate::db::plan_links::PendingLink);
paged!(ProvidersAtRisk, priced_below_full_cost, PricedBelowCost);
paged!(OutcomeReport, outcomes, OutcomeProgress);

/// A password change: the current password, and the new one (at least 10 characters).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}
