//! A provider (or broker) organisation as it registers.

use serde::{Deserialize, Serialize};

use super::budget::{LoginInput, ValidLogin};
use super::validate::{self, Checker, FieldError, Invalid};
use super::{OrganisationKind, Role};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    pub organisation: OrganisationInput,
    pub user: LoginInput,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: OrganisationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charity_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidRegistration {
    pub organisation: OrganisationInput,
    pub user: ValidLogin,
}

impl ValidRegistration {
    /// A broker's staff manage budgets; everyone else provides services.
    pub fn role(&self) -> Role {
        if self.organisation.kind == OrganisationKind::Broker {
            Role::Broker
        } else {
            Role::Provider
        }
    }
}

/// Whether the public directory shows an organisation (and so its services): not a broker, not
/// suspended by the council.
pub fn shown_in_directory(status: &str, kind: Option<&str>) -> bool {
    status != super::OrganisationStatus::Suspended.as_str() && kind != Some(OrganisationKind::Broker.as_str())
}

/// Charity Commission numbers are 6-8 digits, sometimes with a "-NN" subsidiary suffix.
fn charity_number(value: &str) -> Result<String, FieldError> {
    let v = value.trim();
    let (main, suffix) = v.split_once('-').unwrap_or((v, "00"));
    let digits =
        |s: &str, min: usize, max: usize| (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if digits(main, 6, 8) && digits(suffix, 1, 2) {
        Ok(v.to_string())
    } else {
        Err(FieldError::new(
            "organisation.charity_number",
            "must be a registered charity number such as 1123456",
        ))
    }
}

/// Companies House numbers: eight characters, digits or a two-letter prefix and six digits.
fn company_number(value: &str) -> Result<String, FieldError> {
    let v = value.trim().to_uppercase();
    let ok = v.len() == 8
        && v.bytes().skip(2).all(|b| b.is_ascii_digit())
        && v.bytes().take(2).all(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(v)
    } else {
        Err(FieldError::new(
            "organisation.company_number",
            "must be a Companies House number such as 01234567",
        ))
    }
}

impl RegistrationInput {
    pub fn validate(&self) -> Result<ValidRegistration, Invalid> {
        let o = &self.organisation;
        let mut c = Checker::new();
        let name = c.take(validate::text("organisation.name", &o.name, 1, 200));
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let charity = present(&o.charity_number).and_then(|v| c.take(charity_number(&v)));
        let company = present(&o.company_number).and_then(|v| c.take(company_number(&v)));
        let site = present(&o.website).and_then(|v| c.take(validate::web_address("organisation.website", &v)));
        let phone = c
            .take(validate::optional_text("organisation.phone", o.phone.as_deref(), 40))
            .flatten();
        let email = present(&o.email).and_then(|v| c.take(validate::email("organisation.email", &v)));
        let description = c.take(validate::text("organisation.description", &o.description, 0, 5000));
        let user = match self.user.validate("user.") {
            Ok(u) => Some(u),
            Err(Invalid(errors)) => {
                errors.into_iter().for_each(|e| c.add(e.field, e.message));
                None
            }
        };
        c.finish(|| ())?;
        match (name, description, user) {
            (Some(name), Some(description), Some(user)) => Ok(ValidRegistration {
                organisation: OrganisationInput {
                    name,
                    kind: o.kind,
                    charity_number: charity,
                    company_number: company,
                    website: site,
                    phone,
                    email,
                    description,
                },
                user,
            }),
            _ => Err(FieldError::new("organisation", "is incomplete").into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(org: serde_json::Value) -> Result<ValidRegistration, Invalid> {
        let input: RegistrationInput = serde_json::from_value(serde_json::json!({
            "organisation": org, "user": {"email": "staff@club.example", "password": "a long password"}
        }))
        .unwrap();
        input.validate()
    }

    #[test]
    fn registration_numbers_are_checked() {
        assert!(reg(serde_json::json!({"name": "Club", "kind": "vcs", "charity_number": "1123456"})).is_ok());
        assert!(reg(serde_json::json!({"name": "Club", "kind": "vcs", "charity_number": "1123456-1"})).is_ok());
        let e = reg(serde_json::json!({"name": "Club", "kind": "vcs", "charity_number": "12"})).unwrap_err();
        assert_eq!(e.0[0].field, "organisation.charity_number");
        let ok = reg(serde_json::json!({"name": "Co", "kind": "private", "company_number": "sc123456"})).unwrap();
        assert_eq!(ok.organisation.company_number.as_deref(), Some("SC123456"));
        let e =
            reg(serde_json::json!({"name": "Co", "kind": "private", "website": "javascript:alert(1)"})).unwrap_err();
        assert_eq!(e.0[0].field, "organisation.website");
    }
}
