//! The second factor's rules: RFC 6238 codes (HMAC-SHA-1, 6 digits, 30-second steps, one step of
//! clock skew either way), a step used once is never accepted again, single-use recovery codes.

use sha2::{Digest, Sha256};
use totp_rs::{Builder, Secret, Totp};

use super::Role;

/// The name authenticator apps show beside the account.
pub const ISSUER: &str = "localoffer";
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Bytes of a new secret: 160 bits, as RFC 4226 recommends.
pub const SECRET_BYTES: usize = 20;
/// Characters of a recovery code, without look-alikes (0/o, 1/l/i).
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// A recovery code's characters (shown in three groups of four): about 59 bits.
pub const RECOVERY_LENGTH: usize = 12;

/// Council officers and brokers see many children's plans: they must have a second factor.
pub fn required_for(role: Role) -> bool {
    matches!(role, Role::Council | Role::Broker)
}

fn totp(secret: &[u8], account: &str) -> Option<Totp> {
    Builder::new()
        .with_secret(secret.to_vec())
        .with_account_name(account.replace(':', ""))
        .with_issuer(Some(ISSUER))
        .build()
        .ok()
}

/// A secret as people type it into an app (base32, no padding).
pub fn encode_secret(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// A base32 secret back to bytes; spaces and case are forgiven. `None` when it is not base32 or
/// shorter than RFC 4226's 128 bits.
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bytes = Secret::try_from_base32(cleaned.trim_end_matches('='))
        .ok()?
        .as_bytes()
        .to_vec();
    (bytes.len() >= 16).then_some(bytes)
}

/// The `otpauth://totp/...` address an authenticator app reads (as a link or a QR code).
pub fn otpauth_uri(secret: &[u8], account: &str) -> Option<String> {
    totp(secret, account)?.to_url().ok()
}

/// The code for the step `unix` (seconds since 1970) falls in.
pub fn code_at(secret: &[u8], unix: u64) -> Option<String> {
    Some(totp(secret, "")?.generate(unix).to_string())
}

/// The step a six-digit code belongs to, if it is right at `unix` give or take one step.
pub fn matching_step(secret: &[u8], code: &str, unix: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "")?.check(&code, unix)
}

/// A code is accepted only in a step later than the last one accepted (RFC 6238 section 5.2),
/// so a code seen over someone's shoulder cannot be used again.
pub fn fresh(step: u64, last_used: Option<u64>) -> bool {
    last_used.is_none_or(|last| step > last)
}

/// What was typed in the code box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Six digits from the app.
    Code(String),
    /// A recovery code, normalised (lower case, no spaces or hyphens).
    Recovery(String),
    Malformed,
}

pub fn read_answer(typed: &str) -> Answer {
    let squeezed: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if squeezed.len() == 6 && squeezed.bytes().all(|b| b.is_ascii_digit()) {
        Answer::Code(squeezed)
    } else if squeezed.len() == RECOVERY_LENGTH && squeezed.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        Answer::Recovery(squeezed)
    } else {
        Answer::Malformed
    }
}

/// A recovery code from random bytes, shown as `abcd-efgh-jkmn`.
pub fn recovery_code(random: [u8; RECOVERY_LENGTH]) -> String {
    let chars: Vec<char> = random
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(*b) % RECOVERY_ALPHABET.len()]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// What is stored of a recovery code (normalised as [`read_answer`] does).
pub fn recovery_hash(normalised: &str) -> String {
    super::hex(&Sha256::digest(format!("totp-recovery:{normalised}").as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret ("12345678901234567890") and its 8-digit vectors, whose
    /// last six digits are the 6-digit codes.
    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, time).as_deref(), Some(&eight[2..]), "at {time}");
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let t = 1_234_567_890;
        let code = code_at(RFC_SECRET, t).unwrap();
        let step = t / 30;
        assert_eq!(matching_step(RFC_SECRET, &code, t), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, t + 30), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, t - 30), Some(step));
        assert_eq!(matching_step(RFC_SECRET, &code, t + 90), None);
        assert_eq!(matching_step(RFC_SECRET, "12345", t), None);
        assert_eq!(matching_step(RFC_SECRET, "abcdef", t), None);
    }

    #[test]
    fn a_step_is_used_once() {
        assert!(fresh(10, None));
        assert!(fresh(11, Some(10)));
        assert!(!fresh(10, Some(10)));
        assert!(!fresh(9, Some(10)));
    }

    #[test]
    fn secrets_round_trip_through_base32_and_the_uri_names_the_issuer() {
        let secret = [7u8; SECRET_BYTES];
        let text = encode_secret(&secret);
        assert_eq!(decode_secret(&text.to_lowercase()), Some(secret.to_vec()));
        assert_eq!(decode_secret("not base32!"), None);
        assert_eq!(decode_secret("AAAA"), None, "too short");
        let uri = otpauth_uri(&secret, "officer@merton.example").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/localoffer:officer%40merton.example?"),
            "{uri}"
        );
        assert!(
            uri.contains(&format!("secret={text}")) && uri.contains("issuer=localoffer"),
            "{uri}"
        );
    }

    #[test]
    fn answers_are_codes_recovery_codes_or_neither() {
        assert_eq!(read_answer(" 123 456 "), Answer::Code("123456".into()));
        let made = recovery_code([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 30]);
        assert_eq!(made, "abcd-efgh-jkm9");
        assert_eq!(
            read_answer(&made.to_uppercase()),
            Answer::Recovery("abcdefghjkm9".into())
        );
        assert_eq!(read_answer("1234567"), Answer::Malformed);
        assert_eq!(
            read_answer("abcd-efgh-jkm0"),
            Answer::Malformed,
            "0 is not in the alphabet"
        );
        assert_ne!(recovery_hash("abcdefghjkm9"), recovery_hash("abcdefghjkm8"));
    }
}
