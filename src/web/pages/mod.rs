//! The website: server-rendered pages for the public, families, providers and councils. A handler
//! reads its typed form, calls one use case and renders one template. Sessions are the API's
//! server-side sessions, carried in an HttpOnly cookie. Every form carries a CSRF token: for a
//! logged-in visitor it is derived from the server-side session (so a cookie planted by a sibling
//! subdomain or a plain-HTTP page cannot forge it); before login it must match the visitor's
//! pre-session CSRF cookie.

mod account;
mod calendar;
mod council;
mod council_forms;
mod family;
mod forms;
mod invoices;
mod notifications;
mod payment_runs;
mod personal_budgets;
mod provider;
mod public;
mod shortlist;
mod spending;
mod threads;

use std::future::Future;
use std::pin::Pin;

use actix_web::body::EitherBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError, web};
use maud::Markup;

use crate::app::{self, App, AppError, AppResult};
use crate::domain::{Actor, Role};
use crate::templates::components::capitalise;
use crate::templates::{self, Chrome, FormErrors};
use crate::web::Transport;

pub const SESSION_COOKIE: &str = "lo_session";
pub const CSRF_COOKIE: &str = "lo_csrf";
pub const SHORTLIST_COOKIE: &str = "lo_shortlist";

type Data = web::Data<App>;
type Page = Result<HttpResponse, PageError>;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/assets/site.css", web::get().to(stylesheet))
        .route("/", web::get().to(public::home))
        .route("/search", web::get().to(public::search))
        .route("/services/{id}", web::get().to(public::service))
        .route("/services/{id}/book", web::post().to(family::book))
        .route("/shortlist", web::get().to(shortlist::page))
        .route("/shortlist/{id}/{action}", web::post().to(shortlist::change))
        .route("/login", web::get().to(public::login_form))
        .route("/login", web::post().to(public::login))
        .route("/logout", web::post().to(public::logout))
        .route("/notifications", web::get().to(notifications::list))
        .route("/notifications/read", web::post().to(notifications::mark_read))
        .route("/account/notifications", web::get().to(notifications::preferences))
        .route("/account/notifications", web::post().to(notifications::set_preferences))
        .route("/password-reset", web::get().to(notifications::reset_form))
        .route("/password-reset", web::post().to(notifications::request_reset))
        .route("/password-reset/{token}", web::get().to(notifications::reset))
        .route("/password-reset/{token}", web::post().to(notifications::confirm_reset))
        .route("/invitations/{token}", web::get().to(notifications::invitation))
        .route("/invitations/{token}", web::post().to(notifications::accept_invitation))
        .route(
            "/confirm-email/{token}",
            web::get().to(notifications::confirm_email_form),
        )
        .route("/confirm-email/{token}", web::post().to(notifications::confirm_email))
        .route(
            "/provider/confirm-email",
            web::post().to(notifications::resend_confirmation),
        )
        .route("/account", web::get().to(account::page))
        .route("/account/password", web::post().to(account::change_password))
        .route("/account/logout-everywhere", web::post().to(account::logout_everywhere))
        .route("/account/totp", web::post().to(account::start_totp))
        .route("/account/totp/confirm", web::post().to(account::confirm_totp))
        .route("/my-plan", web::get().to(family::my_plan))
        .route("/my-plan/statement", web::get().to(family::statement))
        .route("/my-plan/access", web::get().to(family::access))
        .route("/my-plan/matches", web::get().to(family::matches))
        .route("/my-calendar", web::get().to(calendar::page))
        .route("/my-calendar", web::post().to(calendar::link))
        .route("/my-calendar/stop", web::post().to(calendar::stop))
        .route("/bookings/{id}", web::get().to(family::booking))
        .route("/bookings/{id}/cancel", web::get().to(family::cancel_confirm))
        .route("/bookings/{id}/cancel", web::post().to(family::cancel))
        .route("/sessions/{id}/waitlist", web::get().to(family::waitlist_form))
        .route("/sessions/{id}/waitlist", web::post().to(family::join_waitlist))
        .route("/waitlist/{id}/{answer}", web::post().to(family::answer_offer))
        .route("/my-plan/links/{id}/{answer}", web::post().to(family::answer_link))
        .route("/provider/register", web::get().to(provider::register_form))
        .route("/provider/register", web::post().to(provider::register))
        .route("/provider/services", web::get().to(provider::services))
        .route("/provider/services/new", web::get().to(provider::new_service_form))
        .route("/provider/services/new", web::post().to(provider::create_service))
        .route(
            "/provider/services/{id}/edit",
            web::get().to(provider::edit_service_form),
        )
        .route("/provider/services/{id}/edit", web::post().to(provider::update_service))
        .route("/provider/services/{id}/sessions", web::get().to(provider::timetable))
        .route(
            "/provider/services/{id}/sessions",
            web::post().to(provider::publish_sessions),
        )
        .route("/provider/sessions/{id}", web::get().to(provider::session))
        .route(
            "/provider/sessions/{id}/change",
            web::post().to(provider::change_session),
        )
        .route(
            "/provider/sessions/{id}/cancel",
            web::post().to(provider::cancel_session),
        )
        .route(
            "/provider/sessions/{id}/register",
            web::post().to(provider::mark_register),
        )
        .route("/provider/services/{id}/{status}", web::post().to(provider::set_status))
        .route("/provider/bookings", web::get().to(provider::bookings))
        .route(
            "/provider/bookings/{id}/{action}",
            web::post().to(provider::answer_booking),
        )
        .route("/council/budget-holders", web::get().to(council::budget_holders))
        .route("/council/budget-holders/new", web::get().to(council::new_holder_form))
        .route("/council/budget-holders/new", web::post().to(council::create_holder))
        .route("/council/budget-holders/{id}", web::get().to(council::holder))
        .route(
            "/council/budget-holders/{id}/plan",
            web::post().to(council::change_plan),
        )
        .route(
            "/council/budget-holders/{id}/allocations",
            web::post().to(council::add_allocation),
        )
        .route(
            "/council/budget-holders/{id}/allocations/{allocation}",
            web::post().to(council::adjust_allocation),
        )
        .route(
            "/council/budget-holders/{id}/outcomes/{outcome}",
            web::post().to(council::set_outcome),
        )
        .route(
            "/council/budget-holders/{id}/broker",
            web::post().to(council::set_broker),
        )
        .route(
            "/council/budget-holders/{id}/unlock-login",
            web::post().to(council::unlock_login),
        )
        .route("/council/budget-holders/{id}/erase", web::post().to(council::erase))
        .route(
            "/council/budget-holders/{id}/invitation",
            web::post().to(notifications::reinvite_family),
        )
        .route(
            "/council/budget-holders/{id}/end-sessions",
            web::post().to(account::end_family_sessions),
        )
        .route("/council/brokers", web::get().to(council::brokers))
        .route("/council/brokers", web::post().to(council::create_broker))
        .route("/council/settings", web::get().to(council::settings))
        .route("/council/settings", web::post().to(council::change_settings))
        .route("/council/reports", web::get().to(council::reports))
        .route("/council/reports/gaps.csv", web::get().to(council::gaps_csv))
        .route("/council/reports/spending.csv", web::get().to(council::spending_csv))
        .route(
            "/council/reports/providers-at-risk.csv",
            web::get().to(council::providers_at_risk_csv),
        )
        .route("/council/reports/outcomes.csv", web::get().to(council::outcomes_csv))
        .route("/council/providers", web::get().to(council::providers))
        .route(
            "/council/providers/{id}/{status}",
            web::post().to(council::set_provider_status),
        )
        .configure(invoices::routes)
        .configure(payment_runs::routes)
        .configure(personal_budgets::routes)
        .configure(spending::routes)
        .configure(threads::routes);
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(templates::STYLESHEET)
}

/// What an error page needs to know of the visitor to show their header: who is logged in.
#[derive(Clone)]
struct Seen {
    role: Option<Role>,
    csrf: String,
    shortlisted: usize,
    unread: i64,
    unread_messages: u64,
}

/// A page's error shown with the visitor's own header and menus (the error itself is rendered
/// without the request, so as if logged out; this puts the visitor back).
pub fn error_pages_know_the_visitor<S, B>(
    req: actix_web::dev::ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<actix_web::dev::ServiceResponse<EitherBody<B>>, actix_web::Error>> + use<S, B>
where
    S: actix_web::dev::Service<
            actix_web::dev::ServiceRequest,
            Response = actix_web::dev::ServiceResponse<B>,
            Error = actix_web::Error,
        >,
{
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let seen = res.request().extensions().get::<Seen>().cloned();
        let again = match (res.response().error().and_then(|e| e.as_error::<PageError>()), seen) {
            (Some(error), Some(seen)) if !res.status().is_redirection() => Some(error.page(&Chrome {
                role: seen.role.map(Role::as_str),
                csrf: &seen.csrf,
                shortlisted: seen.shortlisted,
                unread: seen.unread,
                unread_messages: seen.unread_messages,
            })),
            _ => None,
        };
        Ok(match again {
            Some(page) => res.into_response(page).map_into_right_body(),
            None => res.map_into_left_body(),
        })
    }
}

/// Whoever is looking at a page: maybe logged in, always with a CSRF token.
pub struct Visitor {
    pub actor: Option<Actor>,
    /// A council officer or broker without a second factor: every page behind login sends it to
    /// the account page to set one up.
    pub must_enrol: bool,
    pub session: Option<String>,
    /// The token this visitor's forms carry: the session's when logged in, else the cookie's.
    pub csrf: String,
    /// Services kept while browsing (no login needed), newest first.
    pub shortlist: Vec<i64>,
    /// The logged-in visitor's unread notices (the menu shows the count).
    pub unread: i64,
    /// Messages the logged-in visitor has not read (the menu's count).
    pub unread_messages: u64,
    /// The pre-session token of the CSRF cookie (made now when the visitor had none).
    cookie_csrf: String,
    new_csrf: bool,
    secure: bool,
    transport: Transport,
}

/// Where a council officer or broker sets up its second factor.
pub const ENROLMENT_PAGE: &str = "/account#two-factor";

fn random_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    crate::domain::hex(&bytes)
}

/// The CSRF token of a logged-in visitor's forms: bound to the server-side session, so only the
/// holder of the session cookie can know it.
pub fn session_csrf(session_token: &str) -> String {
    use sha2::{Digest, Sha256};
    crate::domain::hex(&Sha256::digest(format!("csrf:{session_token}").as_bytes()))
}

/// Equal strings, compared in a time that does not depend on where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl FromRequest for Visitor {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let transport = req
                .app_data::<web::Data<Transport>>()
                .map(|t| t.get_ref().clone())
                .unwrap_or_default();
            let secure = transport.https || req.connection_info().scheme() == "https";
            let cookie = |base: &str| req.cookie(&transport.cookie_name(base)).map(|c| c.value().to_string());
            let (cookie_csrf, new_csrf) = match cookie(CSRF_COOKIE) {
                Some(token) if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) => (token, false),
                _ => (random_hex(), true),
            };
            let session = cookie(SESSION_COOKIE);
            let caller = match &session {
                Some(token) => {
                    let app = req.app_data::<Data>().cloned().ok_or(PageError::App(AppError::Busy))?;
                    app::accounts::actor_for_token(&app, token.clone())
                        .await?
                        .map(|mut caller| {
                            caller.actor.via = Some(crate::web::route_template(&req));
                            caller
                        })
                }
                None => None,
            };
            let must_enrol = caller.as_ref().is_some_and(|c| c.must_enrol);
            let actor = caller.map(|c| c.actor);
            // A count that cannot be read shows none rather than failing the page.
            let counts = match (&actor, req.app_data::<Data>()) {
                (Some(actor), Some(app)) if !must_enrol => {
                    app::notifications::menu_counts(app, actor).await.unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "the menu's counts could not be read");
                        app::notifications::MenuCounts::default()
                    })
                }
                _ => app::notifications::MenuCounts::default(),
            };
            let session = actor.as_ref().and(session);
            let csrf = session.as_deref().map_or_else(|| cookie_csrf.clone(), session_csrf);
            let shortlist: Vec<i64> = cookie(SHORTLIST_COOKIE)
                .map(|c| {
                    c.split('.')
                        .filter_map(|id| id.parse().ok())
                        .take(shortlist::MAX)
                        .collect()
                })
                .unwrap_or_default();
            // Kept with the request so an error page shows the same header as the page would.
            req.extensions_mut().insert(Seen {
                role: actor.as_ref().map(|a| a.role),
                csrf: csrf.clone(),
                shortlisted: shortlist.len(),
                unread: counts.notices,
                unread_messages: counts.messages,
            });
            Ok(Visitor {
                session,
                actor,
                unread: counts.notices,
                must_enrol,
                csrf,
                shortlist,
                unread_messages: counts.messages,
                cookie_csrf,
                new_csrf,
                secure,
                transport,
            })
        })
    }
}

impl Visitor {
    pub fn chrome(&self) -> Chrome<'_> {
        Chrome {
            role: self.actor.as_ref().map(|a| a.role.as_str()),
            csrf: &self.csrf,
            shortlisted: self.shortlist.len(),
            unread: self.unread,
            unread_messages: self.unread_messages,
        }
    }

    /// The logged-in actor of one of `roles`; a logged-out visitor is sent to log in, one who
    /// must set up a second factor first to the account page.
    pub fn require(&self, roles: &[Role], return_to: &str) -> Result<&Actor, PageError> {
        if self.must_enrol {
            return Err(PageError::App(AppError::EnrolmentRequired));
        }
        self.require_even_unenrolled(roles, return_to)
    }

    /// As [`Visitor::require`], for the account page's own forms (where a second factor is set up).
    pub fn require_even_unenrolled(&self, roles: &[Role], return_to: &str) -> Result<&Actor, PageError> {
        match &self.actor {
            None => Err(PageError::LogIn(return_to.to_string())),
            Some(a) if roles.contains(&a.role) => Ok(a),
            Some(_) => Err(PageError::App(AppError::forbidden("this page is not for your account"))),
        }
    }

    /// Render a page. Pages behind login are never cached.
    pub fn page(&self, title: &str, private: bool, body: Markup) -> HttpResponse {
        self.page_with_status(StatusCode::OK, title, private, body)
    }

    pub fn page_with_status(&self, status: StatusCode, title: &str, private: bool, body: Markup) -> HttpResponse {
        let mut response = HttpResponse::build(status);
        response.content_type("text/html; charset=utf-8");
        if private || self.actor.is_some() {
            response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        }
        if self.new_csrf {
            response.cookie(self.cookie(CSRF_COOKIE, self.cookie_csrf.clone(), SameSite::Strict));
        }
        response.body(templates::layout(title, &self.chrome(), body).into_string())
    }

    /// A form again, with its problems shown (422).
    /// The page, or (with `ok` false) the same page answering a form with its problems.
    pub fn form_or_page(&self, title: &str, ok: bool, body: Markup) -> HttpResponse {
        if ok {
            self.page(title, true, body)
        } else {
            self.form_again(title, true, body)
        }
    }

    pub fn form_again(&self, title: &str, private: bool, body: Markup) -> HttpResponse {
        self.page_with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Error: {title}"),
            private,
            body,
        )
    }

    /// One of our cookies (`__Host-` named behind an https public address): Path=/, no Domain.
    pub fn cookie(&self, name: &'static str, value: String, same_site: SameSite) -> Cookie<'static> {
        Cookie::build(self.transport.cookie_name(name), value)
            .path("/")
            .http_only(true)
            .secure(self.secure)
            .same_site(same_site)
            .finish()
    }

    /// Go to `to` with the session cookie set (logging in, registering).
    pub fn logged_in(&self, to: &str, token: String) -> Page {
        let mut response = see_other(to);
        response
            .add_cookie(&self.cookie(SESSION_COOKIE, token, SameSite::Lax))
            .map_err(|_| PageError::App(AppError::Busy))?;
        Ok(response)
    }

    /// Go home with the session cookie removed.
    pub fn logged_out(&self) -> Page {
        let mut response = see_other("/");
        let mut gone = self.cookie(SESSION_COOKIE, String::new(), SameSite::Lax);
        gone.make_removal();
        response.add_cookie(&gone).map_err(|_| PageError::App(AppError::Busy))?;
        Ok(response)
    }
}

/// A submitted form, keeping repeated fields (checkboxes) in order.
pub struct Form(pub Vec<(String, String)>);

impl templates::components::FormValues for Form {
    fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

impl Form {
    pub fn get(&self, name: &str) -> &str {
        templates::components::FormValues::get(self, name)
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        templates::components::FormValues::all(self, name)
    }

    /// Read a form body and check it carries the visitor's CSRF token: a logged-in visitor's
    /// session's token (whatever the CSRF cookie says), else the pre-session cookie's.
    pub fn read(visitor: &Visitor, body: &[u8]) -> Result<Form, PageError> {
        let fields = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).map_err(|_| PageError::BadForm)?;
        Form::checked(visitor, fields)
    }

    /// Fields read some other way (a multipart form's), checked for the CSRF token as [`Form::read`].
    pub fn checked(visitor: &Visitor, fields: Vec<(String, String)>) -> Result<Form, PageError> {
        let form = Form(fields);
        let sent = form.get("csrf_token");
        let known = visitor.session.is_some() || !visitor.new_csrf;
        if known && !sent.is_empty() && same_token(sent, &visitor.csrf) {
            Ok(form)
        } else {
            Err(PageError::Csrf)
        }
    }
}

/// A CSV download from a page: never kept by a browser or a proxy.
pub fn download(csv: crate::app::reports::Csv) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", csv.filename),
        ))
        .body(csv.bytes)
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_string()))
        .finish()
}

/// What a use case said to a form: done, or the form again with every problem by its field.
/// `field` maps the use case's field names (`user.email`) to the form's (`email`).
pub fn outcome<T>(result: AppResult<T>, field: impl Fn(&str) -> String) -> Result<Result<T, FormErrors>, PageError> {
    let one = |name: &str, message: &str| Ok(Err(FormErrors(vec![(field(name), capitalise(message))])));
    match result {
        Ok(done) => Ok(Ok(done)),
        Err(AppError::Invalid(invalid)) => Ok(Err(FormErrors(
            invalid
                .0
                .into_iter()
                .map(|e| (field(&e.field), capitalise(&e.message)))
                .collect(),
        ))),
        Err(AppError::Conflict { fields, .. }) if !fields.is_empty() => Ok(Err(FormErrors(
            fields
                .into_iter()
                .map(|e| (field(&e.field), capitalise(&e.message)))
                .collect(),
        ))),
        Err(AppError::Conflict {
            message,
            field: Some(name),
            ..
        }) => one(&name, &message),
        Err(AppError::UnknownReference { field: name, message } | AppError::BadParameter { field: name, message }) => {
            one(&name, &message)
        }
        Err(AppError::Unauthorized(message)) => one("email", message),
        Err(AppError::SecondFactor { message, .. }) => one("totp", message),
        Err(other) => Err(PageError::App(other)),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    App(#[from] AppError),
    #[error("log in to see this page")]
    LogIn(String),
    #[error("this form has expired")]
    Csrf,
    #[error("the form could not be read")]
    BadForm,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::LogIn(_) => StatusCode::SEE_OTHER,
            PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::BadForm => StatusCode::BAD_REQUEST,
            PageError::App(e) => match e {
                AppError::Forbidden(_) | AppError::Denied { .. } => StatusCode::FORBIDDEN,
                AppError::NotFound(_) | AppError::UnknownReference { .. } => StatusCode::NOT_FOUND,
                AppError::Unauthorized(_) | AppError::SecondFactor { .. } | AppError::EnrolmentRequired => {
                    StatusCode::SEE_OTHER
                }
                AppError::Invalid(_) | AppError::BadParameter { .. } => StatusCode::BAD_REQUEST,
                AppError::Conflict { .. } => StatusCode::CONFLICT,
                AppError::Gone { .. } => StatusCode::GONE,
                AppError::Busy | AppError::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
                AppError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            },
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            PageError::LogIn(to) => return see_other(&format!("/login?next={}", url_escape(to))),
            PageError::App(AppError::Unauthorized(_) | AppError::SecondFactor { .. }) => return see_other("/login"),
            PageError::App(AppError::EnrolmentRequired) => return see_other(ENROLMENT_PAGE),
            PageError::App(AppError::Busy | AppError::Internal(_)) => tracing::error!(error = %self, "page failed"),
            _ => {}
        }
        let chrome = Chrome {
            role: None,
            csrf: "",
            shortlisted: 0,
            unread: 0,
            unread_messages: 0,
        };
        self.page(&chrome)
    }
}

impl PageError {
    /// The error page, with `chrome`'s header.
    fn page(&self, chrome: &Chrome<'_>) -> HttpResponse {
        let (title, text) = match self {
            PageError::App(AppError::Forbidden(_)) => (
                "Not available to you",
                "This page belongs to another kind of account. Log out and log in with the right one.",
            ),
            PageError::App(AppError::NotFound(_) | AppError::UnknownReference { .. }) => {
                ("Page not found", "If you typed the web address, check it is correct.")
            }
            PageError::Csrf => (
                "This form has expired",
                "Go back, reload the page and try again. Nothing was changed.",
            ),
            // A link with a bad page number, say: name the part of the address at fault.
            PageError::App(AppError::BadParameter { field, message }) => {
                return self.respond(
                    chrome,
                    "Sorry, there is a problem",
                    &format!("The web address's {field} {message}. Go back and try again."),
                );
            }
            PageError::BadForm | PageError::App(AppError::Invalid(_)) => (
                "Sorry, there is a problem",
                "The form could not be read. Go back and try again.",
            ),
            PageError::App(AppError::TooManyAttempts { retry_after_secs }) => {
                return self.respond(
                    chrome,
                    "Too many attempts",
                    &format!(
                        "There have been too many attempts. Wait {} and try again.",
                        wait_in_words(*retry_after_secs)
                    ),
                );
            }
            PageError::App(AppError::Gone { message, .. }) => {
                return self.respond(
                    chrome,
                    "This link no longer works",
                    &format!("{}.", crate::templates::components::capitalise(message)),
                );
            }
            PageError::App(AppError::Denied { message, .. }) => {
                return self.respond(chrome, "That is for someone else to do", &format!("{message}."));
            }
            PageError::App(AppError::Conflict { .. }) => (
                "That could not be done",
                "Something changed meanwhile. Go back, reload the page and try again.",
            ),
            _ => (
                "Sorry, there is a problem with the service",
                "Try again later. Nothing was changed.",
            ),
        };
        self.respond(chrome, title, text)
    }

    fn respond(&self, chrome: &Chrome<'_>, title: &str, text: &str) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        if let PageError::App(AppError::TooManyAttempts { retry_after_secs }) = self {
            response.insert_header((header::RETRY_AFTER, (*retry_after_secs).max(1).to_string()));
        }
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(templates::layout(title, chrome, templates::error_page(title, text)).into_string())
    }
}

/// "30 seconds", "5 minutes", "3 hours", "2 days": how long to wait, rounded up.
fn wait_in_words(secs: u64) -> String {
    let (n, unit) = match secs.max(1) {
        s if s < 120 => (s, "second"),
        s if s < 2 * 3600 => (s.div_ceil(60), "minute"),
        s if s < 2 * 86_400 => (s.div_ceil(3600), "hour"),
        s => (s.div_ceil(86_400), "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn url_escape(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Only local paths are followed after login, never another site.
pub fn safe_next(next: &str) -> Option<&str> {
    // Visible ASCII only: browsers drop tabs and newlines, so "/\t/evil.example" would be "//evil.example".
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    (local && next.bytes().all(|b| b.is_ascii_graphic())).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_login() {
        assert_eq!(safe_next("/my-plan"), Some("/my-plan"));
        assert_eq!(safe_next("/services/3?x=1"), Some("/services/3?x=1"));
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/x\r\nSet-Cookie:a=b",
            "",
            "evil",
        ] {
            assert_eq!(safe_next(bad), None, "{bad:?}");
        }
    }
}
