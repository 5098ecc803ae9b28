//! What the checks see of one identity (its [`Subject`], peers, agent limits and
//! runtime drift), the settings they run with and what a failed check reports. Gathered
//! by the store, kept apart from the checks themselves.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::authz::DriftKind;
use crate::delegation::DelegationKind;
use crate::identity::{CredentialInfo, Entitlement, LifecyclePolicy};
use crate::inventory::{IdentityKind, IdentityStatus};

/// An identity at the other end of a delegation edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Peer {
    pub id: Uuid,
    pub kind: IdentityKind,
    pub environment: String,
    pub status: IdentityStatus,
    /// Whether someone active owns it.
    pub owned: bool,
    pub delegation: DelegationKind,
    /// Its active entitlements' permissions (`resource:action`).
    pub permissions: BTreeSet<String>,
}

/// An agent's runtime limits, as far as they are set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentLimits {
    /// The tools it may call (`None`: no allowlist — any tool).
    pub tool_allowlist: Option<Vec<String>>,
    pub max_session_minutes: Option<u32>,
    pub max_calls_per_session: Option<u32>,
}

impl From<&crate::authz::AgentLimits> for AgentLimits {
    /// What the checks look at of the limits set for runtime authorization.
    fn from(limits: &crate::authz::AgentLimits) -> Self {
        AgentLimits {
            tool_allowlist: (!limits.tools.is_empty()).then(|| limits.tools.clone()),
            max_session_minutes: limits.max_session_minutes,
            max_calls_per_session: limits.max_calls,
        }
    }
}

/// What the findings engine knows about one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub id: Uuid,
    pub kind: IdentityKind,
    pub environment: String,
    pub status: IdentityStatus,
    /// `None`: no owner; `Some(false)`: an owner who has left.
    pub owner_active: Option<bool>,
    pub has_sponsor: bool,
    pub purpose: Option<String>,
    pub spiffe_id: Option<String>,
    pub revocation_path: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub credentials: Vec<CredentialInfo>,
    pub entitlements: Vec<Entitlement>,
    /// Import signals: (name, detail).
    pub signals: Vec<(String, String)>,
    /// Identities this one delegates to (acts as, or hands work to).
    pub delegates_to: Vec<Peer>,
    /// Identities that delegate to this one.
    pub delegated_from: Vec<Peer>,
    pub agent_limits: AgentLimits,
    /// What its runtime decisions showed beyond its approvals, over the drift window.
    #[serde(default)]
    pub runtime_drift: Vec<RuntimeDrift>,
    /// Trust configurations with a claim rule for it: it can prove itself with a token
    /// its platform issues (workload identity federation).
    #[serde(default)]
    pub federated_by: Vec<String>,
    /// Live Steward API tokens made to act for it (static secrets too).
    #[serde(default)]
    pub agent_tokens: u32,
}

/// How far back runtime decisions count as drift.
pub const DRIFT_WINDOW_DAYS: i64 = 30;

/// Drift of one kind seen in an identity's runtime decisions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeDrift {
    pub kind: DriftKind,
    /// How many decisions showed it.
    pub count: u64,
    /// Some of the resources asked for (tools, datasets, identities), for the detail.
    pub resources: Vec<String>,
}

/// The thresholds the checks use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckSettings {
    pub expiry: LifecyclePolicy,
    /// Unused for this many days (or never used and older than this): `unused`.
    pub unused_days: u32,
    /// A credential never rotated and older than this: `never-rotated`.
    pub never_rotated_days: u32,
}

impl Default for CheckSettings {
    fn default() -> Self {
        CheckSettings {
            expiry: LifecyclePolicy::default(),
            unused_days: 90,
            never_rotated_days: 90,
        }
    }
}

/// One failed check: its id (as in the catalog) and what exactly is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub check: &'static str,
    pub detail: String,
}
