//! The rules of people coming, changing and leaving: an organisation always keeps at least one
//! active HR lead, so there is always someone who can manage it.
use super::role::Role;

/// What a member's account is now, as the members list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MemberStatus {
    Invited,
    Active,
    Deactivated,
    /// Name and address erased on request; history calls them "former member".
    Erased,
}

/// One member before and after a change.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    pub role: Role,
    pub active: bool,
}

impl Standing {
    fn is_active_hr_lead(self) -> bool {
        self.active && self.role == Role::HrLead
    }
}

/// Refuses a change that would leave the organisation without an active HR lead.
pub fn keeps_an_hr_lead(active_hr_leads: u64, before: Standing, after: Standing) -> Result<(), &'static str> {
    if before.is_active_hr_lead() && !after.is_active_hr_lead() && active_hr_leads <= 1 {
        return Err("last_hr_lead");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HR: Standing = Standing { role: Role::HrLead, active: true };

    #[test]
    fn the_last_active_hr_lead_can_be_neither_demoted_nor_deactivated() {
        let demoted = Standing { role: Role::Employee, active: true };
        let gone = Standing { role: Role::HrLead, active: false };
        assert_eq!(keeps_an_hr_lead(1, HR, demoted), Err("last_hr_lead"));
        assert_eq!(keeps_an_hr_lead(1, HR, gone), Err("last_hr_lead"));
        assert_eq!(keeps_an_hr_lead(2, HR, gone), Ok(()));
        let employee = Standing { role: Role::Employee, active: true };
        assert_eq!(keeps_an_hr_lead(1, employee, Standing { role: Role::Employee, active: false }), Ok(()));
        assert_eq!(keeps_an_hr_lead(1, employee, HR), Ok(()));
    }
}
