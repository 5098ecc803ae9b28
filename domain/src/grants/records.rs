//! Grants as stored and shown: their state, requests, approvals, the views and lists
//! built from them, and the short-lived credential issued for an active grant.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::identity::Privilege;
use crate::string_enum::string_enum;

use super::{ApprovalMode, Policy};

string_enum! {
    /// Where a grant is in its life. Grants are never deleted.
    pub enum GrantState: "grant state" {
        /// Waiting for approval.
        Pending = "pending",
        /// Approved; the entitlement is usable until `expires_at`.
        Active = "active",
        Denied = "denied",
        /// Its time ran out.
        Expired = "expired",
        /// Ended early by a person.
        Revoked = "revoked",
        /// Withdrawn by the requester before a decision.
        Cancelled = "cancelled",
    }
}

impl GrantState {
    /// No further change is possible.
    pub fn is_final(self) -> bool {
        !matches!(self, GrantState::Pending | GrantState::Active)
    }
}

/// What a requester asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GrantRequest {
    pub identity_id: Uuid,
    /// The identity's just-in-time entitlement to activate.
    pub entitlement_id: Uuid,
    /// How long, from approval (default: the policy's maximum).
    #[serde(default)]
    pub minutes: Option<u32>,
    #[serde(default)]
    pub reason: Option<String>,
}

/// One approval of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Approval {
    pub by: String,
    pub person_id: Uuid,
    /// Approved as `owner` (owner or sponsor) or `security_team`.
    pub capacity: String,
    pub at: DateTime<Utc>,
}

/// A just-in-time grant with its whole history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grant {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub identity_name: String,
    pub entitlement_id: Uuid,
    pub resource: String,
    pub action: String,
    pub privilege: Privilege,
    pub policy_id: Uuid,
    pub approval_mode: ApprovalMode,
    pub minutes: u32,
    pub reason: Option<String>,
    pub requested_by: String,
    pub requester_person_id: Option<Uuid>,
    pub requested_at: DateTime<Utc>,
    pub state: GrantState,
    pub approvals: Vec<Approval>,
    /// Who denied, revoked or cancelled it, and why.
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
    /// When it became active (the clock starts here) and when it ends.
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// When it left `pending` or `active`.
    pub ended_at: Option<DateTime<Utc>>,
}

impl Grant {
    pub fn scope(&self) -> String {
        format!("{}:{}", self.resource, self.action)
    }

    /// Active and not past its expiry at `now` (the worker may not have run yet).
    pub fn is_usable(&self, now: DateTime<Utc>) -> bool {
        self.state == GrantState::Active && self.expires_at.is_some_and(|e| e > now)
    }
}

/// A just-in-time entitlement of an identity that a policy makes requestable, with
/// the grant open on it (pending or active), if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EligibleEntitlement {
    pub entitlement: crate::identity::Entitlement,
    pub policy: Policy,
    pub current: Option<Grant>,
    /// Whether the caller may request it.
    pub may_request: bool,
    /// Whether the policy's windows allow a request now.
    pub open_now: bool,
}

/// Why a grant is denied or revoked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EndRequest {
    pub reason: String,
}

/// How many more minutes an active grant gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExtendRequest {
    pub minutes: u32,
}

/// A grant with its timeline from the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantView {
    pub grant: Grant,
    pub timeline: Vec<crate::audit::AuditEvent>,
}

/// Which grants to list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantList {
    /// Active grants, optionally of one identity, of identities one person owns, or
    /// expiring within some minutes.
    Active {
        identity: Option<Uuid>,
        owner: Option<String>,
        expiring_minutes: Option<u32>,
    },
    /// The caller's own requests (every state), newest first.
    Mine,
    /// Pending grants the caller can approve.
    ToApprove,
}

/// A short-lived credential for an active grant (a signed JWT).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssuedCredential {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    pub expires_at: DateTime<Utc>,
    pub scope: String,
    pub jti: Uuid,
}

/// What token introspection (RFC 7662) says of a credential. An inactive one says
/// nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// The grant the credential stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<Uuid>,
}
