//! A shortlist anyone can keep while browsing, in a cookie: no login, no JavaScript.

use actix_web::cookie::SameSite;
use actix_web::web;

use super::{Data, Form, Page, PageError, SHORTLIST_COOKIE, Visitor, see_other};
use crate::app::{AppError, services};
use crate::domain::ServiceId;
use crate::templates::public as pages;

pub const MAX: usize = 30;

pub async fn page(app: Data, visitor: Visitor) -> Page {
    let ids = visitor.shortlist.iter().copied().map(ServiceId).collect();
    // A service unpublished since it was shortlisted simply drops out.
    let kept = services::several(&app, visitor.actor.clone(), ids).await?;
    Ok(visitor.page("Your shortlist", false, pages::shortlist(&visitor.chrome(), &kept)))
}

pub async fn change(visitor: Visitor, path: web::Path<(i64, String)>, body: web::Bytes) -> Page {
    Form::read(&visitor, &body)?;
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
        _ => return Err(AppError::not_found("page").into()),
    };
    let value = list.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(".");
    let mut response = see_other(&back);
    response
        .add_cookie(&visitor.cookie(SHORTLIST_COOKIE, value, SameSite::Lax))
        .map_err(|_| PageError::App(AppError::Busy))?;
    Ok(response)
}
