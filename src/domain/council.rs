//! What a council decides for its own area.

use chrono::NaiveDate;
use serde::Deserialize;

use super::invoice::InvoicePeriod;
use super::money::Pence;
use super::spending::AuditRule;
use super::validate::Invalid;

/// A council's settings; a council that never changed them has the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CouncilSettings {
    /// Whether its families may book providers no council has verified (true: today's behaviour).
    pub unverified_bookable: bool,
    /// How delivered sessions are grouped into invoices.
    pub invoice_period: InvoicePeriod,
    /// The first day of a four-weekly period (any four-weekly period starts 28n days from it).
    pub period_anchor: NaiveDate,
    /// Which direct-payment spending goes to the council's audit queue.
    pub audit: AuditRule,
}

/// The Monday the 2026-27 tax year starts on.
pub fn default_period_anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 4, 6).unwrap_or_default()
}

impl Default for CouncilSettings {
    fn default() -> CouncilSettings {
        CouncilSettings {
            unverified_bookable: true,
            invoice_period: InvoicePeriod::CalendarMonth,
            period_anchor: default_period_anchor(),
            audit: AuditRule::default(),
        }
    }
}

/// A change of settings: a field left out keeps its value.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    #[serde(default)]
    pub unverified_bookable: Option<bool>,
    #[serde(default)]
    pub invoice_period: Option<InvoicePeriod>,
    #[serde(default)]
    pub period_anchor: Option<NaiveDate>,
    /// Direct-payment spending over this goes to the audit queue.
    #[serde(default)]
    pub audit_over: Option<Pence>,
    /// The share (0 to 100) of the rest that goes there too.
    #[serde(default)]
    pub audit_sample_percent: Option<i32>,
}

impl SettingsInput {
    /// The settings with this change made; what it leaves out keeps its value.
    pub fn apply(&self, current: CouncilSettings) -> Result<CouncilSettings, Invalid> {
        if let Some(p) = self.audit_sample_percent
            && !(0..=100).contains(&p)
        {
            return Err(Invalid::one("audit_sample_percent", "must be from 0 to 100"));
        }
        Ok(CouncilSettings {
            unverified_bookable: self.unverified_bookable.unwrap_or(current.unverified_bookable),
            invoice_period: self.invoice_period.unwrap_or(current.invoice_period),
            period_anchor: self.period_anchor.unwrap_or(current.period_anchor),
            audit: AuditRule {
                over: self.audit_over.unwrap_or(current.audit.over),
                percent: self.audit_sample_percent.unwrap_or(current.audit.percent),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_leaves_out_what_it_does_not_name() {
        let strict = CouncilSettings {
            unverified_bookable: false,
            ..CouncilSettings::default()
        };
        assert_eq!(SettingsInput::default().apply(strict), Ok(strict));
        let relaxed = SettingsInput {
            unverified_bookable: Some(true),
            ..SettingsInput::default()
        };
        assert_eq!(relaxed.apply(strict), Ok(CouncilSettings::default()));
    }

    #[test]
    fn the_audit_share_is_a_percentage() {
        let wild = SettingsInput {
            audit_sample_percent: Some(101),
            ..SettingsInput::default()
        };
        assert!(wild.apply(CouncilSettings::default()).is_err());
        let monthly = SettingsInput {
            invoice_period: Some(InvoicePeriod::FourWeekly),
            audit_sample_percent: Some(100),
            ..SettingsInput::default()
        };
        let s = monthly.apply(CouncilSettings::default()).unwrap();
        assert_eq!(s.invoice_period, InvoicePeriod::FourWeekly);
        assert_eq!(s.audit.percent, 100);
    }
}
