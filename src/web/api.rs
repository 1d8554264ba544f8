//! The JSON API under /api/v1.

use actix_web::http::header::HeaderValue;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::extract::{Auth, Json, MaybeAuth};
use super::{AppState, blocking};
use crate::db::bookings::{self, Idempotency};
use crate::db::users::Actor;
use crate::db::{Conn, DbResult, budget_holders, ledger, organisations, services, users};
use crate::domain::booking::{BookingAction, BookingInput};
use crate::domain::budget::{BudgetHolderInput, LoginInput};
use crate::domain::organisation::RegistrationInput;
use crate::domain::service::ServiceInput;
use crate::domain::taxonomy::Vocabulary;
use crate::domain::validate::Invalid;
use crate::domain::{BookingId, BudgetHolderId, OrganisationId, OrganisationStatus, Role, ServiceId, ServiceStatus};

type Data = web::Data<AppState>;
type Reply = Result<HttpResponse, ApiError>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/login", web::post().to(login))
        .route("/auth/logout", web::post().to(logout))
        .route("/me", web::get().to(me))
        .route("/providers", web::post().to(register_provider))
        .route("/organisations/{id}", web::get().to(organisation))
        .route("/organisations/{id}/services", web::get().to(organisation_services))
        .route("/organisations/{id}/{status}", web::post().to(set_organisation_status))
        .route("/services", web::post().to(create_service))
        .route("/services/{id}", web::get().to(service))
        .route("/services/{id}", web::put().to(update_service))
        .route("/services/{id}/{status}", web::post().to(set_service_status))
        .route("/taxonomy", web::get().to(taxonomy))
        .route("/budget-holders", web::post().to(create_budget_holder))
        .route("/budget-holders", web::get().to(list_budget_holders))
        .route("/budget-holders/{id}", web::get().to(budget_holder))
        .route("/budget-holders/{id}/statement", web::get().to(statement))
        .route("/budget-holders/{id}/matches", web::get().to(super::search::matches))
        .route("/search", web::get().to(super::search::search))
        .configure(super::reports::routes)
        .route("/bookings", web::post().to(create_booking))
        .route("/bookings", web::get().to(list_bookings))
        .route("/bookings/{id}", web::get().to(booking))
        .route("/bookings/{id}/{action}", web::post().to(booking_action));
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

pub async fn healthz(state: Data) -> Reply {
    blocking(&state, |db| db.ping()).await?;
    Ok(HttpResponse::Ok().json(json!({"status": "ok"})))
}

#[derive(Serialize)]
struct LoginReply {
    token: String,
    role: Role,
    user_id: i64,
    expires_at: chrono::NaiveDateTime,
}

async fn login(state: Data, Json(input): Json<LoginInput>) -> Reply {
    let email = input.email.clone();
    let user = blocking(&state, move |db| db.read(|conn| users::find_by_email(conn, &email))).await?;
    let actor = web::block(move || users::authenticate(user.as_ref(), &input.password))
        .await
        .map_err(|_| ApiError::Busy)?;
    let Some(actor) = actor else {
        return Err(ApiError::Unauthorized("the email or password is wrong"));
    };
    let user_id = actor.user_id;
    let (token, expires_at) = blocking(&state, move |db| {
        db.write(move |conn| users::create_session(conn, user_id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(LoginReply {
        token,
        role: actor.role,
        user_id: user_id.0,
        expires_at,
    }))
}

async fn logout(state: Data, auth: Auth) -> Reply {
    blocking(&state, move |db| {
        db.write(move |conn| users::revoke_session(conn, &auth.token))
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn me(auth: Auth) -> Reply {
    let a = auth.actor;
    Ok(HttpResponse::Ok().json(json!({
        "user_id": a.user_id, "role": a.role, "organisation_id": a.organisation_id, "council_id": a.council_id,
    })))
}

async fn register_provider(state: Data, Json(input): Json<RegistrationInput>) -> Reply {
    let reg = input.validate()?;
    let password = reg.user.password.clone();
    let hash = web::block(move || users::hash_password(&password))
        .await
        .map_err(|_| ApiError::Busy)??;
    let (organisation_id, user_id) = blocking(&state, move |db| {
        db.write(move |conn| organisations::register(conn, &reg, &hash))
    })
    .await?;
    tracing::info!(%organisation_id, "provider registered");
    Ok(HttpResponse::Created().json(json!({"organisation_id": organisation_id, "user_id": user_id})))
}

async fn organisation(state: Data, path: web::Path<i64>) -> Reply {
    let id = OrganisationId(path.into_inner());
    let view = blocking(&state, move |db| db.read(|conn| organisations::get(conn, id))).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn organisation_services(state: Data, viewer: MaybeAuth, path: web::Path<i64>) -> Reply {
    let id = OrganisationId(path.into_inner());
    let list = blocking(&state, move |db| {
        db.read(|conn| {
            organisations::get(conn, id)?;
            let viewer = viewer.0.as_ref();
            services::ids_for_organisation(conn, viewer, id)?
                .into_iter()
                .map(|s| services::get(conn, viewer, s))
                .collect::<Result<Vec<_>, _>>()
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "services": list })))
}

/// A location given only as a postcode is placed at the postcode (or its district's centre).
async fn locate_service(state: &AppState, input: &mut ServiceInput) -> Result<(), ApiError> {
    let location = &mut input.location;
    if location.lat.is_some() || location.lon.is_some() {
        return Ok(());
    }
    let Some(postcode) = location.postcode.as_deref().filter(|p| !p.trim().is_empty()) else {
        return Ok(());
    };
    let found = state
        .geocoder
        .place("location.postcode", postcode)
        .await
        .map_err(Invalid::from)?;
    location.lat = Some(found.at.lat);
    location.lon = Some(found.at.lon);
    Ok(())
}

async fn create_service(state: Data, auth: Auth, Json(mut input): Json<ServiceInput>) -> Reply {
    let actor = auth.require(Role::Provider)?.clone();
    let organisation = actor
        .organisation_id
        .ok_or(ApiError::WrongRole("provider without an organisation"))?;
    locate_service(&state, &mut input).await?;
    let service = input.validate(&state.taxonomy)?;
    let view = blocking(&state, move |db| {
        let id = db.write(move |conn| services::create(conn, organisation, &service))?;
        db.read(|conn| services::get(conn, Some(&actor), id))
    })
    .await?;
    state.services_changed();
    tracing::info!(service_id = %view.id, "service created");
    Ok(HttpResponse::Created().json(view))
}

async fn service(state: Data, viewer: MaybeAuth, path: web::Path<i64>) -> Reply {
    let id = ServiceId(path.into_inner());
    let view = blocking(&state, move |db| {
        db.read(|conn| services::get(conn, viewer.0.as_ref(), id))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn update_service(state: Data, auth: Auth, path: web::Path<i64>, Json(mut input): Json<ServiceInput>) -> Reply {
    let id = ServiceId(path.into_inner());
    locate_service(&state, &mut input).await?;
    let service = input.validate(&state.taxonomy)?;
    change_service(&state, auth.actor, id, move |conn, actor| {
        services::update(conn, actor, id, &service)
    })
    .await
}

/// Apply a provider's change to its service, wake the search index, answer with the service.
async fn change_service(
    state: &Data,
    actor: Actor,
    id: ServiceId,
    change: impl FnOnce(&mut Conn, &Actor) -> DbResult<()> + Send + 'static,
) -> Reply {
    let view = blocking(state, move |db| {
        let writer = actor.clone();
        db.write(move |conn| change(conn, &writer))?;
        db.read(|conn| services::get(conn, Some(&actor), id))
    })
    .await?;
    state.services_changed();
    Ok(HttpResponse::Ok().json(view))
}

async fn set_service_status(state: Data, auth: Auth, path: web::Path<(i64, String)>) -> Reply {
    let (id, verb) = path.into_inner();
    let status = match verb.as_str() {
        "publish" => ServiceStatus::Published,
        "unpublish" => ServiceStatus::Unpublished,
        _ => return Err(ApiError::NotFound("services/{id}/ accepts publish or unpublish".into())),
    };
    let id = ServiceId(id);
    change_service(&state, auth.actor, id, move |conn, actor| {
        services::set_status(conn, actor, id, status)
    })
    .await
}

#[derive(Deserialize)]
struct TaxonomyQuery {
    vocabulary: Option<Vocabulary>,
}

async fn taxonomy(state: Data, query: web::Query<TaxonomyQuery>) -> Reply {
    let t = &state.taxonomy;
    let terms: Vec<_> = t
        .terms
        .iter()
        .filter(|term| query.vocabulary.is_none_or(|v| term.vocabulary == v))
        .collect();
    Ok(HttpResponse::Ok().json(json!({"version": t.version, "source": t.source, "terms": terms})))
}

async fn create_budget_holder(state: Data, auth: Auth, Json(input): Json<BudgetHolderInput>) -> Reply {
    let council = auth
        .require(Role::Council)?
        .council_id
        .ok_or(ApiError::WrongRole("council user without a council"))?;
    let holder = input.validate(&state.taxonomy, today())?;
    let password = holder.family.password.clone();
    let hash = web::block(move || users::hash_password(&password))
        .await
        .map_err(|_| ApiError::Busy)??;
    let actor = auth.actor;
    let (created, view) = blocking(&state, move |db| {
        let created = db.write(move |conn| budget_holders::create(conn, council, &holder, &hash))?;
        let view = db.read(|conn| {
            let row = budget_holders::authorised(conn, &actor, created.id)?;
            budget_holders::view(conn, row)
        })?;
        Ok((created, view))
    })
    .await?;
    let mut body = serde_json::to_value(&view).map_err(|_| ApiError::Busy)?;
    body["family_user_id"] = json!(created.family_user_id);
    body["family_account_created"] = json!(created.family_account_created);
    Ok(HttpResponse::Created().json(body))
}

async fn list_budget_holders(state: Data, auth: Auth) -> Reply {
    let list = blocking(&state, move |db| {
        db.read(|conn| budget_holders::list(conn, &auth.actor))
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({ "budget_holders": list })))
}

async fn budget_holder(state: Data, auth: Auth, path: web::Path<i64>) -> Reply {
    let id = BudgetHolderId(path.into_inner());
    let view = blocking(&state, move |db| {
        db.read(|conn| {
            let row = budget_holders::authorised(conn, &auth.actor, id)?;
            budget_holders::view(conn, row)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn statement(state: Data, auth: Auth, path: web::Path<i64>) -> Reply {
    let id = BudgetHolderId(path.into_inner());
    let (allocations, entries) = blocking(&state, move |db| {
        db.read(|conn| {
            budget_holders::authorised(conn, &auth.actor, id)?;
            Ok((budget_holders::allocations_of(conn, id)?, ledger::statement(conn, id)?))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(json!({"budget_holder_id": id, "allocations": allocations, "entries": entries})))
}

fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let bad = || {
        ApiError::bad_request(
            "invalid_header",
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
            Some("Idempotency-Key"),
        )
    };
    let key = value.to_str().map_err(|_| bad())?.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_string()))
}

async fn create_booking(state: Data, auth: Auth, req: HttpRequest, Json(input): Json<BookingInput>) -> Reply {
    let key = idempotency_key(&req)?;
    input.validate()?;
    let idempotency = key.map(|k| Idempotency::new(k, &input));
    let actor = auth.actor;
    let (created, replayed) = blocking(&state, move |db| {
        let attempt = |db: &crate::db::Db| {
            let (actor, input, idempotency) = (actor.clone(), input.clone(), idempotency.clone());
            db.write(move |conn| bookings::create(conn, &actor, &input, idempotency.as_ref(), today()))
        };
        match attempt(db) {
            // Two requests with one key raced past the lookup (PostgreSQL runs them side by side):
            // the loser's transaction rolled back; asking again replays the winner's booking.
            Err(e) if crate::db::is_unique_violation(&e) && idempotency.is_some() => attempt(db),
            result => result,
        }
    })
    .await?;
    let mut response = HttpResponse::Created();
    if replayed {
        response.insert_header(("Idempotent-Replayed", HeaderValue::from_static("true")));
    }
    Ok(response.json(created))
}

async fn list_bookings(state: Data, auth: Auth) -> Reply {
    let list = blocking(&state, move |db| db.read(|conn| bookings::list(conn, &auth.actor))).await?;
    Ok(HttpResponse::Ok().json(json!({ "bookings": list })))
}

async fn booking(state: Data, auth: Auth, path: web::Path<i64>) -> Reply {
    let id = BookingId(path.into_inner());
    let view = blocking(&state, move |db| db.read(|conn| bookings::get(conn, &auth.actor, id))).await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn booking_action(state: Data, auth: Auth, path: web::Path<(i64, String)>) -> Reply {
    let (id, verb) = path.into_inner();
    let action: BookingAction = verb
        .parse()
        .map_err(|_| ApiError::NotFound("bookings/{id}/ accepts cancel, confirm, decline or deliver".into()))?;
    let id = BookingId(id);
    let view = blocking(&state, move |db| {
        db.write(move |conn| bookings::transition(conn, &auth.actor, id, action))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn set_organisation_status(state: Data, auth: Auth, path: web::Path<(i64, String)>) -> Reply {
    let (id, verb) = path.into_inner();
    let status = match verb.as_str() {
        "verify" | "reinstate" => OrganisationStatus::Verified,
        "suspend" => OrganisationStatus::Suspended,
        _ => {
            return Err(ApiError::NotFound(
                "organisations/{id}/ accepts verify, suspend or reinstate".into(),
            ));
        }
    };
    let id = OrganisationId(id);
    let actor = auth.actor;
    let view = blocking(&state, move |db| {
        db.write(move |conn| organisations::set_status(conn, &actor, id, status))?;
        db.read(|conn| organisations::get(conn, id))
    })
    .await?;
    state.services_changed();
    Ok(HttpResponse::Ok().json(view))
}
