//! The council's forms: a plan's details, an allocation's change, a new allocation, an outcome's
//! status, the broker, a new broker organisation, the settings. Each reads into the domain input
//! the API takes, and maps the use case's field names back to the form's.

use super::Form;
use super::forms::{date, pounds, problem, schedule};
use crate::domain::budget::{AllocationInput, LoginInput, OutcomeStatus};
use crate::domain::council::SettingsInput;
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::plan_change::{AdjustmentInput, PlanDetailsInput};
use crate::domain::{AllocationId, OrganisationId, OrganisationKind, Pence, PlanOutcomeId};
use crate::templates::FormErrors;

fn money(form: &Form, errors: &mut FormErrors, field: &str) -> Option<Pence> {
    let text = pounds(form.get(field));
    if text.is_empty() {
        problem(errors, field, "Enter an amount in pounds, such as 1,200.00");
        return None;
    }
    text.parse()
        .map_err(|_| problem(errors, field, "Enter an amount in pounds, such as 1,200.00"))
        .ok()
}

impl TryFrom<&Form> for PlanDetailsInput {
    type Error = FormErrors;

    fn try_from(form: &Form) -> Result<PlanDetailsInput, FormErrors> {
        let mut errors = FormErrors::default();
        let (dob, start, end) = (
            date(form, &mut errors, "date_of_birth"),
            date(form, &mut errors, "plan_start"),
            date(form, &mut errors, "plan_end"),
        );
        match (dob, start, end) {
            (Some(date_of_birth), Some(plan_start), Some(plan_end)) => Ok(PlanDetailsInput {
                reference: form.get("reference").to_string(),
                first_name: form.get("first_name").to_string(),
                date_of_birth,
                postcode: form.get("postcode").to_string(),
                plan_start,
                plan_end,
            }),
            _ => Err(errors),
        }
    }
}

/// An allocation's change, from the form for that allocation.
pub fn adjustment(form: &Form, allocation: AllocationId) -> Result<AdjustmentInput, FormErrors> {
    let (amount_field, reason_field) = adjustment_fields(allocation);
    let mut errors = FormErrors::default();
    let amount = money(form, &mut errors, &amount_field);
    let reason = form.get(&reason_field).trim().to_string();
    if reason.is_empty() {
        problem(&mut errors, &reason_field, "Enter the reason for the change");
    }
    match amount {
        Some(amount) if errors.is_empty() => Ok(AdjustmentInput { amount, reason }),
        _ => Err(errors),
    }
}

/// The form's names of an allocation's amount and reason fields.
pub fn adjustment_fields(allocation: AllocationId) -> (String, String) {
    (format!("amount_{}", allocation.0), format!("reason_{}", allocation.0))
}

impl TryFrom<&Form> for AllocationInput {
    type Error = FormErrors;

    fn try_from(form: &Form) -> Result<AllocationInput, FormErrors> {
        let mut errors = FormErrors::default();
        let stream = form.get("new_stream").parse().ok();
        if stream.is_none() {
            problem(&mut errors, "new_stream", "Choose a funding stream");
        }
        let management = form.get("new_management").parse().ok();
        if management.is_none() {
            problem(&mut errors, "new_management", "Choose how the allocation is held");
        }
        let amount = money(form, &mut errors, "new_amount");
        let admin_fee = if pounds(form.get("new_admin_fee")).is_empty() {
            None
        } else {
            money(form, &mut errors, "new_admin_fee")
        };
        match (stream, management, amount) {
            (Some(stream), Some(management), Some(amount)) if errors.is_empty() => Ok(AllocationInput {
                stream,
                management,
                amount,
                admin_fee,
                payment_schedule: schedule(form, "new_payment_schedule", management),
            }),
            _ => Err(errors),
        }
    }
}

/// The new allocation form's field names for the use case's.
pub fn new_allocation_field(field: &str) -> String {
    format!("new_{field}")
}

/// An outcome's status from its form.
pub fn outcome_status(form: &Form, outcome: PlanOutcomeId) -> Result<OutcomeStatus, FormErrors> {
    let field = format!("status_{}", outcome.0);
    form.get(&field)
        .parse()
        .map_err(|_| FormErrors(vec![(field, "Choose how far the outcome is met".into())]))
}

/// The broker chosen, or none.
pub fn broker(form: &Form) -> Result<Option<OrganisationId>, FormErrors> {
    match form.get("broker").trim() {
        "" => Ok(None),
        id => id
            .parse()
            .map(|id| Some(OrganisationId(id)))
            .map_err(|_| FormErrors(vec![("broker".into(), "Choose a broker organisation".into())])),
    }
}

/// A broker organisation and its first login.
pub fn broker_registration(form: &Form) -> RegistrationInput {
    let optional = |name: &str| Some(form.get(name).trim().to_string()).filter(|v| !v.is_empty());
    RegistrationInput {
        organisation: OrganisationInput {
            name: form.get("name").to_string(),
            kind: OrganisationKind::Broker,
            charity_number: None,
            company_number: None,
            website: None,
            phone: optional("phone"),
            email: None,
            description: String::new(),
        },
        user: LoginInput {
            email: form.get("email").to_string(),
            password: form.get("password").to_string(),
        },
    }
}

/// The broker form's field names for the use case's.
pub fn broker_field(field: &str) -> String {
    match field {
        "organisation.name" | "organisation" => "name".into(),
        "organisation.phone" => "phone".into(),
        "user.email" => "email".into(),
        "user.password" => "password".into(),
        other => other.into(),
    }
}

impl TryFrom<&Form> for SettingsInput {
    type Error = FormErrors;

    fn try_from(form: &Form) -> Result<SettingsInput, FormErrors> {
        let mut errors = Vec::new();
        let unverified_bookable = match form.get("unverified_bookable") {
            "yes" => Some(true),
            "no" => Some(false),
            _ => {
                errors.push((
                    "unverified_bookable".into(),
                    "Choose whether families may book providers you have not verified".into(),
                ));
                None
            }
        };
        // A field left empty keeps its setting, as in the API.
        let read = |name: &str| Some(form.get(name).trim().to_string()).filter(|t| !t.is_empty());
        let period = read("invoice_period");
        let anchor = read("period_anchor");
        let over = read("audit_over");
        let percent = read("audit_sample_percent");
        let mut bad = |name: &str, message: &str| errors.push((name.to_string(), message.to_string()));
        let input = SettingsInput {
            unverified_bookable,
            invoice_period: period.and_then(|p| {
                p.parse().ok().or_else(|| {
                    bad("invoice_period", "Choose how invoices are grouped");
                    None
                })
            }),
            period_anchor: anchor.and_then(|d| {
                d.parse().ok().or_else(|| {
                    bad("period_anchor", "Enter a date, like 2026-04-06");
                    None
                })
            }),
            audit_over: over.and_then(|a| {
                a.parse().ok().or_else(|| {
                    bad("audit_over", "Enter an amount in pounds, like 250.00");
                    None
                })
            }),
            audit_sample_percent: percent.and_then(|p| {
                p.parse().ok().or_else(|| {
                    bad("audit_sample_percent", "Enter a whole number from 0 to 100");
                    None
                })
            }),
        };
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(FormErrors(errors))
        }
    }
}
