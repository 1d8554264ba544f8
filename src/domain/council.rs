//! What a council decides for its own area.

use serde::Deserialize;

/// A council's settings; a council that never changed them has the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CouncilSettings {
    /// Whether its families may book providers no council has verified (true: today's behaviour).
    pub unverified_bookable: bool,
}

impl Default for CouncilSettings {
    fn default() -> CouncilSettings {
        CouncilSettings {
            unverified_bookable: true,
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
        };
        assert_eq!(SettingsInput::default().apply(strict), strict);
        let relaxed = SettingsInput {
            unverified_bookable: Some(true),
        };
        assert_eq!(relaxed.apply(strict), CouncilSettings::default());
    }
}
