//! The one place that answers "may this user do this to that". Pages and API both ask here
//! before any read or change. Someone outside an organisation gets `NotFound` (they must not
//! learn that it exists); someone inside it without the right gets `Forbidden`.
use super::role::Role;

/// The user behind a request, with what is needed to decide without further queries.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    /// The organisation of members (HR lead, director, manager, employee).
    pub organisation_id: Option<i64>,
    /// The organisations an advisor is assigned to.
    pub assigned: Vec<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the organisation's overview, worksheets, items and history.
    ViewAssessment,
    /// Read or download evidence.
    ViewEvidence,
    /// Move items on the organisation's side, set owner and due date, add and replace evidence.
    WorkItems,
    /// Accept items or ask for changes.
    ReviewItems,
    /// Comment on items.
    Comment,
    /// Invite colleagues into the organisation.
    InviteMembers,
    /// See the organisation's members.
    ViewMembers,
    /// Apply for (or renew) the recognition.
    ApplyForRecognition,
    /// Grant, decline or revoke the recognition.
    DecideRecognition,
    /// Set the organisation's attention moments, appraisal month and calendar feed.
    ManageAttention,
}

/// Installation-wide rights, not tied to one organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalPermission {
    ManageOrganisations,
    ManageAdvisors,
    ViewReviewQueue,
    /// The advisor's table of all their organisations.
    ViewPortfolio,
    /// See the recurring jobs and run one now.
    ManageJobs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
}

impl Actor {
    /// Whether the organisation is within this user's sight at all.
    pub fn sees_organisation(&self, organisation_id: i64) -> bool {
        match self.role {
            Role::Operator => true,
            Role::Advisor => self.assigned.contains(&organisation_id),
            _ => self.organisation_id == Some(organisation_id),
        }
    }

    pub fn may(&self, permission: Permission, organisation_id: i64) -> Result<(), Denied> {
        if !self.sees_organisation(organisation_id) {
            return Err(Denied::NotFound);
        }
        use Permission as P;
        use Role as R;
        let allowed = match (self.role, permission) {
            (R::HrLead, P::ReviewItems | P::DecideRecognition) => false,
            (R::HrLead, _) => true,
            (R::Director, P::ViewAssessment | P::ViewEvidence | P::ViewMembers) => true,
            (
                R::Advisor,
                P::ViewAssessment
                | P::ViewEvidence
                | P::ReviewItems
                | P::Comment
                | P::ViewMembers
                | P::DecideRecognition,
            ) => true,
            (R::Operator, P::ViewAssessment | P::InviteMembers | P::ViewMembers) => true,
            _ => false,
        };
        if allowed { Ok(()) } else { Err(Denied::Forbidden) }
    }

    pub fn may_globally(&self, permission: GlobalPermission) -> Result<(), Denied> {
        let allowed = match permission {
            GlobalPermission::ManageOrganisations | GlobalPermission::ManageAdvisors | GlobalPermission::ManageJobs => {
                self.role == Role::Operator
            }
            GlobalPermission::ViewReviewQueue | GlobalPermission::ViewPortfolio => self.role == Role::Advisor,
        };
        if allowed { Ok(()) } else { Err(Denied::Forbidden) }
    }

    /// Which roles this user may invite into an organisation they may invite into.
    pub fn may_invite_role(&self, role: Role) -> bool {
        match self.role {
            Role::Operator => role.is_organisation_member(),
            Role::HrLead => Role::INVITABLE_BY_HR.contains(&role),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: Option<i64>, assigned: Vec<i64>) -> Actor {
        Actor { user_id: 1, role, organisation_id: org, assigned }
    }

    #[test]
    fn another_organisation_is_not_found_for_every_member_role() {
        for role in [Role::HrLead, Role::Director, Role::Manager, Role::Employee] {
            let a = actor(role, Some(1), vec![]);
            assert_eq!(a.may(Permission::ViewAssessment, 2), Err(Denied::NotFound), "{role:?}");
        }
    }

    #[test]
    fn advisors_see_only_assigned_organisations() {
        let a = actor(Role::Advisor, None, vec![7]);
        assert_eq!(a.may(Permission::ReviewItems, 7), Ok(()));
        assert_eq!(a.may(Permission::ReviewItems, 8), Err(Denied::NotFound));
        assert_eq!(a.may(Permission::WorkItems, 7), Err(Denied::Forbidden));
    }

    #[test]
    fn directors_read_but_do_not_write() {
        let a = actor(Role::Director, Some(1), vec![]);
        assert_eq!(a.may(Permission::ViewAssessment, 1), Ok(()));
        assert_eq!(a.may(Permission::WorkItems, 1), Err(Denied::Forbidden));
        assert_eq!(a.may(Permission::Comment, 1), Err(Denied::Forbidden));
    }

    #[test]
    fn hr_leads_do_not_review_their_own_items() {
        let a = actor(Role::HrLead, Some(1), vec![]);
        assert_eq!(a.may(Permission::ReviewItems, 1), Err(Denied::Forbidden));
        assert_eq!(a.may(Permission::WorkItems, 1), Ok(()));
    }

    #[test]
    fn only_the_assigned_advisor_decides_on_the_recognition() {
        assert_eq!(actor(Role::Advisor, None, vec![3]).may(Permission::DecideRecognition, 3), Ok(()));
        assert_eq!(actor(Role::Advisor, None, vec![4]).may(Permission::DecideRecognition, 3), Err(Denied::NotFound));
        assert_eq!(actor(Role::HrLead, Some(3), vec![]).may(Permission::DecideRecognition, 3), Err(Denied::Forbidden));
        assert_eq!(
            actor(Role::Director, Some(3), vec![]).may(Permission::ApplyForRecognition, 3),
            Err(Denied::Forbidden)
        );
        assert_eq!(actor(Role::HrLead, Some(3), vec![]).may(Permission::ApplyForRecognition, 3), Ok(()));
    }

    #[test]
    fn only_operators_manage_the_installation() {
        assert!(actor(Role::Operator, None, vec![]).may_globally(GlobalPermission::ManageOrganisations).is_ok());
        assert!(actor(Role::HrLead, Some(1), vec![]).may_globally(GlobalPermission::ManageAdvisors).is_err());
    }
}
