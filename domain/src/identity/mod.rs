//! One identity in full: its attributes, credentials, entitlements and delegations, the
//! rules for creating and editing it, and its lifecycle (suspend, reactivate, retire).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::delegation::DelegationGraph;
use crate::error::DomainError;
use crate::inventory::{parse_environment, parse_team, IdentityKind, IdentitySummary, PersonRef};
use crate::string_enum::string_enum;

string_enum! {
    /// How far an AI identity acts without a human confirming each step.
    pub enum Autonomy: "autonomy" {
        None = "none",
        Supervised = "supervised",
        Autonomous = "autonomous",
    }
}

string_enum! {
    /// The most sensitive data an identity may touch.
    pub enum Sensitivity: "sensitivity" {
        Public = "public",
        Internal = "internal",
        Confidential = "confidential",
        Restricted = "restricted",
    }
}

string_enum! {
    /// What sort of secret a credential is (the secret itself is never stored).
    pub enum CredentialKind: "credential kind" {
        AccessKey = "access_key",
        ClientSecret = "client_secret",
        Certificate = "certificate",
        SshKey = "ssh_key",
        ApiToken = "api_token",
        /// No secret at all: a federated workload token.
        Federated = "federated",
    }
}

impl CredentialKind {
    /// Whether it is a secret someone holds and could leak (a certificate's private key
    /// and a federated token are not handed out as shared secrets).
    pub fn is_static_secret(self) -> bool {
        matches!(
            self,
            CredentialKind::AccessKey
                | CredentialKind::ClientSecret
                | CredentialKind::SshKey
                | CredentialKind::ApiToken
        )
    }
}

string_enum! {
    /// How much an entitlement allows on its resource.
    pub enum Privilege: "privilege" {
        Read = "read",
        Write = "write",
        Admin = "admin",
    }
}

string_enum! {
    /// Whether an entitlement is always there or only while a just-in-time grant is active.
    pub enum GrantType: "grant type" {
        Standing = "standing",
        JustInTime = "just_in_time",
    }
}

string_enum! {
    /// Where the named owner stands on their assignment.
    pub enum OwnershipState: "ownership state" {
        Pending = "pending",
        Accepted = "accepted",
        Disputed = "disputed",
    }
}

/// A credential's metadata: fingerprint or key id, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CredentialInfo {
    pub id: Uuid,
    pub kind: CredentialKind,
    pub key_id: String,
    pub created_at: DateTime<Utc>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// Rotate at least every this many days (`None`: no policy).
    pub rotation_days: Option<u32>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where a credential stands against its rotation policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RotationState {
    Revoked,
    Expired,
    /// Older than its rotation policy allows.
    Overdue,
    /// Within the last tenth of its rotation period.
    DueSoon,
    Current,
    /// No rotation policy set.
    NoPolicy,
}

impl RotationState {
    pub fn label(self) -> &'static str {
        match self {
            RotationState::Revoked => "Revoked",
            RotationState::Expired => "Expired",
            RotationState::Overdue => "Rotation overdue",
            RotationState::DueSoon => "Rotation due soon",
            RotationState::Current => "Current",
            RotationState::NoPolicy => "No rotation policy",
        }
    }
}

impl CredentialInfo {
    /// When the secret was last set: its last rotation, or its creation.
    pub fn last_set(&self) -> DateTime<Utc> {
        self.last_rotated_at.unwrap_or(self.created_at)
    }

    /// Whole days since the secret was last set.
    pub fn age_days(&self, now: DateTime<Utc>) -> i64 {
        (now - self.last_set()).num_days().max(0)
    }

    pub fn rotation_state(&self, now: DateTime<Utc>) -> RotationState {
        if self.revoked_at.is_some() {
            return RotationState::Revoked;
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            return RotationState::Expired;
        }
        let Some(days) = self.rotation_days else {
            return RotationState::NoPolicy;
        };
        let due = self.last_set() + Duration::days(i64::from(days));
        if due <= now {
            RotationState::Overdue
        } else if due - now <= Duration::days((i64::from(days) + 9) / 10) {
            RotationState::DueSoon
        } else {
            RotationState::Current
        }
    }
}

/// What an identity may do on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Entitlement {
    pub id: Uuid,
    pub resource: String,
    pub action: String,
    pub privilege: Privilege,
    pub grant_type: GrantType,
    pub created_at: DateTime<Utc>,
    /// Set when the entitlement was taken away (kept for the record).
    pub removed_at: Option<DateTime<Utc>>,
}

impl Entitlement {
    /// The permission this entitlement gives, as compared along delegation chains.
    pub fn permission(&self) -> String {
        format!("{}:{}", self.resource, self.action)
    }
}

/// Everything about one identity, for its page and `GET /api/v1/identities/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityDetail {
    #[serde(flatten)]
    pub summary: IdentitySummary,
    /// The backup owner: answers for the identity when the owner cannot.
    pub sponsor: Option<PersonRef>,
    /// What it is for; for an AI identity, its task.
    pub purpose: Option<String>,
    pub autonomy: Option<Autonomy>,
    pub sensitivity_ceiling: Option<Sensitivity>,
    /// How to cut it off in an emergency (runbook link or procedure).
    pub revocation_path: Option<String>,
    pub ownership_state: Option<OwnershipState>,
    /// Why it was last suspended, reactivated or retired.
    pub status_reason: Option<String>,
    pub updated_at: Option<DateTime<Utc>>,
    pub credentials: Vec<CredentialInfo>,
    pub entitlements: Vec<Entitlement>,
    pub delegation: DelegationGraph,
    /// Audit events about this identity, newest first.
    pub timeline: Vec<AuditEvent>,
}

string_enum! {
    /// Which identities are suspended when the person who owns them is deactivated
    /// (someone left). Suspension revokes their open grants too (the kill switch);
    /// the identities go to the orphan queue either way.
    pub enum LeaverPolicy: "leaver policy" {
        /// None: only the orphan queue.
        Keep = "none",
        /// AI-connected identities (agents, orchestrators, delegated sessions): they act
        /// for their owner, so they stop when the owner leaves. Workloads keep running.
        Ai = "ai",
        /// Every identity the person owned.
        All = "all",
    }
}

impl LeaverPolicy {
    /// Whether an identity of `kind` whose owner left is suspended.
    pub fn suspends(self, kind: IdentityKind) -> bool {
        match self {
            LeaverPolicy::Keep => false,
            LeaverPolicy::Ai => kind.actor_class() == crate::inventory::ActorClass::Ai,
            LeaverPolicy::All => true,
        }
    }
}

/// The organisation's lifecycle rules per actor class: the longest lifetime a new or
/// edited identity may be given, and what happens to identities whose owner leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecyclePolicy {
    pub machine_max_days: u32,
    pub ai_max_days: u32,
    pub leaver: LeaverPolicy,
}

impl Default for LifecyclePolicy {
    fn default() -> Self {
        LifecyclePolicy {
            machine_max_days: 365,
            ai_max_days: 90,
            leaver: LeaverPolicy::Ai,
        }
    }
}

impl LifecyclePolicy {
    pub fn max_days(&self, kind: IdentityKind) -> u32 {
        match kind.actor_class() {
            crate::inventory::ActorClass::Machine => self.machine_max_days,
            crate::inventory::ActorClass::Ai => self.ai_max_days,
        }
    }
}

/// The attributes an admin sets when creating or editing an identity. Ownership is
/// not here: owners and sponsors are assigned (with a reason) through the ownership
/// operations, so every change of owner is answered by the new owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IdentityDraft {
    pub name: String,
    pub kind: IdentityKind,
    /// The identifier in its source system, if any.
    #[serde(default)]
    pub external_id: Option<String>,
    pub environment: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub autonomy: Option<Autonomy>,
    #[serde(default)]
    pub sensitivity_ceiling: Option<Sensitivity>,
    /// `spiffe://trust-domain/path`.
    #[serde(default)]
    pub spiffe_id: Option<String>,
    /// Required: how to revoke it (runbook URL or procedure).
    #[serde(default)]
    pub revocation_path: Option<String>,
    /// Required, and within the policy for its actor class.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// An identity's name as the API, the pages and imports all accept it: trimmed, 1–200
/// characters, no control characters.
pub fn check_name(name: &str) -> Result<String, DomainError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(DomainError::invalid("name", "a name is required"));
    }
    if name.chars().count() > IdentityDraft::MAX_NAME || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            format!(
                "a name has 1–{} characters and no control characters",
                IdentityDraft::MAX_NAME
            ),
        ));
    }
    Ok(name.to_owned())
}

impl IdentityDraft {
    pub const MAX_NAME: usize = 200;
    pub const MAX_TEXT: usize = 2000;

    /// Checks every rule and returns the draft with text trimmed and blanks as `None`.
    /// The first problem found is reported, naming its field.
    pub fn validated(
        &self,
        policy: &LifecyclePolicy,
        now: DateTime<Utc>,
    ) -> Result<IdentityDraft, DomainError> {
        let name = check_name(&self.name)?;
        let name = name.as_str();
        let environment = parse_environment(self.environment.trim())?;
        let team = blank_to_none(&self.team)
            .map(|t| parse_team(&t))
            .transpose()?;
        let external_id = bounded_text("external_id", &self.external_id, 500)?;
        let purpose = bounded_text("purpose", &self.purpose, Self::MAX_TEXT)?;
        let spiffe_id = blank_to_none(&self.spiffe_id)
            .map(|id| parse_spiffe_id(&id))
            .transpose()?;
        let revocation_path =
            bounded_text("revocation_path", &self.revocation_path, Self::MAX_TEXT)?.ok_or_else(
                || {
                    DomainError::invalid(
                    "revocation_path",
                    "a revocation path is required: how to cut this identity off in an emergency",
                )
                },
            )?;
        let max_days = policy.max_days(self.kind);
        let expires_at = self.expires_at.ok_or_else(|| {
            DomainError::invalid(
                "expires_at",
                format!(
                    "an expiry is required ({} identities: at most {max_days} days ahead)",
                    self.kind.actor_class().label()
                ),
            )
        })?;
        if expires_at <= now {
            return Err(DomainError::invalid(
                "expires_at",
                "the expiry must be in the future",
            ));
        }
        if expires_at > now + Duration::days(i64::from(max_days)) {
            return Err(DomainError::invalid(
                "expires_at",
                format!(
                    "the expiry is beyond policy: {} identities may live at most {max_days} days",
                    self.kind.actor_class().label()
                ),
            ));
        }
        Ok(IdentityDraft {
            name: name.to_owned(),
            kind: self.kind,
            external_id,
            environment,
            team,
            purpose,
            autonomy: self.autonomy,
            sensitivity_ceiling: self.sensitivity_ceiling,
            spiffe_id,
            revocation_path: Some(revocation_path),
            expires_at: Some(expires_at),
        })
    }
}

fn blank_to_none(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn bounded_text(
    field: &str,
    value: &Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    match blank_to_none(value) {
        Some(text) if text.chars().count() > max => Err(DomainError::invalid(
            field,
            format!("at most {max} characters"),
        )),
        other => Ok(other),
    }
}

/// Checks a SPIFFE ID (`spiffe://<trust domain>/<path>`) against the SPIFFE ID
/// specification: lower-case trust domain of letters, digits, `.`, `-`, `_`; a path of
/// non-empty segments of letters, digits, `.`, `-`, `_`, none `.` or `..`; no query,
/// fragment, port or user info; at most 2048 bytes.
pub fn parse_spiffe_id(value: &str) -> Result<String, DomainError> {
    let bad = |why: &str| {
        DomainError::invalid("spiffe_id", format!("'{value}' is not a SPIFFE ID: {why}"))
    };
    if value.len() > 2048 {
        return Err(bad("longer than 2048 bytes"));
    }
    let rest = value
        .strip_prefix("spiffe://")
        .ok_or_else(|| bad("it must start with spiffe://"))?;
    let (domain, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    if domain.is_empty() {
        return Err(bad("the trust domain is missing"));
    }
    if !domain
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '-' | '_'))
    {
        return Err(bad(
            "the trust domain may only have lower-case letters, digits, '.', '-' and '_'",
        ));
    }
    if path.is_empty() {
        return Err(bad("a workload needs a path after the trust domain"));
    }
    for segment in path[1..].split('/') {
        if segment.is_empty() {
            return Err(bad("the path has an empty segment or a trailing '/'"));
        }
        if segment == "." || segment == ".." {
            return Err(bad("the path may not have '.' or '..' segments"));
        }
        if !segment
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(bad(
                "the path may only have letters, digits, '.', '-' and '_'",
            ));
        }
    }
    Ok(value.to_owned())
}

/// A credential to record against an identity (its metadata only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    pub kind: CredentialKind,
    /// Fingerprint or key id — never the secret.
    pub key_id: String,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub rotation_days: Option<u32>,
}

impl NewCredential {
    pub fn validated(&self) -> Result<NewCredential, DomainError> {
        let key_id = self.key_id.trim();
        if key_id.is_empty() || key_id.len() > 500 {
            return Err(DomainError::invalid(
                "key_id",
                "a key id or fingerprint of 1–500 characters is required",
            ));
        }
        if looks_like_secret(key_id) {
            return Err(DomainError::invalid(
                "key_id",
                "this looks like secret material; record only a key id or fingerprint",
            ));
        }
        if let Some(days) = self.rotation_days {
            if !(1..=3650).contains(&days) {
                return Err(DomainError::invalid(
                    "rotation_days",
                    "a rotation period is 1–3650 days",
                ));
            }
        }
        Ok(NewCredential {
            key_id: key_id.to_owned(),
            ..self.clone()
        })
    }
}

/// Whether text looks like a secret rather than an identifier: a PEM private key, or
/// a well-known secret-token prefix. (An AWS access key *id*, `AKIA…`, is an
/// identifier and fine.) Steward refuses to store such material.
pub fn looks_like_secret(text: &str) -> bool {
    const TOKEN_PREFIXES: &[&str] = &[
        "stw_",
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "xoxb-",
        "xoxp-",
        "sk-",
        "glpat-",
    ];
    text.contains("PRIVATE KEY") || TOKEN_PREFIXES.iter().any(|prefix| text.starts_with(prefix))
}

/// An entitlement to grant an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEntitlement {
    pub resource: String,
    pub action: String,
    pub privilege: Privilege,
    #[serde(default = "standing")]
    pub grant_type: GrantType,
}

fn standing() -> GrantType {
    GrantType::Standing
}

impl NewEntitlement {
    pub fn validated(&self) -> Result<NewEntitlement, DomainError> {
        let field = |name: &str, value: &str| {
            let value = value.trim();
            if value.is_empty()
                || value.chars().count() > 300
                || value.contains(char::is_whitespace)
            {
                Err(DomainError::invalid(
                    name,
                    "1–300 characters without spaces are required",
                ))
            } else {
                Ok(value.to_owned())
            }
        };
        Ok(NewEntitlement {
            resource: field("resource", &self.resource)?,
            action: field("action", &self.action)?,
            ..self.clone()
        })
    }
}

/// Why an identity is suspended or reactivated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LifecycleRequest {
    pub reason: String,
}

/// Retiring an identity: the evidence of offboarding (ticket, change record, note).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RetireRequest {
    pub evidence: String,
}

/// Checks a reason, note or evidence text: required, at most 2000 characters.
pub fn required_text(field: &str, value: &str) -> Result<String, DomainError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(DomainError::invalid(
            field,
            format!("a {} is required", field.replace('_', " ")),
        ));
    }
    if value.chars().count() > IdentityDraft::MAX_TEXT {
        return Err(DomainError::invalid(
            field,
            format!("at most {} characters", IdentityDraft::MAX_TEXT),
        ));
    }
    Ok(value.to_owned())
}

/// What retiring an identity did: the offboarding checklist, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RetirementReport {
    pub identity_id: Uuid,
    pub credentials_revoked: u64,
    pub entitlements_removed: u64,
    pub delegations_removed: u64,
    pub evidence: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
    }

    fn draft(kind: IdentityKind, days: i64) -> IdentityDraft {
        IdentityDraft {
            name: "  payments-api ".into(),
            kind,
            external_id: Some(" ".into()),
            environment: "prod".into(),
            team: Some("Payments".into()),
            purpose: None,
            autonomy: None,
            sensitivity_ceiling: None,
            spiffe_id: Some("spiffe://prod.example.com/ns/pay/sa/api".into()),
            revocation_path: Some("https://runbooks.example.com/revoke".into()),
            expires_at: Some(now() + Duration::days(days)),
        }
    }

    #[test]
    fn drafts_are_trimmed_and_checked() {
        let policy = LifecyclePolicy::default();
        let ok = draft(IdentityKind::Workload, 300)
            .validated(&policy, now())
            .unwrap();
        assert_eq!(ok.name, "payments-api");
        assert_eq!(ok.external_id, None);

        let err = |d: IdentityDraft| d.validated(&policy, now()).unwrap_err().to_string();
        assert_eq!(
            err(draft(IdentityKind::Agent, 91)),
            "invalid expires_at: the expiry is beyond policy: AI identities may live at most 90 days"
        );
        assert_eq!(
            err(IdentityDraft { expires_at: None, ..draft(IdentityKind::Workload, 1) }),
            "invalid expires_at: an expiry is required (Machine identities: at most 365 days ahead)"
        );
        assert_eq!(
            err(draft(IdentityKind::Workload, -1)),
            "invalid expires_at: the expiry must be in the future"
        );
        assert_eq!(
            err(IdentityDraft { revocation_path: Some("  ".into()), ..draft(IdentityKind::Workload, 1) }),
            "invalid revocation_path: a revocation path is required: how to cut this identity off in an emergency"
        );
        assert_eq!(
            err(IdentityDraft {
                name: " ".into(),
                ..draft(IdentityKind::Workload, 1)
            }),
            "invalid name: a name is required"
        );
        assert!(err(IdentityDraft {
            environment: "Prod".into(),
            ..draft(IdentityKind::Workload, 1)
        })
        .starts_with("invalid env"));
        let custom = LifecyclePolicy {
            machine_max_days: 30,
            ai_max_days: 7,
            ..LifecyclePolicy::default()
        };
        assert!(draft(IdentityKind::Workload, 31)
            .validated(&custom, now())
            .is_err());
    }

    #[test]
    fn a_leavers_ai_identities_are_suspended_by_default_and_workloads_only_when_all() {
        let policy = LifecyclePolicy::default();
        assert!(policy.leaver.suspends(IdentityKind::Agent));
        assert!(policy.leaver.suspends(IdentityKind::AssistantSession));
        assert!(!policy.leaver.suspends(IdentityKind::Workload));
        assert!(LeaverPolicy::All.suspends(IdentityKind::Workload));
        assert!(!LeaverPolicy::Keep.suspends(IdentityKind::Agent));
        assert_eq!("ai".parse::<LeaverPolicy>().unwrap(), LeaverPolicy::Ai);
        assert!("some".parse::<LeaverPolicy>().is_err());
    }

    #[test]
    fn spiffe_ids_follow_the_specification() {
        for good in [
            "spiffe://example.org/ns/default/sa/api",
            "spiffe://a-b_c.d/x.y/z_1",
        ] {
            assert_eq!(parse_spiffe_id(good).unwrap(), good);
        }
        let cases = [
            ("https://example.org/x", "it must start with spiffe://"),
            ("spiffe:///x", "the trust domain is missing"),
            (
                "spiffe://Example.org/x",
                "the trust domain may only have lower-case letters, digits, '.', '-' and '_'",
            ),
            (
                "spiffe://example.org:8443/x",
                "the trust domain may only have lower-case letters, digits, '.', '-' and '_'",
            ),
            (
                "spiffe://example.org",
                "a workload needs a path after the trust domain",
            ),
            (
                "spiffe://example.org/",
                "the path has an empty segment or a trailing '/'",
            ),
            (
                "spiffe://example.org/a//b",
                "the path has an empty segment or a trailing '/'",
            ),
            (
                "spiffe://example.org/a/../b",
                "the path may not have '.' or '..' segments",
            ),
            (
                "spiffe://example.org/a?b=1",
                "the path may only have letters, digits, '.', '-' and '_'",
            ),
        ];
        for (input, why) in cases {
            assert_eq!(
                parse_spiffe_id(input).unwrap_err().to_string(),
                format!("invalid spiffe_id: '{input}' is not a SPIFFE ID: {why}"),
            );
        }
    }

    #[test]
    fn rotation_state_follows_the_policy() {
        let cred = |rotated_days_ago: i64, policy: Option<u32>| CredentialInfo {
            id: Uuid::nil(),
            kind: CredentialKind::AccessKey,
            key_id: "AKIAEXAMPLE".into(),
            created_at: now() - Duration::days(400),
            last_rotated_at: Some(now() - Duration::days(rotated_days_ago)),
            expires_at: None,
            last_used_at: None,
            rotation_days: policy,
            revoked_at: None,
        };
        assert_eq!(
            cred(100, Some(90)).rotation_state(now()),
            RotationState::Overdue
        );
        assert_eq!(
            cred(85, Some(90)).rotation_state(now()),
            RotationState::DueSoon
        );
        assert_eq!(
            cred(10, Some(90)).rotation_state(now()),
            RotationState::Current
        );
        assert_eq!(
            cred(10, None).rotation_state(now()),
            RotationState::NoPolicy
        );
        assert_eq!(cred(10, Some(90)).age_days(now()), 10);
        let revoked = CredentialInfo {
            revoked_at: Some(now()),
            ..cred(1, Some(90))
        };
        assert_eq!(revoked.rotation_state(now()), RotationState::Revoked);
    }

    #[test]
    fn secrets_are_refused_as_key_ids() {
        let cred = |key_id: &str| NewCredential {
            kind: CredentialKind::ClientSecret,
            key_id: key_id.into(),
            expires_at: None,
            rotation_days: None,
        };
        assert!(cred("AKIAIOSFODNN7EXAMPLE").validated().is_ok());
        assert!(cred("disk-key-1").validated().is_ok());
        assert!(cred("SHA256:2f1c…").validated().is_ok());
        for secret in [
            "-----BEGIN PRIVATE KEY-----",
            "ghp_abcdef0123456789",
            "stw_abc",
        ] {
            assert_eq!(
                cred(secret).validated().unwrap_err().to_string(),
                "invalid key_id: this looks like secret material; record only a key id or fingerprint"
            );
        }
        assert!(cred(" ").validated().is_err());
    }

    #[test]
    fn required_texts() {
        assert_eq!(required_text("reason", " left team ").unwrap(), "left team");
        assert_eq!(
            required_text("reason", "  ").unwrap_err().to_string(),
            "invalid reason: a reason is required"
        );
        assert!(required_text("evidence", &"x".repeat(2001)).is_err());
    }
}
