//! What a council decides for its own area.

use chrono::NaiveDate;
use serde::Deserialize;

use super::invoice::InvoicePeriod;
use super::spending::AuditRule;

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
}

impl SettingsInput {
    pub fn apply(&self, current: CouncilSettings) -> CouncilSettings {
        CouncilSettings {
            unverified_bookable: self.unverified_bookable.unwrap_or(current.unverified_bookable),
            ..current
        }
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
        assert_eq!(SettingsInput::default().apply(strict), strict);
        let relaxed = SettingsInput {
            unverified_bookable: Some(true),
        };
        assert_eq!(relaxed.apply(strict), CouncilSettings::default());
    }
}
