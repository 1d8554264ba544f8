//! Typed forms: each page form read into the same domain input the API takes, with a problem in
//! a field reported against that field; and the other way round, a stored service as its form.

use super::Form;
use crate::db::services::ServiceView;
use crate::domain::booking::BookingInput;
use crate::domain::budget::{AllocationInput, BudgetHolderInput, LoginInput, PlanOutcomeInput};
use crate::domain::fcr::FcrInput;
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::service::{LocationInput, PriceOptionInput, ServiceInput};
use crate::domain::{
    AllocationId, BudgetHolderId, Management, OrganisationKind, Pence, PriceOptionId, SeriesId, ServiceStatus,
    SessionId, Stream, Unit,
};
use crate::templates::FormErrors;
use crate::templates::council::OUTCOME_ROWS;

fn problem(errors: &mut FormErrors, field: &str, message: &str) {
    errors.0.push((field.to_string(), message.to_string()));
}

/// Pounds as people type them: "£1,200.50" is 1200.50.
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

    fn try_from(form: &Form) -> Result<RegistrationInput, FormErrors> {
        let kind = match form.get("kind") {
            "vcs" => OrganisationKind::Vcs,
            "private" => OrganisationKind::Private,
            _ => {
                return Err(FormErrors(vec![(
                    "kind".into(),
                    "Choose what kind of organisation it is".into(),
                )]));
            }
        };
        let optional = |name: &str| Some(form.get(name).trim().to_string()).filter(|v| !v.is_empty());
        Ok(RegistrationInput {
            organisation: OrganisationInput {
                name: form.get("organisation_name").to_string(),
                kind,
                charity_number: optional("charity_number"),
                company_number: None,
                website: None,
                phone: None,
                email: None,
                description: String::new(),
            },
            user: LoginInput {
                email: form.get("email").to_string(),
                password: form.get("password").to_string(),
            },
        })
    }
}

/// Registration's field names as the form has them.
pub fn registration_field(field: &str) -> String {
    match field {
        "organisation.name" => "organisation_name",
        "organisation.charity_number" => "charity_number",
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

impl TryFrom<&Form> for ServiceInput {
    type Error = FormErrors;

    /// The service form as the API's input, placed at its postcode by the use case.
    fn try_from(form: &Form) -> Result<ServiceInput, FormErrors> {
        let mut errors = FormErrors::default();
        let mut int = |name: &str, what: &str| -> i32 {
            form.get(name).trim().parse().unwrap_or_else(|_| {
                problem(&mut errors, name, &format!("Enter {what} as a whole number"));
                0
            })
        };
        let (min_age, max_age, capacity) = (
            int("min_age", "the youngest age"),
            int("max_age", "the oldest age"),
            int("capacity", "the number of places"),
        );
        let reach_miles = match form.get("reach_miles").trim() {
            "" => None,
            r => r.parse().ok().or_else(|| {
                problem(&mut errors, "reach_miles", "Enter the distance as a number of miles");
                None
            }),
        };
        let money = |name: &str, errors: &mut FormErrors| match pounds(form.get(name)).as_str() {
            "" => None,
            v => v
                .parse()
                .map_err(|e: crate::domain::money::MoneyError| problem(errors, name, &format!("Amount {e}")))
                .ok(),
        };
        let price = money("price", &mut errors);
        let fcr = if form.get("fcr_direct").trim().is_empty() && form.get("fcr_units").trim().is_empty() {
            None
        } else {
            let direct = money("fcr_direct", &mut errors);
            let overheads = money("fcr_overheads", &mut errors);
            let units = form.get("fcr_units").trim().parse().ok();
            let occupancy = form.get("fcr_occupancy").trim().parse().ok();
            if units.is_none() {
                problem(&mut errors, "fcr_units", "Enter the units a year as a whole number");
            }
            if occupancy.is_none() {
                problem(
                    &mut errors,
                    "fcr_occupancy",
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
        let hours = |name: &str, errors: &mut FormErrors| match form.get(name).trim() {
            "" => None,
            v => v
                .parse::<i32>()
                .map_err(|_| problem(errors, name, "Enter a whole number of hours"))
                .ok(),
        };
        let cancellation_notice_hours = hours("cancellation_notice_hours", &mut errors);
        let offer_window_hours = hours("offer_window_hours", &mut errors);
        let postcode = form.get("postcode").trim();
        if postcode.is_empty() {
            problem(&mut errors, "postcode", "Enter the postcode where the service happens");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ServiceInput {
            name: form.get("name").to_string(),
            description: form.get("description").to_string(),
            outcomes: form.all("outcome"),
            service_types: Vec::new(),
            needs: Vec::new(),
            min_age,
            max_age,
            funding_streams: form
                .all("funding_stream")
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect(),
            location: LocationInput {
                postcode: Some(postcode.to_string()),
                lat: None,
                lon: None,
                address: None,
            },
            reach_miles,
            capacity,
            schedule: Vec::new(),
            status: if form.get("publish") == "yes" {
                ServiceStatus::Published
            } else {
                ServiceStatus::Draft
            },
            price_options: vec![PriceOptionInput {
                id: None,
                label: form.get("price_label").to_string(),
                unit: form.get("price_unit").parse().unwrap_or(Unit::Session),
                price,
                fcr,
            }],
            cancellation_notice_hours,
            offer_window_hours,
            late_cancellation: form.get("late_cancellation").parse().ok(),
            absence: form.get("absence").parse().ok(),
        })
    }
}

/// The service form's field names for the API's.
pub fn service_field(field: &str) -> String {
    match field {
        "outcomes" => "outcome".into(),
        "funding_streams" => "funding_stream".into(),
        f if f.starts_with("outcomes[") => "outcome".into(),
        f if f.starts_with("location.") => "postcode".into(),
        "price_options[0].label" => "price_label".into(),
        "price_options[0].price" => "price".into(),
        "price_options[0].fcr.units_per_year" => "fcr_units".into(),
        "price_options[0].fcr.occupancy" => "fcr_occupancy".into(),
        f if f.starts_with("price_options[0].fcr") => "fcr_direct".into(),
        other => other.into(),
    }
}

/// The form edits a service's first price option and the fields it shows; everything else the
/// service has (its other options, kinds, needs, schedule, address) is kept as it is.
pub fn revised(mut input: ServiceInput, existing: &ServiceView) -> ServiceInput {
    if let (Some(edited), Some(first)) = (input.price_options.first_mut(), existing.price_options.first()) {
        edited.id = Some(first.id);
    }
    input
        .price_options
        .extend(existing.price_options.iter().skip(1).map(|o| PriceOptionInput {
            id: Some(o.id),
            label: o.label.clone(),
            unit: o.unit,
            price: Some(o.price),
            fcr: o.fcr.as_ref().map(|b| FcrInput {
                annual_direct_costs: b.annual_direct_costs,
                annual_overheads: b.annual_overheads,
                units_per_year: b.units_per_year,
                occupancy: b.occupancy,
            }),
        }));
    input.service_types = existing.service_types.clone();
    input.needs = existing.needs.clone();
    input.schedule = existing.schedule.clone();
    input.location.address = existing.location.as_ref().and_then(|l| l.address.clone());
    input
}

/// A stored service as its edit form.
impl From<&ServiceView> for Form {
    fn from(view: &ServiceView) -> Form {
        let optional = |v: Option<String>| v.unwrap_or_default();
        let mut f: Vec<(String, String)> = vec![
            ("name".into(), view.name.clone()),
            ("description".into(), view.description.clone()),
            ("min_age".into(), view.min_age.to_string()),
            ("max_age".into(), view.max_age.to_string()),
            (
                "postcode".into(),
                optional(view.location.as_ref().and_then(|l| l.postcode.clone())),
            ),
            ("reach_miles".into(), optional(view.reach_miles.map(|r| r.to_string()))),
            ("capacity".into(), optional(view.capacity.map(|c| c.to_string()))),
        ];
        f.extend(view.outcomes.iter().map(|o| ("outcome".to_string(), o.clone())));
        f.extend(
            view.funding_streams
                .iter()
                .map(|s| ("funding_stream".to_string(), s.as_str().to_string())),
        );
        if let Some(o) = view.price_options.first() {
            f.push(("price_label".into(), o.label.clone()));
            f.push(("price_unit".into(), o.unit.as_str().into()));
            f.push(("price".into(), o.price.to_string()));
            if let Some(b) = &o.fcr {
                f.push(("fcr_direct".into(), b.annual_direct_costs.to_string()));
                f.push(("fcr_overheads".into(), b.annual_overheads.to_string()));
                f.push(("fcr_units".into(), b.units_per_year.to_string()));
                f.push(("fcr_occupancy".into(), b.occupancy.to_string()));
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
        let mut date = |name: &str| {
            form.get(name)
                .trim()
                .parse::<chrono::NaiveDate>()
                .map_err(|_| problem(&mut errors, name, "Enter a date such as 2014-05-01"))
                .ok()
        };
        let (dob, start, end) = (date("date_of_birth"), date("plan_start"), date("plan_end"));
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
                family: LoginInput {
                    email: form.get("family_email").to_string(),
                    password: form.get("family_password").to_string(),
                },
                broker_organisation_id: None,
                outcomes,
                allocations,
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
        "allocations" => "amount_social_care".into(),
        f if f.starts_with("allocations[") => "amount_social_care".into(),
        other => other.into(),
    }
}
