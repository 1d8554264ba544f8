//! A shortlist anyone can keep while browsing, in a cookie: no login, no JavaScript.

use actix_web::cookie::SameSite;
use actix_web::{HttpResponse, web};
use maud::html;

use super::{PageError, SHORTLIST_COOKIE, Visitor, read_form, see_other};
use crate::db::services;
use crate::domain::ServiceId;
use crate::templates::money;
use crate::web::{AppState, blocking};

type Data = web::Data<AppState>;
pub const MAX: usize = 30;

pub async fn page(state: Data, visitor: Visitor) -> Result<HttpResponse, PageError> {
    let ids = visitor.shortlist.clone();
    let viewer = visitor.actor.clone();
    // A service unpublished since it was shortlisted simply drops out.
    let kept = blocking(&state, move |db| {
        db.read(|conn| {
            Ok(ids
                .iter()
                .filter_map(|id| services::get(conn, viewer.as_ref(), ServiceId(*id)).ok())
                .collect::<Vec<_>>())
        })
    })
    .await?;
    Ok(visitor.page(
        "Your shortlist",
        false,
        html! {
            h1 { "Your shortlist" }
            @if kept.is_empty() { p { "Nothing on your shortlist yet. Use “Add to shortlist” on a service to keep it here while you look around." } }
            ul.results {
                @for s in &kept {
                    li {
                        h2 { a href={ "/services/" (s.id) } { (s.name) } }
                        p { (s.organisation.name) ". Ages " (s.min_age) " to " (s.max_age) "."
                            @if let Some(p) = s.price_options.iter().map(|o| o.price).min() { " From " (money(p)) "." } }
                        form method="post" action={ "/shortlist/" (s.id) "/remove" } {
                            (crate::templates::csrf_field(&visitor.chrome()))
                            button.button.button-secondary type="submit" aria-label={ "Remove " (s.name) " from your shortlist" } { "Remove" }
                        }
                    }
                }
            }
        },
    ))
}

pub async fn change(
    visitor: Visitor,
    path: web::Path<(i64, String)>,
    body: web::Bytes,
) -> Result<HttpResponse, PageError> {
    let form = read_form(body).await?;
    form.check_csrf(&visitor)?;
    let (id, action) = path.into_inner();
    let mut list = visitor.shortlist.clone();
    list.retain(|s| *s != id);
    let back = match action.as_str() {
        "add" => {
            list.insert(0, id);
            list.truncate(MAX);
            format!("/services/{id}")
        }
        "remove" => "/shortlist".to_string(),
        _ => return Err(PageError::NotFound),
    };
    let value = list.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(".");
    let mut response = see_other(&back);
    response
        .add_cookie(&visitor.cookie(SHORTLIST_COOKIE, value, SameSite::Lax))
        .map_err(|_| PageError::Unavailable)?;
    Ok(response)
}
