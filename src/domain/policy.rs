//! The one place that answers "may this user do this to that". Pages and API both ask here
//! before any read or change. Someone outside an organisation gets `NotFound` (they must not
//! learn that it exists); someone inside it without the right gets `Forbidden`.
use super::passport::Side;
use super::role::Role;

/// The user behind a request, with what is needed to decide without further queries.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: i64,
    pub role: Role,
    /// The organisation of members (HR lead, director, manager, employee).
    pub organisation_id: Option<i64>,
    /// The organisations an advisor is assigned to.
    pub assigned: std::sync::Arc<Vec<i64>>,
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
    /// Change members' roles, deactivate and reactivate them, re-send or withdraw invitations.
    ManageMembers,
    /// See the organisation's members.
    ViewMembers,
    /// Apply for (or renew) the recognition.
    ApplyForRecognition,
    /// Grant, decline or revoke the recognition.
    DecideRecognition,
    /// Set the organisation's attention moments, appraisal month and calendar feed.
    ManageAttention,
    /// See the employee pulse's rounds and their (suppressed) figures.
    ViewPulse,
    /// Open and close pulse rounds, read their free-text answers.
    ManagePulse,
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
            (R::Director, P::ViewAssessment | P::ViewEvidence | P::ViewMembers | P::ViewPulse) => true,
            (
                R::Advisor,
                P::ViewAssessment
                | P::ViewEvidence
                | P::ReviewItems
                | P::Comment
                | P::ViewMembers
                | P::DecideRecognition
                | P::ViewPulse,
            ) => true,
            (R::Operator, P::ViewAssessment | P::InviteMembers | P::ManageMembers | P::ViewMembers) => true,
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

/// What the policy needs to know about one passport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassportFacts {
    pub organisation_id: i64,
    pub carer_id: i64,
    /// The carer's current line manager (the reporting line HR keeps).
    pub manager_id: Option<i64>,
    /// The carer consented to HR keeping a copy.
    pub hr_copy: bool,
}

impl Actor {
    /// Passports: the carer, their current manager, and HR with the carer's consent read it.
    /// Everyone else (directors, advisors, other managers, colleagues, the operator, other
    /// organisations) is told it does not exist: always `NotFound`, never `Forbidden`.
    pub fn may_read_passport(&self, f: &PassportFacts) -> Result<Side, Denied> {
        if self.organisation_id != Some(f.organisation_id) || !self.role.is_organisation_member() {
            return Err(Denied::NotFound);
        }
        if self.user_id == f.carer_id {
            Ok(Side::Carer)
        } else if f.manager_id == Some(self.user_id) && self.role == Role::Manager {
            // The role is checked again here, not only when the line is set: a line set before
            // the rule existed, or a role changed since, must not open the passport.
            Ok(Side::Manager)
        } else if self.role == Role::HrLead && f.hr_copy {
            Ok(Side::Hr)
        } else {
            Err(Denied::NotFound)
        }
    }

    /// Drafting, changing, confirming and reviewing: the two parties only (HR reads a copy).
    pub fn may_edit_passport(&self, f: &PassportFacts) -> Result<Side, Denied> {
        match self.may_read_passport(f)? {
            side @ (Side::Carer | Side::Manager) => Ok(side),
            Side::Hr => Err(Denied::NotFound),
        }
    }

    /// The access log, the signed file and transfer codes belong to the carer alone.
    pub fn may_carry_passport(&self, f: &PassportFacts) -> Result<(), Denied> {
        match self.may_read_passport(f)? {
            Side::Carer => Ok(()),
            _ => Err(Denied::NotFound),
        }
    }

    /// Starting a passport for someone else: their line manager, who must hold the manager role
    /// (a line stored with another role opens nothing). Anyone else is told it does not exist.
    pub fn may_start_passport_for(&self, line_manager: Option<i64>) -> Result<(), Denied> {
        if line_manager == Some(self.user_id) && self.role == Role::Manager { Ok(()) } else { Err(Denied::NotFound) }
    }

    /// Recording oneself as a carer: anyone who belongs to an organisation.
    pub fn may_be_carer(&self) -> Result<i64, Denied> {
        match self.organisation_id {
            Some(org) if self.role.is_organisation_member() => Ok(org),
            _ => Err(Denied::NotFound),
        }
    }

    /// Aggregate passport figures (suppressed counts, never people): HR leads and directors of
    /// the organisation and its advisors.
    pub fn may_see_passport_figures(&self, organisation_id: i64) -> Result<(), Denied> {
        if !self.sees_organisation(organisation_id) {
            return Err(Denied::NotFound);
        }
        match self.role {
            Role::HrLead | Role::Director | Role::Advisor => Ok(()),
            _ => Err(Denied::Forbidden),
        }
    }

    /// Reporting lines and handovers between managers: the organisation's HR leads.
    pub fn may_manage_reporting_lines(&self, organisation_id: i64) -> Result<(), Denied> {
        if !self.sees_organisation(organisation_id) {
            return Err(Denied::NotFound);
        }
        if self.role == Role::HrLead { Ok(()) } else { Err(Denied::Forbidden) }
    }
}

/// A page a user can be sent to: the menu and the start page after login are made of these, and
/// each is offered only when the permission that guards that page allows it (the same call).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Operator,
    Jobs,
    Portfolio,
    Review,
    Overview(i64),
    Dashboard(i64),
    Attention(i64),
    Members(i64),
    Pulse(i64),
    Passport,
    Inbox,
    Account,
}

impl Destination {
    /// The page's address.
    pub fn path(self) -> String {
        use Destination as D;
        match self {
            D::Operator => "/operator".into(),
            D::Jobs => "/operator/jobs".into(),
            D::Portfolio => "/portfolio".into(),
            D::Review => "/review".into(),
            D::Overview(org) => format!("/organisations/{org}"),
            D::Dashboard(org) => format!("/organisations/{org}/dashboard"),
            D::Attention(org) => format!("/organisations/{org}/attention"),
            D::Members(org) => format!("/organisations/{org}/members"),
            D::Pulse(org) => format!("/organisations/{org}/pulse"),
            D::Passport => "/passport".into(),
            D::Inbox => "/inbox".into(),
            D::Account => "/account".into(),
        }
    }
}

impl Actor {
    /// The pages this user may open, in menu order.
    pub fn menu(&self) -> Vec<Destination> {
        use Destination as D;
        let mut out = vec![];
        if self.may_globally(GlobalPermission::ManageOrganisations).is_ok() {
            out.push(D::Operator);
        }
        if self.may_globally(GlobalPermission::ManageJobs).is_ok() {
            out.push(D::Jobs);
        }
        if self.may_globally(GlobalPermission::ViewReviewQueue).is_ok() {
            out.push(D::Review);
        }
        if self.may_globally(GlobalPermission::ViewPortfolio).is_ok() {
            out.push(D::Portfolio);
        }
        if let Some(org) = self.organisation_id {
            // Overview, dashboard and attention page are all guarded by the assessment's view.
            if self.may(Permission::ViewAssessment, org).is_ok() {
                out.extend([D::Overview(org), D::Dashboard(org), D::Attention(org)]);
            }
            if self.may(Permission::ViewMembers, org).is_ok() {
                out.push(D::Members(org));
            }
            if self.may(Permission::ViewPulse, org).is_ok() {
                out.push(D::Pulse(org));
            }
        }
        if self.may_be_carer().is_ok() {
            out.push(D::Passport);
        }
        out.extend([D::Inbox, D::Account]);
        out
    }

    /// Where this user lands after login: the page that is their work.
    pub fn home(&self) -> Destination {
        use Destination as D;
        let preferred = match (self.role, self.organisation_id) {
            (Role::Operator, _) => D::Operator,
            (Role::Advisor, _) => D::Review,
            (Role::HrLead, Some(org)) => D::Overview(org),
            (Role::Director, Some(org)) => D::Dashboard(org),
            (Role::Manager | Role::Employee, Some(_)) => D::Passport,
            _ => D::Account,
        };
        // Never a start page the menu would not offer.
        if self.menu().contains(&preferred) { preferred } else { D::Account }
    }
}

#[cfg(test)]
mod menu_tests {
    use super::*;

    fn actor(role: Role, org: Option<i64>) -> Actor {
        Actor { user_id: 1, role, organisation_id: org, assigned: Default::default() }
    }

    #[test]
    fn every_role_lands_on_its_work_and_sees_only_what_it_may_open() {
        use Destination as D;
        assert_eq!(actor(Role::HrLead, Some(3)).home(), D::Overview(3));
        assert_eq!(actor(Role::Director, Some(3)).home(), D::Dashboard(3));
        assert_eq!(actor(Role::Manager, Some(3)).home(), D::Passport);
        assert_eq!(actor(Role::Employee, Some(3)).home(), D::Passport);
        assert_eq!(actor(Role::Advisor, None).home(), D::Review);
        assert_eq!(actor(Role::Operator, None).home(), D::Operator);
        let employee = actor(Role::Employee, Some(3)).menu();
        assert_eq!(employee, vec![D::Passport, D::Inbox, D::Account]);
        let manager = actor(Role::Manager, Some(3)).menu();
        assert!(!manager.contains(&D::Overview(3)) && !manager.contains(&D::Members(3)));
        let director = actor(Role::Director, Some(3)).menu();
        assert!(director.contains(&D::Dashboard(3)) && director.contains(&D::Members(3)));
        assert!(!actor(Role::Advisor, None).menu().contains(&D::Passport));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: Option<i64>, assigned: Vec<i64>) -> Actor {
        Actor { user_id: 1, role, organisation_id: org, assigned: assigned.into() }
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

    #[test]
    fn a_passport_is_read_by_carer_manager_and_consented_hr_only_and_hidden_from_all_others() {
        let f = PassportFacts { organisation_id: 1, carer_id: 10, manager_id: Some(20), hr_copy: true };
        let who = |user_id, role, org: Option<i64>, assigned: Vec<i64>| Actor {
            user_id,
            role,
            organisation_id: org,
            assigned: assigned.into(),
        };
        assert_eq!(who(10, Role::Employee, Some(1), vec![]).may_read_passport(&f), Ok(Side::Carer));
        assert_eq!(who(20, Role::Manager, Some(1), vec![]).may_read_passport(&f), Ok(Side::Manager));
        assert_eq!(who(30, Role::HrLead, Some(1), vec![]).may_read_passport(&f), Ok(Side::Hr));
        let no_hr = PassportFacts { hr_copy: false, ..f };
        assert_eq!(who(30, Role::HrLead, Some(1), vec![]).may_read_passport(&no_hr), Err(Denied::NotFound));
        for other in [
            who(21, Role::Manager, Some(1), vec![]),
            who(40, Role::Director, Some(1), vec![]),
            who(41, Role::Employee, Some(1), vec![]),
            who(50, Role::Advisor, None, vec![1]),
            who(60, Role::Operator, None, vec![]),
            who(30, Role::HrLead, Some(2), vec![]),
            who(10, Role::Employee, Some(2), vec![]),
        ] {
            assert_eq!(other.may_read_passport(&f), Err(Denied::NotFound), "{other:?}");
        }
        // HR or a director recorded as the carer's "manager" reads nothing through that line.
        let hr_as_manager = PassportFacts { manager_id: Some(30), hr_copy: false, ..f };
        assert_eq!(who(30, Role::HrLead, Some(1), vec![]).may_read_passport(&hr_as_manager), Err(Denied::NotFound));
        let director_as_manager = PassportFacts { manager_id: Some(40), ..f };
        assert_eq!(
            who(40, Role::Director, Some(1), vec![]).may_read_passport(&director_as_manager),
            Err(Denied::NotFound)
        );
        assert_eq!(who(20, Role::Manager, Some(1), vec![]).may_start_passport_for(Some(20)), Ok(()));
        assert_eq!(who(30, Role::HrLead, Some(1), vec![]).may_start_passport_for(Some(30)), Err(Denied::NotFound));
        assert_eq!(who(21, Role::Manager, Some(1), vec![]).may_start_passport_for(Some(20)), Err(Denied::NotFound));
        assert_eq!(who(30, Role::HrLead, Some(1), vec![]).may_edit_passport(&f), Err(Denied::NotFound));
        assert_eq!(who(20, Role::Manager, Some(1), vec![]).may_carry_passport(&f), Err(Denied::NotFound));
        assert_eq!(who(10, Role::Employee, Some(1), vec![]).may_carry_passport(&f), Ok(()));
    }

    #[test]
    fn passport_figures_are_for_hr_directors_and_advisors() {
        assert!(actor(Role::Director, Some(1), vec![]).may_see_passport_figures(1).is_ok());
        assert!(actor(Role::Advisor, None, vec![1]).may_see_passport_figures(1).is_ok());
        assert_eq!(actor(Role::Manager, Some(1), vec![]).may_see_passport_figures(1), Err(Denied::Forbidden));
        assert_eq!(actor(Role::Director, Some(2), vec![]).may_see_passport_figures(1), Err(Denied::NotFound));
    }
}
