use serde::Serialize;

/// What a user is in the system (PRODUCT.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Advisor,
    HrLead,
    Director,
    Manager,
    Employee,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Operator, Role::Advisor, Role::HrLead, Role::Director, Role::Manager, Role::Employee];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::Advisor => "advisor",
            Role::HrLead => "hr_lead",
            Role::Director => "director",
            Role::Manager => "manager",
            Role::Employee => "employee",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Roles that belong to one organisation (the others work across organisations).
    pub fn is_organisation_member(self) -> bool {
        !matches!(self, Role::Operator | Role::Advisor)
    }

    /// Roles an HR lead may invite into their own organisation.
    pub const INVITABLE_BY_HR: [Role; 4] = [Role::HrLead, Role::Director, Role::Manager, Role::Employee];
}
