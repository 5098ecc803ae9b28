//! Use-case interfaces the UI and the REST API call, implemented by the server over
//! the store. Authorization and audit happen behind these traits, never in front:
//! every method takes the caller (`None` = anonymous) and decides itself.

use std::sync::Arc;

use async_trait::async_trait;

use crate::audit::{AuditPage, AuditQuery, ChainReport};
use crate::auth::Principal;
use crate::authz::{
    AgentCaller, AgentLimits, AuthorizeRequest, AuthorizeResponse, AuthzPolicy, AuthzPolicyDraft,
    CompiledPolicy, DecisionRecord, MonitorReport,
};
use crate::campaigns::{
    BulkDecision, BulkOutcome, Campaign, CampaignDetail, CampaignOverview, CreateCampaign,
    Decision, Evidence, ItemFilter, ItemPage, ReviewItem,
};
use crate::delegation::NewDelegation;
use crate::error::DomainError;
use crate::federation::{ModeChange, ProofOfIdentity, TokenCheck, TrustConfig, TrustConfigDraft};
use crate::grants::{
    EligibleEntitlement, EndRequest, ExtendRequest, Grant, GrantList, GrantRequest, GrantView,
    Introspection, IssuedCredential, Policy, PolicyDraft,
};
use crate::identity::{
    CredentialInfo, Entitlement, IdentityDetail, IdentityDraft, LifecycleRequest, NewCredential,
    NewEntitlement, RetireRequest, RetirementReport,
};
use crate::imports::{ImportReport, ImportRequest};
use crate::inventory::{Facets, IdentityQuery, IdentitySummary, Page};
use crate::ownership::{
    AnswerRequest, AssignRequest, Assignment, AssignmentState, BulkAssignRequest, BulkAssignResult,
    DeactivateRequest, DeactivationResult, Inbox, OrphanEntry, PersonInfo,
};
use crate::posture::dashboard::{Dashboard, PostureReport};
use crate::posture::findings::{AcceptRiskRequest, EvaluationReport, Finding, ReopenRequest};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Reading and maintaining the register of identities.
#[async_trait]
pub trait Inventory: Send + Sync {
    /// One keyset-paginated page of identities matching the query, in its sort order.
    async fn list_identities(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Page<IdentitySummary>, DomainError>;

    /// Counts per actor class, kind, source, environment and status of the filter.
    async fn facets(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Facets, DomainError>;

    /// The same counts when they are quick to compute, or `None` when the query
    /// searches for a term so common that counting every match would hold up a page
    /// (the page then asks [`Inventory::facets`] after it is shown).
    async fn quick_facets(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<Option<Facets>, DomainError>;

    /// Records that the caller exports the identities of this filter (checked and
    /// audited before the first row is sent).
    async fn begin_export(
        &self,
        principal: Option<&Principal>,
        query: &IdentityQuery,
    ) -> Result<(), DomainError>;

    async fn get_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<IdentityDetail, DomainError>;

    async fn create_identity(
        &self,
        principal: Option<&Principal>,
        draft: &IdentityDraft,
    ) -> Result<IdentityDetail, DomainError>;

    async fn update_identity(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        draft: &IdentityDraft,
    ) -> Result<IdentityDetail, DomainError>;

    async fn add_credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        credential: &NewCredential,
    ) -> Result<CredentialInfo, DomainError>;

    async fn revoke_credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        credential_id: Uuid,
    ) -> Result<CredentialInfo, DomainError>;

    async fn add_entitlement(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        entitlement: &NewEntitlement,
    ) -> Result<Entitlement, DomainError>;

    async fn remove_entitlement(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        entitlement_id: Uuid,
    ) -> Result<Entitlement, DomainError>;

    /// Adds `id → delegation.to`; refused if it would close a cycle.
    async fn add_delegation(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        delegation: &NewDelegation,
    ) -> Result<(), DomainError>;

    async fn remove_delegation(
        &self,
        principal: Option<&Principal>,
        from: Uuid,
        to: Uuid,
    ) -> Result<(), DomainError>;

    /// The kill switch: takes effect for every later request of the identity.
    async fn suspend(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &LifecycleRequest,
    ) -> Result<IdentityDetail, DomainError>;

    async fn reactivate(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &LifecycleRequest,
    ) -> Result<IdentityDetail, DomainError>;

    /// Sets or changes the expiry (a review's "let expire"), with the reason.
    async fn set_expiry(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        expires_at: DateTime<Utc>,
        reason: &str,
    ) -> Result<IdentityDetail, DomainError>;

    /// Offboards: revokes credentials, removes entitlements and delegations, records
    /// the evidence, and marks the identity retired (never deleted).
    async fn retire(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &RetireRequest,
    ) -> Result<RetirementReport, DomainError>;
}

/// Owners, sponsors, their answers, and the people who can hold them.
#[async_trait]
pub trait Ownership: Send + Sync {
    async fn assign(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        request: &AssignRequest,
    ) -> Result<Assignment, DomainError>;

    /// Assigns every identity of the filter in one transaction.
    async fn bulk_assign(
        &self,
        principal: Option<&Principal>,
        request: &BulkAssignRequest,
    ) -> Result<BulkAssignResult, DomainError>;

    /// The caller's pending assignments and notifications.
    async fn inbox(&self, principal: Option<&Principal>) -> Result<Inbox, DomainError>;

    async fn accept(
        &self,
        principal: Option<&Principal>,
        assignment_id: Uuid,
        answer: &AnswerRequest,
    ) -> Result<Assignment, DomainError>;

    async fn dispute(
        &self,
        principal: Option<&Principal>,
        assignment_id: Uuid,
        answer: &AnswerRequest,
    ) -> Result<Assignment, DomainError>;

    /// Assignments in a state (admins: everyone's; others: their own), newest first.
    async fn list_assignments(
        &self,
        principal: Option<&Principal>,
        state: Option<AssignmentState>,
    ) -> Result<Vec<Assignment>, DomainError>;

    /// Identities whose owner left, oldest first, with who should pick them up.
    async fn orphan_queue(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<OrphanEntry>, DomainError>;

    /// People whose name or email contains `search` (all when blank), by name.
    async fn people(
        &self,
        principal: Option<&Principal>,
        search: &str,
    ) -> Result<Vec<PersonInfo>, DomainError>;

    /// Marks a person as left: their identities go to the orphan queue and the
    /// sponsors of those identities are told.
    async fn deactivate_person(
        &self,
        principal: Option<&Principal>,
        person_id: Uuid,
        request: &DeactivateRequest,
    ) -> Result<DeactivationResult, DomainError>;
}

/// The tamper-evident audit trail.
#[async_trait]
pub trait AuditTrail: Send + Sync {
    /// Events matching the query, newest first.
    async fn list(
        &self,
        principal: Option<&Principal>,
        query: &AuditQuery,
    ) -> Result<AuditPage, DomainError>;

    /// Re-checks the hash chain, naming the first broken event.
    async fn verify(&self, principal: Option<&Principal>) -> Result<ChainReport, DomainError>;
}

/// Importing inventories from the files real systems produce.
#[async_trait]
pub trait Imports: Send + Sync {
    /// Reads `file` as `request.format`; unless `dry_run`, applies it in one
    /// transaction (all or nothing) and records one audit event.
    async fn import(
        &self,
        principal: Option<&Principal>,
        request: &ImportRequest,
        file: Vec<u8>,
    ) -> Result<ImportReport, DomainError>;
}

/// Findings, risk acceptance, the controls and the managers' dashboard.
#[async_trait]
pub trait Posture: Send + Sync {
    /// Every finding of one identity (resolved ones too), open first.
    async fn findings_of(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<Finding>, DomainError>;

    /// Accepts the risk of an open finding until a date (security team).
    async fn accept_risk(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        check: &str,
        request: &AcceptRiskRequest,
    ) -> Result<Finding, DomainError>;

    /// Ends a risk acceptance early: the finding is open again.
    async fn reopen(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        check: &str,
        request: &ReopenRequest,
    ) -> Result<Finding, DomainError>;

    /// Evaluates every identity now and takes the day's snapshot.
    async fn evaluate(
        &self,
        principal: Option<&Principal>,
    ) -> Result<EvaluationReport, DomainError>;

    /// The latest snapshot, the trend and every control's status.
    async fn dashboard(&self, principal: Option<&Principal>) -> Result<Dashboard, DomainError>;

    /// The posture as the snapshot of `day` recorded it.
    async fn report(
        &self,
        principal: Option<&Principal>,
        day: NaiveDate,
    ) -> Result<PostureReport, DomainError>;
}

/// Access review campaigns: running them, deciding their items, and their evidence.
#[async_trait]
pub trait Campaigns: Send + Sync {
    /// Creates a campaign; one whose start has come is launched at once (its scope is
    /// snapshotted into review items).
    async fn create(
        &self,
        principal: Option<&Principal>,
        request: &CreateCampaign,
    ) -> Result<Campaign, DomainError>;

    /// Every campaign, progress per control and the overdue items.
    async fn overview(
        &self,
        principal: Option<&Principal>,
    ) -> Result<CampaignOverview, DomainError>;

    /// One campaign with its progress by reviewer and team.
    async fn detail(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<CampaignDetail, DomainError>;

    /// A page of a campaign's items.
    async fn items(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        filter: ItemFilter,
        offset: u64,
        limit: u64,
    ) -> Result<ItemPage, DomainError>;

    /// The caller's undecided items in open campaigns (the Reviews inbox).
    async fn my_reviews(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<ReviewItem>, DomainError>;

    /// Decides one item; what it asks for is carried out through the inventory.
    async fn decide(
        &self,
        principal: Option<&Principal>,
        item_id: Uuid,
        decision: &Decision,
    ) -> Result<ReviewItem, DomainError>;

    /// The same decision for several of the caller's items (confirmed).
    async fn decide_many(
        &self,
        principal: Option<&Principal>,
        request: &BulkDecision,
    ) -> Result<BulkOutcome, DomainError>;

    /// Tries again to carry out a decided item whose change failed or is pending.
    async fn retry_remediation(
        &self,
        principal: Option<&Principal>,
        item_id: Uuid,
    ) -> Result<ReviewItem, DomainError>;

    /// Closes an open campaign: applies its close policy to undecided items.
    async fn close(&self, principal: Option<&Principal>, id: Uuid)
        -> Result<Campaign, DomainError>;

    /// The evidence pack: every item with its outcome and audit hash.
    async fn evidence(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<Evidence, DomainError>;
}

/// Just-in-time grants: eligibility policies, requests, approvals and their end.
#[async_trait]
pub trait Grants: Send + Sync {
    /// Active eligibility policies.
    async fn policies(&self, principal: Option<&Principal>) -> Result<Vec<Policy>, DomainError>;

    async fn create_policy(
        &self,
        principal: Option<&Principal>,
        draft: &PolicyDraft,
    ) -> Result<Policy, DomainError>;

    async fn update_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        draft: &PolicyDraft,
    ) -> Result<Policy, DomainError>;

    /// Stops new requests under a policy (kept for the grants made under it).
    async fn delete_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError>;

    /// The identity's just-in-time entitlements a policy makes requestable.
    async fn eligible(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<EligibleEntitlement>, DomainError>;

    /// Requests a grant; active at once when its policy approves automatically.
    async fn request(
        &self,
        principal: Option<&Principal>,
        request: &GrantRequest,
    ) -> Result<Grant, DomainError>;

    /// Approves a pending grant; the approval that completes it starts its clock.
    async fn approve(&self, principal: Option<&Principal>, id: Uuid) -> Result<Grant, DomainError>;

    async fn deny(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &EndRequest,
    ) -> Result<Grant, DomainError>;

    /// Withdraws one's own pending request.
    async fn cancel(&self, principal: Option<&Principal>, id: Uuid) -> Result<Grant, DomainError>;

    /// Gives an active grant more time, within its policy's maximum from approval.
    async fn extend(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &ExtendRequest,
    ) -> Result<Grant, DomainError>;

    /// Ends an active grant now.
    async fn revoke(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        request: &EndRequest,
    ) -> Result<Grant, DomainError>;

    /// One grant with its timeline.
    async fn view(&self, principal: Option<&Principal>, id: Uuid)
        -> Result<GrantView, DomainError>;

    async fn list(
        &self,
        principal: Option<&Principal>,
        list: GrantList,
    ) -> Result<Vec<Grant>, DomainError>;

    /// A signed short-lived credential for an active grant (requester, owner, security team).
    async fn credential(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<IssuedCredential, DomainError>;

    /// Token introspection (RFC 7662): whether a credential is active now.
    async fn introspect(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<Introspection, DomainError>;

    /// Token revocation (RFC 7009): the credential stops being active at once.
    async fn revoke_credential(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<(), DomainError>;

    /// The public keys credentials are signed with (JWKS), for anyone to verify them.
    fn jwks(&self) -> serde_json::Value;
}

/// Runtime authorization of agents: limits, admin Cedar policies, decisions.
#[async_trait]
pub trait Authz: Send + Sync {
    /// The limits set on an identity (none set: the defaults).
    async fn limits(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<AgentLimits, DomainError>;

    /// Replaces an identity's limits (security team); audited.
    async fn set_limits(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        limits: &AgentLimits,
    ) -> Result<AgentLimits, DomainError>;

    /// Every policy the identity is decided with, with its id and text.
    async fn compiled(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<Vec<CompiledPolicy>, DomainError>;

    /// The admin Cedar policies.
    async fn policies(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<AuthzPolicy>, DomainError>;

    /// Creates (`id` none) or replaces a Cedar policy, validated against the schema.
    async fn save_policy(
        &self,
        principal: Option<&Principal>,
        id: Option<Uuid>,
        draft: &AuthzPolicyDraft,
    ) -> Result<AuthzPolicy, DomainError>;

    async fn delete_policy(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError>;

    /// Evaluates a hypothetical request (not counted, not logged) and says which
    /// policies decided.
    async fn test_bench(
        &self,
        principal: Option<&Principal>,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, DomainError>;

    /// Decides a request of the agent the caller proves to be (with a token made for
    /// it, or its just-in-time credential); counted in its session and logged.
    async fn authorize(
        &self,
        caller: AgentCaller<'_>,
        request: &AuthorizeRequest,
    ) -> Result<AuthorizeResponse, DomainError>;

    /// An identity's logged decisions, newest first.
    async fn decisions(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        before: Option<DateTime<Utc>>,
    ) -> Result<Vec<DecisionRecord>, DomainError>;

    /// Switches an agent's policy set between monitor and enforce (security team);
    /// audited with the reason.
    async fn set_mode(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        change: &ModeChange,
    ) -> Result<MonitorReport, DomainError>;

    /// What enforcing would have denied over the last `days` (1–90).
    async fn monitored(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        days: u32,
    ) -> Result<MonitorReport, DomainError>;

    /// The registered data sensitivities of datasets, tools and environments.
    async fn sensitivities(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<crate::sensitivity::RegisteredSensitivity>, DomainError>;

    /// Registers (or changes) a sensitivity (security team); audited.
    async fn set_sensitivity(
        &self,
        principal: Option<&Principal>,
        draft: &crate::sensitivity::SensitivityDraft,
    ) -> Result<crate::sensitivity::RegisteredSensitivity, DomainError>;

    /// Imports a sensitivity file ([`crate::sensitivity::parse_csv`]; security team):
    /// every entry checked first, then all written in one transaction with one
    /// `authz.sensitivity_import` audit event; `dry_run` only reports.
    async fn import_sensitivities(
        &self,
        principal: Option<&Principal>,
        csv: &str,
        dry_run: bool,
    ) -> Result<crate::sensitivity::SensitivityImport, DomainError>;

    /// Removes a registered sensitivity (security team); audited. The resource then
    /// counts as its environment's default, or `restricted`.
    async fn delete_sensitivity(
        &self,
        principal: Option<&Principal>,
        scope: crate::sensitivity::SensitivityScope,
        id: &str,
    ) -> Result<(), DomainError>;
}

/// An RFC 8693 token exchange request (`POST /api/v1/token`, form-encoded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenExchange {
    /// `urn:ietf:params:oauth:grant-type:token-exchange`.
    pub grant_type: String,
    /// The workload's token (a JWT a trust configuration accepts).
    #[serde(default)]
    pub subject_token: String,
    /// `urn:ietf:params:oauth:token-type:jwt` (or `id_token`, `access_token`).
    #[serde(default)]
    pub subject_token_type: String,
    /// The grant whose credential is wanted: `urn:steward:grant:<id>`; may be left out
    /// when the identity has exactly one active grant.
    #[serde(default)]
    pub resource: Option<String>,
    #[serde(default)]
    pub requested_token_type: Option<String>,
}

/// Workload identity federation: trust configurations, token checks, token exchange.
#[async_trait]
pub trait Federation: Send + Sync {
    async fn trust_configs(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<TrustConfig>, DomainError>;

    /// Creates (`id` none) or replaces a trust configuration (security team): rules are
    /// validated, the keys fetched or parsed, the identities checked; audited.
    async fn save_trust_config(
        &self,
        principal: Option<&Principal>,
        id: Option<Uuid>,
        draft: &TrustConfigDraft,
    ) -> Result<TrustConfig, DomainError>;

    async fn delete_trust_config(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
    ) -> Result<(), DomainError>;

    /// Switches a configuration between monitor and enforce; audited with the reason.
    async fn set_trust_mode(
        &self,
        principal: Option<&Principal>,
        id: Uuid,
        change: &ModeChange,
    ) -> Result<TrustConfig, DomainError>;

    /// Which identity a token proves, or why it is refused (nothing is logged).
    async fn check_token(
        &self,
        principal: Option<&Principal>,
        token: &str,
    ) -> Result<TokenCheck, DomainError>;

    /// RFC 8693: a workload's token for a short-lived credential of its active grant.
    async fn exchange(&self, request: &TokenExchange) -> Result<IssuedCredential, DomainError>;

    /// How an identity proves what it is.
    async fn proof_of(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
    ) -> Result<ProofOfIdentity, DomainError>;
}

/// Every port, handed to the UI through context and to the API through state.
#[derive(Clone)]
pub struct Ports {
    pub inventory: Arc<dyn Inventory>,
    pub ownership: Arc<dyn Ownership>,
    pub audit: Arc<dyn AuditTrail>,
    pub imports: Arc<dyn Imports>,
    pub posture: Arc<dyn Posture>,
    pub campaigns: Arc<dyn Campaigns>,
    pub grants: Arc<dyn Grants>,
    pub authz: Arc<dyn Authz>,
    pub federation: Arc<dyn Federation>,
}
