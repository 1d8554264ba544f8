//! Field-level validation. Every refusal names the field in the request's own terms
//! (`price_options[1].price`), so a client or a form can put the message next to it.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn into_invalid(self) -> Invalid {
        Invalid(vec![self])
    }

    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// All the problems with one request, in the order the fields appear.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.first().map(|e| format!("{}: {}", e.field, e.message)).unwrap_or_default())]
pub struct Invalid(pub Vec<FieldError>);

impl Invalid {
    pub fn one(field: impl Into<String>, message: impl Into<String>) -> Invalid {
        Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<FieldError> for Invalid {
    fn from(e: FieldError) -> Invalid {
        Invalid(vec![e])
    }
}

#[derive(Debug, Default)]
pub struct Checker {
    errors: Vec<FieldError>,
}

impl Checker {
    pub fn new() -> Checker {
        Checker::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, message));
    }

    /// Record the error of a check that failed and hand back its value if it passed.
    pub fn take<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish<T>(self, value: impl FnOnce() -> T) -> Result<T, Invalid> {
        if self.errors.is_empty() {
            Ok(value())
        } else {
            Err(Invalid(self.errors))
        }
    }
}

/// Trimmed text between `min` and `max` characters with no control characters except newlines.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        return Err(FieldError::new(
            field,
            if min == 1 {
                "must not be empty".to_string()
            } else {
                format!("must be at least {min} characters")
            },
        ));
    }
    if len > max {
        return Err(FieldError::new(field, format!("must be at most {max} characters")));
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(field, "must not contain control characters"));
    }
    Ok(trimmed.to_string())
}

pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> Result<Option<String>, FieldError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => text(field, v, 1, max).map(Some),
    }
}

/// An address as mail systems and the Open Referral schemata accept it: an ASCII dot-atom,
/// `@`, a host name of letters, digits and hyphens with a dot. Lower-cased. Deliverability is the
/// mail system's business.
pub fn email(field: &str, value: &str) -> Result<String, FieldError> {
    let v = text(field, value, 3, 254)?.to_lowercase();
    let atom = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c))
    };
    let label = |part: &str| {
        !part.is_empty()
            && part.len() <= 63
            && !part.starts_with('-')
            && !part.ends_with('-')
            && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    let ok = match v.split_once('@') {
        Some((local, domain)) => {
            local.len() <= 64 && local.split('.').all(atom) && domain.contains('.') && domain.split('.').all(label)
        }
        None => false,
    };
    if ok {
        Ok(v)
    } else {
        Err(FieldError::new(
            field,
            "must be an email address such as name@example.org",
        ))
    }
}

/// A web page's address: http(s), a host with a dot, and (once normalised: punycode host,
/// percent-encoded path) only the characters RFC 3986 allows, so every reader takes it.
pub fn web_address(field: &str, value: &str) -> Result<String, FieldError> {
    let bad = || FieldError::new(field, "must be a web address starting https://");
    let v = text(field, value, 1, 500)?;
    let parsed = url::Url::parse(&v).map_err(|_| bad())?;
    let host_ok = parsed.host_str().is_some_and(|h| h.contains('.'));
    let normalised = parsed.as_str();
    let uri_chars = normalised
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-._~:/?#[]@!$&'()*+,;=%".contains(c));
    let escapes_ok = normalised
        .split('%')
        .skip(1)
        .all(|rest| rest.len() >= 2 && rest.as_bytes()[..2].iter().all(u8::is_ascii_hexdigit));
    if matches!(parsed.scheme(), "http" | "https")
        && host_ok
        && uri_chars
        && escapes_ok
        && normalised.matches('#').count() <= 1
        && normalised.len() <= 500
    {
        Ok(normalised.to_string())
    } else {
        Err(bad())
    }
}

pub fn password(field: &str, value: &str) -> Result<String, FieldError> {
    let len = value.chars().count();
    if len < 10 {
        return Err(FieldError::new(field, "must be at least 10 characters"));
    }
    if len > 200 {
        return Err(FieldError::new(field, "must be at most 200 characters"));
    }
    Ok(value.to_string())
}

fn postcode_pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        // The shape of every UK postcode (including BFPO-free special cases like GIR 0AA).
        Regex::new(r"^(GIR0AA|[A-PR-UWYZ](?:[0-9][0-9]?|[A-HK-Y][0-9][0-9]?|[0-9][A-HJKPSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY])[0-9][ABD-HJLNP-UW-Z]{2})$")
            .expect("the postcode pattern is a valid regular expression")
    })
}

/// A full UK postcode, normalised to upper case with one space before the inward code.
pub fn postcode(field: &str, value: &str) -> Result<String, FieldError> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    if compact.len() > 8 || !postcode_pattern().is_match(&compact) {
        return Err(FieldError::new(field, "must be a UK postcode such as SW19 2HR"));
    }
    let (outward, inward) = compact.split_at(compact.len() - 3);
    Ok(format!("{outward} {inward}"))
}

pub const MAX_AGE: i32 = 25;

pub fn age(field: &str, value: i32) -> Result<i32, FieldError> {
    if (0..=MAX_AGE).contains(&value) {
        Ok(value)
    } else {
        Err(FieldError::new(field, format!("must be an age from 0 to {MAX_AGE}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_plain_ascii_addresses() {
        assert_eq!(email("e", " Club@Example.org ").unwrap(), "club@example.org");
        assert_eq!(
            email("e", "first.last+tag@mail.example.co.uk").unwrap(),
            "first.last+tag@mail.example.co.uk"
        );
        for bad in [
            "club",
            "@x.org",
            "a..b@x.org",
            "mailto:a@x.org",
            "info@my_club.org",
            "josé@x.org",
            "a@x",
            "a@-x.org",
            "a b@x.org",
            "\u{200b}a@x.org",
        ] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn web_addresses_are_uris_readers_accept() {
        assert_eq!(web_address("w", "https://example.org").unwrap(), "https://example.org/");
        assert_eq!(
            web_address("w", "https://www.café.org/a b").unwrap(),
            "https://www.xn--caf-dma.org/a%20b"
        );
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "https://localhost/",
            "https://x.org/a|b",
            "https://x.org/100%",
            "www.x.org",
            "https://x.org/#a#b",
        ] {
            assert!(web_address("w", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postcodes_are_normalised_or_refused() {
        assert_eq!(postcode("p", "sw19 2hr").unwrap(), "SW19 2HR");
        assert_eq!(postcode("p", "SW192HR").unwrap(), "SW19 2HR");
        assert_eq!(postcode("p", " cr4  3aa ").unwrap(), "CR4 3AA");
        assert_eq!(postcode("p", "EC1A 1BB").unwrap(), "EC1A 1BB");
        assert_eq!(postcode("p", "W1A 0AX").unwrap(), "W1A 0AX");
        assert_eq!(postcode("p", "M1 1AE").unwrap(), "M1 1AE");
        for bad in [
            "",
            "SW19",
            "12345",
            "SW19 2H",
            "QW1 1AA",
            "SW19 2HRX",
            "not a postcode",
            "SW19 2CI",
        ] {
            let e = postcode("location.postcode", bad).unwrap_err();
            assert_eq!(e.field, "location.postcode");
        }
    }

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("name", "  Club ", 1, 10).unwrap(), "Club");
        assert_eq!(text("name", "   ", 1, 10).unwrap_err().message, "must not be empty");
        assert!(text("name", &"x".repeat(11), 1, 10).is_err());
        assert!(text("name", "bell\u{7}", 1, 10).is_err());
        assert_eq!(optional_text("x", Some("  "), 5).unwrap(), None);
    }

    #[test]
    fn emails_and_passwords() {
        assert_eq!(email("e", "Ann@Example.ORG").unwrap(), "ann@example.org");
        for bad in ["ann", "ann@", "@x.org", "ann@org", "a b@x.org", "a@b@c.org", "a@x.org."] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
        assert!(password("p", "short").is_err());
        assert!(password("p", "long enough pass").is_ok());
    }

    #[test]
    fn checker_collects_every_error() {
        let mut c = Checker::new();
        assert_eq!(c.take(age("min_age", 30)), None);
        assert_eq!(c.take(age("max_age", 3)), Some(3));
        c.add("name", "must not be empty");
        let err = c.finish(|| ()).unwrap_err();
        assert_eq!(err.0.len(), 2);
        assert_eq!(err.0[0].field, "min_age");
    }
}
