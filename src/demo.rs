//! The demo data set: a borough's worth of providers, priced services, budget holders and their
//! personal-budget requests around Merton, loaded through the same validation, use cases and
//! database code as the API.

use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::app::direct_payments::ReceiptStore;
use crate::app::sealing::DataKey;
use crate::app::{AppError, AppResult, accounts, plans, totp};
use crate::db::{Db, budget_holders, councils, organisations, services, sessions, users};
use crate::domain::budget::{BudgetHolderInput, LoginInput};
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::personal_budget::{DecisionInput, Permission, Permissions, RequestInput, RequestKind};
use crate::domain::ras::RasInput;
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
    /// Sessions already run last month (or last week), with who came.
    #[serde(default)]
    delivered: Vec<DemoDelivered>,
    /// What became of last month's invoices, drafted as the daily job drafts them.
    #[serde(default)]
    invoices: Vec<DemoInvoice>,
    /// Direct-payment spending families recorded, with receipts.
    #[serde(default)]
    spending: Vec<DemoSpending>,
    /// Providers' bank details (sealed with the data key, as entered on the invoicing page).
    #[serde(default)]
    bank_details: Vec<DemoBank>,
    /// Whether the council puts its approved invoices into a payment run.
    #[serde(default)]
    payment_run: bool,
    /// The council's RAS and requests for personal budgets at each stage.
    #[serde(default)]
    personal_budgets: Option<DemoPersonalBudgets>,
}

#[derive(Deserialize)]
struct DemoPersonalBudgets {
    /// Three officers' emails, so that nobody decides what they assessed or reviews their own
    /// decision.
    assessor: String,
    decider: String,
    reviewer: String,
    ras: DemoRas,
    /// In order; those assessed name their RAS version, oldest first.
    requests: Vec<DemoRequest>,
}

/// One questionnaire, and its bands version by version (a version is added once the requests
/// assessed with the one before are in, as the older assessments keep theirs).
#[derive(Deserialize)]
struct DemoRas {
    name: String,
    stream: Stream,
    questions: Vec<crate::domain::ras::QuestionInput>,
    versions: Vec<Vec<crate::domain::ras::BandInput>>,
}

impl DemoRas {
    fn version(&self, index: usize) -> Option<RasInput> {
        let bands = self.versions.get(index)?.clone();
        Some(RasInput {
            name: self.name.clone(),
            stream: self.stream,
            questions: self.questions.clone(),
            allocation: crate::domain::ras::AllocationTableInput {
                bands: Some(bands),
                ..Default::default()
            },
        })
    }
}

/// A request taken as far as its stage: asked for, assessed, decided, reviewed, its agreement
/// accepted.
#[derive(Deserialize)]
struct DemoRequest {
    family: String,
    kind: RequestKind,
    streams: Vec<Stream>,
    #[serde(default)]
    preferred_management: Option<crate::domain::Management>,
    /// Recorded by the assessor from a phone call this many weeks ago; the family's own request,
    /// dated today, if not given.
    #[serde(default)]
    received_weeks_ago: Option<i64>,
    #[serde(default)]
    notes: Option<String>,
    #[serde(default)]
    assessment: Option<DemoAssessment>,
    #[serde(default)]
    decision: Option<DecisionInput>,
    #[serde(default)]
    review: Option<DemoReview>,
    #[serde(default)]
    accept_agreement: bool,
}

#[derive(Deserialize)]
struct DemoAssessment {
    /// From 1.
    version: usize,
    answers: std::collections::BTreeMap<String, i64>,
}

#[derive(Deserialize)]
struct DemoReview {
    /// The family's.
    reason: String,
    /// The reviewer's; the review waits without it.
    #[serde(default)]
    decision: Option<DecisionInput>,
}

impl DemoRequest {
    fn input(&self, plan: BudgetHolderId, today: chrono::NaiveDate) -> RequestInput {
        RequestInput {
            budget_holder_id: plan,
            kind: self.kind,
            streams: self.streams.clone(),
            preferred_management: self.preferred_management,
            received_on: self.received_weeks_ago.map(|w| today - chrono::Duration::weeks(w)),
            notes: self.notes.clone(),
        }
    }
}

#[derive(Deserialize)]
struct DemoBank {
    provider: String,
    account_name: String,
    sort_code: String,
    account_number: String,
    payment_reference: String,
}

#[derive(Deserialize)]
struct DemoSpending {
    family: String,
    payee: String,
    days_ago: i64,
    amount: String,
    description: String,
    /// The receipt's lines, `|` apart, made into a one-page PDF; none if not given.
    #[serde(default)]
    receipt: Option<String>,
}

#[derive(Deserialize)]
struct DemoDelivered {
    family: String,
    service: String,
    option: usize,
    day: crate::domain::service::Day,
    starts: String,
    ends: String,
    /// `attended` or `absent`, one per week from the first such day of last month.
    marks: Vec<crate::domain::sessions::Attendance>,
    /// The last such day before today instead of last month.
    #[serde(default)]
    last_week: bool,
}

#[derive(Deserialize)]
struct DemoInvoice {
    family: String,
    /// The provider's login that issues it.
    provider: String,
    /// `issued`, `approved` or `disputed` (by its payer).
    answer: String,
    #[serde(default)]
    reason: String,
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
    /// Officers beside the first (who holds every permission).
    #[serde(default)]
    officers: Vec<DemoOfficer>,
}

#[derive(Deserialize)]
struct DemoOfficer {
    /// What they do, as the printed logins say it.
    who: String,
    user: LoginInput,
    permissions: Vec<Permission>,
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

/// The day `demo.json` was written for: its plan periods and birthdays are as of this day.
const WRITTEN_ON: (i32, u32, u32) = (2026, 11, 23);

fn parse() -> AppResult<DemoFile> {
    serde_json::from_str(DEMO).map_err(|e| AppError::Internal(format!("demo data does not parse: {e}")))
}

/// The demo as it would have been written on `today`: sessions, deliveries and invoices are
/// already relative to today, so the plans' fixed dates move with them. Otherwise a plan would
/// end before the sessions the demo books on it (and a child would age out of the services).
fn parse_as_of(today: chrono::NaiveDate) -> AppResult<DemoFile> {
    let mut file = parse()?;
    let (y, m, d) = WRITTEN_ON;
    let written = chrono::NaiveDate::from_ymd_opt(y, m, d)
        .ok_or_else(|| AppError::Internal("the demo's written-on date is not a date".into()))?;
    let shift = today - written;
    for h in &mut file.budget_holders {
        h.date_of_birth += shift;
        h.plan_start += shift;
        h.plan_end += shift;
    }
    Ok(file)
}

fn logins(file: &DemoFile) -> Vec<Login> {
    let mut out = vec![Login {
        role: "council",
        who: file.council.name.clone(),
        email: file.council.email.clone(),
        password: file.council.password.clone(),
        totp_secret: Some(file.council.totp_secret.clone()),
    }];
    out.extend(file.council.officers.iter().map(|o| Login {
        role: "council",
        who: o.who.clone(),
        email: o.user.email.clone(),
        password: o.user.password.clone(),
        totp_secret: Some(o.totp_secret.clone()),
    }));
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
        password: h.family.password.clone().unwrap_or_default(),
        totp_secret: None,
    }));
    out
}

/// Load the demo set unless the database already has a council. Returns the demo logins when the
/// database holds the demo data (loaded now or earlier), nothing otherwise.
pub fn load_if_empty(db: &Db, taxonomy: &Taxonomy, receipts: &ReceiptStore, key: &DataKey) -> AppResult<Vec<Login>> {
    use crate::db::schema::councils::dsl as c;
    let today = chrono::Utc::now().date_naive();
    let file = parse_as_of(today)?;
    let has_council: i64 = db.read(|conn| Ok(c::councils.count().get_result(conn)?))?;
    if has_council > 0 {
        let is_demo = db
            .read(|conn| users::find_by_email(conn, &file.council.email))?
            .is_some();
        return Ok(if is_demo { logins(&file) } else { Vec::new() });
    }
    let total = 1
        + file.council.officers.len()
        + file.organisations.iter().map(|o| 1 + o.services.len()).sum::<usize>()
        + file.budget_holders.len()
        + file.brokers.len()
        + file.sessions.len()
        + file.session_bookings.len()
        + file.delivered.len()
        + file.invoices.len()
        + file.spending.len()
        + file.bank_details.len()
        + usize::from(file.payment_run)
        + file
            .personal_budgets
            .as_ref()
            .map_or(0, |p| p.ras.versions.len() + p.requests.len());
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
    for officer in &file.council.officers {
        let login = officer.user.validate("")?;
        let hash = accounts::hash_password(&login.password)?;
        let permissions = Permissions::from(officer.permissions.clone());
        let secret = officer.totp_secret.clone();
        db.write_as(move |conn| -> AppResult<()> {
            let user = users::insert(
                conn,
                users::NewUser {
                    email: &login.email,
                    password_hash: &hash,
                    role: crate::domain::Role::Council,
                    organisation_id: None,
                    council_id: Some(council),
                },
            )?;
            users::set_permissions(conn, user, &permissions)?;
            totp::enrol_with_secret(conn, user, &secret)
        })?;
        bar.inc(1);
    }
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
        let password = valid
            .family
            .password
            .clone()
            .ok_or_else(|| AppError::Internal(format!("demo plan {} has no family password", holder.reference)))?;
        let hash = accounts::hash_password(&password)?;
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
    if let Some(first) = file.session_bookings.first()
        && let Some(plan) = plans_by_reference.get(&first.family)
    {
        conversation(db, *plan)?;
    }
    let mut deliveries = Vec::new();
    for d in &file.delivered {
        let (service, _) = *services_by_name
            .get(&d.service)
            .ok_or_else(|| AppError::Internal(format!("demo sessions for an unknown service {}", d.service)))?;
        let plan = *plans_by_reference
            .get(&d.family)
            .ok_or_else(|| AppError::Internal(format!("demo delivery for an unknown plan {}", d.family)))?;
        deliveries.push((service, plan, d));
    }
    deliver(db, &deliveries, today)?;
    bar.inc(file.delivered.len() as u64);
    // Last month's invoices, drafted as the daily job does at the period's end, then answered.
    db.write_as(move |conn| crate::app::invoices::draft_due(conn, today).map(|_| ()))?;
    for i in &file.invoices {
        let plan = *plans_by_reference
            .get(&i.family)
            .ok_or_else(|| AppError::Internal(format!("demo invoice for an unknown plan {}", i.family)))?;
        answer_invoice(db, plan, i, &file.council.email, today)?;
        bar.inc(1);
    }
    for sp in &file.spending {
        let plan = *plans_by_reference
            .get(&sp.family)
            .ok_or_else(|| AppError::Internal(format!("demo spending for an unknown plan {}", sp.family)))?;
        record_spending(db, receipts, plan, sp, today)?;
        bar.inc(1);
    }
    for b in &file.bank_details {
        let details = crate::domain::payment_run::BankDetailsInput {
            account_name: b.account_name.clone(),
            sort_code: b.sort_code.clone(),
            account_number: b.account_number.clone(),
            payment_reference: Some(b.payment_reference.clone()),
        };
        let (email, key) = (b.provider.clone(), key.clone());
        db.write_as(move |conn| {
            let provider = users::find_by_email(conn, &email)?
                .ok_or_else(|| AppError::not_found("demo provider"))?
                .actor();
            crate::app::finance::set_bank_in(conn, &key, &provider, &details).map(|_| ())
        })?;
        bar.inc(1);
    }
    if file.payment_run {
        let (email, key) = (file.council.email.clone(), key.clone());
        db.write_as(move |conn| {
            let officer = users::find_by_email(conn, &email)?
                .ok_or_else(|| AppError::not_found("demo officer"))?
                .actor();
            crate::app::payment_runs::make_in(conn, &key, &officer, None).map(|_| ())
        })?;
        bar.inc(1);
    }
    if let Some(pb) = &file.personal_budgets {
        personal_budgets(db, pb, &plans_by_reference, &bar)?;
    }
    bar.finish_with_message("done");
    tracing::info!(
        organisations = file.organisations.len(),
        budget_holders = file.budget_holders.len(),
        "demo data loaded"
    );
    Ok(logins(&file))
}

/// The council's RAS, each version added as the requests assessed with the one before are done,
/// and the requests taken through the use cases as the family and the three officers would.
fn personal_budgets(
    db: &Db,
    pb: &DemoPersonalBudgets,
    plans: &std::collections::HashMap<String, BudgetHolderId>,
    bar: &ProgressBar,
) -> AppResult<()> {
    let mut versions: Vec<crate::domain::RasId> = Vec::new();
    let add_version = |versions: &mut Vec<crate::domain::RasId>| -> AppResult<()> {
        let input = pb
            .ras
            .version(versions.len())
            .ok_or_else(|| AppError::Internal("demo assessment with a RAS version not listed".into()))?;
        let admin = pb.assessor.clone();
        let ras = db.write_as(move |conn| {
            let actor = staff(conn, &admin)?;
            crate::app::personal_budgets::create_ras_in(conn, &actor, input)
        })?;
        versions.push(ras.id);
        bar.inc(1);
        Ok(())
    };
    let today = crate::app::direct_payments::london_today();
    for r in &pb.requests {
        let plan = *plans
            .get(&r.family)
            .ok_or_else(|| AppError::Internal(format!("demo request for an unknown plan {}", r.family)))?;
        let assessment = match &r.assessment {
            Some(a) => {
                while versions.len() < a.version {
                    add_version(&mut versions)?;
                }
                let ras_id = *versions
                    .get(a.version.saturating_sub(1))
                    .ok_or_else(|| AppError::Internal("demo assessment with RAS version 0".into()))?;
                Some(crate::app::personal_budgets::AssessmentInput {
                    ras_id,
                    answers: a.answers.clone(),
                })
            }
            None => None,
        };
        take_request(db, pb, r, plan, assessment, today)?;
        bar.inc(1);
    }
    while versions.len() < pb.ras.versions.len() {
        add_version(&mut versions)?;
    }
    Ok(())
}

/// A council officer of the demo, by email.
fn staff(conn: &mut crate::db::Conn, email: &str) -> AppResult<crate::domain::Actor> {
    Ok(users::find_by_email(conn, email)?
        .ok_or_else(|| AppError::not_found("demo officer"))?
        .actor())
}

/// One request in one transaction: made, assessed, decided, reviewed, its agreement accepted,
/// each step as far as the demo record goes.
fn take_request(
    db: &Db,
    pb: &DemoPersonalBudgets,
    r: &DemoRequest,
    plan: BudgetHolderId,
    assessment: Option<crate::app::personal_budgets::AssessmentInput>,
    today: chrono::NaiveDate,
) -> AppResult<()> {
    use crate::app::personal_budgets as pbs;
    let input = r.input(plan, today);
    let by_officer = r.received_weeks_ago.is_some();
    let (assessor, decider, reviewer) = (pb.assessor.clone(), pb.decider.clone(), pb.reviewer.clone());
    let decision = r.decision.clone();
    let review = r.review.as_ref().map(|v| (v.reason.clone(), v.decision.clone()));
    let accept = r.accept_agreement;
    db.write_as(move |conn| {
        let holder = budget_holders::load(conn, plan)?.ok_or_else(|| AppError::not_found("budget holder"))?;
        let family = users::actor(conn, crate::domain::UserId(holder.family_user_id))?
            .ok_or_else(|| AppError::not_found("family"))?;
        let officer = staff(conn, &assessor)?;
        let id = pbs::request_in(conn, if by_officer { &officer } else { &family }, input)?.id;
        if let Some(a) = assessment {
            pbs::assess_in(conn, &officer, id, a)?;
        }
        if let Some(d) = decision {
            let decider = staff(conn, &decider)?;
            pbs::decide_in(conn, &decider, id, d)?;
        }
        if let Some((reason, decision)) = review {
            pbs::ask_review_in(conn, &family, id, reason)?;
            if let Some(d) = decision {
                let reviewer = staff(conn, &reviewer)?;
                pbs::decide_in(conn, &reviewer, id, d)?;
            }
        }
        if accept {
            pbs::accept_agreement_in(conn, &family, id)?;
        }
        Ok::<_, AppError>(())
    })
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

/// The family of the first booked plan writes to its provider about the booking, and the
/// provider answers, as they would on the messages pages.
fn conversation(db: &Db, plan: BudgetHolderId) -> AppResult<()> {
    db.write_as(move |conn| {
        use diesel::prelude::*;
        let holder = budget_holders::load(conn, plan)?.ok_or_else(|| AppError::not_found("budget holder"))?;
        let family = users::find_by_id(conn, crate::domain::UserId(holder.family_user_id))?
            .ok_or_else(|| AppError::not_found("family"))?
            .actor();
        use crate::db::schema::bookings as b;
        let (booking, organisation): (i64, i64) = b::table
            .filter(b::budget_holder_id.eq(plan.0))
            .order(b::id)
            .select((b::id, b::organisation_id))
            .first(conn)?;
        let staff = crate::db::notifications::organisation_users(conn, crate::domain::OrganisationId(organisation))?;
        let provider = users::actor(conn, *staff.first().ok_or_else(|| AppError::not_found("provider staff"))?)?
            .ok_or_else(|| AppError::not_found("provider staff"))?;
        let input = crate::domain::threads::NewThreadInput {
            service_id: None,
            booking_id: Some(crate::domain::BookingId(booking)),
            budget_holder_id: None,
            body: "Hello, could the staff know that loud music upsets him? He is fine once he is settled. Thank you.".into(),
        };
        let reply = "Thank you for telling us. We will keep the music low in his group and the key worker will meet him at the door.";
        crate::app::threads::converse_within(conn, &family, input, &[(provider, reply.into())]).map(|_| ())
    })
}

/// The days a delivery's sessions were run on: each such weekday of last month, or the last one
/// before today.
fn delivery_days(d: &DemoDelivered, today: chrono::NaiveDate) -> Vec<chrono::NaiveDate> {
    use chrono::Datelike;
    let weekday = crate::domain::sessions::weekday(d.day);
    if d.last_week {
        let back = (today.weekday().num_days_from_monday() + 7 - weekday.num_days_from_monday() - 1) % 7 + 1;
        return vec![today - chrono::Duration::days(i64::from(back))];
    }
    let this_month = today.with_day(1).unwrap_or(today);
    let last_month = (this_month - chrono::Duration::days(1))
        .with_day(1)
        .unwrap_or(this_month);
    last_month
        .iter_days()
        .take_while(|day| *day < this_month)
        .filter(|day| day.weekday() == weekday)
        .take(d.marks.len())
        .collect()
}

/// A run session: its service, day and times on England's clock.
type Ran = (ServiceId, chrono::NaiveDate, String, String);

/// Sessions run in the past: published and booked as families would (ahead of time, one session
/// shared by every family delivered on the same service and time), then run on their days with
/// the provider's marks.
fn deliver(
    db: &Db,
    deliveries: &[(ServiceId, BudgetHolderId, &DemoDelivered)],
    today: chrono::NaiveDate,
) -> AppResult<()> {
    use crate::domain::sessions::{Attendance, SeatStatus, Times, london_to_utc};
    let at = |day: chrono::NaiveDate, time: &str| -> AppResult<chrono::NaiveDateTime> {
        let t = chrono::NaiveTime::parse_from_str(time, "%H:%M")
            .map_err(|e| AppError::Internal(format!("demo time {time}: {e}")))?;
        Ok(london_to_utc("starts", day.and_time(t))?)
    };
    let times = |day: chrono::NaiveDate, starts: &str, ends: &str| -> AppResult<Times> {
        Ok(Times {
            starts_at: at(day, starts)?,
            ends_at: at(day, ends)?,
        })
    };
    // Every session that ran, once, with a slot ahead to book it in and the times it ran at.
    let mut slots: Vec<(Ran, Times, Times)> = Vec::new();
    let mut plans = Vec::new();
    for (service, plan, d) in deliveries {
        let mut seats = Vec::new();
        for (day, mark) in delivery_days(d, today).into_iter().zip(&d.marks) {
            let key: Ran = (*service, day, d.starts.clone(), d.ends.clone());
            let slot = match slots.iter().position(|s| s.0 == key) {
                Some(i) => i,
                None => {
                    let ahead = today + chrono::Duration::days(1 + slots.len() as i64);
                    slots.push((key, times(ahead, &d.starts, &d.ends)?, times(day, &d.starts, &d.ends)?));
                    slots.len() - 1
                }
            };
            let mark = match mark {
                Attendance::Attended => SeatStatus::Attended,
                Attendance::Absent => SeatStatus::AbsentCharged,
            };
            // A last-week day that was also last month's last is one session, booked once.
            let booked = |p: &(ServiceId, BudgetHolderId, usize, Vec<(usize, SeatStatus)>)| {
                p.1 == *plan && p.3.iter().any(|(s, _)| *s == slot)
            };
            if !plans.iter().any(booked) {
                seats.push((slot, mark));
            }
        }
        if !seats.is_empty() {
            plans.push((*service, *plan, d.option, seats));
        }
    }
    db.write_as(move |conn| {
        let mut ids = Vec::new();
        for ((service, ..), ahead, _) in &slots {
            let capacity = services::get(conn, *service)?.and_then(|v| v.capacity).unwrap_or(10);
            ids.push(sessions::insert(conn, *service, None, *ahead, capacity)?);
        }
        let mut marks = Vec::new();
        for (service, plan, option, seats) in plans {
            let holder = budget_holders::load(conn, plan)?.ok_or_else(|| AppError::not_found("budget holder"))?;
            let family = users::find_by_id(conn, crate::domain::UserId(holder.family_user_id))?
                .ok_or_else(|| AppError::not_found("family"))?
                .actor();
            let view = services::get(conn, service)?.ok_or_else(|| AppError::not_found("service"))?;
            let allocation = budget_holders::allocations_of(conn, plan)?
                .into_iter()
                .find(|a| view.funding_streams.contains(&a.stream))
                .ok_or_else(|| AppError::not_found("allocation"))?;
            let input = crate::domain::booking::BookingInput {
                budget_holder_id: plan,
                price_option_id: view
                    .price_options
                    .get(option)
                    .ok_or_else(|| AppError::not_found("price option"))?
                    .id,
                allocation_id: allocation.id,
                quantity: None,
                session_ids: seats.iter().map(|(slot, _)| ids[*slot]).collect(),
                series_id: None,
                notes: String::new(),
                contact: String::new(),
            };
            let booking = crate::app::bookings::book_within(conn, &family, &input)?.booking.id;
            marks.extend(seats.into_iter().map(|(slot, mark)| (booking, ids[slot], mark)));
        }
        for (id, (_, _, ran)) in ids.iter().zip(&slots) {
            sessions::backdate(conn, *id, *ran)?;
        }
        for (booking, session, mark) in marks {
            sessions::set_seat(conn, booking, session, SeatStatus::Booked, mark)?;
        }
        Ok::<_, AppError>(())
    })
}

/// Issue a demo plan's draft from its provider, and answer it as its payer would.
fn answer_invoice(
    db: &Db,
    plan: BudgetHolderId,
    i: &DemoInvoice,
    officer: &str,
    today: chrono::NaiveDate,
) -> AppResult<()> {
    use crate::app::invoices as inv;
    let (provider_email, answer, reason) = (i.provider.clone(), i.answer.clone(), i.reason.clone());
    let officer = officer.to_string();
    db.write_as(move |conn| {
        let provider = users::find_by_email(conn, &provider_email)?
            .ok_or_else(|| AppError::not_found("demo provider"))?
            .actor();
        let org = provider
            .provider()
            .ok_or_else(|| AppError::not_found("demo provider"))?;
        for draft in crate::db::invoices::drafts_of(conn, org, plan)? {
            let issued = inv::issue_in(conn, &provider, draft, today)?;
            let payer = match issued.payer {
                crate::domain::invoice::Payer::Family => users::find_by_id(conn, issued.plan_owners.family)?,
                _ => users::find_by_email(conn, &officer)?,
            }
            .ok_or_else(|| AppError::not_found("demo payer"))?
            .actor();
            match answer.as_str() {
                "approved" => {
                    inv::approve_in(conn, &payer, draft)?;
                }
                "disputed" => {
                    inv::dispute_in(conn, &payer, draft, &reason)?;
                }
                _ => {}
            }
        }
        Ok::<_, AppError>(())
    })
}

/// A one-page receipt as a shop would print it.
fn receipt_pdf(lines: &str) -> Vec<u8> {
    use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str};
    let mut pdf = Pdf::new();
    let (catalog, tree, page_id, font, content_id) = (Ref::new(1), Ref::new(2), Ref::new(3), Ref::new(4), Ref::new(5));
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 298.0, 420.0));
    page.parent(tree);
    page.contents(content_id);
    page.resources().fonts().pair(Name(b"F1"), font);
    drop(page);
    pdf.type1_font(font).base_font(Name(b"Helvetica"));
    let mut content = Content::new();
    for (i, line) in lines.split('|').enumerate() {
        content.begin_text();
        content.set_font(Name(b"F1"), if i == 0 { 14.0 } else { 10.0 });
        content.next_line(30.0, 380.0 - 20.0 * i as f32);
        content.show(Str(line.as_bytes()));
        content.end_text();
    }
    pdf.stream(content_id, &content.finish());
    pdf.finish()
}

/// Spending a family recorded from its direct payment, with its receipt, as the family would.
fn record_spending(
    db: &Db,
    receipts: &ReceiptStore,
    plan: BudgetHolderId,
    sp: &DemoSpending,
    today: chrono::NaiveDate,
) -> AppResult<()> {
    let input = crate::domain::spending::SpendingInput {
        allocation_id: None,
        payee: sp.payee.clone(),
        spent_on: (today - chrono::Duration::days(sp.days_ago)).to_string(),
        amount: sp.amount.clone(),
        description: sp.description.clone(),
        plan_outcome_id: None,
        receipt: sp.receipt.as_deref().map(receipt_pdf),
    };
    let valid = input.validate(today)?;
    let receipt = receipts.keep(&valid)?;
    db.write_as(move |conn| {
        let holder = budget_holders::load(conn, plan)?.ok_or_else(|| AppError::not_found("budget holder"))?;
        let family = users::find_by_id(conn, crate::domain::UserId(holder.family_user_id))?
            .ok_or_else(|| AppError::not_found("family"))?
            .actor();
        crate::app::direct_payments::record_in(conn, &family, plan, &valid, receipt.as_ref()).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_plans_move_with_the_day_it_is_loaded() {
        let taxonomy = Taxonomy::builtin().unwrap();
        let written = parse().unwrap();
        let (y, m, d) = WRITTEN_ON;
        let written_on = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for later in [0, 11, 400, 1500] {
            let today = written_on + chrono::Duration::days(later);
            let file = parse_as_of(today).unwrap();
            for (was, is) in written.budget_holders.iter().zip(&file.budget_holders) {
                is.validate(&taxonomy, today)
                    .unwrap_or_else(|e| panic!("{} as of {today}: {e}", is.reference));
                // Days left in the plan, and the child's age in days, are as the demo was written.
                assert_eq!(is.plan_end - today, was.plan_end - written_on, "{}", is.reference);
                assert_eq!(
                    today - is.date_of_birth,
                    written_on - was.date_of_birth,
                    "{}",
                    is.reference
                );
            }
        }
    }

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
        for o in &file.council.officers {
            o.user.validate("").unwrap();
            assert!(
                crate::domain::totp::decode_secret(&o.totp_secret).is_some(),
                "{}",
                o.user.email
            );
        }
    }

    #[test]
    fn every_demo_personal_budget_step_passes_its_rules() {
        use crate::domain::personal_budget::{DecisionFacts, Outcome};
        let file = parse().unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let pb = file.personal_budgets.as_ref().unwrap();
        // Three people: the assessor holds every permission, the other two may decide.
        assert_eq!(pb.assessor, file.council.email);
        for decider in [&pb.decider, &pb.reviewer] {
            let o = file.council.officers.iter().find(|o| &o.user.email == decider).unwrap();
            assert!(o.permissions.contains(&Permission::Decide), "{decider}");
        }
        assert_ne!(pb.decider, pb.reviewer);
        let versions: Vec<_> = (0..pb.ras.versions.len())
            .map(|i| pb.ras.version(i).unwrap().validate().unwrap())
            .collect();
        assert!(versions.len() >= 2);
        let mut newest = 1;
        for r in &pb.requests {
            let holder = file.budget_holders.iter().find(|h| h.reference == r.family).unwrap();
            let valid = r
                .input(BudgetHolderId(1), today)
                .validate(today, r.received_weeks_ago.is_some())
                .unwrap_or_else(|e| panic!("{}: {e}", r.family));
            let indicative: Vec<_> = match &r.assessment {
                Some(a) => {
                    // Assessed in version order: an older version cannot be used once replaced.
                    assert!(a.version >= newest, "{}", r.family);
                    newest = a.version;
                    let ras = &versions[a.version - 1];
                    vec![(ras.stream, ras.definition.score(&a.answers).unwrap().amount)]
                }
                None => Vec::new(),
            };
            let facts = DecisionFacts {
                streams: &valid.streams,
                preferred: valid.preferred_management,
                indicative: &indicative,
            };
            let review = r.review.as_ref().and_then(|v| v.decision.as_ref());
            for d in r.decision.iter().chain(review) {
                let decided = d.validate(&facts).unwrap_or_else(|e| panic!("{}: {e}", r.family));
                // Allocations the decisions make are new, so the rest of the demo keeps its own.
                if decided.outcome != Outcome::Refused {
                    for line in &decided.lines {
                        assert!(
                            !holder.allocations.iter().any(|a| a.stream == line.stream),
                            "{}",
                            r.family
                        );
                    }
                }
            }
            if let Some(v) = &r.review {
                assert!(r.decision.is_some(), "{}: a review follows a decision", r.family);
                crate::domain::validate::text("reason", &v.reason, 1, crate::domain::personal_budget::MAX_REASONS)
                    .unwrap();
            }
        }
    }
}
