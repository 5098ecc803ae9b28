//! The campaign draft an admin writes (scope, controls, what is reviewed, dates,
//! reminders, escalation, close policy, recurrence) and its validation. Kept apart from
//! the stored campaign and its items, which are what a launched draft becomes.

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;
use crate::inventory::IdentityQuery;
use crate::posture::catalog::Catalog;
use crate::string_enum::string_enum;

string_enum! {
    /// What happens to items nobody decided by the time the campaign closes.
    pub enum ClosePolicy: "close policy" {
        /// Leave the access as it is (and say so in the evidence).
        Keep = "keep",
        /// Revoke what was not certified.
        Revoke = "revoke",
    }
}

string_enum! {
    /// How often a campaign comes back.
    pub enum Recurrence: "recurrence" {
        Once = "once",
        Monthly = "monthly",
        Quarterly = "quarterly",
        Yearly = "yearly",
    }
}

string_enum! {
    /// Who an overdue item goes to.
    pub enum Escalation: "escalation" {
        /// The item moves to the identity's active sponsor (to the security team when
        /// there is none, or the sponsor was already the reviewer).
        Sponsor = "sponsor",
        /// The item moves to the security team.
        SecurityTeam = "security_team",
    }
}

/// What a campaign asks reviewers to look at.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Reviewed {
    /// Is the owner right, and is the identity still needed?
    pub ownership: bool,
    pub entitlements: bool,
    pub credentials: bool,
}

impl Reviewed {
    pub fn any(&self) -> bool {
        self.ownership || self.entitlements || self.credentials
    }
}

/// A campaign as an admin describes it (or a template proposes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignDraft {
    pub name: String,
    /// The identities it covers, as an inventory filter (`class=ai&env=prod`).
    pub scope: String,
    /// Ids of the catalog controls it is evidence for.
    pub controls: Vec<String>,
    pub reviewed: Reviewed,
    pub starts_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Days between reminders to a reviewer with undecided items.
    pub remind_every_days: u32,
    pub escalation: Escalation,
    pub close_policy: ClosePolicy,
    pub recurrence: Recurrence,
}

/// The longest a campaign may run.
pub const MAX_CAMPAIGN_DAYS: i64 = 180;
/// The most days between reminders.
pub const MAX_REMINDER_DAYS: u32 = 30;

impl CampaignDraft {
    /// The draft with its scope parsed, or what is wrong with it (the field named).
    pub fn validated(&self) -> Result<(CampaignDraft, IdentityQuery), DomainError> {
        let name = crate::identity::required_text("name", &self.name)?;
        if name.chars().count() > 200 {
            return Err(DomainError::invalid("name", "at most 200 characters"));
        }
        let scope = IdentityQuery::from_query_string(self.scope.trim())
            .map_err(|e| DomainError::invalid("scope", format!("not an inventory filter: {e}")))?;
        let catalog = Catalog::shipped();
        if self.controls.is_empty() {
            return Err(DomainError::invalid(
                "controls",
                "name at least one control the campaign is evidence for",
            ));
        }
        if let Some(unknown) = self.controls.iter().find(|c| catalog.control(c).is_none()) {
            return Err(DomainError::invalid(
                "controls",
                format!("'{unknown}' is not a control of the catalog"),
            ));
        }
        if !self.reviewed.any() {
            return Err(DomainError::invalid(
                "reviewed",
                "review at least one of ownership, entitlements or credentials",
            ));
        }
        if self.due_at <= self.starts_at {
            return Err(DomainError::invalid(
                "due_at",
                "the due date must be after the start",
            ));
        }
        if self.due_at - self.starts_at > Duration::days(MAX_CAMPAIGN_DAYS) {
            return Err(DomainError::invalid(
                "due_at",
                format!("a campaign runs at most {MAX_CAMPAIGN_DAYS} days"),
            ));
        }
        if !(1..=MAX_REMINDER_DAYS).contains(&self.remind_every_days) {
            return Err(DomainError::invalid(
                "remind_every_days",
                format!("between 1 and {MAX_REMINDER_DAYS} days"),
            ));
        }
        Ok((
            CampaignDraft {
                name,
                scope: scope.filter_only().to_query_string(),
                ..self.clone()
            },
            scope,
        ))
    }

    /// The next campaign of a recurring one: the same, starting when this one is due
    /// plus the recurrence's period, lasting as long. `None` for a one-off.
    pub fn next(&self) -> Option<CampaignDraft> {
        let months = match self.recurrence {
            Recurrence::Once => return None,
            Recurrence::Monthly => 1,
            Recurrence::Quarterly => 3,
            Recurrence::Yearly => 12,
        };
        let length = self.due_at - self.starts_at;
        let starts_at = self.starts_at.checked_add_months(Months::new(months))?;
        Some(CampaignDraft {
            starts_at,
            due_at: starts_at + length,
            ..self.clone()
        })
    }
}
