//! A launched campaign as stored and shown: its state, its items (with the snapshot
//! the reviewer saw), progress counts, the pages built from them and the bulk-decision
//! request. Plain data shared by the store, the API and the UI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::inventory::PersonRef;
use crate::posture::catalog::Severity;
use crate::string_enum::string_enum;

use super::{overdue, CampaignDraft, Decision, Reviewed, Reviewer};

string_enum! {
    /// Where a campaign is in its life.
    pub enum CampaignState: "campaign state" {
        /// Created with a start in the future; launched when it comes.
        Scheduled = "scheduled",
        /// Launched: its items are being reviewed.
        Open = "open",
        /// Closed: the close policy was applied; the evidence is final.
        Closed = "closed",
    }
}

string_enum! {
    /// Why an item's reviewer is who it is.
    pub enum ReviewerKind: "reviewer kind" {
        Owner = "owner",
        Sponsor = "sponsor",
        SecurityTeam = "security_team",
        /// Someone the previous reviewer (or an admin) handed the item to.
        Reassigned = "reassigned",
    }
}

string_enum! {
    /// Whether what a decision asks for has been carried out.
    pub enum Remediation: "remediation" {
        /// Nothing to change (certified, kept, or not decided yet).
        NotNeeded = "not_needed",
        /// Decided; the change is being made (or failed to start and waits for a retry).
        Pending = "pending",
        Done = "done",
        /// The change could not be made; the note says why. It can be retried.
        Failed = "failed",
    }
}

string_enum! {
    /// What closing did to an item nobody decided.
    pub enum CloseOutcome: "close outcome" {
        Kept = "kept",
        Revoked = "revoked",
    }
}

/// One finding as the reviewer saw it at launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotFinding {
    pub check: String,
    pub title: String,
    pub severity: Severity,
}

/// An identity it delegates to, as the reviewer saw it at launch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SnapshotPeer {
    pub id: Uuid,
    pub name: String,
    pub delegation: crate::delegation::DelegationKind,
    /// Its active permissions (`resource:action`).
    pub permissions: Vec<String>,
}

/// What a review item shows the reviewer: the identity as it was when the campaign
/// launched. Later changes to the register do not change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemSnapshot {
    pub name: String,
    pub kind: crate::inventory::IdentityKind,
    pub actor_class: crate::inventory::ActorClass,
    pub environment: String,
    pub status: crate::inventory::IdentityStatus,
    pub team: Option<String>,
    pub owner: Option<PersonRef>,
    pub sponsor: Option<PersonRef>,
    pub purpose: Option<String>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Open findings, worst first.
    pub findings: Vec<SnapshotFinding>,
    /// Active entitlements.
    pub entitlements: Vec<crate::identity::Entitlement>,
    /// Active credentials.
    pub credentials: Vec<crate::identity::CredentialInfo>,
    pub delegates_to: Vec<SnapshotPeer>,
    /// How many identities act through this one.
    pub delegated_from: u32,
}

impl ItemSnapshot {
    /// The worst open finding's severity.
    pub fn worst_finding(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// Who reviews an item now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemReviewer {
    pub kind: ReviewerKind,
    /// `None`: the security team (any admin).
    pub person: Option<PersonRef>,
}

impl ItemReviewer {
    pub fn label(&self) -> String {
        match &self.person {
            Some(p) => format!("{} <{}>", p.display_name, p.email),
            None => "Security team".to_owned(),
        }
    }
}

impl From<Reviewer> for ItemReviewer {
    fn from(reviewer: Reviewer) -> Self {
        match reviewer {
            Reviewer::Owner(p) => ItemReviewer {
                kind: ReviewerKind::Owner,
                person: Some(p),
            },
            Reviewer::Sponsor(p) => ItemReviewer {
                kind: ReviewerKind::Sponsor,
                person: Some(p),
            },
            Reviewer::SecurityTeam => ItemReviewer {
                kind: ReviewerKind::SecurityTeam,
                person: None,
            },
        }
    }
}

/// One identity to review in one campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewItem {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub campaign_name: String,
    pub due_at: DateTime<Utc>,
    pub reviewed: Reviewed,
    pub identity_id: Uuid,
    pub reviewer: ItemReviewer,
    /// Who had it before a reassignment or an escalation.
    pub previous_reviewer: Option<String>,
    pub snapshot: ItemSnapshot,
    pub decision: Option<Decision>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub close_outcome: Option<CloseOutcome>,
    pub remediation: Remediation,
    pub remediation_note: Option<String>,
    pub escalated_at: Option<DateTime<Utc>>,
}

impl ReviewItem {
    pub fn is_decided(&self) -> bool {
        self.decision.is_some() || self.close_outcome.is_some()
    }

    /// Whether `person` (an admin when `admin`) may decide this item: the person it
    /// names, or any admin for the security team's items.
    pub fn decidable_by(&self, person: Uuid, admin: bool) -> bool {
        match &self.reviewer.person {
            Some(reviewer) => reviewer.id == person,
            None => admin,
        }
    }
}

/// Items decided out of all items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Progress {
    pub label: String,
    pub total: u64,
    pub decided: u64,
}

impl Progress {
    /// Whole percent decided (100 when there is nothing to decide).
    pub fn percent(&self) -> u64 {
        (self.decided * 100).checked_div(self.total).unwrap_or(100)
    }
}

/// A campaign with its counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Campaign {
    pub id: Uuid,
    #[serde(flatten)]
    pub draft: CampaignDraft,
    pub state: CampaignState,
    /// The template it was made from.
    pub template: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The campaign this one recurs from.
    pub previous_id: Option<Uuid>,
    pub items: u64,
    pub decided: u64,
    /// Decided items whose change is not made yet (pending or failed).
    pub remediation_open: u64,
}

impl Campaign {
    pub fn progress(&self) -> Progress {
        Progress {
            label: self.draft.name.clone(),
            total: self.items,
            decided: self.decided,
        }
    }

    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.state == CampaignState::Open && overdue(&self.draft, now) && self.decided < self.items
    }
}

/// The campaigns page: every campaign, progress per control over the open ones, and
/// what is overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignOverview {
    /// Newest first.
    pub campaigns: Vec<Campaign>,
    /// Per catalog control evidenced by an open campaign: its items decided of all.
    pub by_control: Vec<Progress>,
    /// Undecided items of open campaigns past their due date (the oldest due first).
    pub overdue: Vec<ReviewItem>,
}

/// One campaign in full: progress by reviewer and by team, and its overdue items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CampaignDetail {
    pub campaign: Campaign,
    pub by_reviewer: Vec<Progress>,
    pub by_team: Vec<Progress>,
    pub overdue: Vec<ReviewItem>,
}

string_enum! {
    /// Which items of a campaign to list.
    #[derive(Default)]
    pub enum ItemFilter: "item filter" {
        #[default]
        All = "all",
        Undecided = "undecided",
        Decided = "decided",
        /// Decided, but the change is not made yet.
        Remediation = "remediation",
    }
}

/// A page of a campaign's items, in identity-name order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ItemPage {
    pub items: Vec<ReviewItem>,
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// What a campaign is created from: a draft, optionally naming the template it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateCampaign {
    #[serde(flatten)]
    pub draft: CampaignDraft,
    #[serde(default)]
    pub template: Option<String>,
}

/// One decision applied to several items of the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkDecision {
    pub items: Vec<Uuid>,
    #[serde(flatten)]
    pub decision: Decision,
    /// Must be true: bulk decisions are confirmed.
    pub confirm: bool,
}

/// What a bulk decision did, item by item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkOutcome {
    pub decided: Vec<Uuid>,
    /// Items not decided, each with the reason.
    pub refused: Vec<(Uuid, String)>,
}

/// The most items one bulk decision may cover.
pub const MAX_BULK_ITEMS: usize = 500;
