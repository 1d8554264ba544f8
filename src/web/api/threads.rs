//! Messages between a family (or its broker) and a provider, about a service or a booking; the
//! council once one of them adds it.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use super::extract::{Auth, Json, Query};
use super::{Data, Reply, dto};
use crate::app::threads::{self, ThreadList, ThreadSummary, ThreadView};
use crate::db::threads::MessageView;
use crate::domain::threads::{About, NewThreadInput, ThreadId};
use crate::domain::{BookingId, BudgetHolderId, Role, ServiceId};

pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(get_one)
        .service(reply)
        .service(add_council);
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewThread {
    /// A published service to ask its provider about; or give `booking_id`.
    #[serde(default)]
    pub service_id: Option<ServiceId>,
    /// One of the caller's bookings to write to its provider about (a booking keeps one thread:
    /// writing about it again adds to that one).
    #[serde(default)]
    pub booking_id: Option<BookingId>,
    /// About a service: which plan. A family with one plan may leave it out; a broker says which.
    #[serde(default)]
    pub budget_holder_id: Option<BudgetHolderId>,
    /// The first message: plain text, 1 to 2000 characters.
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// Plain text, 1 to 2000 characters.
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadCreated {
    pub id: i64,
}

/// What a thread is about: `service` (with `service_id`) or `booking` (with `booking_id`).
#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
    pub kind: String,
    pub service_id: Option<i64>,
    pub booking_id: Option<i64>,
}

impl From<About> for Subject {
    fn from(about: About) -> Subject {
        match about {
            About::Service(s) => Subject {
                kind: "service".into(),
                service_id: Some(s.0),
                booking_id: None,
            },
            About::Booking(b) => Subject {
                kind: "booking".into(),
                service_id: None,
                booking_id: Some(b.0),
            },
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ThreadItem {
    pub id: i64,
    pub about: Subject,
    /// The service's name, or the booking's reference and service.
    pub subject: String,
    /// Who the thread is with, as the caller sees it.
    pub other_party: String,
    pub council_added: bool,
    pub last_message_at: DateTime<Utc>,
    /// Messages by others the caller has not read.
    pub unread: u64,
}

impl From<&ThreadSummary> for ThreadItem {
    fn from(t: &ThreadSummary) -> ThreadItem {
        ThreadItem {
            id: t.id.0,
            about: t.about.into(),
            subject: t.subject.clone(),
            other_party: t.other_party.clone(),
            council_added: t.council_added,
            last_message_at: t.last_message_at.and_utc(),
            unread: t.unread,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Threads {
    pub threads: Vec<ThreadItem>,
    /// Threads in the whole list.
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    /// Unread messages in all the caller's threads (not only this page's).
    pub unread_total: u64,
}

impl From<&ThreadList> for Threads {
    fn from(l: &ThreadList) -> Threads {
        Threads {
            threads: l.page.items.iter().map(ThreadItem::from).collect(),
            total: l.page.total,
            page: l.page.page,
            per_page: l.page.per_page,
            unread_total: l.unread_total,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Message {
    pub id: i64,
    pub author_role: Role,
    /// The provider's or broker's organisation, "Family" or "Council"; never an email address.
    pub author_name: String,
    /// Whether the caller wrote it.
    pub mine: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl Message {
    fn new(m: &MessageView, caller: &Auth) -> Message {
        Message {
            id: m.id.0,
            author_role: m.author_role,
            author_name: m.author_name.clone(),
            mine: m.author_id == caller.actor.user_id,
            body: m.body.clone(),
            created_at: m.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Thread {
    pub id: i64,
    pub about: Subject,
    pub subject: String,
    pub provider: String,
    pub started_by: String,
    pub other_party: String,
    pub budget_holder_id: BudgetHolderId,
    pub created_at: DateTime<Utc>,
    pub last_message_at: DateTime<Utc>,
    /// When the council was added (its officers read and write from then on); null if it was not.
    pub council_added_at: Option<DateTime<Utc>>,
    /// Whether the caller may add the council now.
    pub can_add_council: bool,
    /// Oldest first.
    pub messages: Vec<Message>,
}

impl Thread {
    fn new(t: &ThreadView, caller: &Auth) -> Thread {
        Thread {
            id: t.id.0,
            about: t.about.into(),
            subject: t.subject.clone(),
            provider: t.provider.clone(),
            started_by: t.started_by.clone(),
            other_party: t.other_party.clone(),
            budget_holder_id: t.budget_holder_id,
            created_at: t.created_at.and_utc(),
            last_message_at: t.last_message_at.and_utc(),
            council_added_at: t.council_added_at.map(|at| at.and_utc()),
            can_add_council: t.can_add_council,
            messages: t.messages.iter().map(|m| Message::new(m, caller)).collect(),
        }
    }
}

/// A family or its broker starts a conversation with a provider about a service or a booking.
/// Unknown or someone else's service, booking or plan: 404 naming the field. At most 20 messages
/// an hour per author (429 with Retry-After).
#[utoipa::path(tag = "messages", request_body = NewThread, security(("bearer" = [])), responses((status = 201, body = ThreadCreated)))]
#[post("/threads")]
async fn create(app: Data, auth: Auth, Json(input): Json<NewThread>) -> Reply {
    let input = NewThreadInput {
        service_id: input.service_id,
        booking_id: input.booking_id,
        budget_holder_id: input.budget_holder_id,
        body: input.body,
    };
    let id = threads::start(&app, &auth.actor, input).await?;
    Ok(HttpResponse::Created().json(ThreadCreated { id: id.0 }))
}

/// The caller's threads, the latest activity first, each with its unread count, and the unread
/// total of all of them.
#[utoipa::path(tag = "messages", params(dto::Paging), security(("bearer" = [])), responses((status = 200, body = Threads)))]
#[get("/threads")]
async fn list(app: Data, auth: Auth, paging: Query<dto::Paging>) -> Reply {
    let found = threads::list(&app, &auth.actor, paging.request()?).await?;
    Ok(HttpResponse::Ok().json(Threads::from(&found)))
}

/// A thread and its messages, marked read for the caller. A thread the caller may not read is
/// not found.
#[utoipa::path(tag = "messages", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Thread)))]
#[get("/threads/{id}")]
async fn get_one(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let thread = threads::get(&app, &auth.actor, ThreadId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Thread::new(&thread, &auth)))
}

/// Answer in a thread: its family, broker and provider, and the council once added.
#[utoipa::path(tag = "messages", params(("id" = i64, Path)), request_body = NewMessage, security(("bearer" = [])), responses((status = 201, body = Message)))]
#[post("/threads/{id}/messages")]
async fn reply(app: Data, auth: Auth, id: web::Path<i64>, Json(input): Json<NewMessage>) -> Reply {
    let message = threads::post(&app, &auth.actor, ThreadId(id.into_inner()), &input.body).await?;
    Ok(HttpResponse::Created().json(Message::new(&message, &auth)))
}

/// The family, its broker or the provider adds the plan's council: its officers may then read
/// and write the thread (their reading goes in the plan's access record).
#[utoipa::path(tag = "messages", params(("id" = i64, Path)), security(("bearer" = [])), responses((status = 200, body = Thread)))]
#[post("/threads/{id}/council")]
async fn add_council(app: Data, auth: Auth, id: web::Path<i64>) -> Reply {
    let thread = threads::add_council(&app, &auth.actor, ThreadId(id.into_inner())).await?;
    Ok(HttpResponse::Ok().json(Thread::new(&thread, &auth)))
}
