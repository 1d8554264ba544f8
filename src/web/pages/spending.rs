//! The spending pages.

use actix_web::web;

pub fn routes(_cfg: &mut web::ServiceConfig) {}
