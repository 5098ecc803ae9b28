//! The shape of a decision request (who asks to do what on which resource, in which
//! context) and its validation.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::identity::Sensitivity;
use crate::inventory::IdentityKind;

use super::{entity_ref, entity_type, parse_resource_id, AuthzAction, ResourceType};

/// The context a caller supplies; Steward adds session, delegation, grant and time.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestContext {
    /// What the agent is doing (free text, for policies and the log).
    #[serde(default)]
    pub task: String,
    /// Where the agent acts (`prod`, `staging`, …).
    #[serde(default)]
    pub environment: String,
    /// How sensitive the data touched is.
    #[serde(default)]
    pub data_sensitivity: Option<Sensitivity>,
    /// The agent's session (limits count per session); none: a session of one call.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The identities the work was delegated through, from the originator to the one
    /// just before the principal. Each link must be a registered delegation; the
    /// decision is allowed only if every one of them would be allowed too.
    #[serde(default)]
    pub delegation_chain: Vec<Uuid>,
}

/// A resource reference in a decision request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ResourceRef {
    #[serde(rename = "type")]
    pub resource_type: String,
    pub id: String,
}

/// `POST /api/v1/authorize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The identity acting; must be the caller's own identity.
    pub principal: Uuid,
    pub action: String,
    pub resource: ResourceRef,
    #[serde(default)]
    pub context: RequestContext,
}

/// Longest session id a caller may give (bytes).
pub const MAX_SESSION_ID: usize = 200;

/// What a decision request is on, checked against its action: a tool, a dataset (ids
/// as [`parse_resource_id`] accepts them) or another identity of the inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    Tool(String),
    Dataset(String),
    Identity(Uuid),
}

impl RequestTarget {
    /// The identity the request is on, if it is on one (its entity type is its kind's,
    /// which only the inventory knows).
    pub fn identity(&self) -> Option<Uuid> {
        match self {
            RequestTarget::Identity(id) => Some(*id),
            _ => None,
        }
    }

    /// The target as a Cedar entity. `identity_kind` is the kind of the identity it
    /// names, looked up in the inventory (none: no such identity); tools and datasets
    /// ignore it.
    pub fn entity(&self, identity_kind: Option<IdentityKind>) -> Result<EntityRef, DomainError> {
        Ok(match self {
            RequestTarget::Tool(id) => EntityRef::new("Tool", id),
            RequestTarget::Dataset(id) => EntityRef::new("Dataset", id),
            RequestTarget::Identity(id) => {
                let kind = identity_kind
                    .ok_or_else(|| DomainError::not_found(format!("identity {id}")))?;
                EntityRef::new(entity_type(kind), &id.to_string())
            }
        })
    }
}

/// A Cedar entity as Steward names it, by its parts: its type (one of the schema's) and
/// its id, any text. The policy engine builds the entity from the parts, so no id can
/// change the entity it names; [`EntityRef::text`] is the Cedar text, for people.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EntityRef {
    pub entity_type: &'static str,
    pub id: String,
}

impl EntityRef {
    pub fn new(entity_type: &'static str, id: &str) -> EntityRef {
        EntityRef {
            entity_type,
            id: id.to_owned(),
        }
    }

    /// `Type::"id"`, as in policies (see [`entity_ref`]).
    pub fn text(&self) -> String {
        entity_ref(self.entity_type, &self.id)
    }
}

impl std::fmt::Display for EntityRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl AuthorizeRequest {
    /// The action asked for.
    pub fn parsed_action(&self) -> Result<AuthzAction, DomainError> {
        self.action.parse().map_err(|_| {
            DomainError::invalid(
                "action",
                format!(
                    "'{}' is not one of call_tool, read_data, write_data, delegate, spawn_subagent",
                    self.action
                ),
            )
        })
    }

    /// What the request is on: its resource, whose type must be the one `action` is on.
    pub fn target(&self, action: AuthzAction) -> Result<RequestTarget, DomainError> {
        let expected = action.resource_type();
        let given = &self.resource.resource_type;
        if given != expected.as_str() {
            return Err(DomainError::invalid(
                "resource.type",
                format!("{action} is on a {expected}, not a {given}"),
            ));
        }
        let id = parse_resource_id("resource.id", &self.resource.id)?;
        Ok(match expected {
            ResourceType::Tool => RequestTarget::Tool(id),
            ResourceType::Dataset => RequestTarget::Dataset(id),
            ResourceType::Identity => RequestTarget::Identity(id.parse().map_err(|_| {
                DomainError::invalid("resource.id", format!("'{id}' is not an identity id"))
            })?),
        })
    }

    /// The identities the request goes through: its delegation chain, then the
    /// principal. None may appear twice.
    pub fn chain(&self) -> Result<Vec<Uuid>, DomainError> {
        let mut chain: Vec<Uuid> = self.context.delegation_chain.clone();
        chain.push(self.principal);
        let mut seen = std::collections::HashSet::new();
        if !chain.iter().all(|id| seen.insert(*id)) {
            return Err(DomainError::invalid(
                "context.delegation_chain",
                "an identity appears twice in the chain",
            ));
        }
        Ok(chain)
    }

    /// The session its calls count in: the given id trimmed, none when blank; at most
    /// [`MAX_SESSION_ID`] bytes.
    pub fn session_id(&self) -> Result<Option<String>, DomainError> {
        let session = self
            .context
            .session_id
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match session {
            Some(s) if s.len() > MAX_SESSION_ID => Err(DomainError::invalid(
                "context.session_id",
                format!("at most {MAX_SESSION_ID} characters"),
            )),
            s => Ok(s.map(str::to_owned)),
        }
    }
}
