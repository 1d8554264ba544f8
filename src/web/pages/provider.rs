//! Provider pages: registering, listing and pricing services, answering bookings.

use actix_web::{HttpRequest, HttpResponse, web};

use super::forms::{
    NEW_PRICE_ROWS, ServiceForm, attendance, new_sessions, page_asked, price_rows, registration_errors,
    registration_field, session_change, sessions_field,
};
use super::{Data, Form, Page, PageError, Visitor, outcome, see_other};
use crate::app::{AppError, accounts, bookings, services, sessions};
use crate::domain::booking::BookingAction;
use crate::domain::organisation::RegistrationInput;
use crate::domain::{BookingId, Role, ServiceId, ServiceStatus, SessionId};
use crate::templates::FormErrors;
use crate::templates::provider as pages;

const PROVIDER: &[Role] = &[Role::Provider];

pub async fn register_form(visitor: Visitor) -> HttpResponse {
    let body = pages::register(&visitor.chrome(), &FormErrors::default(), &Form(Vec::new()));
    visitor.page("Register your organisation", false, body)
}

pub async fn register(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let form = Form::read(&visitor, &body)?;
    let registered = match RegistrationInput::try_from(&form) {
        Ok(input) => {
            outcome(accounts::register_provider(&app, input).await, registration_field)?.map_err(registration_errors)
        }
        Err(errors) => Err(errors),
    };
    match registered {
        // The same page whether or not the email was already registered, and no automatic
        // login (that would tell the difference).
        Ok(()) => Ok(visitor.page("Registration received", false, pages::registration_received())),
        Err(errors) => {
            let body = pages::register(&visitor.chrome(), &errors, &form);
            Ok(visitor.form_again("Register your organisation", false, body))
        }
    }
}

pub async fn services(app: Data, visitor: Visitor, req: actix_web::HttpRequest) -> Page {
    let actor = visitor.require(PROVIDER, "/provider/services")?;
    let organisation = actor.provider().ok_or(PageError::App(AppError::wrong_role(actor)))?;
    let list = services::of_organisation(&app, Some(actor.clone()), organisation).await?;
    let confirmation = match crate::app::account_links::email_confirmed(&app, actor).await? {
        true => pages::Confirmation::Done,
        false if req.query_string() == "confirmation=sent" => pages::Confirmation::Sent,
        false => pages::Confirmation::Waiting,
    };
    let body = pages::services(&visitor.chrome(), &list, confirmation);
    Ok(visitor.page("Your services", true, body))
}

pub async fn new_service_form(app: Data, visitor: Visitor) -> Page {
    visitor.require(PROVIDER, "/provider/services/new")?;
    let body = pages::service_form(
        &visitor.chrome(),
        &app.taxonomy,
        &FormErrors::default(),
        &Form(Vec::new()),
        None,
        NEW_PRICE_ROWS,
    );
    Ok(visitor.page("Add a service", true, body))
}

/// "Add another price option" asks for the form again with one more row, saving nothing.
fn another_row(form: &Form) -> bool {
    form.get("add_price_row") == "yes"
}

/// The service form again: with one more price row, or with its problems.
fn service_form_again(
    visitor: &Visitor,
    app: &Data,
    form: &Form,
    errors: Option<FormErrors>,
    id: Option<ServiceId>,
) -> HttpResponse {
    let title = if id.is_some() {
        "Edit a service"
    } else {
        "Add a service"
    };
    let rows = price_rows(form) + usize::from(errors.is_none());
    let body = pages::service_form(
        &visitor.chrome(),
        &app.taxonomy,
        errors.as_ref().unwrap_or(&FormErrors::default()),
        form,
        id,
        rows,
    );
    match errors {
        Some(_) => visitor.form_again(title, true, body),
        None => visitor.page(title, true, body),
    }
}

pub async fn create_service(app: Data, visitor: Visitor, body: web::Bytes) -> Page {
    let actor = visitor.require(PROVIDER, "/provider/services/new")?;
    let form = Form::read(&visitor, &body)?;
    if another_row(&form) {
        return Ok(service_form_again(&visitor, &app, &form, None, None));
    }
    let read = ServiceForm::read(&form, &app.taxonomy);
    let created = match read {
        Ok(f) => {
            outcome(services::create(&app, actor, f.input.clone()).await, str::to_string)?.map_err(|e| f.errors(e))
        }
        Err(errors) => Err(errors),
    };
    match created {
        Ok(_) => Ok(see_other("/provider/services")),
        Err(errors) => Ok(service_form_again(&visitor, &app, &form, Some(errors), None)),
    }
}

pub async fn edit_service_form(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = ServiceId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/services/{id}/edit"))?;
    let view = services::own(&app, actor, id).await?;
    let form = Form::from(&view);
    let body = pages::service_form(
        &visitor.chrome(),
        &app.taxonomy,
        &FormErrors::default(),
        &form,
        Some(id),
        price_rows(&form),
    );
    Ok(visitor.page("Edit a service", true, body))
}

pub async fn update_service(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = ServiceId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/services/{id}/edit"))?;
    let form = Form::read(&visitor, &body)?;
    if another_row(&form) {
        return Ok(service_form_again(&visitor, &app, &form, None, Some(id)));
    }
    let read = ServiceForm::read(&form, &app.taxonomy);
    let updated = match read {
        Ok(f) => {
            outcome(services::update(&app, actor, id, f.input.clone()).await, str::to_string)?.map_err(|e| f.errors(e))
        }
        Err(errors) => Err(errors),
    };
    match updated {
        Ok(_) => Ok(see_other("/provider/services")),
        Err(errors) => Ok(service_form_again(&visitor, &app, &form, Some(errors), Some(id))),
    }
}

pub async fn set_status(app: Data, visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    let actor = visitor.require(PROVIDER, "/provider/services")?;
    Form::read(&visitor, &body)?;
    let (id, verb) = path.into_inner();
    let status = match verb.as_str() {
        "publish" => ServiceStatus::Published,
        "unpublish" => ServiceStatus::Unpublished,
        _ => return Err(AppError::not_found("page").into()),
    };
    services::set_status(&app, actor, ServiceId(id), status).await?;
    Ok(see_other("/provider/services"))
}

pub async fn bookings(app: Data, visitor: Visitor, req: HttpRequest) -> Page {
    let actor = visitor.require(PROVIDER, "/provider/bookings")?;
    let list = bookings::list(&app, actor, page_asked(&req)?).await?;
    Ok(visitor.page("Bookings", true, pages::bookings(&visitor.chrome(), &list)))
}

pub async fn answer_booking(app: Data, visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    let actor = visitor.require(PROVIDER, "/provider/bookings")?;
    Form::read(&visitor, &body)?;
    let (id, verb) = path.into_inner();
    let action: BookingAction = verb
        .parse()
        .ok()
        .filter(|a: &BookingAction| a.by_provider())
        .ok_or(PageError::App(AppError::not_found("page")))?;
    match bookings::transition(&app, actor, BookingId(id), action).await {
        // Answered meanwhile (another tab, a colleague): the list shows how it stands.
        Ok(_) | Err(AppError::Conflict { .. }) => Ok(see_other("/provider/bookings")),
        Err(e) => Err(e.into()),
    }
}

pub async fn timetable(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = ServiceId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/services/{id}/sessions"))?;
    let t = sessions::timetable(&app, actor, id).await?;
    let body = pages::timetable(&visitor.chrome(), &t, &FormErrors::default(), &Form(Vec::new()));
    Ok(visitor.page(&format!("Sessions: {}", t.service.name), true, body))
}

pub async fn publish_sessions(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = ServiceId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/services/{id}/sessions"))?;
    let form = Form::read(&visitor, &body)?;
    let weekly = form.get("kind") == "weekly";
    let published = match new_sessions(&form) {
        Ok((asked, places)) => outcome(
            sessions::publish(&app, actor, id, asked, places).await,
            sessions_field(weekly),
        )?,
        Err(errors) => Err(errors),
    };
    match published {
        Ok(_) => Ok(see_other(&format!("/provider/services/{id}/sessions"))),
        Err(errors) => {
            let t = sessions::timetable(&app, actor, id).await?;
            let body = pages::timetable(&visitor.chrome(), &t, &errors, &form);
            Ok(visitor.form_again(&format!("Sessions: {}", t.service.name), true, body))
        }
    }
}

pub async fn session(app: Data, visitor: Visitor, id: web::Path<i64>) -> Page {
    let id = SessionId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/sessions/{id}"))?;
    let r = sessions::register(&app, actor, id).await?;
    let started = r.session.times.starts_at <= crate::db::now();
    let body = pages::session(&visitor.chrome(), &r, &FormErrors::default(), started);
    Ok(visitor.page(&format!("Register: {}", r.service_name), true, body))
}

/// After a change to a session: the session page again, with the change's problems if any.
async fn session_again(app: &Data, visitor: &Visitor, id: SessionId, done: Result<(), FormErrors>) -> Page {
    let actor = visitor.require(PROVIDER, &format!("/provider/sessions/{id}"))?;
    match done {
        Ok(()) => Ok(see_other(&format!("/provider/sessions/{id}"))),
        Err(errors) => {
            let r = sessions::register(app, actor, id).await?;
            let started = r.session.times.starts_at <= crate::db::now();
            let body = pages::session(&visitor.chrome(), &r, &errors, started);
            Ok(visitor.form_again(&format!("Register: {}", r.service_name), true, body))
        }
    }
}

pub async fn change_session(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = SessionId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/sessions/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    let done = match session_change(&form) {
        Ok(change) => outcome(sessions::change(&app, actor, id, change).await, sessions_field(false))?.map(|_| ()),
        Err(errors) => Err(errors),
    };
    session_again(&app, &visitor, id, done).await
}

pub async fn cancel_session(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = SessionId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/sessions/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    let done = if form.get("confirm") == "yes" {
        outcome(sessions::cancel(&app, actor, id).await, str::to_string)?.map(|_| ())
    } else {
        Err(FormErrors(vec![(
            "confirm".into(),
            "Tick the box to say you want to cancel this session".into(),
        )]))
    };
    session_again(&app, &visitor, id, done).await
}

pub async fn mark_register(app: Data, visitor: Visitor, id: web::Path<i64>, body: web::Bytes) -> Page {
    let id = SessionId(id.into_inner());
    let actor = visitor.require(PROVIDER, &format!("/provider/sessions/{id}"))?;
    let form = Form::read(&visitor, &body)?;
    let done = outcome(sessions::mark(&app, actor, id, attendance(&form)).await, |_| {
        "attendance".into()
    })?
    .map(|_| ());
    session_again(&app, &visitor, id, done).await
}
