//! The campaigns shipped with Steward, ready to launch. Static data, kept apart from
//! the draft's rules so the catalogue can grow without touching them.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::{CampaignDraft, ClosePolicy, Escalation, Recurrence, Reviewed};

/// A campaign that works out of the box (static data: shown, then turned into a draft).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignTemplate {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub scope: &'static str,
    pub controls: &'static [&'static str],
    pub reviewed: Reviewed,
    pub days: i64,
    pub close_policy: ClosePolicy,
    pub recurrence: Recurrence,
}

/// The templates shipped with Steward.
pub const TEMPLATES: &[CampaignTemplate] = &[
    CampaignTemplate {
        id: "quarterly-ownership",
        name: "Quarterly NHI ownership attestation",
        description:
            "Every active identity's owner confirms they own it and that it is still needed.",
        scope: "status=active",
        controls: &["NHI1", "GV.RR-02", "ID.AM-08"],
        reviewed: Reviewed {
            ownership: true,
            entitlements: false,
            credentials: false,
        },
        days: 21,
        close_policy: ClosePolicy::Keep,
        recurrence: Recurrence::Quarterly,
    },
    CampaignTemplate {
        id: "privileged-entitlements",
        name: "Privileged entitlement review",
        description: "Owners confirm or remove every standing admin entitlement.",
        scope: "status=active&finding=admin-entitlement",
        controls: &["NHI5", "PR.AA-05"],
        reviewed: Reviewed {
            ownership: false,
            entitlements: true,
            credentials: false,
        },
        days: 14,
        close_policy: ClosePolicy::Revoke,
        recurrence: Recurrence::Quarterly,
    },
    CampaignTemplate {
        id: "agent-tools-delegation",
        name: "AI agent tool and delegation review",
        description:
            "Sponsors and owners review what each AI identity may do and through whom it acts.",
        scope: "class=ai&status=active",
        controls: &["ASI02", "ASI03", "GOVERN 3.2"],
        reviewed: Reviewed {
            ownership: true,
            entitlements: true,
            credentials: false,
        },
        days: 14,
        close_policy: ClosePolicy::Keep,
        recurrence: Recurrence::Monthly,
    },
    CampaignTemplate {
        id: "long-lived-secrets",
        name: "Long-lived secrets review",
        description: "Owners rotate or revoke credentials whose secret is a year old or more.",
        scope: "status=active&cred_age=365-",
        controls: &["NHI7"],
        reviewed: Reviewed {
            ownership: false,
            entitlements: false,
            credentials: true,
        },
        days: 30,
        close_policy: ClosePolicy::Keep,
        recurrence: Recurrence::Quarterly,
    },
];

impl CampaignTemplate {
    /// A draft of this template starting at `starts_at`.
    pub fn draft(&self, starts_at: DateTime<Utc>) -> CampaignDraft {
        CampaignDraft {
            name: self.name.to_owned(),
            scope: self.scope.to_owned(),
            controls: self.controls.iter().map(|c| (*c).to_owned()).collect(),
            reviewed: self.reviewed,
            starts_at,
            due_at: starts_at + Duration::days(self.days),
            remind_every_days: 7,
            escalation: Escalation::Sponsor,
            close_policy: self.close_policy,
            recurrence: self.recurrence,
        }
    }
}
