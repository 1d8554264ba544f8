//! Calendar feeds (RFC 5545) at secret, revocable addresses: a family's booked places, a
//! provider's sessions without anyone's details.

#[macro_use]
mod common;

use chrono::{NaiveDateTime, TimeZone, Utc};
use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An England wall-clock time as RFC 5545 writes the UTC instant: `20270410T090000Z`.
fn utc_stamp(local: &str) -> String {
    let at = NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M:%S").unwrap();
    chrono_tz::Europe::London
        .from_local_datetime(&at)
        .single()
        .unwrap()
        .with_timezone(&Utc)
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

async fn publish(app: &TestApp, provider: &str, service: &Value, starts: &str, ends: &str) -> Value {
    let body = json!({"starts_at": starts, "ends_at": ends});
    let res = app
        .post(&format!("/services/{}/sessions", service["id"]), Some(provider), &body)
        .await;
    expect(res, StatusCode::CREATED).await["sessions"][0].clone()
}

async fn book(app: &TestApp, family: &str, holder: &Value, service: &Value, sessions: &[&Value]) -> Value {
    let body = json!({
        "budget_holder_id": holder["id"], "allocation_id": holder["allocations"][0]["id"],
        "price_option_id": option_id(service, 0),
        "session_ids": sessions.iter().map(|s| s["id"].clone()).collect::<Vec<_>>(),
    });
    expect(app.post("/bookings", Some(family), &body).await, StatusCode::CREATED).await
}

async fn link(app: &TestApp, token: &str) -> String {
    let res = app.post("/me/calendar", Some(token), &json!({})).await;
    let body = expect(res, StatusCode::CREATED).await;
    let url = body["url"].as_str().expect("url").to_string();
    assert!(url.starts_with(&format!("{}/calendar/", app.base)), "{url}");
    assert!(url.ends_with(".ics"), "{url}");
    url
}

async fn delete(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .delete(app.url("/me/calendar"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request sent")
}

/// The feed's text, checked to be a calendar served privately.
async fn fetch(app: &TestApp, url: &str) -> String {
    let res = app.client.get(url).send().await.expect("request sent");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/calendar; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let text = res.text().await.unwrap();
    assert!(text.ends_with("\r\n"), "every line ends in CRLF");
    text
}

async fn status_of(app: &TestApp, url: &str) -> StatusCode {
    app.client.get(url).send().await.expect("request sent").status()
}

/// One component's properties: (name, value), with parameters dropped and escapes undone.
type Props = Vec<(String, String)>;

/// A small RFC 5545 reader: unfolds lines, checks the calendar's frame, returns each VEVENT.
fn events(text: &str) -> Vec<Props> {
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "");
    let lines: Vec<&str> = unfolded.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.first(), Some(&"BEGIN:VCALENDAR"), "{text}");
    assert_eq!(lines.last(), Some(&"END:VCALENDAR"), "{text}");
    assert!(lines.contains(&"VERSION:2.0"), "{text}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("PRODID:")).count(), 1, "{text}");
    let mut out = Vec::new();
    let mut current: Option<Props> = None;
    for line in lines {
        match line {
            "BEGIN:VEVENT" => current = Some(Vec::new()),
            "END:VEVENT" => out.push(current.take().expect("an event was open")),
            _ => {
                if let Some(props) = current.as_mut() {
                    let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("no value: {line}"));
                    let name = name.split(';').next().unwrap().to_string();
                    let value = value
                        .replace("\\n", "\n")
                        .replace("\\,", ",")
                        .replace("\\;", ";")
                        .replace("\\\\", "\\");
                    props.push((name, value));
                }
            }
        }
    }
    assert!(current.is_none(), "an unclosed VEVENT: {text}");
    out
}

fn prop<'a>(event: &'a Props, name: &str) -> &'a str {
    event
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} in {event:?}"))
}

fn by_uid<'a>(events: &'a [Props], uid: &str) -> &'a Props {
    events
        .iter()
        .find(|e| prop(e, "UID") == uid)
        .unwrap_or_else(|| panic!("no event {uid} in {events:?}"))
}

both_backends! {
    #[tokio::test]
    async fn a_family_subscribes_to_its_booked_sessions_and_a_provider_to_its_own() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let winter = (day_at(10, "10:00"), day_at(10, "15:00"));
        let summer = ("2027-04-10T10:00:00".to_string(), "2027-04-10T15:00:00".to_string());
        let a = publish(&app, &w.provider, &w.service, &winter.0, &winter.1).await;
        let b = publish(&app, &w.provider, &w.service, &summer.0, &summer.1).await;
        let c = publish(&app, &w.provider, &w.service, &day_at(20, "10:00"), &day_at(20, "15:00")).await;
        let d = publish(&app, &w.provider, &w.service, &day_at(30, "10:00"), &day_at(30, "15:00")).await;
        let unbooked = publish(&app, &w.provider, &w.service, &day_at(40, "10:00"), &day_at(40, "15:00")).await;
        let booked = book(&app, &w.family, &w.holder, &w.service, &[&a, &b, &c]).await;
        let reference = booked["reference"].as_str().unwrap();
        // The provider calls one of them off.
        expect(app.post(&format!("/sessions/{}/cancel", c["id"]), Some(&w.provider), &json!({})).await, StatusCode::OK).await;
        // Another family, with a child called Alex, books another session.
        let mut alex = sam("EHC-0002", "alex@family.example", "500.00");
        alex["first_name"] = json!("Alex");
        let alex = app.holder(&w.council, &alex).await;
        let other = app.login("alex@family.example", PASSWORD).await;
        let theirs = book(&app, &other, &alex, &w.service, &[&d]).await;

        let url = link(&app, &w.family).await;
        let text = fetch(&app, &url).await;
        let mine = events(&text);
        assert_eq!(mine.len(), 3, "one event per booked session: {text}");
        let uid = |s: &Value| format!("seat-{}-{}@localoffer", booked["id"], s["id"]);
        let first = by_uid(&mine, &uid(&a));
        assert_eq!(prop(first, "SUMMARY"), "Saturday Club (Sam)");
        assert_eq!(prop(first, "DTSTART"), utc_stamp(&winter.0));
        assert_eq!(prop(first, "DTEND"), utc_stamp(&winter.1));
        assert_eq!(prop(first, "STATUS"), "CONFIRMED");
        assert_eq!(prop(first, "LOCATION"), "1 High Street, Wimbledon, SW19 2HR");
        let description = prop(first, "DESCRIPTION");
        assert!(description.contains("Wandle Club") && description.contains(reference), "{description}");
        // In summer England is an hour ahead: 10:00 there is 09:00 UTC.
        let second = by_uid(&mine, &uid(&b));
        assert_eq!(prop(second, "DTSTART"), "20270410T090000Z");
        assert_eq!(prop(second, "DTEND"), "20270410T140000Z");
        assert_eq!(prop(by_uid(&mine, &uid(&c)), "STATUS"), "CANCELLED");
        assert!(!text.contains("Alex"), "another family's child is not in this feed");
        assert!(!text.contains(&format!("-{}@localoffer", unbooked["id"])), "sessions not booked are not shown");

        // The other family sees only its own place.
        let their_url = link(&app, &other).await;
        let their_text = fetch(&app, &their_url).await;
        let theirs_events = events(&their_text);
        assert_eq!(theirs_events.len(), 1, "{their_text}");
        assert_eq!(prop(&theirs_events[0], "UID"), format!("seat-{}-{}@localoffer", theirs["id"], d["id"]));
        assert_eq!(prop(&theirs_events[0], "SUMMARY"), "Saturday Club (Alex)");
        assert!(!their_text.contains("(Sam)") && !their_text.contains(reference), "{their_text}");

        // The provider's feed: every session of its services, with places booked, nobody's details.
        let provider_url = link(&app, &w.provider).await;
        let run_text = fetch(&app, &provider_url).await;
        let run = events(&run_text);
        assert_eq!(run.len(), 5, "{run_text}");
        let session = |s: &Value| format!("session-{}@localoffer", s["id"]);
        assert_eq!(prop(by_uid(&run, &session(&a)), "SUMMARY"), "Saturday Club: 1 of 12 places booked");
        assert_eq!(prop(by_uid(&run, &session(&b)), "DTSTART"), "20270410T090000Z");
        assert_eq!(prop(by_uid(&run, &session(&c)), "STATUS"), "CANCELLED");
        assert_eq!(prop(by_uid(&run, &session(&c)), "SUMMARY"), "Saturday Club: cancelled");
        assert_eq!(prop(by_uid(&run, &session(&unbooked)), "SUMMARY"), "Saturday Club: 0 of 12 places booked");
        for private in ["Sam", "Alex", reference, theirs["reference"].as_str().unwrap(), "parent@family.example"] {
            assert!(!run_text.contains(private), "{private} is in the provider's feed: {run_text}");
        }
    }

    #[tokio::test]
    async fn a_new_link_revokes_the_old_one_and_delete_stops_the_feed() {
        let app = spawn().await;
        let w = world(&app, "1000.00").await;
        let first = link(&app, &w.family).await;
        assert_eq!(events(&fetch(&app, &first).await).len(), 0);
        let second = link(&app, &w.family).await;
        assert_ne!(first, second);
        assert_eq!(status_of(&app, &first).await, StatusCode::NOT_FOUND);
        assert_eq!(status_of(&app, &second).await, StatusCode::OK);
        let res = delete(&app, &w.family).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(status_of(&app, &second).await, StatusCode::NOT_FOUND);
        // Stopping a feed that is already stopped is fine.
        assert_eq!(delete(&app, &w.family).await.status(), StatusCode::NO_CONTENT);
        // Tokens nobody was given.
        for bad in ["nothing", &"0".repeat(64), &"A".repeat(64)] {
            assert_eq!(status_of(&app, &format!("{}/calendar/{bad}.ics", app.base)).await, StatusCode::NOT_FOUND, "{bad}");
        }
        assert_eq!(status_of(&app, &format!("{}/calendar/", app.base)).await, StatusCode::NOT_FOUND);
        // Councils neither book nor run sessions; and nobody gets a feed without logging in.
        expect_error(app.post("/me/calendar", Some(&w.council), &json!({})).await, StatusCode::FORBIDDEN, "forbidden", None).await;
        assert_eq!(delete(&app, &w.council).await.status(), StatusCode::FORBIDDEN);
        assert_eq!(app.post("/me/calendar", None, &json!({})).await.status(), StatusCode::UNAUTHORIZED);
        // The feed survives a restart (only the token's hash is stored, and that is enough).
        let third = link(&app, &w.family).await;
        let path = third.strip_prefix(&app.base).unwrap().to_string();
        let app = app.restart().await;
        assert_eq!(status_of(&app, &format!("{}{path}", app.base)).await, StatusCode::OK);
    }
}
