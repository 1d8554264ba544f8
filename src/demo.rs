//! The demo data set: a borough's worth of providers, priced services and budget holders around
//! Merton, loaded through the same validation and database code as the API.

use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::app::{AppError, AppResult, accounts, plans, totp};
use crate::db::{Db, budget_holders, councils, organisations, services, sessions, users};
use crate::domain::budget::{BudgetHolderInput, LoginInput};
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::service::ServiceInput;
use crate::domain::taxonomy::Taxonomy;
use crate::domain::{BudgetHolderId, ServiceId, Stream};

const DEMO: &str = include_str!("demo.json");

#[derive(Deserialize)]
struct DemoFile {
    council: DemoCouncil,
    organisations: Vec<DemoOrganisation>,
    budget_holders: Vec<BudgetHolderInput>,
    /// Organisations that manage budgets for families (third-party arrangements), and the plans
    /// (by reference) each manages.
    #[serde(default)]
    brokers: Vec<DemoBroker>,
    /// Weekly series of dated sessions, starting next week, and bookings on them.
    #[serde(default)]
    sessions: Vec<DemoSeries>,
    #[serde(default)]
    session_bookings: Vec<DemoSessionBooking>,
}

#[derive(Deserialize)]
struct DemoSeries {
    service: String,
    days: Vec<crate::domain::service::Day>,
    starts: String,
    ends: String,
    weeks: i64,
    /// Weeks from now of the first (0: this coming week).
    #[serde(default)]
    from_week: i64,
    #[serde(default)]
    places: Option<i32>,
}

#[derive(Deserialize)]
struct DemoSessionBooking {
    family: String,
    service: String,
    option: usize,
    /// Which of the service's coming sessions, by position.
    sessions: Vec<usize>,
    /// The stream that pays (social care unless given).
    #[serde(default)]
    allocation: Option<crate::domain::Stream>,
    #[serde(default)]
    notes: String,
    #[serde(default)]
    contact: String,
}

#[derive(Deserialize)]
struct DemoBroker {
    organisation: OrganisationInput,
    user: LoginInput,
    /// Its two-step login's secret (base32): published, since this is demo data.
    totp_secret: String,
    families: Vec<String>,
}

#[derive(Deserialize)]
struct DemoCouncil {
    name: String,
    email: String,
    password: String,
    /// The officer's two-step login's secret (base32), published like the password.
    totp_secret: String,
}

#[derive(Deserialize)]
struct DemoOrganisation {
    organisation: OrganisationInput,
    user: LoginInput,
    services: Vec<ServiceInput>,
}

/// A login printed on start so people can try each role.
#[derive(Debug, Clone, Serialize)]
pub struct Login {
    pub role: &'static str,
    pub who: String,
    pub email: String,
    pub password: String,
    /// For roles that need two-step login: the base32 secret to compute codes from.
    pub totp_secret: Option<String>,
}

fn parse() -> AppResult<DemoFile> {
    serde_json::from_str(DEMO).map_err(|e| AppError::Internal(format!("demo data does not parse: {e}")))
}

fn logins(file: &DemoFile) -> Vec<Login> {
    let mut out = vec![Login {
        role: "council",
        who: file.council.name.clone(),
        email: file.council.email.clone(),
        password: file.council.password.clone(),
        totp_secret: Some(file.council.totp_secret.clone()),
    }];
    out.extend(file.organisations.iter().take(3).map(|o| Login {
        role: "provider",
        who: o.organisation.name.clone(),
        email: o.user.email.clone(),
        password: o.user.password.clone(),
        totp_secret: None,
    }));
    out.extend(file.brokers.iter().map(|b| Login {
        role: "broker",
        who: b.organisation.name.clone(),
        email: b.user.email.clone(),
        password: b.user.password.clone(),
        totp_secret: Some(b.totp_secret.clone()),
    }));
    out.extend(file.budget_holders.iter().map(|h| Login {
        role: "family",
        who: format!("{} ({})", h.first_name, h.reference),
        email: h.family.email.clone(),
        password: h.family.password.clone(),
        totp_secret: None,
    }));
    out
}

/// Load the demo set unless the database already has a council. Returns the demo logins when the
/// database holds the demo data (loaded now or earlier), nothing otherwise.
pub fn load_if_empty(db: &Db, taxonomy: &Taxonomy) -> AppResult<Vec<Login>> {
    use crate::db::schema::councils::dsl as c;
    let file = parse()?;
    let has_council: i64 = db.read(|conn| Ok(c::councils.count().get_result(conn)?))?;
    if has_council > 0 {
        let is_demo = db
            .read(|conn| users::find_by_email(conn, &file.council.email))?
            .is_some();
        return Ok(if is_demo { logins(&file) } else { Vec::new() });
    }
    let today = chrono::Utc::now().date_naive();
    let total = 1
        + file.organisations.iter().map(|o| 1 + o.services.len()).sum::<usize>()
        + file.budget_holders.len()
        + file.brokers.len()
        + file.sessions.len()
        + file.session_bookings.len();
    let bar = ProgressBar::new(total as u64);
    bar.set_style(
        ProgressStyle::with_template("loading demo data {bar:40} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );

    let council_hash = accounts::hash_password(&file.council.password)?;
    let (name, email) = (file.council.name.clone(), file.council.email.clone());
    let secret = file.council.totp_secret.clone();
    let council = db.write_as(move |conn| -> AppResult<_> {
        let (council, officer) = councils::create(conn, &name, &email, &council_hash)?;
        totp::enrol_with_secret(conn, officer, &secret)?;
        Ok(council)
    })?;
    bar.inc(1);
    let mut services_by_name = std::collections::HashMap::new();
    for org in &file.organisations {
        bar.set_message(org.organisation.name.clone());
        let reg = RegistrationInput {
            organisation: org.organisation.clone(),
            user: org.user.clone(),
        }
        .validate()?;
        let hash = accounts::hash_password(&reg.user.password)?;
        let (organisation_id, _) = db.write(move |conn| organisations::register(conn, &reg, &hash))?;
        bar.inc(1);
        for service in &org.services {
            let valid = service.validate(taxonomy)?;
            let id = db.write(move |conn| services::create(conn, organisation_id, &valid))?;
            services_by_name.insert(service.name.clone(), (id, organisation_id));
            bar.inc(1);
        }
    }
    let mut plans_by_reference = std::collections::HashMap::new();
    for holder in &file.budget_holders {
        let valid = holder.validate(taxonomy, today)?;
        let hash = accounts::hash_password(&valid.family.password)?;
        let (id, _, _) = db.write_as(move |conn| plans::store(conn, council, &valid, &hash))?;
        plans_by_reference.insert(holder.reference.clone(), id);
        bar.inc(1);
    }
    for broker in &file.brokers {
        bar.set_message(broker.organisation.name.clone());
        let reg = RegistrationInput {
            organisation: broker.organisation.clone(),
            user: broker.user.clone(),
        }
        .validate()?;
        let hash = accounts::hash_password(&reg.user.password)?;
        let managed: Vec<_> = broker
            .families
            .iter()
            .filter_map(|r| plans_by_reference.get(r).copied())
            .collect();
        let secret = broker.totp_secret.clone();
        db.write_as(move |conn| -> AppResult<()> {
            let (organisation, staff) = organisations::register(conn, &reg, &hash)?;
            totp::enrol_with_secret(conn, staff, &secret)?;
            for plan in managed {
                budget_holders::set_broker(conn, plan, Some(organisation))?;
            }
            Ok(())
        })?;
        bar.inc(1);
    }
    for series in &file.sessions {
        bar.set_message(series.service.clone());
        let (service, _) = *services_by_name
            .get(&series.service)
            .ok_or_else(|| AppError::Internal(format!("demo sessions for an unknown service {}", series.service)))?;
        publish_series(db, service, series, today)?;
        bar.inc(1);
    }
    for booking in &file.session_bookings {
        let (service, _) = *services_by_name
            .get(&booking.service)
            .ok_or_else(|| AppError::Internal(format!("demo booking of an unknown service {}", booking.service)))?;
        let plan = *plans_by_reference
            .get(&booking.family)
            .ok_or_else(|| AppError::Internal(format!("demo booking for an unknown plan {}", booking.family)))?;
        book_sessions(db, service, plan, booking)?;
        bar.inc(1);
    }
    bar.finish_with_message("done");
    tracing::info!(
        organisations = file.organisations.len(),
        budget_holders = file.budget_holders.len(),
        "demo data loaded"
    );
    Ok(logins(&file))
}

/// A weekly series starting the coming week (or `from_week` weeks on), as its provider would publish it.
fn publish_series(db: &Db, service: ServiceId, s: &DemoSeries, today: chrono::NaiveDate) -> AppResult<()> {
    let from = today + chrono::Duration::days(1 + 7 * s.from_week);
    let weekly = crate::domain::sessions::Weekly {
        days: s.days.clone(),
        from,
        until: from + chrono::Duration::days(7 * s.weeks - 1),
        starts: s.starts.clone(),
        ends: s.ends.clone(),
        except: Vec::new(),
    };
    let times = weekly.expand(crate::db::now())?;
    let given = s.places;
    db.write_as(move |conn| {
        let capacity = services::get(conn, service)?.and_then(|v| v.capacity);
        let places = crate::domain::sessions::places("places", given, capacity)?;
        let series = sessions::insert_series(conn, service, &weekly)?;
        for t in times {
            sessions::insert(conn, service, Some(series), t, places)?;
        }
        Ok::<_, AppError>(())
    })
}

/// A family's booking of some of a service's coming sessions, made as the family would make it.
fn book_sessions(db: &Db, service: ServiceId, plan: BudgetHolderId, b: &DemoSessionBooking) -> AppResult<()> {
    let (option, wanted, stream) = (b.option, b.sessions.clone(), b.allocation.unwrap_or(Stream::SocialCare));
    let (notes, contact) = (b.notes.clone(), b.contact.clone());
    db.write_as(move |conn| {
        let holder = budget_holders::load(conn, plan)?.ok_or_else(|| AppError::not_found("budget holder"))?;
        let family = users::find_by_id(conn, crate::domain::UserId(holder.family_user_id))?
            .ok_or_else(|| AppError::not_found("family"))?
            .actor();
        let allocation = budget_holders::allocations_of(conn, plan)?
            .into_iter()
            .find(|a| a.stream == stream)
            .ok_or_else(|| AppError::not_found("allocation"))?;
        let view = services::get(conn, service)?.ok_or_else(|| AppError::not_found("service"))?;
        let price_option = view
            .price_options
            .get(option)
            .ok_or_else(|| AppError::not_found("price option"))?
            .id;
        let now = crate::db::now();
        let coming = sessions::of_service(conn, service, now, now + chrono::Duration::days(400))?;
        let session_ids = wanted.iter().filter_map(|i| coming.get(*i).map(|s| s.id)).collect();
        let input = crate::domain::booking::BookingInput {
            budget_holder_id: plan,
            price_option_id: price_option,
            allocation_id: allocation.id,
            quantity: None,
            session_ids,
            series_id: None,
            notes,
            contact,
        };
        crate::app::bookings::book_within(conn, &family, &input).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_record_passes_the_api_validation() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let file = parse().unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for org in &file.organisations {
            RegistrationInput {
                organisation: org.organisation.clone(),
                user: org.user.clone(),
            }
            .validate()
            .unwrap();
            for s in &org.services {
                s.validate(&taxonomy).unwrap_or_else(|e| panic!("{}: {e}", s.name));
            }
        }
        for h in &file.budget_holders {
            h.validate(&taxonomy, today)
                .unwrap_or_else(|e| panic!("{}: {e}", h.reference));
        }
        assert!(file.organisations.iter().map(|o| o.services.len()).sum::<usize>() >= 50);
        for b in &file.brokers {
            let reg = RegistrationInput {
                organisation: b.organisation.clone(),
                user: b.user.clone(),
            }
            .validate()
            .unwrap();
            assert_eq!(reg.role(), crate::domain::Role::Broker);
            for r in &b.families {
                assert!(file.budget_holders.iter().any(|h| &h.reference == r), "{r}");
            }
        }
    }
}
