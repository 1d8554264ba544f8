//! Typed forms: each page form read into the same domain input the API takes, with a problem in
//! a field reported against that field; and the other way round, a stored service as its form.

use super::Form;
use crate::app::AppError;
use crate::db::services::ServiceView;
use crate::domain::booking::BookingInput;
use crate::domain::budget::{AllocationInput, BudgetHolderInput, FamilyInput, LoginInput, PlanOutcomeInput};
use crate::domain::fcr::FcrInput;
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::paging::PageRequest;
use crate::domain::service::{Day, LocationInput, MAX_PRICE_OPTIONS, PriceOptionInput, ServiceInput, Session};
use crate::domain::taxonomy::Taxonomy;
use crate::domain::validate::{self, Invalid};
use crate::domain::{
    AllocationId, BudgetHolderId, Management, OrganisationKind, Pence, PriceOptionId, SeriesId, ServiceStatus,
    SessionId, Stream, Unit,
};
use crate::templates::FormErrors;
use crate::templates::council::OUTCOME_ROWS;

pub(super) fn problem(errors: &mut FormErrors, field: &str, message: &str) {
    errors.0.push((field.to_string(), message.to_string()));
}

/// Pounds as people type them: "£1,200.50" is 1200.50.
/// A date field (`2014-05-01`), or its problem in `errors`.
pub(super) fn date(form: &Form, errors: &mut FormErrors, name: &str) -> Option<chrono::NaiveDate> {
    form.get(name)
        .trim()
        .parse::<chrono::NaiveDate>()
        .map_err(|_| problem(errors, name, "Enter a date such as 2014-05-01"))
        .ok()
}

pub(super) fn pounds(text: &str) -> String {
    text.trim().trim_start_matches('£').replace(',', "")
}

impl TryFrom<&Form> for LoginInput {
    type Error = FormErrors;

    fn try_from(form: &Form) -> Result<LoginInput, FormErrors> {
        let mut errors = FormErrors::default();
        let email = form.get("email").trim().to_string();
        let password = form.get("password").to_string();
        if email.is_empty() {
            problem(&mut errors, "email", "Enter your email address");
        }
        if password.is_empty() {
            problem(&mut errors, "password", "Enter your password");
        }
        if errors.is_empty() {
            Ok(LoginInput { email, password })
        } else {
            Err(errors)
        }
    }
}

impl TryFrom<&Form> for RegistrationInput {
    type Error = FormErrors;

    /// Every problem at once: a missing kind with whatever else the registration rules find.
    fn try_from(form: &Form) -> Result<RegistrationInput, FormErrors> {
        let kind = match form.get("kind") {
            "vcs" => Some(OrganisationKind::Vcs),
            "private" => Some(OrganisationKind::Private),
            _ => None,
        };
        let optional = |name: &str| Some(form.get(name).trim().to_string()).filter(|v| !v.is_empty());
        let input = RegistrationInput {
            organisation: OrganisationInput {
                name: form.get("organisation_name").to_string(),
                kind: kind.unwrap_or(OrganisationKind::Vcs),
                charity_number: optional("charity_number"),
                company_number: optional("company_number"),
                website: optional("website"),
                phone: optional("phone"),
                email: optional("organisation_email"),
                description: form.get("description").to_string(),
            },
            user: LoginInput {
                email: form.get("email").to_string(),
                password: form.get("password").to_string(),
            },
        };
        if kind.is_some() {
            return Ok(input);
        }
        let mut errors = FormErrors::default();
        problem(&mut errors, "kind", "Choose what kind of organisation it is");
        if let Err(Invalid(rules)) = input.validate() {
            errors.0.extend(
                rules
                    .into_iter()
                    .map(|e| (registration_field(&e.field), capitalised(&e.message))),
            );
        }
        Err(registration_errors(errors))
    }
}

/// Registration's field names as the form has them.
pub fn registration_field(field: &str) -> String {
    match field {
        "organisation.name" => "organisation_name",
        "organisation.charity_number" => "charity_number",
        "organisation.company_number" => "company_number",
        "organisation.website" => "website",
        "organisation.phone" => "phone",
        "organisation.email" => "organisation_email",
        "organisation.description" => "description",
        "user.email" => "email",
        "user.password" => "password",
        other => other,
    }
    .to_string()
}

/// The booking form: which plan and allocation pay, which option, how many; and the form's
/// request id, so a double-clicked Book books once.
pub struct BookForm {
    pub input: BookingInput,
    pub request_id: Option<String>,
}

/// The booking form cannot be read at all (its hidden fields were tampered with).
pub struct Unreadable;

impl BookForm {
    /// The booking form: by quantity (a service without dated sessions), or the dates ticked, or
    /// a whole series.
    pub fn read(form: &Form) -> Result<Result<BookForm, FormErrors>, Unreadable> {
        let parse = |v: &str| v.trim().parse::<i64>().ok();
        let (holder, allocation) = form.get("allocation").split_once(':').unwrap_or(("", ""));
        let (Some(holder), Some(allocation), Some(option)) =
            (parse(holder), parse(allocation), parse(form.get("price_option_id")))
        else {
            return Err(Unreadable);
        };
        let (mut quantity, mut session_ids, mut series_id) = (None, Vec::new(), None);
        if form.0.iter().any(|(k, _)| k == "quantity") {
            match parse(form.get("quantity")) {
                Some(q) => quantity = Some(q),
                None => {
                    return Ok(Err(FormErrors(vec![(
                        "quantity".into(),
                        "Enter how many, as a whole number".into(),
                    )])));
                }
            }
        } else if let Some(series) = form.get("which").strip_prefix("series:") {
            series_id = Some(SeriesId(parse(series).ok_or(Unreadable)?));
        } else {
            for id in form.all("session_id") {
                session_ids.push(SessionId(parse(&id).ok_or(Unreadable)?));
            }
            if session_ids.is_empty() {
                return Ok(Err(FormErrors(vec![(
                    "quantity".into(),
                    "Choose at least one date".into(),
                )])));
            }
        }
        let request_id = Some(form.get("request_id"))
            .filter(|k| !k.is_empty() && k.len() <= 64 && k.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|k| format!("page-{k}"));
        Ok(Ok(BookForm {
            input: BookingInput {
                budget_holder_id: BudgetHolderId(holder),
                allocation_id: AllocationId(allocation),
                price_option_id: PriceOptionId(option),
                quantity,
                session_ids,
                series_id,
                notes: form.get("notes").to_string(),
                contact: form.get("contact").to_string(),
            },
            request_id,
        }))
    }
}

/// Joining a waiting list: which plan and allocation would pay, which option.
pub struct JoinForm;

impl JoinForm {
    pub fn read(form: &Form) -> Option<crate::app::waitlist::JoinInput> {
        let parse = |v: &str| v.trim().parse::<i64>().ok();
        let (holder, allocation) = form.get("allocation").split_once(':')?;
        Some(crate::app::waitlist::JoinInput {
            budget_holder_id: BudgetHolderId(parse(holder)?),
            allocation_id: AllocationId(parse(allocation)?),
            price_option_id: PriceOptionId(parse(form.get("price_option_id"))?),
        })
    }
}

/// The provider's forms to add sessions: one (a date and times) or a weekly series.
pub fn new_sessions(form: &Form) -> Result<(crate::app::sessions::NewSessions, Option<i32>), FormErrors> {
    use crate::app::sessions::NewSessions;
    let mut errors = FormErrors::default();
    let places = |name: &str, errors: &mut FormErrors| match form.get(name).trim() {
        "" => None,
        v => v
            .parse::<i32>()
            .map_err(|_| problem(errors, name, "Enter the places as a whole number"))
            .ok(),
    };
    let date = |name: &str, errors: &mut FormErrors| {
        form.get(name)
            .trim()
            .parse::<chrono::NaiveDate>()
            .map_err(|_| problem(errors, name, "Enter a date such as 2027-01-09"))
            .ok()
    };
    let asked = if form.get("kind") == "weekly" {
        let (from, until) = (date("weekly_from", &mut errors), date("weekly_until", &mut errors));
        let mut except = Vec::new();
        for word in form
            .get("weekly_except")
            .split([' ', ',', ';'])
            .filter(|w| !w.trim().is_empty())
        {
            match word.trim().parse() {
                Ok(d) => except.push(d),
                Err(_) => problem(
                    &mut errors,
                    "weekly_except",
                    "Enter dates such as 2027-02-13, separated by spaces",
                ),
            }
        }
        let days = form.all("weekly_days").iter().filter_map(|d| d.parse().ok()).collect();
        let places = places("weekly_places", &mut errors);
        match (from, until) {
            (Some(from), Some(until)) => Some((
                NewSessions::Weekly(crate::domain::sessions::Weekly {
                    days,
                    from,
                    until,
                    starts: form.get("weekly_starts").trim().to_string(),
                    ends: form.get("weekly_ends").trim().to_string(),
                    except,
                }),
                places,
            )),
            _ => None,
        }
    } else {
        let day = date("date", &mut errors);
        let places = places("places", &mut errors);
        day.map(|d| {
            (
                NewSessions::One {
                    starts_at: format!("{d}T{}", form.get("starts").trim()),
                    ends_at: format!("{d}T{}", form.get("ends").trim()),
                },
                places,
            )
        })
    };
    match asked {
        Some(asked) if errors.is_empty() => Ok(asked),
        _ => Err(errors),
    }
}

/// The use case's field names for the sessions forms' (`weekly.days` is `weekly_days`).
pub fn sessions_field(weekly: bool) -> impl Fn(&str) -> String {
    move |field: &str| match field {
        "starts_at" => "starts".into(),
        "ends_at" => "ends".into(),
        "places" if weekly => "weekly_places".into(),
        "weekly" => "weekly_days".into(),
        f if f.starts_with("weekly (") => "weekly_from".into(),
        f => f.replace('.', "_"),
    }
}

/// The provider's change to one session: places, and the date and times.
pub fn session_change(form: &Form) -> Result<crate::app::sessions::Change, FormErrors> {
    let places = form
        .get("places")
        .trim()
        .parse::<i32>()
        .map_err(|_| FormErrors(vec![("places".into(), "Enter the places as a whole number".into())]))?;
    let day = form.get("date").trim();
    Ok(crate::app::sessions::Change {
        places: Some(places),
        starts_at: Some(format!("{day}T{}", form.get("starts").trim())),
        ends_at: Some(format!("{day}T{}", form.get("ends").trim())),
    })
}

/// The register's attendance: one radio per booked child, `attendance_{booking id}`.
pub fn attendance(form: &Form) -> Vec<crate::app::sessions::Mark> {
    form.0
        .iter()
        .filter_map(|(k, v)| {
            let booking = k.strip_prefix("attendance_")?.parse().ok()?;
            Some(crate::app::sessions::Mark {
                booking_id: crate::domain::BookingId(booking),
                status: v.parse().ok()?,
            })
        })
        .collect()
}

/// How many empty price option rows a new service form starts with.
pub const NEW_PRICE_ROWS: usize = 2;

/// The price option rows a service form shows: as many as it was sent with (or `price_rows`
/// says), at least one.
pub fn price_rows(form: &Form) -> usize {
    let sent = (0..MAX_PRICE_OPTIONS)
        .rev()
        .find(|i| {
            ROW_FIELDS
                .iter()
                .any(|f| form.0.iter().any(|(k, _)| *k == format!("{f}_{i}")))
        })
        .map_or(0, |i| i + 1);
    let asked = form.get("price_rows").trim().parse().unwrap_or(0);
    sent.max(asked).clamp(1, MAX_PRICE_OPTIONS)
}

const ROW_FIELDS: [&str; 6] = [
    "price_label",
    "price",
    "fcr_direct",
    "fcr_overheads",
    "fcr_units",
    "fcr_occupancy",
];

/// The service form read into the API's input, and which form field each of the input's
/// fields came from (the schedule's and the price options' indexes are the form's rows that were
/// filled in, not the form's rows).
pub struct ServiceForm {
    pub input: ServiceInput,
    schedule_days: Vec<Day>,
    price_rows: Vec<usize>,
}

impl ServiceForm {
    /// Every problem at once: those the form itself finds (a number that is not one) and those the
    /// service's own rules find, each against its field.
    pub fn read(form: &Form, taxonomy: &Taxonomy) -> Result<ServiceForm, FormErrors> {
        let mut errors = FormErrors::default();
        let read = Self::parse(form, &mut errors);
        if errors.is_empty() {
            return Ok(read);
        }
        if let Err(Invalid(rules)) = read.input.validate(taxonomy) {
            for e in rules {
                let field = read.field(&e.field);
                // The use case places the service at its postcode; the form checks the postcode.
                if !e.field.starts_with("location.l") && errors.get(&field).is_none() {
                    errors.0.push((field, capitalised(&e.message)));
                }
            }
        }
        Err(read.labelled(errors))
    }

    fn parse(form: &Form, errors: &mut FormErrors) -> ServiceForm {
        let int = |name: &str, what: &str, errors: &mut FormErrors| -> Option<i32> {
            match form.get(name).trim() {
                "" => None,
                v => v
                    .parse()
                    .map_err(|_| problem(errors, name, &format!("Enter {what} as a whole number")))
                    .ok(),
            }
        };
        let min_age = int("min_age", "the youngest age", errors);
        let max_age = int("max_age", "the oldest age", errors);
        for (name, given, what) in [("min_age", min_age, "youngest"), ("max_age", max_age, "oldest")] {
            if given.is_none() && form.get(name).trim().is_empty() {
                problem(errors, name, &format!("Enter the {what} age the service is for"));
            }
        }
        let capacity = int("capacity", "the number of places", errors);
        let reach_miles = match form.get("reach_miles").trim() {
            "" => None,
            r => r.parse().ok().or_else(|| {
                problem(errors, "reach_miles", "Enter the distance as a number of miles");
                None
            }),
        };
        let hours = |name: &str, errors: &mut FormErrors| match form.get(name).trim() {
            "" => None,
            v => v
                .parse::<i32>()
                .map_err(|_| problem(errors, name, "Enter a whole number of hours"))
                .ok(),
        };
        let cancellation_notice_hours = hours("cancellation_notice_hours", errors);
        let offer_window_hours = hours("offer_window_hours", errors);
        let postcode = form.get("postcode").trim();
        if postcode.is_empty() {
            problem(errors, "postcode", "Enter the postcode where the service happens");
        }
        let mut schedule = Vec::new();
        let mut schedule_days = Vec::new();
        for day in Day::ALL {
            let (starts, ends) = (
                form.get(&format!("schedule_{day}_starts")).trim(),
                form.get(&format!("schedule_{day}_ends")).trim(),
            );
            if starts.is_empty() && ends.is_empty() {
                continue;
            }
            schedule.push(Session {
                day: *day,
                starts: starts.to_string(),
                ends: ends.to_string(),
            });
            schedule_days.push(*day);
        }
        let mut price_options = Vec::new();
        let mut rows = Vec::new();
        for i in 0..price_rows(form) {
            let field = |f: &str| form.get(&format!("{f}_{i}")).trim().to_string();
            if form.get(&format!("price_remove_{i}")) == "yes" || ROW_FIELDS.iter().all(|f| field(f).is_empty()) {
                continue;
            }
            price_options.push(price_option(form, i, errors));
            rows.push(i);
        }
        let outcomes = form.all("outcome");
        ServiceForm {
            input: ServiceInput {
                name: form.get("name").to_string(),
                description: form.get("description").to_string(),
                outcomes,
                service_types: form.all("service_type"),
                needs: form.all("need"),
                min_age: min_age.unwrap_or(0),
                max_age: max_age.unwrap_or(validate::MAX_AGE),
                funding_streams: form
                    .all("funding_stream")
                    .iter()
                    .filter_map(|s| s.parse().ok())
                    .collect(),
                location: LocationInput {
                    postcode: Some(postcode.to_string()),
                    lat: None,
                    lon: None,
                    address: Some(form.get("address").trim().to_string()).filter(|a| !a.is_empty()),
                },
                reach_miles,
                capacity,
                schedule,
                status: if form.get("publish") == "yes" {
                    ServiceStatus::Published
                } else {
                    ServiceStatus::Draft
                },
                price_options,
                cancellation_notice_hours,
                offer_window_hours,
                late_cancellation: form.get("late_cancellation").parse().ok(),
                absence: form.get("absence").parse().ok(),
            },
            schedule_days,
            price_rows: rows,
        }
    }

    /// The form's field for one of the API's (`price_options[1].price` is row 3's `price_3`
    /// when rows 1 and 2 were left empty).
    pub fn field(&self, api: &str) -> String {
        let indexed = |rest: &str| -> Option<(usize, String)> {
            let (i, tail) = rest.split_once(']')?;
            Some((i.parse().ok()?, tail.trim_start_matches('.').to_string()))
        };
        if let Some((i, tail)) = api.strip_prefix("price_options[").and_then(indexed) {
            let row = self.price_rows.get(i).copied().unwrap_or(0);
            let name = match tail.as_str() {
                "label" => "price_label",
                "unit" => "price_unit",
                "fcr.units_per_year" => "fcr_units",
                "fcr.occupancy" => "fcr_occupancy",
                "fcr.annual_overheads" => "fcr_overheads",
                t if t.starts_with("fcr") => "fcr_direct",
                _ => "price",
            };
            return format!("{name}_{row}");
        }
        if let Some((i, tail)) = api.strip_prefix("schedule[").and_then(indexed) {
            let day = self.schedule_days.get(i).copied().unwrap_or(Day::Monday);
            return format!("schedule_{day}_{}", if tail == "ends" { "ends" } else { "starts" });
        }
        match api {
            "outcomes" => "outcome".into(),
            "service_types" => "service_type".into(),
            "needs" => "need".into(),
            "funding_streams" => "funding_stream".into(),
            "price_options" => "price_label_0".into(),
            "schedule" => "schedule_monday_starts".into(),
            "location.address" => "address".into(),
            f if f.starts_with("outcomes[") => "outcome".into(),
            f if f.starts_with("service_types[") => "service_type".into(),
            f if f.starts_with("needs[") => "need".into(),
            f if f.starts_with("location.") => "postcode".into(),
            other => other.into(),
        }
    }

    /// The use case's refusal as the form's problems, each saying which field it is about.
    pub fn errors(&self, errors: FormErrors) -> FormErrors {
        self.labelled(FormErrors(
            errors.0.into_iter().map(|(f, m)| (self.field(&f), m)).collect(),
        ))
    }

    fn labelled(&self, errors: FormErrors) -> FormErrors {
        labelled(errors, service_label)
    }
}

/// Each problem starts with its field's name, so the error summary reads on its own ("Password:
/// must be at least 10 characters"); those that already say what to do ("Enter …") are kept.
fn labelled(errors: FormErrors, label: impl Fn(&str) -> Option<String>) -> FormErrors {
    FormErrors(
        errors
            .0
            .into_iter()
            .map(|(field, message)| {
                let message = match label(&field) {
                    Some(label) if !message.starts_with("Enter") && !message.starts_with("Choose") => {
                        format!("{label}: {}", lower_first(&message))
                    }
                    _ => message,
                };
                (field, message)
            })
            .collect(),
    )
}

/// Registration's problems, each saying which field it is about.
pub fn registration_errors(errors: FormErrors) -> FormErrors {
    labelled(errors, |field| {
        let label = match field {
            "organisation_name" => "Organisation name",
            "charity_number" => "Charity number",
            "company_number" => "Company number",
            "website" => "Website",
            "phone" => "Phone",
            "organisation_email" => "Email for families",
            "description" => "About your organisation",
            "email" => "Your email address",
            "password" => "Password",
            _ => return None,
        };
        Some(label.to_string())
    })
}

/// One price option row of the service form.
fn price_option(form: &Form, i: usize, errors: &mut FormErrors) -> PriceOptionInput {
    let name = |f: &str| format!("{f}_{i}");
    let money = |f: &str, errors: &mut FormErrors| match pounds(form.get(&name(f))).as_str() {
        "" => None,
        v => v
            .parse()
            .map_err(|e: crate::domain::money::MoneyError| problem(errors, &name(f), &format!("Amount {e}")))
            .ok(),
    };
    let price = money("price", errors);
    let fcr = if form.get(&name("fcr_direct")).trim().is_empty() && form.get(&name("fcr_units")).trim().is_empty() {
        None
    } else {
        let direct = money("fcr_direct", errors);
        let overheads = money("fcr_overheads", errors);
        let units = form.get(&name("fcr_units")).trim().parse().ok();
        let occupancy = form.get(&name("fcr_occupancy")).trim().parse().ok();
        if units.is_none() {
            problem(errors, &name("fcr_units"), "Enter the units a year as a whole number");
        }
        if occupancy.is_none() {
            problem(
                errors,
                &name("fcr_occupancy"),
                "Enter occupancy as a fraction such as 0.85",
            );
        }
        match (direct, overheads, units, occupancy) {
            (Some(d), o, Some(u), Some(occ)) => Some(FcrInput {
                annual_direct_costs: d,
                annual_overheads: o.unwrap_or_default(),
                units_per_year: u,
                occupancy: occ,
            }),
            _ => None,
        }
    };
    if price.is_none() && fcr.is_none() && errors.get(&name("price")).is_none() {
        problem(
            errors,
            &name("price"),
            "Enter a price, or the full costs to work it out from",
        );
    }
    PriceOptionInput {
        id: form.get(&name("price_id")).trim().parse().ok().map(PriceOptionId),
        label: form.get(&name("price_label")).to_string(),
        unit: form.get(&name("price_unit")).parse().unwrap_or(Unit::Session),
        price,
        fcr,
    }
}

/// What the service form calls a field, for its error messages.
fn service_label(field: &str) -> Option<String> {
    let row = |f: &str, prefix: &str| f.strip_prefix(prefix).and_then(|i| i.parse::<usize>().ok());
    let fixed = match field {
        "name" => "Service name",
        "description" => "Description",
        "outcome" => "Outcomes",
        "service_type" => "Kinds of service",
        "need" => "Needs it suits",
        "min_age" => "Youngest age",
        "max_age" => "Oldest age",
        "funding_stream" => "Who can pay",
        "postcode" => "Postcode",
        "address" => "Address",
        "reach_miles" => "Distance you travel",
        "capacity" => "Places per session",
        "cancellation_notice_hours" => "Cancellation notice",
        "offer_window_hours" => "Waiting-list offers",
        _ => "",
    };
    if !fixed.is_empty() {
        return Some(fixed.to_string());
    }
    for (prefix, what) in [
        ("price_label_", "name"),
        ("price_unit_", "unit"),
        ("price_", "price"),
        ("fcr_direct_", "direct costs"),
        ("fcr_overheads_", "overheads"),
        ("fcr_units_", "units a year"),
        ("fcr_occupancy_", "occupancy"),
    ] {
        if let Some(i) = row(field, prefix) {
            return Some(format!("Price option {} {what}", i + 1));
        }
    }
    let day = field.strip_prefix("schedule_")?;
    let (day, end) = day.rsplit_once('_')?;
    Some(format!("{} {end}", capitalised(day)))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A stored service as its edit form: every option in a row of its own, and one empty row more.
impl From<&ServiceView> for Form {
    fn from(view: &ServiceView) -> Form {
        let optional = |v: Option<String>| v.unwrap_or_default();
        let location = view.location.as_ref();
        let mut f: Vec<(String, String)> = vec![
            ("name".into(), view.name.clone()),
            ("description".into(), view.description.clone()),
            ("min_age".into(), view.min_age.to_string()),
            ("max_age".into(), view.max_age.to_string()),
            ("postcode".into(), optional(location.and_then(|l| l.postcode.clone()))),
            ("address".into(), optional(location.and_then(|l| l.address.clone()))),
            ("reach_miles".into(), optional(view.reach_miles.map(|r| r.to_string()))),
            ("capacity".into(), optional(view.capacity.map(|c| c.to_string()))),
            ("price_rows".into(), (view.price_options.len() + 1).to_string()),
        ];
        f.extend(view.outcomes.iter().map(|o| ("outcome".to_string(), o.clone())));
        f.extend(
            view.service_types
                .iter()
                .map(|o| ("service_type".to_string(), o.clone())),
        );
        f.extend(view.needs.iter().map(|o| ("need".to_string(), o.clone())));
        f.extend(
            view.funding_streams
                .iter()
                .map(|s| ("funding_stream".to_string(), s.as_str().to_string())),
        );
        for s in &view.schedule {
            f.push((format!("schedule_{}_starts", s.day), s.starts.clone()));
            f.push((format!("schedule_{}_ends", s.day), s.ends.clone()));
        }
        for (i, o) in view.price_options.iter().enumerate() {
            f.push((format!("price_id_{i}"), o.id.0.to_string()));
            f.push((format!("price_label_{i}"), o.label.clone()));
            f.push((format!("price_unit_{i}"), o.unit.as_str().into()));
            f.push((format!("price_{i}"), o.price.to_string()));
            if let Some(b) = &o.fcr {
                f.push((format!("fcr_direct_{i}"), b.annual_direct_costs.to_string()));
                f.push((format!("fcr_overheads_{i}"), b.annual_overheads.to_string()));
                f.push((format!("fcr_units_{i}"), b.units_per_year.to_string()));
                f.push((format!("fcr_occupancy_{i}"), b.occupancy.to_string()));
            }
        }
        if view.status == ServiceStatus::Published {
            f.push(("publish".into(), "yes".into()));
        }
        let p = view.policy;
        f.push((
            "cancellation_notice_hours".into(),
            p.cancellation_notice_hours.to_string(),
        ));
        f.push(("offer_window_hours".into(), p.offer_window_hours.to_string()));
        f.push(("late_cancellation".into(), p.late_cancellation.as_str().into()));
        f.push(("absence".into(), p.absence.as_str().into()));
        Form(f)
    }
}

impl TryFrom<&Form> for BudgetHolderInput {
    type Error = FormErrors;

    fn try_from(form: &Form) -> Result<BudgetHolderInput, FormErrors> {
        let mut errors = FormErrors::default();
        let (dob, start, end) = (
            date(form, &mut errors, "date_of_birth"),
            date(form, &mut errors, "plan_start"),
            date(form, &mut errors, "plan_end"),
        );
        let mut outcomes = Vec::new();
        for i in 0..OUTCOME_ROWS {
            let (text, term) = (
                form.get(&format!("outcome_text_{i}")).trim(),
                form.get(&format!("outcome_term_{i}")),
            );
            if text.is_empty() && term.is_empty() && i > 0 {
                continue;
            }
            outcomes.push(PlanOutcomeInput {
                text: text.to_string(),
                terms: if term.is_empty() {
                    vec![]
                } else {
                    vec![term.to_string()]
                },
            });
        }
        let mut allocations = Vec::new();
        for stream in Stream::ALL {
            let s = stream.as_str();
            let amount = pounds(form.get(&format!("amount_{s}")));
            if amount.is_empty() {
                continue;
            }
            let fee = pounds(form.get(&format!("admin_fee_{s}")));
            let amount = amount
                .parse::<Pence>()
                .map_err(|e| problem(&mut errors, &format!("amount_{s}"), &format!("Amount {e}")))
                .ok();
            let fee = if fee.is_empty() {
                Some(None)
            } else {
                fee.parse::<Pence>()
                    .map(Some)
                    .map_err(|e| problem(&mut errors, &format!("admin_fee_{s}"), &format!("Admin fee {e}")))
                    .ok()
            };
            let management = form
                .get(&format!("management_{s}"))
                .parse::<Management>()
                .unwrap_or(Management::DirectPayment);
            if let (Some(amount), Some(admin_fee)) = (amount, fee) {
                allocations.push(AllocationInput {
                    stream: *stream,
                    management,
                    amount,
                    admin_fee,
                    payment_schedule: schedule(form, &format!("payment_schedule_{s}"), management),
                });
            }
        }
        match (dob, start, end) {
            (Some(date_of_birth), Some(plan_start), Some(plan_end)) if errors.is_empty() => Ok(BudgetHolderInput {
                reference: form.get("reference").to_string(),
                first_name: form.get("first_name").to_string(),
                date_of_birth,
                postcode: form.get("postcode").to_string(),
                plan_start,
                plan_end,
                family: FamilyInput {
                    email: form.get("family_email").to_string(),
                    password: Some(form.get("family_password").to_string()).filter(|p| !p.is_empty()),
                },
                broker_organisation_id: None,
                outcomes,
                allocations,
                needs: form.all("needs"),
            }),
            _ => Err(errors),
        }
    }
}

/// The budget holder form's field names for the API's.
pub fn holder_field(field: &str) -> String {
    if let Some(rest) = field.strip_prefix("outcomes[") {
        let i = rest.split(']').next().unwrap_or("0");
        return if rest.contains("terms") {
            format!("outcome_term_{i}")
        } else {
            format!("outcome_text_{i}")
        };
    }
    match field {
        "family.email" => "family_email".into(),
        "family.password" => "family_password".into(),
        "outcomes" => "outcome_text_0".into(),
        f if f.starts_with("needs") => "needs".into(),
        "allocations" => "amount_social_care".into(),
        f if f.starts_with("allocations[") => "amount_social_care".into(),
        other => other.into(),
    }
}

/// The page of a list a page's address asks for (`?page=3`), 50 rows a page.
pub fn page_asked(req: &actix_web::HttpRequest) -> Result<PageRequest, AppError> {
    page_asked_as(req, "page")
}

/// The page a page's address asks for under its own name, for a page with several lists
/// (`?gaps_page=2`).
pub fn page_asked_as(req: &actix_web::HttpRequest, key: &str) -> Result<PageRequest, AppError> {
    let page = number_asked(req, key, "must be a page number from 1")?.map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    PageRequest::new(page, None).map_err(|e| {
        AppError::bad_parameters(Invalid(
            e.0.into_iter()
                .map(|f| validate::FieldError::new(key, f.message))
                .collect(),
        ))
    })
}

/// A word from the page's address (`?status=paid`), if given; one it does not know is a bad
/// parameter saying `message`.
pub fn word_asked<T: std::str::FromStr>(
    req: &actix_web::HttpRequest,
    key: &str,
    message: &str,
) -> Result<Option<T>, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.trim()) {
        None | Some("") => Ok(None),
        Some(word) => word.parse().map(Some).map_err(|_| AppError::BadParameter {
            field: key.into(),
            message: message.into(),
        }),
    }
}

/// A whole number from the page's address (`?plan=12`), if given.
pub fn number_asked(req: &actix_web::HttpRequest, key: &str, message: &str) -> Result<Option<i64>, AppError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    match pairs.iter().find(|(k, _)| k == key) {
        None => Ok(None),
        Some((_, v)) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| AppError::BadParameter {
                field: key.into(),
                message: message.into(),
            }),
    }
}

/// The search page's fields; anything else in its address (a tracking tag, say) is not ours to
/// complain about.
const SEARCH_FIELDS: &[&str] = &[
    "q",
    "outcome",
    "service_type",
    "need",
    "postcode",
    "radius_miles",
    "age",
    "stream",
    "max_price",
    "day",
    "available_from",
    "available_to",
    "sort",
    "page",
];

/// The search page's query as the page keeps it: only its own fields, a price as people type it
/// ("£12.50").
pub fn search_query(pairs: Vec<(String, String)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .filter(|(k, _)| SEARCH_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| if k == "max_price" { (k, pounds(&v)) } else { (k, v) })
        .collect()
}

/// What each search field is called on the page.
fn search_label(field: &str) -> &'static str {
    match field {
        "q" => "What you are looking for",
        "outcome" => "Outcomes",
        "service_type" => "Kinds of service",
        "need" => "Needs",
        "postcode" => "Postcode",
        "radius_miles" => "Distance in miles",
        "age" => "Child's age",
        "stream" => "Paid from",
        "max_price" => "Price up to",
        "day" => "Day",
        "available_from" => "The first date",
        "available_to" => "The last date",
        "sort" => "Order",
        "page" => "Page",
        _ => "This",
    }
}

/// The search's problems in a parent's words: each names its field as the page labels it
/// ("Child's age must be an age from 0 to 25"), and none mentions a parameter the page lacks.
pub fn search_errors(errors: FormErrors) -> FormErrors {
    FormErrors(
        errors
            .0
            .into_iter()
            .map(|(field, message)| {
                let message = message
                    .replace(" or lat and lon", "")
                    .replace("available_from", "the first date")
                    .replace(
                        "one of: education, health, social_care",
                        "education, health or social care",
                    )
                    .replace(
                        "one of: monday, tuesday, wednesday, thursday, friday, saturday, sunday",
                        "a day of the week",
                    )
                    .replace("one of: relevance, distance, price", "best match, nearest or cheapest");
                let lower = message.to_lowercase();
                let bare = ["must ", "is ", "needs "].iter().any(|start| lower.starts_with(start));
                let message = if bare {
                    format!("{} {}{}", search_label(&field), &lower[..1], &message[1..])
                } else {
                    message
                };
                (field, message)
            })
            .collect(),
    )
}

/// A direct payment's schedule as chosen on a form; left to its default when not asked.
pub fn schedule(form: &Form, field: &str, management: Management) -> Option<crate::domain::spending::PaymentSchedule> {
    if management == Management::DirectPayment {
        form.get(field).parse().ok()
    } else {
        None
    }
}
