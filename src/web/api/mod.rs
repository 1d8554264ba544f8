//! The JSON API under `/api/v1`: parse, authorise, call one use case, answer with one DTO. Every
//! route is registered through utoipa's actix bindings, so registering a route is documenting it:
//! the OpenAPI 3.1 document at `/api/v1/openapi.json` is collected from the same calls.

mod account;
mod accounts;
mod bookings;
mod calendar;
mod council;
pub mod dto;
pub mod error;
pub mod extract;
pub(crate) mod invoices;
mod notifications;
mod payment_runs;
mod personal_budgets;
mod plans;
mod reports;
mod search;
mod services;
mod sessions;
pub(crate) mod spending;
mod threads;

use actix_web::{HttpResponse, get, web};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, RefOr, ResponseBuilder};
use utoipa_actix_web::service_config::ServiceConfig;

pub use error::ApiError;
pub use extract::MAX_BODY_BYTES;

use crate::app::App;

type Data = web::Data<App>;
type Reply = Result<HttpResponse, ApiError>;

/// Every route of the API (mounted under `/api/v1`).
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(openapi)
        .configure(accounts::routes)
        .configure(account::routes)
        .configure(services::routes)
        .configure(plans::routes)
        .configure(council::routes)
        .configure(search::routes)
        .configure(reports::routes)
        .configure(bookings::routes)
        .configure(calendar::routes)
        .configure(sessions::routes)
        .configure(invoices::routes)
        .configure(payment_runs::routes)
        .configure(personal_budgets::routes)
        .configure(notifications::routes)
        .configure(spending::routes)
        .configure(threads::routes);
}

/// The document as served: the collected paths and schemas, with what every operation shares.
pub struct Document(pub OpenApi);

impl Document {
    pub fn new(mut api: OpenApi) -> Document {
        api.info.title = "localoffer".into();
        api.info.description = Some(
            "A SEND Local Offer directory and personal-budget marketplace. Money is a string with two \
             decimals; errors are {\"error\": {\"code\", \"message\", \"field\"?, \"fields\"?}}."
                .into(),
        );
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::builder().scheme(HttpAuthScheme::Bearer).build()),
        );
        let error = || {
            ResponseBuilder::new()
                .description("An error: the code says what, the message says why in words, the field says where")
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                            "ErrorEnvelope",
                        ))))
                        .build(),
                )
                .build()
        };
        components.schemas.insert(
            "ErrorEnvelope".into(),
            <dto::ErrorEnvelope as utoipa::PartialSchema>::schema(),
        );
        for (name, schema) in [
            ("ErrorBody", <dto::ErrorBody as utoipa::PartialSchema>::schema()),
            ("FieldProblem", <dto::FieldProblem as utoipa::PartialSchema>::schema()),
        ] {
            components.schemas.insert(name.into(), schema);
        }
        for item in api.paths.paths.values_mut() {
            let with_body = [item.post.as_mut(), item.put.as_mut()];
            let without_body = [item.get.as_mut(), item.delete.as_mut()];
            for (op, body) in with_body
                .into_iter()
                .map(|o| (o, true))
                .chain(without_body.into_iter().map(|o| (o, false)))
            {
                let Some(op) = op else { continue };
                // What any operation can answer: bad input, a bad or missing token, not yours,
                // not there, busy; and for bodies, a wrong type, too large, invalid values, a conflict,
                // too many attempts (logins, registrations: see README's limits).
                let mut statuses = vec!["400", "401", "403", "404", "422", "500", "503"];
                if body {
                    statuses.extend(["409", "413", "415", "429"]);
                }
                for status in statuses {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::T(error()));
                }
            }
        }
        Document(api)
    }
}

/// This document.
#[utoipa::path(
    tag = "api",
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json"))
)]
#[get("/openapi.json")]
async fn openapi(doc: web::Data<Document>) -> HttpResponse {
    HttpResponse::Ok().json(&doc.0)
}

/// Health: the database answers.
pub async fn healthz(app: Data) -> Reply {
    app.health().await?;
    Ok(HttpResponse::Ok().json(dto::Health { status: "ok".into() }))
}
