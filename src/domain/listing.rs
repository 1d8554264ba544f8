//! A provider in a council's Local Offer. Each council verifies and suspends for itself: a
//! provider may be listed by several councils, and one council's decision binds only its own
//! families and its own searches. The directory as a whole (anonymous search, the Open Referral
//! feed) drops a provider only when every council that lists it has suspended it.

use super::{OrganisationStatus, RuleError, text_enum};

text_enum!(
    /// Where a provider stands in one council's Local Offer.
    ListingStatus { Listed = "listed", Verified = "verified", Suspended = "suspended" }
);

/// What an officer does to its own council's listing of a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListingAction {
    Verify,
    Suspend,
    Reinstate,
}

/// The listing after `action`, from the council's current listing (None: not listed yet).
/// Verifying or suspending lists a provider the council had not listed; reinstating lifts only
/// the council's own suspension, back to verified when the council had verified it.
pub fn apply(
    action: ListingAction,
    current: Option<ListingStatus>,
    was_verified: bool,
) -> Result<ListingStatus, RuleError> {
    match (action, current) {
        (ListingAction::Verify, _) => Ok(ListingStatus::Verified),
        (ListingAction::Suspend, _) => Ok(ListingStatus::Suspended),
        (ListingAction::Reinstate, Some(ListingStatus::Suspended)) if was_verified => Ok(ListingStatus::Verified),
        (ListingAction::Reinstate, Some(ListingStatus::Suspended)) => Ok(ListingStatus::Listed),
        (ListingAction::Reinstate, Some(status)) => Ok(status),
        (ListingAction::Reinstate, None) => Err(RuleError::conflict(
            "not_listed",
            "your council has not listed this provider, so there is no suspension of yours to lift",
            None,
        )),
    }
}

/// The provider as the whole directory shows it: suspended only when every council that lists it
/// has suspended it; verified when some council has verified it.
pub fn directory_status(listings: &[ListingStatus]) -> OrganisationStatus {
    if !listings.is_empty() && listings.iter().all(|l| *l == ListingStatus::Suspended) {
        OrganisationStatus::Suspended
    } else if listings.contains(&ListingStatus::Verified) {
        OrganisationStatus::Verified
    } else {
        OrganisationStatus::Unverified
    }
}

/// The provider as one council's officers see it in their own Local Offer.
pub fn council_status(own: Option<ListingStatus>) -> OrganisationStatus {
    match own {
        Some(ListingStatus::Verified) => OrganisationStatus::Verified,
        Some(ListingStatus::Suspended) => OrganisationStatus::Suspended,
        Some(ListingStatus::Listed) | None => OrganisationStatus::Unverified,
    }
}

/// Whether a council's families are kept from a provider: its own suspension decides; a council
/// that does not list the provider follows the directory (suspended by every council listing it).
/// The search index holds the same rule as its `suspended_by` field.
pub fn suspended_for(own: Option<ListingStatus>, directory: OrganisationStatus) -> bool {
    match own {
        Some(status) => status == ListingStatus::Suspended,
        None => directory == OrganisationStatus::Suspended,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ListingStatus::*;

    #[test]
    fn a_provider_leaves_the_directory_only_when_every_listing_council_suspends_it() {
        assert_eq!(directory_status(&[]), OrganisationStatus::Unverified);
        assert_eq!(directory_status(&[Suspended, Verified]), OrganisationStatus::Verified);
        assert_eq!(directory_status(&[Suspended, Listed]), OrganisationStatus::Unverified);
        assert_eq!(directory_status(&[Suspended, Suspended]), OrganisationStatus::Suspended);
    }

    #[test]
    fn a_councils_own_listing_decides_for_its_families() {
        // Another council's suspension binds nobody else.
        assert!(!suspended_for(Some(Verified), OrganisationStatus::Verified));
        assert!(suspended_for(Some(Suspended), OrganisationStatus::Verified));
        // Not listed: the directory decides.
        assert!(!suspended_for(None, OrganisationStatus::Unverified));
        assert!(suspended_for(None, OrganisationStatus::Suspended));
    }

    #[test]
    fn reinstating_lifts_only_the_councils_own_suspension() {
        assert_eq!(apply(ListingAction::Verify, None, false), Ok(Verified));
        assert_eq!(apply(ListingAction::Suspend, Some(Verified), true), Ok(Suspended));
        assert_eq!(apply(ListingAction::Reinstate, Some(Suspended), true), Ok(Verified));
        assert_eq!(apply(ListingAction::Reinstate, Some(Suspended), false), Ok(Listed));
        assert_eq!(apply(ListingAction::Reinstate, Some(Verified), true), Ok(Verified));
        assert!(apply(ListingAction::Reinstate, None, false).is_err());
    }
}
