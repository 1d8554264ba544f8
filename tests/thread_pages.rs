//! The messages pages, through their forms: a family asks about a service, the provider answers
//! and adds the council, the council reads; a family writes about a booking; the menu's count.

#[macro_use]
mod common;

use common::browser::{Browser, Page};
use common::*;
use reqwest::StatusCode;

fn thread_id(page: &Page) -> String {
    let to = page
        .location
        .as_deref()
        .unwrap_or_else(|| panic!("a redirect, got {}: {}", page.status, page.html));
    to.strip_prefix("/messages/")
        .map(|rest| rest.trim_end_matches("#latest").to_string())
        .unwrap_or_else(|| panic!("a redirect to a conversation, got {to}"))
}

/// The menu's unread count, if it shows one.
/// The unread count beside the menu's "Messages" link.
fn menu_count(html: &str) -> Option<String> {
    let link = &html[html.find("<a href=\"/messages\">")?..];
    let link = &link[..link.find("</a>")?];
    let at = link.find("class=\"nav-count\">")? + 18;
    Some(link[at..].split('<').next().unwrap_or_default().to_string())
}

both_backends! {
    #[tokio::test]
    async fn a_question_about_a_service_is_asked_answered_and_shown_to_the_council_once_added() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let service = w.service["id"].to_string();
        let mut anonymous = Browser::new(&app);
        let page = anonymous.get(&format!("/services/{service}")).await;
        assert!(!page.html.contains("Ask the provider a question"), "only for families and brokers");
        let sent = anonymous.get(&format!("/services/{service}/ask")).await;
        assert_eq!(sent.location.as_deref(), Some(format!("/login?next=/services/{service}/ask").as_str()));
        assert_eq!(anonymous.get("/messages").await.location.as_deref(), Some("/login?next=/messages"));

        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        let page = family.get(&format!("/services/{service}")).await;
        assert!(page.html.contains(&format!("href=\"/services/{service}/ask\"")), "{}", page.html);
        let form = family.get(&format!("/services/{service}/ask")).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.html.contains("Ask Wandle Club a question") && form.html.contains("<label class=\"label\" for=\"body\">Your question</label>"), "{}", form.html);
        let csrf = form.csrf();
        let plan = w.holder["id"].to_string();
        let empty = family.post(&format!("/services/{service}/ask"), &[("csrf_token", &csrf), ("budget_holder_id", &plan), ("body", "  ")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.html.contains("There is a problem") && empty.html.contains("href=\"#body\">Must not be empty"), "{}", empty.html);
        let long = "x".repeat(2001);
        let too_long = family.post(&format!("/services/{service}/ask"), &[("csrf_token", &csrf), ("budget_holder_id", &plan), ("body", &long)]).await;
        assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(too_long.html.contains("Must be at most 2000 characters") && too_long.html.contains(&long), "what was typed is kept");
        let asked = family.post(&format!("/services/{service}/ask"), &[("csrf_token", &csrf), ("budget_holder_id", &plan), ("body", "Is there parking?\n<script>alert(1)</script>")]).await;
        assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.html);
        let id = thread_id(&asked);
        let mine = family.get(&format!("/messages/{id}")).await;
        assert!(mine.html.contains("Is there parking?<br>&lt;script&gt;alert(1)&lt;/script&gt;"), "plain text, shown as written: {}", mine.html);
        assert!(!mine.html.contains("<script>alert"));

        // The provider sees the count in its menu, the conversation on its list, and answers.
        let mut provider = Browser::new(&app);
        provider.log_in("staff@wandle.example", PASSWORD).await;
        let services = provider.get("/provider/services").await;
        assert_eq!(menu_count(&services.html).as_deref(), Some("1"), "{}", services.html);
        let list = provider.get("/messages").await;
        assert!(list.html.contains("Saturday Club") && list.html.contains("1 unread") && list.html.contains("You have 1 unread message."), "{}", list.html);
        let thread = provider.get(&format!("/messages/{id}")).await;
        assert!(thread.html.contains("<strong>Family</strong> wrote on") && thread.html.contains("Add the council to this conversation"), "{}", thread.html);
        assert!(thread.html.contains("the council's officers will then be able to read every message in this conversation"), "the button says what it does");
        assert_eq!(menu_count(&thread.html), None, "read now");
        let csrf = thread.csrf();
        let bad = provider.post(&format!("/messages/{id}"), &[("csrf_token", &csrf), ("body", "")]).await;
        assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.html.contains("href=\"#body\">Must not be empty"), "{}", bad.html);
        let answered = provider.post(&format!("/messages/{id}"), &[("csrf_token", &csrf), ("body", "Yes, behind the hall.")]).await;
        assert_eq!(answered.location.as_deref(), Some(format!("/messages/{id}#latest").as_str()));
        let forged = provider.post(&format!("/messages/{id}"), &[("csrf_token", "0"), ("body", "Forged")]).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN);

        // The family's menu counts the answer; reading it clears the count.
        let plan_page = family.get("/my-plan").await;
        assert_eq!(menu_count(&plan_page.html).as_deref(), Some("1"), "{}", plan_page.html);
        let read = family.get(&format!("/messages/{id}")).await;
        assert!(read.html.contains("<strong>Wandle Club</strong> wrote on") && read.html.contains("Yes, behind the hall."), "{}", read.html);
        assert_eq!(menu_count(&family.get("/my-plan").await.html), None);

        // Nobody else: another provider, the council before it is added.
        app.provider("Other Club", "staff@other.example").await;
        let mut other = Browser::new(&app);
        other.log_in("staff@other.example", PASSWORD).await;
        assert_eq!(other.get(&format!("/messages/{id}")).await.status, StatusCode::NOT_FOUND);
        assert_eq!(other.get(&format!("/services/{service}/ask")).await.status, StatusCode::FORBIDDEN);
        let mut officer = Browser::new(&app);
        officer.log_in("officer@merton.example", PASSWORD).await;
        assert_eq!(officer.get(&format!("/messages/{id}")).await.status, StatusCode::NOT_FOUND);
        let added = provider.post(&format!("/messages/{id}/council"), &[("csrf_token", &csrf)]).await;
        assert_eq!(added.location.as_deref(), Some(format!("/messages/{id}").as_str()));
        let seen = officer.get(&format!("/messages/{id}")).await;
        assert_eq!(seen.status, StatusCode::OK);
        assert!(seen.html.contains("Yes, behind the hall.") && !seen.html.contains("Add the council to this conversation"), "{}", seen.html);
        let replied = officer.post(&format!("/messages/{id}"), &[("csrf_token", &seen.csrf()), ("body", "We can help with transport.")]).await;
        assert_eq!(replied.status, StatusCode::SEE_OTHER);
        let again = provider.get(&format!("/messages/{id}")).await;
        assert!(again.html.contains("<strong>Council</strong> wrote on") && again.html.contains("Added on"), "{}", again.html);
    }

    #[tokio::test]
    async fn a_family_writes_about_a_booking_from_its_page_and_finds_the_conversation_again() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let booked = expect(app.book(&w.family, &w.holder, 0, option_id(&w.service, 0), 1).await, StatusCode::CREATED).await;
        let booking = booked["id"].to_string();
        let mut family = Browser::new(&app);
        family.log_in("parent@family.example", PASSWORD).await;
        let page = family.get(&format!("/bookings/{booking}")).await;
        assert!(page.html.contains(&format!("href=\"/bookings/{booking}/write\">Write to the provider about this booking")), "{}", page.html);
        let form = family.get(&format!("/bookings/{booking}/write")).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.html.contains(booked["reference"].as_str().unwrap()), "{}", form.html);
        let csrf = form.csrf();
        let empty = family.post(&format!("/bookings/{booking}/write"), &[("csrf_token", &csrf), ("body", "")]).await;
        assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let sent = family.post(&format!("/bookings/{booking}/write"), &[("csrf_token", &csrf), ("body", "Sam will be late.")]).await;
        let id = thread_id(&sent);
        // The booking keeps its conversation: the link goes straight to it.
        let again = family.get(&format!("/bookings/{booking}/write")).await;
        assert_eq!(again.location.as_deref(), Some(format!("/messages/{id}").as_str()));
        let thread = family.get(&format!("/messages/{id}")).await;
        assert!(thread.html.contains("Sam will be late.") && thread.html.contains(&format!("href=\"/bookings/{booking}\"")), "{}", thread.html);
        let mut provider = Browser::new(&app);
        provider.log_in("staff@wandle.example", PASSWORD).await;
        let list = provider.get("/messages").await;
        assert!(list.html.contains(booked["reference"].as_str().unwrap()), "{}", list.html);
        // Another family's booking is not there to write about.
        app.holder(&w.council, &sam("EHC-0002", "other@family.example", "10.00")).await;
        let mut other = Browser::new(&app);
        other.log_in("other@family.example", PASSWORD).await;
        assert_eq!(other.get(&format!("/bookings/{booking}/write")).await.status, StatusCode::NOT_FOUND);
    }
}
