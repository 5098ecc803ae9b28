//! Access review campaigns: what a campaign is (scope, the controls it evidences, what
//! is reviewed, who reviews, when, and what happens to undecided items), the templates
//! that work out of the box, and the pure rules — who reviews an item, which decisions
//! are acceptable, when reminders and escalations are due, when the next recurrence
//! starts. Storage, the reviewers' inbox and the evidence pack build on these.

use chrono::{DateTime, Duration, Months, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::csv::csv_field;
use crate::error::DomainError;
use crate::inventory::{IdentityQuery, PersonRef};
use crate::posture::catalog::{Catalog, Severity};
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

/// Who reviews an item and why them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Reviewer {
    Owner(PersonRef),
    /// The owner is missing or has left.
    Sponsor(PersonRef),
    /// Neither an active owner nor an active sponsor.
    SecurityTeam,
}

/// The reviewer rule: the active owner, else the active sponsor, else the security team.
/// `None` or a person who left (`false`) does not review.
pub fn choose_reviewer(
    owner: Option<(PersonRef, bool)>,
    sponsor: Option<(PersonRef, bool)>,
) -> Reviewer {
    match (owner, sponsor) {
        (Some((owner, true)), _) => Reviewer::Owner(owner),
        (_, Some((sponsor, true))) => Reviewer::Sponsor(sponsor),
        _ => Reviewer::SecurityTeam,
    }
}

/// A reviewer's answer about one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Named apart from the authorization decision (`policy::Decision`): both were
// "Decision" in the OpenAPI document, where the later one replaced the other.
#[cfg_attr(feature = "openapi", schema(as = ReviewDecision))]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Still needed, rightly owned, access as it is.
    Certify { comment: Option<String> },
    /// Not needed: retire the identity (or revoke what is reviewed).
    Revoke { comment: String },
    /// Keep the identity, remove these entitlements.
    Reduce {
        entitlements: Vec<Uuid>,
        comment: Option<String>,
    },
    /// Someone else should decide.
    Reassign { to: String, comment: String },
    /// Keep it until a date, then it expires.
    Expire {
        at: DateTime<Utc>,
        comment: Option<String>,
    },
}

/// What the rules need to know about the item a decision is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFacts {
    /// The worst open finding of the identity, if any.
    pub worst_finding: Option<Severity>,
    /// Its active entitlements.
    pub entitlements: Vec<Uuid>,
    pub expires_at: Option<DateTime<Utc>>,
}

fn comment_given(comment: &Option<String>) -> bool {
    comment.as_deref().is_some_and(|c| !c.trim().is_empty())
}

/// Checks a decision against the item: a comment to certify an identity with a high or
/// critical finding, a reason to revoke or reassign, entitlements that are the item's
/// own, an expiry in the future and not later than the current one.
pub fn check_decision(
    decision: &Decision,
    item: &ItemFacts,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    match decision {
        Decision::Certify { comment } => {
            if item.worst_finding.is_some_and(|s| s >= Severity::High) && !comment_given(comment) {
                return Err(DomainError::invalid(
                    "comment",
                    "this identity has a high-severity finding: say why it is certified anyway",
                ));
            }
        }
        Decision::Revoke { comment } | Decision::Reassign { comment, .. } => {
            if comment.trim().is_empty() {
                return Err(DomainError::invalid("comment", "say why"));
            }
            if let Decision::Reassign { to, .. } = decision {
                crate::auth::normalize_email(to)
                    .map_err(|_| DomainError::invalid("to", "the new reviewer's email"))?;
            }
        }
        Decision::Reduce { entitlements, .. } => {
            if entitlements.is_empty() {
                return Err(DomainError::invalid(
                    "entitlements",
                    "choose the entitlements to remove",
                ));
            }
            if let Some(foreign) = entitlements.iter().find(|e| !item.entitlements.contains(e)) {
                return Err(DomainError::invalid(
                    "entitlements",
                    format!("{foreign} is not an active entitlement of this identity"),
                ));
            }
        }
        Decision::Expire { at, .. } => {
            if *at <= now {
                return Err(DomainError::invalid(
                    "at",
                    "the expiry must be in the future",
                ));
            }
            if item.expires_at.is_some_and(|current| *at > current) {
                return Err(DomainError::invalid(
                    "at",
                    "a review can only set or shorten the expiry, not extend it",
                ));
            }
        }
    }
    Ok(())
}

/// Whether a reviewer with undecided items should be reminded now: the campaign has
/// started, and the last reminder (if any) is at least `remind_every_days` and at least
/// one day old — never more than one reminder a day.
pub fn reminder_due(
    draft: &CampaignDraft,
    last_reminded: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    if now < draft.starts_at {
        return false;
    }
    let every = Duration::days(i64::from(draft.remind_every_days.max(1)));
    match last_reminded {
        None => now >= draft.starts_at + every || now >= draft.due_at - Duration::days(1),
        Some(last) => now - last >= every.max(Duration::days(1)),
    }
}

/// Whether undecided items are overdue and escalate.
pub fn overdue(draft: &CampaignDraft, now: DateTime<Utc>) -> bool {
    now > draft.due_at
}

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

impl Decision {
    /// The decision's name as stored and shown: certify, revoke, reduce, reassign, expire.
    pub fn name(&self) -> &'static str {
        match self {
            Decision::Certify { .. } => "certify",
            Decision::Revoke { .. } => "revoke",
            Decision::Reduce { .. } => "reduce",
            Decision::Reassign { .. } => "reassign",
            Decision::Expire { .. } => "expire",
        }
    }

    pub fn comment(&self) -> Option<&str> {
        match self {
            Decision::Certify { comment }
            | Decision::Reduce { comment, .. }
            | Decision::Expire { comment, .. } => comment.as_deref(),
            Decision::Revoke { comment } | Decision::Reassign { comment, .. } => {
                Some(comment.as_str())
            }
        }
        .map(str::trim)
        .filter(|c| !c.is_empty())
    }

    /// Whether carrying it out changes the register.
    pub fn changes_access(&self) -> bool {
        matches!(
            self,
            Decision::Revoke { .. } | Decision::Reduce { .. } | Decision::Expire { .. }
        )
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

/// One line of the evidence pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceRow {
    pub item: ReviewItem,
    /// The audit event that recorded the outcome (decision, or the close policy).
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
}

/// Everything an auditor receives about a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub campaign: Campaign,
    /// `(id, title)` of each control it evidences.
    pub controls: Vec<(String, String)>,
    pub rows: Vec<EvidenceRow>,
    pub generated_at: DateTime<Utc>,
}

impl Evidence {
    /// Decided items whose decision was not to certify, and items closed undecided:
    /// what the report lists as exceptions.
    pub fn exceptions(&self) -> impl Iterator<Item = &EvidenceRow> {
        self.rows.iter().filter(|r| {
            r.item.close_outcome.is_some()
                || r.item
                    .decision
                    .as_ref()
                    .is_some_and(|d| !matches!(d, Decision::Certify { .. }))
                || matches!(
                    r.item.remediation,
                    Remediation::Failed | Remediation::Pending
                )
        })
    }

    /// Counts per outcome: certify, revoke, reduce, expire, kept at close, revoked at close, undecided.
    pub fn outcome_counts(&self) -> Vec<(&'static str, u64)> {
        let mut counts: Vec<(&'static str, u64)> = [
            "certify",
            "revoke",
            "reduce",
            "expire",
            "kept at close",
            "revoked at close",
            "undecided",
        ]
        .iter()
        .map(|k| (*k, 0))
        .collect();
        for row in &self.rows {
            let key = match (&row.item.decision, row.item.close_outcome) {
                (Some(d), _) => d.name(),
                (None, Some(CloseOutcome::Kept)) => "kept at close",
                (None, Some(CloseOutcome::Revoked)) => "revoked at close",
                (None, None) => "undecided",
            };
            if let Some(entry) = counts.iter_mut().find(|(k, _)| *k == key) {
                entry.1 += 1;
            }
        }
        counts
    }
}

/// The columns of the evidence CSV.
pub const EVIDENCE_COLUMNS: &[&str] = &[
    "campaign_id",
    "campaign",
    "item_id",
    "identity_id",
    "identity",
    "kind",
    "environment",
    "team",
    "reviewer",
    "reviewer_kind",
    "decision",
    "comment",
    "entitlements_removed",
    "new_expiry",
    "decided_by",
    "decided_at",
    "close_outcome",
    "remediation",
    "remediation_note",
    "audit_seq",
    "audit_hash",
];

/// The evidence pack's CSV: a header and one line per item.
pub fn evidence_csv(evidence: &Evidence) -> String {
    let mut out = EVIDENCE_COLUMNS.join(",");
    out.push('\n');
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for row in &evidence.rows {
        let item = &row.item;
        let snapshot = &item.snapshot;
        let (removed, expiry) = match &item.decision {
            Some(Decision::Reduce { entitlements, .. }) => (
                snapshot
                    .entitlements
                    .iter()
                    .filter(|e| entitlements.contains(&e.id))
                    .map(|e| e.permission())
                    .collect::<Vec<_>>()
                    .join(" "),
                String::new(),
            ),
            Some(Decision::Expire { at, .. }) => (String::new(), at.to_rfc3339()),
            _ => (String::new(), String::new()),
        };
        let fields = [
            evidence.campaign.id.to_string(),
            evidence.campaign.draft.name.clone(),
            item.id.to_string(),
            item.identity_id.to_string(),
            snapshot.name.clone(),
            snapshot.kind.to_string(),
            snapshot.environment.clone(),
            snapshot.team.clone().unwrap_or_default(),
            item.reviewer
                .person
                .as_ref()
                .map_or_else(|| "security team".to_owned(), |p| p.email.clone()),
            item.reviewer.kind.to_string(),
            item.decision
                .as_ref()
                .map(|d| d.name().to_owned())
                .unwrap_or_default(),
            item.decision
                .as_ref()
                .and_then(|d| d.comment())
                .unwrap_or_default()
                .to_owned(),
            removed,
            expiry,
            item.decided_by.clone().unwrap_or_default(),
            time(item.decided_at),
            item.close_outcome
                .map(|c| c.to_string())
                .unwrap_or_default(),
            item.remediation.to_string(),
            item.remediation_note.clone().unwrap_or_default(),
            row.audit_seq.map(|s| s.to_string()).unwrap_or_default(),
            row.audit_hash.clone().unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

/// A decision from a form's fields: the decision's name, the comment, the new
/// reviewer's email (reassign), the expiry date `YYYY-MM-DD` (expire, at 00:00 UTC) and
/// the ids of the entitlements to remove (reduce).
pub fn decision_from_form(
    kind: &str,
    comment: Option<String>,
    to: Option<String>,
    at: Option<&str>,
    entitlements: &[String],
) -> Result<Decision, DomainError> {
    let comment = comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    Ok(match kind {
        "certify" => Decision::Certify { comment },
        "revoke" => Decision::Revoke {
            comment: comment.unwrap_or_default(),
        },
        "reduce" => Decision::Reduce {
            entitlements: entitlements
                .iter()
                .map(|e| {
                    e.trim().parse().map_err(|_| {
                        DomainError::invalid(
                            "entitlements",
                            format!("'{e}' is not an entitlement id"),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            comment,
        },
        "reassign" => Decision::Reassign {
            to: to.unwrap_or_default().trim().to_owned(),
            comment: comment.unwrap_or_default(),
        },
        "expire" => {
            let day = at
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| DomainError::invalid("at", "choose the date it expires"))?;
            let day = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").map_err(|_| {
                DomainError::invalid("at", format!("'{day}' is not a date (YYYY-MM-DD)"))
            })?;
            Decision::Expire {
                at: day.and_time(chrono::NaiveTime::MIN).and_utc(),
                comment,
            }
        }
        other => {
            return Err(DomainError::unknown_value(
                "decision",
                other,
                &["certify", "revoke", "reduce", "reassign", "expire"],
            ))
        }
    })
}

/// Where an overdue item goes under the campaign's escalation rule: the active
/// sponsor (unless the sponsor already reviews it), else the security team. `None`:
/// it already is with the security team.
pub fn escalate(
    escalation: Escalation,
    current: &ItemReviewer,
    sponsor: Option<(PersonRef, bool)>,
) -> Option<ItemReviewer> {
    if current.kind == ReviewerKind::SecurityTeam {
        return None;
    }
    if escalation == Escalation::Sponsor {
        if let Some((sponsor, true)) = sponsor {
            let already = current.person.as_ref().is_some_and(|p| p.id == sponsor.id);
            if !already {
                return Some(ItemReviewer {
                    kind: ReviewerKind::Sponsor,
                    person: Some(sponsor),
                });
            }
        }
    }
    Some(ItemReviewer {
        kind: ReviewerKind::SecurityTeam,
        person: None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-29T09:00:00Z".parse().unwrap()
    }

    fn person(email: &str) -> PersonRef {
        PersonRef {
            id: Uuid::from_u128(email.len() as u128),
            display_name: email.into(),
            email: email.into(),
        }
    }

    #[test]
    fn every_template_is_a_valid_campaign_over_catalog_controls() {
        assert_eq!(TEMPLATES.len(), 4);
        for template in TEMPLATES {
            let (draft, scope) = template.draft(now()).validated().unwrap();
            assert!(scope.is_filtered(), "{}", template.id);
            assert_eq!(
                draft.due_at - draft.starts_at,
                Duration::days(template.days)
            );
        }
        let ownership = &TEMPLATES[0];
        assert_eq!(ownership.controls, &["NHI1", "GV.RR-02", "ID.AM-08"]);
    }

    #[test]
    fn a_draft_names_what_is_wrong() {
        let good = TEMPLATES[0].draft(now());
        let cases: Vec<(CampaignDraft, &str)> = vec![
            (
                CampaignDraft {
                    name: " ".into(),
                    ..good.clone()
                },
                "name",
            ),
            (
                CampaignDraft {
                    scope: "clas=ai".into(),
                    ..good.clone()
                },
                "scope",
            ),
            (
                CampaignDraft {
                    controls: vec![],
                    ..good.clone()
                },
                "controls",
            ),
            (
                CampaignDraft {
                    controls: vec!["NHI99".into()],
                    ..good.clone()
                },
                "controls",
            ),
            (
                CampaignDraft {
                    reviewed: Reviewed::default(),
                    ..good.clone()
                },
                "reviewed",
            ),
            (
                CampaignDraft {
                    due_at: good.starts_at,
                    ..good.clone()
                },
                "due_at",
            ),
            (
                CampaignDraft {
                    due_at: good.starts_at + Duration::days(MAX_CAMPAIGN_DAYS + 1),
                    ..good.clone()
                },
                "due_at",
            ),
            (
                CampaignDraft {
                    remind_every_days: 0,
                    ..good.clone()
                },
                "remind_every_days",
            ),
        ];
        for (draft, field) in cases {
            match draft.validated() {
                Err(DomainError::InvalidInput { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn recurrence_starts_the_next_campaign_one_period_later_for_as_long() {
        let quarterly = TEMPLATES[0].draft("2026-01-31T09:00:00Z".parse().unwrap());
        let next = quarterly.next().unwrap();
        assert_eq!(
            next.starts_at,
            "2026-04-30T09:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            next.due_at - next.starts_at,
            quarterly.due_at - quarterly.starts_at
        );
        let once = CampaignDraft {
            recurrence: Recurrence::Once,
            ..quarterly
        };
        assert_eq!(once.next(), None);
    }

    #[test]
    fn the_reviewer_is_the_active_owner_then_the_active_sponsor_then_security() {
        let ann = person("ann@example.com");
        let bo = person("bo@example.com");
        assert_eq!(
            choose_reviewer(Some((ann.clone(), true)), Some((bo.clone(), true))),
            Reviewer::Owner(ann.clone())
        );
        assert_eq!(
            choose_reviewer(Some((ann.clone(), false)), Some((bo.clone(), true))),
            Reviewer::Sponsor(bo.clone())
        );
        assert_eq!(
            choose_reviewer(None, Some((bo.clone(), true))),
            Reviewer::Sponsor(bo.clone())
        );
        assert_eq!(
            choose_reviewer(Some((ann, false)), Some((bo, false))),
            Reviewer::SecurityTeam
        );
        assert_eq!(choose_reviewer(None, None), Reviewer::SecurityTeam);
    }

    #[test]
    fn decisions_follow_the_rules() {
        let kept = Uuid::from_u128(1);
        let item = ItemFacts {
            worst_finding: Some(Severity::High),
            entitlements: vec![kept],
            expires_at: Some(now() + Duration::days(30)),
        };
        let field = |d: Decision| match check_decision(&d, &item, now()) {
            Err(DomainError::InvalidInput { field, .. }) => field,
            other => panic!("{d:?}: {other:?}"),
        };
        assert_eq!(field(Decision::Certify { comment: None }), "comment");
        assert!(check_decision(
            &Decision::Certify {
                comment: Some("compensating control in place".into())
            },
            &item,
            now()
        )
        .is_ok());
        let clean = ItemFacts {
            worst_finding: Some(Severity::Medium),
            ..item.clone()
        };
        assert!(check_decision(&Decision::Certify { comment: None }, &clean, now()).is_ok());
        assert_eq!(
            field(Decision::Revoke {
                comment: " ".into()
            }),
            "comment"
        );
        assert_eq!(
            field(Decision::Reassign {
                to: "not an email".into(),
                comment: "wrong team".into()
            }),
            "to"
        );
        assert_eq!(
            field(Decision::Reduce {
                entitlements: vec![],
                comment: None
            }),
            "entitlements"
        );
        assert_eq!(
            field(Decision::Reduce {
                entitlements: vec![Uuid::from_u128(9)],
                comment: None
            }),
            "entitlements"
        );
        assert!(check_decision(
            &Decision::Reduce {
                entitlements: vec![kept],
                comment: None
            },
            &item,
            now()
        )
        .is_ok());
        assert_eq!(
            field(Decision::Expire {
                at: now(),
                comment: None
            }),
            "at"
        );
        assert_eq!(
            field(Decision::Expire {
                at: now() + Duration::days(31),
                comment: None
            }),
            "at"
        );
        assert!(check_decision(
            &Decision::Expire {
                at: now() + Duration::days(7),
                comment: None
            },
            &item,
            now()
        )
        .is_ok());
    }

    #[test]
    fn reminders_come_on_schedule_at_most_daily_and_overdue_after_the_due_date() {
        let draft = CampaignDraft {
            remind_every_days: 7,
            ..TEMPLATES[0].draft(now())
        };
        assert!(!reminder_due(&draft, None, now() - Duration::hours(1)));
        assert!(!reminder_due(&draft, None, now() + Duration::days(6)));
        assert!(reminder_due(&draft, None, now() + Duration::days(7)));
        let last = now() + Duration::days(7);
        assert!(!reminder_due(&draft, Some(last), last + Duration::days(6)));
        assert!(reminder_due(&draft, Some(last), last + Duration::days(7)));
        // The day before the due date everyone still undecided hears once.
        let short = CampaignDraft {
            due_at: now() + Duration::days(3),
            ..draft.clone()
        };
        assert!(reminder_due(&short, None, now() + Duration::days(2)));
        let daily = CampaignDraft {
            remind_every_days: 1,
            ..draft.clone()
        };
        assert!(!reminder_due(
            &daily,
            Some(now()),
            now() + Duration::hours(23)
        ));
        assert!(!overdue(&draft, draft.due_at));
        assert!(overdue(&draft, draft.due_at + Duration::seconds(1)));
    }

    #[test]
    fn form_fields_become_decisions() {
        assert_eq!(
            decision_from_form("certify", Some("  ".into()), None, None, &[]).unwrap(),
            Decision::Certify { comment: None }
        );
        let e = Uuid::from_u128(3);
        assert_eq!(
            decision_from_form("reduce", None, None, None, &[e.to_string()]).unwrap(),
            Decision::Reduce {
                entitlements: vec![e],
                comment: None
            }
        );
        assert_eq!(
            decision_from_form(
                "expire",
                Some("project ends".into()),
                None,
                Some("2027-01-31"),
                &[]
            )
            .unwrap(),
            Decision::Expire {
                at: "2027-01-31T00:00:00Z".parse().unwrap(),
                comment: Some("project ends".into())
            }
        );
        let field = |r: Result<Decision, DomainError>| match r {
            Err(DomainError::InvalidInput { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(decision_from_form("expire", None, None, None, &[])),
            "at"
        );
        assert_eq!(
            field(decision_from_form(
                "expire",
                None,
                None,
                Some("31/01/2027"),
                &[]
            )),
            "at"
        );
        assert_eq!(
            field(decision_from_form(
                "reduce",
                None,
                None,
                None,
                &["x".into()]
            )),
            "entitlements"
        );
        assert_eq!(
            field(decision_from_form("approve", None, None, None, &[])),
            "decision"
        );
    }

    #[test]
    fn escalation_goes_to_the_active_sponsor_then_the_security_team() {
        let ann = person("ann@example.com");
        let sponsor = person("sponsor@example.com");
        let owner = ItemReviewer {
            kind: ReviewerKind::Owner,
            person: Some(ann),
        };
        let to = escalate(Escalation::Sponsor, &owner, Some((sponsor.clone(), true))).unwrap();
        assert_eq!(to.kind, ReviewerKind::Sponsor);
        assert_eq!(to.person, Some(sponsor.clone()));
        // A sponsor who left, or a sponsor already reviewing: the security team.
        let team = escalate(Escalation::Sponsor, &owner, Some((sponsor.clone(), false))).unwrap();
        assert_eq!(team.kind, ReviewerKind::SecurityTeam);
        assert_eq!(
            escalate(Escalation::Sponsor, &to, Some((sponsor, true)))
                .unwrap()
                .kind,
            ReviewerKind::SecurityTeam
        );
        assert_eq!(
            escalate(Escalation::SecurityTeam, &owner, None)
                .unwrap()
                .person,
            None
        );
        assert_eq!(escalate(Escalation::Sponsor, &team, None), None);
    }

    #[test]
    fn evidence_csv_has_a_line_per_item_with_its_hash_and_defuses_formulas() {
        let ann = person("ann@example.com");
        let kept = Uuid::from_u128(11);
        let entitlement = crate::identity::Entitlement {
            id: kept,
            resource: "billing-db".into(),
            action: "admin".into(),
            privilege: crate::identity::Privilege::Admin,
            grant_type: crate::identity::GrantType::Standing,
            created_at: now(),
            removed_at: None,
        };
        let snapshot = ItemSnapshot {
            name: "=cmd|calc".into(),
            kind: crate::inventory::IdentityKind::ServiceAccount,
            actor_class: crate::inventory::ActorClass::Machine,
            environment: "prod".into(),
            status: crate::inventory::IdentityStatus::Active,
            team: Some("payments".into()),
            owner: Some(ann.clone()),
            sponsor: None,
            purpose: None,
            last_used_at: None,
            expires_at: None,
            findings: vec![],
            entitlements: vec![entitlement],
            credentials: vec![],
            delegates_to: vec![],
            delegated_from: 0,
        };
        let item = ReviewItem {
            id: Uuid::from_u128(21),
            campaign_id: Uuid::from_u128(20),
            campaign_name: "Q4".into(),
            due_at: now(),
            reviewed: Reviewed {
                ownership: false,
                entitlements: true,
                credentials: false,
            },
            identity_id: Uuid::from_u128(22),
            reviewer: ItemReviewer {
                kind: ReviewerKind::Owner,
                person: Some(ann),
            },
            previous_reviewer: None,
            snapshot,
            decision: Some(Decision::Reduce {
                entitlements: vec![kept],
                comment: Some("not needed, \"really\"".into()),
            }),
            decided_by: Some("user:ann@example.com".into()),
            decided_at: Some(now()),
            close_outcome: None,
            remediation: Remediation::Done,
            remediation_note: Some("removed billing-db:admin".into()),
            escalated_at: None,
        };
        let campaign = Campaign {
            id: Uuid::from_u128(20),
            draft: TEMPLATES[1].draft(now()),
            state: CampaignState::Closed,
            template: Some("privileged-entitlements".into()),
            created_by: "user:admin@example.com".into(),
            created_at: now(),
            launched_at: Some(now()),
            closed_at: Some(now()),
            previous_id: None,
            items: 1,
            decided: 1,
            remediation_open: 0,
        };
        let evidence = Evidence {
            campaign,
            controls: vec![],
            rows: vec![EvidenceRow {
                item,
                audit_seq: Some(42),
                audit_hash: Some("abc123".into()),
            }],
            generated_at: now(),
        };
        let csv = evidence_csv(&evidence);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], EVIDENCE_COLUMNS.join(","));
        assert!(lines[1].contains(",'=cmd|calc,"), "{}", lines[1]);
        assert!(
            lines[1].contains(",reduce,\"not needed, \"\"really\"\"\",billing-db:admin,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[1].ends_with(",done,removed billing-db:admin,42,abc123"),
            "{}",
            lines[1]
        );
        assert_eq!(evidence.exceptions().count(), 1);
        assert!(evidence.outcome_counts().contains(&("reduce", 1)));
    }
}
