//! Who may see and do what (rule 7). Every use case asks these questions of the facts it loaded;
//! nothing here reads the database.

use super::personal_budget::{Permission, Permissions};
use super::{CouncilId, OrganisationId, Role, RuleError, UserId};

/// Who is asking: resolved from a session token on every request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub council_id: Option<CouncilId>,
    /// What a council user may do beyond reading its council's records; empty for other roles.
    pub permissions: Permissions,
    /// The route template the request came through (`GET /api/v1/budget-holders/{id}`), set by
    /// the front door for the access record; never a URL with values in it.
    pub via: Option<String>,
}

/// Whose a plan is: the council that made it, the family's login, and a broker if one manages it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanOwners {
    pub council: CouncilId,
    pub family: UserId,
    pub broker: Option<OrganisationId>,
}

/// Whose plans a list holds: one council's, one family's or one broker's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanScope {
    Council(CouncilId),
    Family(UserId),
    Broker(OrganisationId),
}

/// Whose bookings a list holds: a provider's, or those on the plans in a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingScope {
    Provider(OrganisationId),
    Plans(PlanScope),
}

impl Actor {
    /// The plans this actor may list; providers see none.
    pub fn plan_scope(&self) -> Option<PlanScope> {
        match self.role {
            Role::Family => Some(PlanScope::Family(self.user_id)),
            Role::Broker => self.organisation_id.map(PlanScope::Broker),
            Role::Council => self.council_id.map(PlanScope::Council),
            Role::Provider => None,
        }
    }

    /// The bookings this actor may list.
    pub fn booking_scope(&self) -> Option<BookingScope> {
        match self.role {
            Role::Provider => self.organisation_id.map(BookingScope::Provider),
            _ => self.plan_scope().map(BookingScope::Plans),
        }
    }

    /// Whose sessions this actor's calendar feed shows: a family's or a broker's booked places, or
    /// a provider's sessions. Councils have no calendar (they neither book nor run sessions).
    pub fn calendar_scope(&self) -> Option<BookingScope> {
        match self.role {
            Role::Council => None,
            _ => self.booking_scope(),
        }
    }

    /// The family, its broker and its council; nobody else.
    pub fn sees_plan(&self, plan: &PlanOwners) -> bool {
        match self.role {
            Role::Family => self.user_id == plan.family,
            Role::Broker => plan.broker.is_some() && plan.broker == self.organisation_id,
            Role::Council => self.council_id == Some(plan.council),
            Role::Provider => false,
        }
    }

    /// Whether this actor's reading or changing the plan goes in its access record: anyone's but
    /// its own family's.
    pub fn is_recorded_on(&self, plan: &PlanOwners) -> bool {
        !(self.role == Role::Family && self.user_id == plan.family)
    }

    /// Who may spend from a plan: the family and its broker (councils create plans, not bookings).
    pub fn spends_from(&self, plan: &PlanOwners) -> bool {
        matches!(self.role, Role::Family | Role::Broker) && self.sees_plan(plan)
    }

    /// Staff of this provider organisation.
    pub fn works_for(&self, organisation: OrganisationId) -> bool {
        self.role == Role::Provider && self.organisation_id == Some(organisation)
    }

    /// Published services are public; drafts and unpublished ones only to their own provider.
    pub fn sees_service(viewer: Option<&Actor>, owner: OrganisationId, published: bool) -> bool {
        published || viewer.is_some_and(|a| a.works_for(owner))
    }

    /// The council an officer acts for.
    pub fn council(&self) -> Option<CouncilId> {
        self.council_id.filter(|_| self.role == Role::Council)
    }

    /// The council of an officer who holds `permission`; 403 naming it otherwise.
    pub fn council_with(&self, permission: Permission) -> Result<CouncilId, RuleError> {
        let council = self
            .council()
            .ok_or_else(|| RuleError::forbidden(format!("you cannot do this as a {}", self.role)))?;
        if self.permissions.has(permission) {
            Ok(council)
        } else {
            Err(RuleError::forbidden(format!(
                "this needs the {permission} permission, which your council has not given you"
            )))
        }
    }

    /// The provider organisation a provider's staff act for.
    pub fn provider(&self) -> Option<OrganisationId> {
        self.organisation_id.filter(|_| self.role == Role::Provider)
    }
}

/// An actor to test rules with: no permissions, reached by no route.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    pub(crate) fn actor(role: Role, user: i64, organisation: Option<i64>, council: Option<i64>) -> Actor {
        Actor {
            user_id: UserId(user),
            role,
            organisation_id: organisation.map(OrganisationId),
            council_id: council.map(CouncilId),
            permissions: Permissions::default(),
            via: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::testing::actor;

    const PLAN: PlanOwners = PlanOwners {
        council: CouncilId(1),
        family: UserId(10),
        broker: Some(OrganisationId(7)),
    };

    #[test]
    fn families_brokers_and_providers_have_calendars_councils_do_not() {
        assert_eq!(
            actor(Role::Family, 10, None, None).calendar_scope(),
            Some(BookingScope::Plans(PlanScope::Family(UserId(10))))
        );
        assert_eq!(
            actor(Role::Broker, 20, Some(7), None).calendar_scope(),
            Some(BookingScope::Plans(PlanScope::Broker(OrganisationId(7))))
        );
        assert_eq!(
            actor(Role::Provider, 40, Some(7), None).calendar_scope(),
            Some(BookingScope::Provider(OrganisationId(7)))
        );
        assert_eq!(actor(Role::Council, 30, None, Some(1)).calendar_scope(), None);
    }

    #[test]
    fn a_plan_is_seen_by_its_family_broker_and_council_only() {
        assert!(actor(Role::Family, 10, None, None).sees_plan(&PLAN));
        assert!(!actor(Role::Family, 11, None, None).sees_plan(&PLAN));
        assert!(actor(Role::Broker, 20, Some(7), None).sees_plan(&PLAN));
        assert!(!actor(Role::Broker, 20, Some(8), None).sees_plan(&PLAN));
        assert!(actor(Role::Council, 30, None, Some(1)).sees_plan(&PLAN));
        assert!(!actor(Role::Council, 30, None, Some(2)).sees_plan(&PLAN));
        assert!(!actor(Role::Provider, 40, Some(7), Some(1)).sees_plan(&PLAN));
    }

    #[test]
    fn everyone_but_the_plans_own_family_is_recorded() {
        assert!(!actor(Role::Family, 10, None, None).is_recorded_on(&PLAN));
        assert!(actor(Role::Family, 11, None, None).is_recorded_on(&PLAN));
        assert!(actor(Role::Broker, 20, Some(7), None).is_recorded_on(&PLAN));
        assert!(actor(Role::Council, 30, None, Some(1)).is_recorded_on(&PLAN));
        assert!(actor(Role::Provider, 10, Some(7), None).is_recorded_on(&PLAN));
    }

    #[test]
    fn a_broker_without_an_organisation_sees_no_plan_without_a_broker() {
        let unbrokered = PlanOwners { broker: None, ..PLAN };
        assert!(!actor(Role::Broker, 20, None, None).sees_plan(&unbrokered));
    }

    #[test]
    fn councils_see_plans_but_never_spend_from_them() {
        let officer = actor(Role::Council, 30, None, Some(1));
        assert!(officer.sees_plan(&PLAN) && !officer.spends_from(&PLAN));
        assert!(actor(Role::Family, 10, None, None).spends_from(&PLAN));
        assert!(actor(Role::Broker, 20, Some(7), None).spends_from(&PLAN));
    }

    #[test]
    fn lists_are_scoped_to_what_each_role_may_see() {
        assert_eq!(
            actor(Role::Family, 5, None, None).plan_scope(),
            Some(PlanScope::Family(UserId(5)))
        );
        assert_eq!(
            actor(Role::Broker, 5, Some(7), None).plan_scope(),
            Some(PlanScope::Broker(OrganisationId(7)))
        );
        assert_eq!(actor(Role::Broker, 5, None, None).plan_scope(), None);
        assert_eq!(
            actor(Role::Council, 5, None, Some(2)).plan_scope(),
            Some(PlanScope::Council(CouncilId(2)))
        );
        assert_eq!(actor(Role::Provider, 5, Some(7), None).plan_scope(), None);
        assert_eq!(
            actor(Role::Provider, 5, Some(7), None).booking_scope(),
            Some(BookingScope::Provider(OrganisationId(7)))
        );
        assert_eq!(
            actor(Role::Family, 5, None, None).booking_scope(),
            Some(BookingScope::Plans(PlanScope::Family(UserId(5))))
        );
    }

    #[test]
    fn drafts_are_seen_only_by_their_own_provider() {
        let own = actor(Role::Provider, 1, Some(4), None);
        let other = actor(Role::Provider, 2, Some(5), None);
        assert!(Actor::sees_service(None, OrganisationId(4), true));
        assert!(!Actor::sees_service(None, OrganisationId(4), false));
        assert!(Actor::sees_service(Some(&own), OrganisationId(4), false));
        assert!(!Actor::sees_service(Some(&other), OrganisationId(4), false));
    }

    #[test]
    fn roles_are_what_they_say() {
        assert_eq!(actor(Role::Council, 1, None, Some(3)).council(), Some(CouncilId(3)));
        assert_eq!(actor(Role::Family, 1, None, Some(3)).council(), None);
        assert_eq!(
            actor(Role::Provider, 1, Some(4), None).provider(),
            Some(OrganisationId(4))
        );
        assert_eq!(actor(Role::Broker, 1, Some(4), None).provider(), None);
        assert!(actor(Role::Provider, 1, Some(4), None).works_for(OrganisationId(4)));
        assert!(!actor(Role::Broker, 1, Some(4), None).works_for(OrganisationId(4)));
    }
}
