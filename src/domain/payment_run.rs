//! Paying providers: their invoicing settings and bank details (checked and masked), payment
//! runs of approved invoices, and the rows of the CSV a council's finance system takes.

use chrono::NaiveDate;

use super::invoice::MAX_PAYMENT_TERMS_DAYS;
use super::text_enum;
use super::validate::{Checker, FieldError, Invalid, optional_text, text};
use super::{Pence, RuleError};

text_enum!(
    /// A payment run from its making to the council's finance system paying it.
    PaymentRunStatus { Open = "open", Paid = "paid" }
);

/// The highest VAT rate a provider may set, in basis points (25%).
pub const MAX_VAT_RATE_BP: i32 = 2500;
/// A BACS payment reference is at most 18 characters.
pub const MAX_PAYMENT_REFERENCE_CHARS: usize = 18;
pub const MAX_ACCOUNT_NAME_CHARS: usize = 70;
pub const MAX_PAID_REFERENCE_CHARS: usize = 100;

/// A provider's invoicing settings as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoicingSettings {
    pub vat_number: Option<String>,
    pub vat_rate_bp: i32,
    pub payment_terms_days: i32,
}

/// A change to the settings: a field left out keeps its value; `vat_number: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoicingInput {
    pub vat_number: Option<Option<String>>,
    pub vat_rate_bp: Option<i32>,
    pub payment_terms_days: Option<i32>,
}

/// A UK VAT registration number: `GB` (or `XI`, Northern Ireland) and 9 or 12 digits, spaces
/// allowed; stored upper-case without spaces, with `GB` when no prefix was given.
pub fn vat_number(field: &str, value: &str) -> Result<String, FieldError> {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let (prefix, digits) = match compact.get(..2) {
        Some(p @ ("GB" | "XI")) => (p, &compact[2..]),
        _ => ("GB", compact.as_str()),
    };
    if (digits.len() == 9 || digits.len() == 12) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(format!("{prefix}{digits}"))
    } else {
        Err(FieldError::new(
            field,
            "must be a UK VAT number such as GB123456789 (9 or 12 digits)",
        ))
    }
}

impl InvoicingInput {
    /// The settings after this change, every problem named by its field. Clearing the VAT number
    /// sets the rate to 0 unless a rate is given (which must then be 0).
    pub fn apply(&self, current: &InvoicingSettings) -> Result<InvoicingSettings, Invalid> {
        let mut check = Checker::new();
        let mut vat_refused = false;
        let vat_number = match &self.vat_number {
            None => current.vat_number.clone(),
            Some(None) => None,
            Some(Some(v)) if v.trim().is_empty() => None,
            Some(Some(v)) => {
                let checked = check.take(vat_number("vat_number", v));
                vat_refused = checked.is_none();
                checked
            }
        };
        let rate = match self.vat_rate_bp {
            Some(r) if !(0..=MAX_VAT_RATE_BP).contains(&r) => {
                check.add(
                    "vat_rate_bp",
                    format!("must be from 0 to {MAX_VAT_RATE_BP} (basis points: 2000 is 20%)"),
                );
                0
            }
            Some(r) => r,
            None if vat_number.is_none() => 0,
            None => current.vat_rate_bp,
        };
        if vat_number.is_none() && rate != 0 && !vat_refused {
            check.add("vat_rate_bp", "must be 0 without a VAT number");
        }
        let terms = self.payment_terms_days.unwrap_or(current.payment_terms_days);
        if !(0..=MAX_PAYMENT_TERMS_DAYS).contains(&terms) {
            check.add(
                "payment_terms_days",
                format!("must be from 0 to {MAX_PAYMENT_TERMS_DAYS} days"),
            );
        }
        check.finish(|| InvoicingSettings {
            vat_number,
            vat_rate_bp: rate,
            payment_terms_days: terms,
        })
    }
}

/// Bank details as a provider types them.
#[derive(Debug, Clone, Default)]
pub struct BankDetailsInput {
    pub account_name: String,
    pub sort_code: String,
    pub account_number: String,
    pub payment_reference: Option<String>,
}

/// Bank details checked: the sort code and account number as bare digits.
#[derive(Clone, PartialEq, Eq)]
pub struct BankDetails {
    pub account_name: String,
    /// Six digits.
    pub sort_code: String,
    /// Eight digits.
    pub account_number: String,
    pub payment_reference: String,
}

/// The numbers never reach a log by accident.
impl std::fmt::Debug for BankDetails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BankDetails")
            .field("account_name", &self.account_name)
            .field("sort_code", &mask_sort_code(&self.sort_code))
            .field("account_number", &mask_account_number(&self.account_number))
            .field("payment_reference", &self.payment_reference)
            .finish()
    }
}

fn digits_only(field: &str, value: &str, len: usize, separators: &[char], what: &str) -> Result<String, FieldError> {
    let kept: String = value.trim().chars().filter(|c| !separators.contains(c)).collect();
    if kept.len() == len && kept.bytes().all(|b| b.is_ascii_digit()) {
        Ok(kept)
    } else {
        Err(FieldError::new(field, what))
    }
}

/// A BACS reference: letters, digits, spaces and `. - / &`.
fn payment_reference(field: &str, value: Option<&str>) -> Result<String, FieldError> {
    let Some(v) = optional_text(field, value, MAX_PAYMENT_REFERENCE_CHARS)? else {
        return Ok(String::new());
    };
    if v.chars().all(|c| c.is_ascii_alphanumeric() || " .-/&".contains(c)) {
        Ok(v)
    } else {
        Err(FieldError::new(
            field,
            "may hold only letters, digits, spaces and . - / &",
        ))
    }
}

impl BankDetailsInput {
    pub fn validate(&self) -> Result<BankDetails, Invalid> {
        let mut check = Checker::new();
        let account_name = check.take(text("account_name", &self.account_name, 1, MAX_ACCOUNT_NAME_CHARS));
        let sort_code = check.take(digits_only(
            "sort_code",
            &self.sort_code,
            6,
            &['-', ' '],
            "must be six digits, such as 12-34-56",
        ));
        let account_number = check.take(digits_only(
            "account_number",
            &self.account_number,
            8,
            &[' '],
            "must be eight digits",
        ));
        let reference = check.take(payment_reference(
            "payment_reference",
            self.payment_reference.as_deref(),
        ));
        check.finish(|| BankDetails {
            account_name: account_name.unwrap_or_default(),
            sort_code: sort_code.unwrap_or_default(),
            account_number: account_number.unwrap_or_default(),
            payment_reference: reference.unwrap_or_default(),
        })
    }
}

/// "12-34-56".
pub fn format_sort_code(digits: &str) -> String {
    match (digits.get(0..2), digits.get(2..4), digits.get(4..6)) {
        (Some(a), Some(b), Some(c)) if digits.len() == 6 => format!("{a}-{b}-{c}"),
        _ => digits.to_string(),
    }
}

/// "**-**-56": only the last two digits shown.
pub fn mask_sort_code(digits: &str) -> String {
    let last = digits.get(digits.len().saturating_sub(2)..).unwrap_or_default();
    format!("**-**-{last}")
}

/// The last four digits of an account number, the only part kept in the clear.
pub fn last_digits(account_number: &str) -> String {
    account_number
        .get(account_number.len().saturating_sub(4)..)
        .unwrap_or_default()
        .to_string()
}

/// "****1234".
pub fn mask_account_number(digits: &str) -> String {
    format!("****{}", last_digits(digits))
}

/// The columns of a payment run's CSV, in order.
pub const CSV_HEADER: [&str; 8] = [
    "payee",
    "account_name",
    "sort_code",
    "account_number",
    "payment_reference",
    "invoice_number",
    "amount",
    "due_on",
];

/// One payment of a run as its CSV row.
#[derive(Debug, Clone)]
pub struct Payment<'a> {
    pub payee: &'a str,
    pub bank: &'a BankDetails,
    pub invoice_number: &'a str,
    pub amount: Pence,
    pub due_on: Option<NaiveDate>,
}

impl Payment<'_> {
    /// The row as the finance system reads it: the sort code as 12-34-56, the amount in pounds
    /// with two decimals, the provider's payment reference (its invoice number when it set none).
    /// The caller makes each cell safe for a spreadsheet as every CSV export does.
    pub fn csv_row(&self) -> [String; 8] {
        let reference = if self.bank.payment_reference.is_empty() {
            self.invoice_number
        } else {
            self.bank.payment_reference.as_str()
        };
        [
            self.payee.to_string(),
            self.bank.account_name.clone(),
            format_sort_code(&self.bank.sort_code),
            self.bank.account_number.clone(),
            reference.to_string(),
            self.invoice_number.to_string(),
            self.amount.to_string(),
            self.due_on.map(|d| d.to_string()).unwrap_or_default(),
        ]
    }
}

/// Marking a run paid: the date finance paid it (not before the run was made, not in the future)
/// and its reference (the run's own when none is given).
pub fn check_paid(
    paid_on: NaiveDate,
    reference: Option<&str>,
    made_on: NaiveDate,
    today: NaiveDate,
) -> Result<Option<String>, RuleError> {
    let mut check = Checker::new();
    if paid_on > today {
        check.add("paid_on", "must not be in the future");
    } else if paid_on < made_on {
        check.add("paid_on", format!("must not be before the run was made ({made_on})"));
    }
    let reference = check.take(optional_text("reference", reference, MAX_PAID_REFERENCE_CHARS));
    Ok(check.finish(|| reference.flatten())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vat: Option<&str>, rate: i32, terms: i32) -> InvoicingSettings {
        InvoicingSettings {
            vat_number: vat.map(str::to_string),
            vat_rate_bp: rate,
            payment_terms_days: terms,
        }
    }

    fn fields(e: Invalid) -> Vec<String> {
        e.0.into_iter().map(|f| f.field).collect()
    }

    #[test]
    fn vat_numbers_are_checked_and_kept_compact() {
        assert_eq!(vat_number("v", "gb 123 4567 89").unwrap(), "GB123456789");
        assert_eq!(vat_number("v", "123456789").unwrap(), "GB123456789");
        assert_eq!(vat_number("v", "XI123456789012").unwrap(), "XI123456789012");
        assert!(vat_number("v", "GB12345").is_err());
        assert!(vat_number("v", "FR123456789").is_err());
    }

    #[test]
    fn a_rate_needs_a_vat_number() {
        let exempt = settings(None, 0, 30);
        let with_rate = InvoicingInput {
            vat_rate_bp: Some(2000),
            ..Default::default()
        };
        assert_eq!(fields(with_rate.apply(&exempt).unwrap_err()), ["vat_rate_bp"]);
        let registered = InvoicingInput {
            vat_number: Some(Some("GB123456789".into())),
            vat_rate_bp: Some(2000),
            payment_terms_days: Some(14),
        };
        assert_eq!(
            registered.apply(&exempt).unwrap(),
            settings(Some("GB123456789"), 2000, 14)
        );
        // Clearing the number clears the rate it had, unless a rate is given.
        let now = settings(Some("GB123456789"), 2000, 14);
        let cleared = InvoicingInput {
            vat_number: Some(None),
            ..Default::default()
        };
        assert_eq!(cleared.apply(&now).unwrap(), settings(None, 0, 14));
        let cleared_with_rate = InvoicingInput {
            vat_number: Some(None),
            vat_rate_bp: Some(500),
            ..Default::default()
        };
        assert_eq!(fields(cleared_with_rate.apply(&now).unwrap_err()), ["vat_rate_bp"]);
        // Left out, a field keeps its value.
        assert_eq!(InvoicingInput::default().apply(&now).unwrap(), now);
    }

    #[test]
    fn rates_and_terms_have_limits() {
        let now = settings(Some("GB123456789"), 2000, 30);
        let bad = InvoicingInput {
            vat_rate_bp: Some(2501),
            payment_terms_days: Some(121),
            ..Default::default()
        };
        assert_eq!(
            fields(bad.apply(&now).unwrap_err()),
            ["vat_rate_bp", "payment_terms_days"]
        );
        let negative = InvoicingInput {
            payment_terms_days: Some(-1),
            ..Default::default()
        };
        assert_eq!(fields(negative.apply(&now).unwrap_err()), ["payment_terms_days"]);
        let edge = InvoicingInput {
            vat_rate_bp: Some(2500),
            payment_terms_days: Some(120),
            ..Default::default()
        };
        assert!(edge.apply(&now).is_ok());
    }

    fn input(sort: &str, account: &str) -> BankDetailsInput {
        BankDetailsInput {
            account_name: "Wandle Club".into(),
            sort_code: sort.into(),
            account_number: account.into(),
            payment_reference: None,
        }
    }

    #[test]
    fn bank_details_are_digits() {
        let ok = input("12-34-56", "12345678").validate().unwrap();
        assert_eq!(
            (ok.sort_code.as_str(), ok.account_number.as_str()),
            ("123456", "12345678")
        );
        assert_eq!(input("123456", "1234 5678").validate().unwrap().sort_code, "123456");
        assert_eq!(
            fields(input("12-34-5", "1234567").validate().unwrap_err()),
            ["sort_code", "account_number"]
        );
        assert_eq!(
            fields(input("12a456", "123456789").validate().unwrap_err()),
            ["sort_code", "account_number"]
        );
        let mut no_name = input("123456", "12345678");
        no_name.account_name = " ".into();
        no_name.payment_reference = Some("=HYPERLINK(x)".into());
        assert_eq!(
            fields(no_name.validate().unwrap_err()),
            ["account_name", "payment_reference"]
        );
    }

    #[test]
    fn masks_show_only_the_last_digits() {
        assert_eq!(mask_sort_code("123456"), "**-**-56");
        assert_eq!(mask_account_number("12345678"), "****5678");
        assert_eq!(last_digits("12345678"), "5678");
        assert_eq!(format_sort_code("123456"), "12-34-56");
        let details = input("123456", "12345678").validate().unwrap();
        let shown = format!("{details:?}");
        assert!(!shown.contains("12345678") && !shown.contains("123456\""), "{shown}");
    }

    #[test]
    fn a_csv_row_has_the_unmasked_numbers_and_pounds() {
        let mut bank = input("123456", "00012345").validate().unwrap();
        let payment = Payment {
            payee: "=Evil Ltd",
            bank: &bank,
            invoice_number: "INV-000001",
            amount: Pence::from_stored(12_345),
            due_on: NaiveDate::from_ymd_opt(2027, 1, 2),
        };
        assert_eq!(
            payment.csv_row(),
            [
                "=Evil Ltd",
                "Wandle Club",
                "12-34-56",
                "00012345",
                "INV-000001",
                "INV-000001",
                "123.45",
                "2027-01-02"
            ]
        );
        assert_eq!(CSV_HEADER.len(), payment.csv_row().len());
        bank.payment_reference = "WANDLE 7".into();
        let payment = Payment {
            payee: "Wandle Club",
            bank: &bank,
            invoice_number: "INV-000001",
            amount: Pence::from_stored(12_345),
            due_on: None,
        };
        assert_eq!(payment.csv_row()[4], "WANDLE 7");
    }

    #[test]
    fn a_run_is_paid_on_a_date_that_makes_sense() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (made, today) = (d("2026-12-01"), d("2026-12-03"));
        assert_eq!(check_paid(d("2026-12-02"), None, made, today).unwrap(), None);
        assert_eq!(
            check_paid(d("2026-12-03"), Some(" BACS 991 "), made, today).unwrap(),
            Some("BACS 991".into())
        );
        assert!(check_paid(d("2026-12-04"), None, made, today).is_err());
        assert!(check_paid(d("2026-11-30"), None, made, today).is_err());
    }
}
