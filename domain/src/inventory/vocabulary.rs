//! The register's vocabulary: kinds, actor classes, sources and statuses of identities,
//! the person reference and the one-line summary every listing shows. The plain data the
//! rest of the module (and most of the crate) is written in.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::string_enum::string_enum;

string_enum! {
    /// The two families of non-human identity Steward governs. Machine identities are
    /// governed mostly at provisioning time, AI identities also at request time.
    pub enum ActorClass: "actor class" {
        Machine = "machine",
        Ai = "ai",
    }
}

string_enum! {
    /// What sort of non-human identity this is.
    pub enum IdentityKind: "identity kind" {
        ServiceAccount = "service_account",
        Workload = "workload",
        CiRunner = "ci_runner",
        Integration = "integration",
        ApiClient = "api_client",
        Agent = "agent",
        Orchestrator = "orchestrator",
        LlmApp = "llm_app",
        AssistantSession = "assistant_session",
    }
}

impl IdentityKind {
    /// Every kind belongs to exactly one actor class.
    pub fn actor_class(self) -> ActorClass {
        match self {
            IdentityKind::ServiceAccount
            | IdentityKind::Workload
            | IdentityKind::CiRunner
            | IdentityKind::Integration
            | IdentityKind::ApiClient => ActorClass::Machine,
            IdentityKind::Agent
            | IdentityKind::Orchestrator
            | IdentityKind::LlmApp
            | IdentityKind::AssistantSession => ActorClass::Ai,
        }
    }

    /// Label for people, e.g. "CI runner".
    pub fn label(self) -> &'static str {
        match self {
            IdentityKind::ServiceAccount => "Service account",
            IdentityKind::Workload => "Workload",
            IdentityKind::CiRunner => "CI runner",
            IdentityKind::Integration => "Integration",
            IdentityKind::ApiClient => "API client",
            IdentityKind::Agent => "Agent",
            IdentityKind::Orchestrator => "Orchestrator",
            IdentityKind::LlmApp => "LLM app",
            IdentityKind::AssistantSession => "Assistant session",
        }
    }
}

impl ActorClass {
    pub fn label(self) -> &'static str {
        match self {
            ActorClass::Machine => "Machine",
            ActorClass::Ai => "AI",
        }
    }
}

string_enum! {
    /// Where an identity was discovered or created.
    pub enum Source: "source" {
        Aws = "aws",
        Gcp = "gcp",
        Azure = "azure",
        Kubernetes = "kubernetes",
        Github = "github",
        Manual = "manual",
        Steward = "steward",
    }
}

string_enum! {
    /// Lifecycle state: `active` → `suspended` → `retired`.
    pub enum IdentityStatus: "status" {
        Active = "active",
        Suspended = "suspended",
        Retired = "retired",
    }
}

/// A person who can own or sponsor identities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonRef {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
}

/// One row of the inventory: what a list needs to show about an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentitySummary {
    pub id: Uuid,
    pub name: String,
    pub actor_class: ActorClass,
    pub kind: IdentityKind,
    pub source: Source,
    /// The identifier in the source system (ARN, `namespace/name`, client id, …).
    pub external_id: Option<String>,
    pub environment: String,
    pub status: IdentityStatus,
    /// `None` means the identity is orphaned: nobody answers for it.
    pub owner: Option<PersonRef>,
    /// Whether the owner still works here; an identity whose owner left is orphaned.
    pub owner_active: bool,
    pub team: Option<String>,
    /// Workload identity binding, e.g. `spiffe://prod.example.com/ns/pay/sa/api`.
    pub spiffe_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl IdentitySummary {
    pub fn is_orphaned(&self) -> bool {
        self.owner.is_none() || !self.owner_active
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}
