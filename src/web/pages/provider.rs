//! Provider pages: registering, listing and pricing services, answering bookings.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::{Form, PageError, Visitor, form_errors, read_form, see_other};
use crate::db::services::ServiceView;
use crate::db::users::Actor;
use crate::db::{bookings, organisations, services, users};
use crate::domain::booking::{BookingAction, BookingStatus};
use crate::domain::budget::LoginInput;
use crate::domain::organisation::{OrganisationInput, RegistrationInput};
use crate::domain::service::{LocationInput, PriceOptionInput, ServiceInput};
use crate::domain::taxonomy::Vocabulary;
use crate::domain::{BookingId, OrganisationKind, Role, ServiceId, ServiceStatus, Stream, Unit};
use crate::templates::{self, FormErrors, money};
use crate::web::{AppState, blocking};

type Data = web::Data<AppState>;

fn register_page(visitor: &Visitor, errors: &FormErrors, form: &Form) -> Markup {
    html! {
        h1 { "Register your organisation" }
        (errors.summary())
        form method="post" action="/provider/register" novalidate {
            (templates::csrf_field(&visitor.chrome()))
            (templates::input(errors, "organisation_name", "Organisation name", form.get("organisation_name"), "text", None))
            div.form-group.form-group-error[errors.get("kind").is_some()] id="kind" {
                fieldset.fieldset {
                    legend.legend { "What kind of organisation is it?" }
                    @if let Some(m) = errors.get("kind") { p.error-message { (m) } }
                    @for (value, label) in [("vcs", "Charity or voluntary group"), ("private", "Private company")] {
                        div.checkbox {
                            input id={ "kind-" (value) } type="radio" name="kind" value=(value) checked[form.get("kind") == value];
                            label for={ "kind-" (value) } { (label) }
                        }
                    }
                }
            }
            (templates::input(errors, "charity_number", "Charity number (if you have one)", form.get("charity_number"), "text", None))
            (templates::input(errors, "email", "Email address", form.get("email"), "email", Some("You will log in with this")))
            (templates::input(errors, "password", "Password", "", "password", Some("At least 10 characters")))
            button.button type="submit" { "Register" }
        }
    }
}

pub async fn register_form(visitor: Visitor) -> HttpResponse {
    let page = register_page(&visitor, &FormErrors::default(), &Form(Vec::new()));
    visitor.page("Register your organisation", false, page)
}

pub async fn register(state: Data, visitor: Visitor, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let fail = |visitor: &Visitor, errors: FormErrors, form: &Form| {
        let page = register_page(visitor, &errors, form);
        Ok(visitor.page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Error: Register your organisation",
            false,
            page,
        ))
    };
    let kind: Option<OrganisationKind> = match form.get("kind") {
        "vcs" => Some(OrganisationKind::Vcs),
        "private" => Some(OrganisationKind::Private),
        _ => None,
    };
    let Some(kind) = kind else {
        return fail(
            &visitor,
            FormErrors(vec![("kind".into(), "Choose what kind of organisation it is".into())]),
            &form,
        );
    };
    let optional = |name: &str| Some(form.get(name).trim().to_string()).filter(|v| !v.is_empty());
    let input = RegistrationInput {
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
    };
    let rename = |f: &str| match f {
        "organisation.name" => "organisation_name".to_string(),
        "organisation.charity_number" => "charity_number".to_string(),
        "user.email" => "email".to_string(),
        "user.password" => "password".to_string(),
        other => other.to_string(),
    };
    let reg = match input.validate() {
        Ok(reg) => reg,
        Err(invalid) => return fail(&visitor, form_errors(invalid, rename), &form),
    };
    let password = reg.user.password.clone();
    let hash = web::block(move || users::hash_password(&password))
        .await
        .map_err(|_| PageError::Unavailable)??;
    let registered = blocking(&state, move |db| {
        let (_, user) = db.write(move |conn| organisations::register(conn, &reg, &hash))?;
        db.write(move |conn| users::create_session(conn, user))
    })
    .await;
    match registered {
        Ok((token, _)) => {
            let mut response = see_other("/provider/services");
            response
                .add_cookie(&visitor.session_cookie(token))
                .map_err(|_| PageError::Unavailable)?;
            Ok(response)
        }
        Err(crate::web::error::ApiError::Db(crate::db::DbError::Conflict { message, .. })) => fail(
            &visitor,
            FormErrors(vec![("email".into(), super::capitalise(&message))]),
            &form,
        ),
        Err(e) => Err(e.into()),
    }
}

pub async fn services(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Provider], "/provider/services")?.clone();
    let organisation = actor.organisation_id.ok_or(PageError::Forbidden)?;
    let list = blocking(&state, move |db| {
        db.read(|conn| {
            services::ids_for_organisation(conn, Some(&actor), organisation)?
                .into_iter()
                .map(|id| services::get(conn, Some(&actor), id))
                .collect::<Result<Vec<_>, _>>()
        })
    })
    .await?;
    Ok(visitor.page(
        "Your services",
        true,
        html! {
            h1 { "Your services" }
            p { a.button href="/provider/services/new" { "Add a service" } }
            div.table-wrap {
                table {
                    caption { "Services" }
                    thead { tr { th scope="col" { "Service" } th scope="col" { "Prices" } th scope="col" { "Status" } th scope="col" { span.visually-hidden { "Action" } } } }
                    tbody {
                        @if list.is_empty() { tr { td colspan="4" { "You have not listed a service yet." } } }
                        @for s in &list {
                            tr {
                                td { a href={ "/services/" (s.id) } { (s.name) } br; a href={ "/provider/services/" (s.id) "/edit" } aria-label={ "Edit " (s.name) } { "Edit" } }
                                td { @for o in &s.price_options { (o.label) ": " (money(o.price)) br; } }
                                td { (s.status.as_str()) }
                                td {
                                    @let (verb, label) = if s.status == ServiceStatus::Published { ("unpublish", "Unpublish") } else { ("publish", "Publish") };
                                    form.inline-form method="post" action={ "/provider/services/" (s.id) "/" (verb) } {
                                        (templates::csrf_field(&visitor.chrome()))
                                        button.button.button-secondary type="submit" aria-label={ (label) " " (s.name) } { (label) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p { a href="/provider/bookings" { "Bookings for your services" } }
        },
    ))
}

fn service_page(
    state: &AppState,
    visitor: &Visitor,
    errors: &FormErrors,
    form: &Form,
    editing: Option<ServiceId>,
) -> Markup {
    let (title, action) = match editing {
        Some(id) => ("Edit a service".to_string(), format!("/provider/services/{id}/edit")),
        None => ("Add a service".to_string(), "/provider/services/new".to_string()),
    };
    let taxonomy = &state.taxonomy;
    let outcomes = super::public::choices(taxonomy, Vocabulary::Outcome, 1);
    let streams: Vec<(String, String)> = [
        ("education", "Education"),
        ("health", "Health"),
        ("social_care", "Social care"),
    ]
    .iter()
    .map(|(v, l)| (v.to_string(), l.to_string()))
    .collect();
    html! {
        h1 { (title) }
        (errors.summary())
        form method="post" action=(action) novalidate {
            (templates::csrf_field(&visitor.chrome()))
            (templates::input(errors, "name", "Service name", form.get("name"), "text", None))
            div.form-group.form-group-error[errors.get("description").is_some()] {
                label.label for="description" { "Description" }
                div.hint id="description-hint" { "What happens, who runs it, what families need to know" }
                @if let Some(m) = errors.get("description") { p.error-message { (m) } }
                textarea #description name="description" aria-describedby="description-hint" { (form.get("description")) }
            }
            (templates::checkboxes(errors, "outcome", "Outcomes", &outcomes, &form.all("outcome")))
            (templates::input(errors, "min_age", "Youngest age", form.get("min_age"), "text", None))
            (templates::input(errors, "max_age", "Oldest age", form.get("max_age"), "text", None))
            (templates::checkboxes(errors, "funding_stream", "Who can pay", &streams, &form.all("funding_stream")))
            (templates::input(errors, "postcode", "Postcode", form.get("postcode"), "text", Some("Where the service happens")))
            (templates::input(errors, "reach_miles", "We travel to families up to (miles)", form.get("reach_miles"), "text", Some("Leave empty if families come to you")))
            (templates::input(errors, "capacity", "Places per session", form.get("capacity"), "text", None))
            h2 { "Price" }
            (templates::input(errors, "price_label", "Price option", form.get("price_label"), "text", Some("For example: Saturday session 10:00 to 15:00")))
            div.form-group {
                label.label for="price_unit" { "Charged per" }
                select #price_unit name="price_unit" {
                    @for u in Unit::ALL { option value=(u.as_str()) selected[form.get("price_unit") == u.as_str()] { (u.as_str()) } }
                }
            }
            (templates::input(errors, "price", "Price in pounds", form.get("price"), "text", Some("Leave empty to use the full cost worked out below")))
            details {
                summary { "Work out the full cost" }
                p { "A price that recovers your full costs covers the direct costs of delivering the service and a fair share of overheads (management, premises, insurance, DBS checks, training), spread over the places you expect to sell, not the places you could offer." }
                (templates::input(errors, "fcr_direct", "Direct costs a year, in pounds", form.get("fcr_direct"), "text", Some("Staff, activities, transport, food")))
                (templates::input(errors, "fcr_overheads", "Share of overheads a year, in pounds", form.get("fcr_overheads"), "text", None))
                (templates::input(errors, "fcr_units", "Units you can deliver a year", form.get("fcr_units"), "text", Some("For example: 48 Saturdays × 10 places = 480")))
                (templates::input(errors, "fcr_occupancy", "Expected occupancy", form.get("fcr_occupancy"), "text", Some("The share of those you expect to fill, such as 0.85")))
            }
            div.form-group {
                div.checkbox {
                    input #publish type="checkbox" name="publish" value="yes" checked[form.get("publish") == "yes"];
                    label for="publish" { "Publish now" }
                }
            }
            button.button type="submit" { "Save service" }
        }
    }
}

pub async fn new_service_form(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    visitor.require(&[Role::Provider], "/provider/services/new")?;
    let page = service_page(
        &state,
        &visitor,
        &FormErrors::default(),
        &Form(vec![("price_unit".into(), "session".into())]),
        None,
    );
    Ok(visitor.page("Add a service", true, page))
}

/// Turn the form into the same input the API takes; a field that is not a number is reported
/// against that field.
fn service_input(form: &Form) -> Result<ServiceInput, FormErrors> {
    let mut errors = FormErrors::default();
    let mut int = |name: &str, what: &str| -> i32 {
        form.get(name).trim().parse().unwrap_or_else(|_| {
            errors
                .0
                .push((name.to_string(), format!("Enter {what} as a whole number")));
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
            errors
                .0
                .push(("reach_miles".into(), "Enter the distance as a number of miles".into()));
            None
        }),
    };
    let money = |name: &str, errors: &mut FormErrors| match form
        .get(name)
        .trim()
        .trim_start_matches('£')
        .replace(',', "")
        .as_str()
    {
        "" => None,
        v => v
            .parse()
            .map_err(|e: crate::domain::money::MoneyError| errors.0.push((name.to_string(), format!("Amount {e}"))))
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
            errors
                .0
                .push(("fcr_units".into(), "Enter the units a year as a whole number".into()));
        }
        if occupancy.is_none() {
            errors.0.push((
                "fcr_occupancy".into(),
                "Enter occupancy as a fraction such as 0.85".into(),
            ));
        }
        match (direct, overheads, units, occupancy) {
            (Some(d), o, Some(u), Some(occ)) => Some(crate::domain::fcr::FcrInput {
                annual_direct_costs: d,
                annual_overheads: o.unwrap_or_default(),
                units_per_year: u,
                occupancy: occ,
            }),
            _ => None,
        }
    };
    let streams: Vec<Stream> = form
        .all("funding_stream")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    let unit: Unit = form.get("price_unit").parse().unwrap_or(Unit::Session);
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
        funding_streams: streams,
        location: LocationInput {
            postcode: Some(form.get("postcode").to_string()),
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
            unit,
            price,
            fcr,
        }],
    })
}

fn form_field(api_field: &str) -> String {
    match api_field {
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

/// The form as a service input, placed at its postcode; or the form's errors.
async fn located_input(state: &AppState, form: &Form) -> Result<ServiceInput, FormErrors> {
    let mut input = service_input(form)?;
    let postcode = input.location.postcode.clone().unwrap_or_default();
    if postcode.trim().is_empty() {
        return Err(FormErrors(vec![(
            "postcode".into(),
            "Enter the postcode where the service happens".into(),
        )]));
    }
    let found = state
        .geocoder
        .place("postcode", &postcode)
        .await
        .map_err(|e| FormErrors(vec![(e.field, super::capitalise(&e.message))]))?;
    input.location.lat = Some(found.at.lat);
    input.location.lon = Some(found.at.lon);
    Ok(input)
}

pub async fn create_service(state: Data, visitor: Visitor, body: web::Bytes) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Provider], "/provider/services/new")?.clone();
    let organisation = actor.organisation_id.ok_or(PageError::Forbidden)?;
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let fail = |errors: FormErrors| {
        let page = service_page(&state, &visitor, &errors, &form, None);
        Ok(visitor.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, "Error: Add a service", true, page))
    };
    let input = match located_input(&state, &form).await {
        Ok(input) => input,
        Err(errors) => return fail(errors),
    };
    let service = match input.validate(&state.taxonomy) {
        Ok(s) => s,
        Err(invalid) => return fail(form_errors(invalid, form_field)),
    };
    blocking(&state, move |db| {
        db.write(move |conn| services::create(conn, organisation, &service))
    })
    .await?;
    state.services_changed();
    Ok(see_other("/provider/services"))
}

/// The provider's own service, or 404/403.
async fn own_service(state: &Data, actor: &Actor, id: ServiceId) -> Result<ServiceView, PageError> {
    let viewer = actor.clone();
    let view = blocking(state, move |db| db.read(|conn| services::get(conn, Some(&viewer), id))).await?;
    if actor.organisation_id.map(|o| o.0) == Some(view.organisation.id) {
        Ok(view)
    } else {
        Err(PageError::Forbidden)
    }
}

/// The edit form, filled in from the service (its first price option is the one edited here).
fn form_from(view: &ServiceView) -> Form {
    let mut f: Vec<(String, String)> = vec![
        ("name".into(), view.name.clone()),
        ("description".into(), view.description.clone()),
        ("min_age".into(), view.min_age.to_string()),
        ("max_age".into(), view.max_age.to_string()),
        (
            "postcode".into(),
            view.location
                .as_ref()
                .and_then(|l| l.postcode.clone())
                .unwrap_or_default(),
        ),
        (
            "reach_miles".into(),
            view.reach_miles.map(|r| r.to_string()).unwrap_or_default(),
        ),
        (
            "capacity".into(),
            view.capacity.map(|c| c.to_string()).unwrap_or_default(),
        ),
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
    Form(f)
}

pub async fn edit_service_form(state: Data, visitor: Visitor, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let id = ServiceId(path.into_inner());
    let actor = visitor
        .require(&[Role::Provider], &format!("/provider/services/{id}/edit"))?
        .clone();
    let view = own_service(&state, &actor, id).await?;
    let page = service_page(&state, &visitor, &FormErrors::default(), &form_from(&view), Some(id));
    Ok(visitor.page("Edit a service", true, page))
}

pub async fn update_service(
    state: Data,
    visitor: Visitor,
    path: web::Path<i64>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let id = ServiceId(path.into_inner());
    let actor = visitor
        .require(&[Role::Provider], &format!("/provider/services/{id}/edit"))?
        .clone();
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let view = own_service(&state, &actor, id).await?;
    let fail = |errors: FormErrors| {
        let page = service_page(&state, &visitor, &errors, &form, Some(id));
        Ok(visitor.page_with_status(StatusCode::UNPROCESSABLE_ENTITY, "Error: Edit a service", true, page))
    };
    let mut input = match located_input(&state, &form).await {
        Ok(input) => input,
        Err(errors) => return fail(errors),
    };
    // What this form does not show is kept: the other price options, types, needs, schedule.
    if let (Some(edited), Some(first)) = (input.price_options.first_mut(), view.price_options.first()) {
        edited.id = Some(first.id);
    }
    input
        .price_options
        .extend(view.price_options.iter().skip(1).map(|o| PriceOptionInput {
            id: Some(o.id),
            label: o.label.clone(),
            unit: o.unit,
            price: Some(o.price),
            fcr: o.fcr.as_ref().map(|b| crate::domain::fcr::FcrInput {
                annual_direct_costs: b.annual_direct_costs,
                annual_overheads: b.annual_overheads,
                units_per_year: b.units_per_year,
                occupancy: b.occupancy,
            }),
        }));
    input.service_types = view.service_types.clone();
    input.needs = view.needs.clone();
    input.schedule = view.schedule.clone();
    input.location.address = view.location.as_ref().and_then(|l| l.address.clone());
    let service = match input.validate(&state.taxonomy) {
        Ok(s) => s,
        Err(invalid) => return fail(form_errors(invalid, form_field)),
    };
    blocking(&state, move |db| {
        db.write(move |conn| services::update(conn, &actor, id, &service))
    })
    .await?;
    state.services_changed();
    Ok(see_other("/provider/services"))
}

pub async fn set_status(
    state: Data,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Provider], "/provider/services")?.clone();
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let (id, verb) = path.into_inner();
    let status = match verb.as_str() {
        "publish" => ServiceStatus::Published,
        "unpublish" => ServiceStatus::Unpublished,
        _ => return Err(PageError::NotFound),
    };
    blocking(&state, move |db| {
        db.write(move |conn| services::set_status(conn, &actor, ServiceId(id), status))
    })
    .await?;
    state.services_changed();
    Ok(see_other("/provider/services"))
}

pub async fn bookings(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Provider], "/provider/bookings")?.clone();
    let list = blocking(&state, move |db| db.read(|conn| bookings::list(conn, &actor))).await?;
    Ok(visitor.page(
        "Bookings",
        true,
        html! {
            h1 { "Bookings" }
            div.table-wrap {
                table {
                    caption { "Bookings for your services" }
                    thead { tr { th scope="col" { "Service" } th scope="col" { "What" } th scope="col" { "Total" } th scope="col" { "Status" } th scope="col" { "Answer" } } }
                    tbody {
                        @if list.is_empty() { tr { td colspan="5" { "No bookings yet." } } }
                        @for b in &list {
                            tr {
                                td { (b.service_name) }
                                td { (b.quantity) " × " (b.price_option_label) }
                                td { (money(b.total)) }
                                td { (b.status.as_str()) }
                                td {
                                    @let actions: &[(&str, &str)] = match b.status {
                                        BookingStatus::Requested => &[("confirm", "Confirm"), ("decline", "Decline")],
                                        BookingStatus::Confirmed => &[("deliver", "Mark delivered")],
                                        _ => &[],
                                    };
                                    @for (verb, label) in actions {
                                        form.inline-form method="post" action={ "/provider/bookings/" (b.id) "/" (verb) } {
                                            (templates::csrf_field(&visitor.chrome()))
                                            button.button.button-secondary type="submit" aria-label={ (label) " booking " (b.id) } { (label) }
                                        }
                                        " "
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn answer_booking(
    state: Data,
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let actor = visitor.require(&[Role::Provider], "/provider/bookings")?.clone();
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let (id, verb) = path.into_inner();
    let action: BookingAction = verb.parse().map_err(|_| PageError::NotFound)?;
    if !action.by_provider() {
        return Err(PageError::NotFound);
    }
    let result = blocking(&state, move |db| {
        db.write(move |conn| bookings::transition(conn, &actor, BookingId(id), action))
    })
    .await;
    match result {
        Ok(_) | Err(crate::web::error::ApiError::Db(crate::db::DbError::Conflict { .. })) => {
            Ok(see_other("/provider/bookings"))
        }
        Err(e) => Err(e.into()),
    }
}
