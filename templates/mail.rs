//! Email: each notice as plain text and as HTML, in the product's voice. The subject is the
//! notice's title, which never holds personal data; the body says no more than the recipient
//! can see on the site, and ends with how to choose which emails come.

use maud::{DOCTYPE, Markup, html};

use crate::domain::notification::Letter;

/// Where people choose their emails.
pub const PREFERENCES_PATH: &str = "/account/notifications";

fn footer(letter: &Letter) -> &'static str {
    if letter.event.is_account_mail() {
        "You get this email because of a request about your Local Offer account."
    } else if letter.event.is_required() {
        "You always get emails like this one: they are about money or a decision you have a right to hear of."
    } else {
        "You can choose which emails you get in your account's notification settings."
    }
}

/// The plain-text part.
pub fn text(letter: &Letter, public_url: &str) -> String {
    let mut out = String::from("Hello,\n\n");
    for p in &letter.paragraphs {
        out.push_str(p);
        out.push_str("\n\n");
    }
    if !letter.link.is_empty() {
        out.push_str(&format!("{}:\n{public_url}{}\n\n", letter.event.action(), letter.link));
    }
    out.push_str("The Local Offer\n\n--\n");
    out.push_str(footer(letter));
    if !letter.event.is_account_mail() {
        out.push_str(&format!("\n{public_url}{PREFERENCES_PATH}"));
    }
    out.push('\n');
    out
}

/// The HTML part: one column, system fonts, a real link (no images, no tracking).
pub fn html(letter: &Letter, public_url: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (letter.title) }
            }
            body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:19px;line-height:1.4;color:#0b0c0c;background:#ffffff" {
                div style="max-width:580px" {
                    p style="font-weight:bold;font-size:24px;margin:0 0 16px" { (letter.title) }
                    p { "Hello," }
                    @for p in &letter.paragraphs { p { (p) } }
                    @if !letter.link.is_empty() {
                        p {
                            a href={ (public_url) (letter.link) } style="color:#1d70b8;font-weight:bold" { (letter.event.action()) }
                        }
                    }
                    p { "The Local Offer" }
                    hr style="border:0;border-top:1px solid #b1b4b6";
                    p style="font-size:16px;color:#505a5f" {
                        (footer(letter))
                        @if !letter.event.is_account_mail() {
                            " " a href={ (public_url) (PREFERENCES_PATH) } style="color:#1d70b8" { "Notification settings" }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notification::{Event, TokenPurpose};

    #[test]
    fn both_parts_carry_the_words_and_the_full_link() {
        let letter = Letter::new(
            Event::BookingConfirmed,
            "Your booking is confirmed",
            vec!["Saturday Club confirmed your booking.".into()],
            "/my-plan/bookings/7".into(),
        );
        let text = text(&letter, "https://offer.example");
        assert!(text.contains("Saturday Club confirmed your booking."));
        assert!(text.contains("https://offer.example/my-plan/bookings/7"));
        assert!(text.contains("https://offer.example/account/notifications"));
        let html = html(&letter, "https://offer.example").into_string();
        assert!(html.contains(r#"href="https://offer.example/my-plan/bookings/7""#));
        assert!(html.contains("See the booking"));
    }

    #[test]
    fn account_mail_has_no_settings_link() {
        let letter = TokenPurpose::PasswordReset.letter("tok");
        let text = text(&letter, "http://x");
        assert!(text.contains("http://x/password-reset/tok"));
        assert!(!text.contains(PREFERENCES_PATH));
    }
}
