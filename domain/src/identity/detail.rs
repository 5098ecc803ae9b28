//! One identity in full as shown: its vocabulary (autonomy, sensitivity, credential
//! kinds, privileges, grant types, ownership state), credentials with their rotation
//! state, entitlements and the whole detail record.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::audit::AuditEvent;
use crate::delegation::DelegationGraph;
use crate::inventory::{IdentitySummary, PersonRef};
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
