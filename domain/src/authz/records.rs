//! The answers and records of runtime authorization: responses, monitor reports, admin
//! policies and their drafts, decision records and drift.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Principal;
use crate::error::DomainError;
use crate::string_enum::string_enum;

string_enum! {
    pub enum Decision: "decision" {
        Allow = "allow",
        Deny = "deny",
    }
}

/// The answer: the decision, the ids of the policies that decided it (the permits that
/// allowed, or the forbids that denied; none for a default deny) and diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthorizeResponse {
    pub decision: Decision,
    pub reasons: Vec<String>,
    pub diagnostics: Vec<String>,
    /// Set when a control in monitor mode would have denied what was allowed:
    /// `policy` (the agent's policy set) or `static_secret:<trust configuration>` (a
    /// static token where that configuration asks for a federated one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub would_deny: Option<String>,
}

/// What enforcing would have denied over the last days, for an agent whose controls
/// are (or were) in monitor mode: the evidence for switching to enforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MonitorReport {
    /// The agent policy set's mode now.
    pub mode: crate::federation::EnforcementMode,
    pub days: u32,
    /// Decisions logged in the window.
    pub decisions: i64,
    /// Of those, the ones enforcing would have denied.
    pub would_deny: i64,
    /// The most recent of them (at most 20).
    pub recent: Vec<DecisionRecord>,
}

/// A Cedar policy an admin wrote, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthzPolicy {
    pub id: Uuid,
    pub draft: AuthzPolicyDraft,
    /// The identity the policy names (`principal == …`); none: it applies to everyone.
    pub principal_id: Option<Uuid>,
    pub updated_by: String,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl AuthzPolicy {
    /// The id decisions name it by.
    pub fn cedar_id(&self) -> String {
        format!("custom-{}", self.draft.name)
    }
}

/// What an admin writes: a name (the policy's id in decision reasons is
/// `custom-<name>`), what it is for, the Cedar text, and whether it is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthzPolicyDraft {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub body: String,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

impl AuthzPolicyDraft {
    /// Trimmed, with a name of 1–64 lower-case letters, digits and `-`, and a body of at
    /// most 20,000 characters. (Whether the body is valid Cedar is checked on the server.)
    pub fn validated(&self) -> Result<AuthzPolicyDraft, DomainError> {
        let name = self.name.trim().to_owned();
        let name_ok = (1..=64).contains(&name.len())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            return Err(DomainError::invalid(
                "name",
                format!("'{name}' is not a policy name (1–64 lower-case letters, digits and '-')"),
            ));
        }
        let body = self.body.trim().to_owned();
        if body.is_empty() || body.len() > 20_000 {
            return Err(DomainError::invalid(
                "body",
                "a policy is one Cedar permit or forbid, up to 20,000 characters",
            ));
        }
        let description = self.description.trim().to_owned();
        if description.len() > 500 {
            return Err(DomainError::invalid(
                "description",
                "at most 500 characters",
            ));
        }
        Ok(AuthzPolicyDraft {
            name,
            description,
            body,
            enabled: self.enabled,
        })
    }
}

/// One logged decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionRecord {
    pub id: Uuid,
    pub at: chrono::DateTime<chrono::Utc>,
    pub identity_id: Uuid,
    pub action: String,
    pub resource: String,
    pub decision: Decision,
    pub reasons: Vec<String>,
    pub diagnostics: Vec<String>,
    pub session_id: Option<String>,
    pub task: String,
    pub environment: String,
    pub delegation_chain: Vec<Uuid>,
    /// How the caller proved who it is (`token:<id>`, or `grant:<id> jti:<id>` for a
    /// just-in-time credential).
    pub credential: String,
    /// Drift between approval and execution this decision showed, if any.
    #[serde(default)]
    pub drift: Option<Drift>,
    /// What enforcing would have denied (monitor mode), as in [`AuthorizeResponse`].
    #[serde(default)]
    pub would_deny: Option<String>,
}

string_enum! {
    /// How an agent's runtime behaviour left what it was approved for.
    pub enum DriftKind: "drift" {
        /// It asked to call a tool outside its allowlist (OWASP ASI02).
        ToolOutsideAllowlist = "tool_outside_allowlist",
        /// It handed work to, spawned or acted through an identity it has no
        /// registered delegation to (ASI10, ASI03).
        UnregisteredDelegation = "unregistered_delegation",
        /// It acted through another identity (a service account) beyond what it was
        /// itself approved for: the other allowed, it did not (ASI03).
        BeyondApprovalThroughDelegation = "beyond_approval_through_delegation",
    }
}

/// Drift noted on a decision, about one identity on its chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Drift {
    pub kind: DriftKind,
    /// The identity whose approval was left (the finding is about it).
    pub identity_id: Uuid,
}

/// How an agent proves who it is when it asks for a decision.
#[derive(Debug, Clone, Copy)]
pub enum AgentCaller<'a> {
    /// An API token made for the agent (resolved into a principal).
    Token(Option<&'a Principal>),
    /// A JWT: a just-in-time grant credential Steward signed for the agent's grant, or
    /// a token the workload's platform issued, accepted by a trust configuration.
    Jwt(&'a str),
}
