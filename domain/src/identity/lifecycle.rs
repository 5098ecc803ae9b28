//! The lifecycle policy (maximum ages, what happens when an owner leaves) and the
//! requests and report of suspending, reactivating and retiring an identity.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::{authorize, Action, Principal, Role};
use crate::inventory::IdentityKind;
use crate::string_enum::string_enum;
use crate::DomainError;

/// Who may suspend an identity (the kill switch): whoever may suspend at all, but an
/// owner only what they own (`owner` is the identity's owner's person id). The service
/// enforces it; the identity page asks it to show the switch or not.
pub fn may_suspend(principal: Option<&Principal>, owner: Option<Uuid>) -> Result<(), DomainError> {
    authorize(principal, Action::SuspendIdentity)?;
    let principal = principal.ok_or(DomainError::Unauthenticated)?;
    if principal.role != Role::Admin && owner != Some(principal.person_id) {
        return Err(DomainError::Forbidden {
            reason: "owners can suspend only the identities they own".into(),
        });
    }
    Ok(())
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
