//! Multipart bodies (a spending record with its receipt), read the same way by both front doors.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, web};

use crate::domain::spending::{MAX_RECEIPT_BYTES, SpendingInput};
use crate::domain::validate::Invalid;

/// Why a multipart body was not read.
pub enum Unreadable {
    /// A field that cannot be accepted (a receipt over its cap, a field too long or not text).
    Invalid(Invalid),
    /// Not a multipart body at all, or a broken one.
    Body(String),
}

impl From<Invalid> for Unreadable {
    fn from(e: Invalid) -> Unreadable {
        Unreadable::Invalid(e)
    }
}

/// The text fields' cap: nothing here is longer than a few hundred characters.
const MAX_TEXT_FIELD: usize = 16 * 1024;
/// More fields than a spending record has, with room for a form's own.
const MAX_FIELDS: usize = 16;

/// Read a spending record from a multipart body, the receipt kept in memory up to its cap (the
/// rest of an oversized one is read and dropped, so the answer reaches the client). Fields not
/// in a spending record come back for the caller (a form's CSRF token).
pub async fn read_spending(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<(SpendingInput, Vec<(String, String)>), Unreadable> {
    let mut form = Multipart::new(req.headers(), payload);
    let mut input = SpendingInput::default();
    let mut extra = Vec::new();
    let mut fields = 0;
    loop {
        let next = std::future::poll_fn(|cx| futures_core::Stream::poll_next(std::pin::Pin::new(&mut form), cx)).await;
        let mut field = match next {
            None => break,
            Some(Ok(field)) => field,
            Some(Err(e)) => {
                return Err(Unreadable::Body(format!("not a multipart/form-data body: {e}")));
            }
        };
        fields += 1;
        if fields > MAX_FIELDS {
            return Err(Unreadable::Body("too many fields in the form".into()));
        }
        let name = field.name().unwrap_or_default().to_string();
        let bytes = field_bytes(&mut field, &name).await?;
        if name == "receipt" {
            input.receipt = Some(bytes.to_vec());
            continue;
        }
        let value =
            String::from_utf8(bytes.to_vec()).map_err(|_| Invalid::one(name.clone(), "must be text (UTF-8)"))?;
        extra.extend(input.set(name, value));
    }
    Ok((input, extra))
}

/// One field's bytes, up to its cap: a receipt's 5 MB, or a text field's.
async fn field_bytes(field: &mut actix_multipart::Field, name: &str) -> Result<web::Bytes, Unreadable> {
    let limit = if name == "receipt" {
        MAX_RECEIPT_BYTES
    } else {
        MAX_TEXT_FIELD
    };
    match field.bytes(limit).await {
        Err(_) if name == "receipt" => Err(Invalid::one("receipt", "must be at most 5 MB").into()),
        Err(_) => Err(Invalid::one(name, "is too long").into()),
        Ok(Err(e)) => Err(Unreadable::Body(e.to_string())),
        Ok(Ok(bytes)) => Ok(bytes),
    }
}
