//! Cedar entity types and entity ids built from their parts (never by parsing text made
//! from inventory values), and the small expression helpers used to build entities.

use cedar_policy::{EntityId, EntityTypeName, EntityUid, RestrictedExpression};
use std::collections::HashMap;
use std::str::FromStr;

use crate::authz::EntityRef;

use super::{render, CedarError};

/// The entity types of the schema, parsed once.
fn entity_types() -> &'static HashMap<&'static str, EntityTypeName> {
    static TYPES: std::sync::OnceLock<HashMap<&'static str, EntityTypeName>> =
        std::sync::OnceLock::new();
    TYPES.get_or_init(|| {
        [
            "Team",
            "Tool",
            "Dataset",
            "Action",
            "ServiceAccount",
            "Workload",
            "CiRunner",
            "Integration",
            "ApiClient",
            "Agent",
            "Orchestrator",
            "LlmApp",
            "AssistantSession",
        ]
        .into_iter()
        .filter_map(|name| Some((name, EntityTypeName::from_str(name).ok()?)))
        .collect()
    })
}

/// The schema's entity type `name` (or any other valid Cedar type name).
pub fn type_name(name: &str) -> Result<EntityTypeName, CedarError> {
    match entity_types().get(name) {
        Some(known) => Ok(known.clone()),
        None => EntityTypeName::from_str(name).map_err(|e| CedarError::Internal(render(&e))),
    }
}

/// The entity of type `type_name` with id `id`, whatever characters the id holds
/// (quotes, backslashes, newlines and all): built from the parts, nothing is parsed.
pub fn uid_of(type_name: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(type_name.clone(), EntityId::new(id))
}

/// [`uid_of`] for a type given by name.
pub(super) fn entity_uid(type_name_text: &str, id: &str) -> Result<EntityUid, CedarError> {
    Ok(uid_of(&type_name(type_name_text)?, id))
}

/// A request's resource: an [`EntityRef`] (built from its parts), or Cedar text such as
/// `Tool::"github.create_pr"` (parsed).
pub trait Resource {
    fn uid(&self) -> Result<EntityUid, CedarError>;
}

impl Resource for EntityRef {
    fn uid(&self) -> Result<EntityUid, CedarError> {
        entity_uid(self.entity_type, &self.id)
    }
}

impl Resource for str {
    fn uid(&self) -> Result<EntityUid, CedarError> {
        uid(self)
    }
}

impl Resource for String {
    fn uid(&self) -> Result<EntityUid, CedarError> {
        uid(self)
    }
}

/// An entity reference in Cedar text (`Type::"id"`). Simple ones are split by hand:
/// parsing Cedar text for every request costs more than deciding it.
pub(super) fn uid(text: &str) -> Result<EntityUid, CedarError> {
    let simple = text.split_once("::\"").and_then(|(type_name, rest)| {
        let id = rest.strip_suffix('"')?;
        if id.contains(['"', '\\']) {
            return None;
        }
        let type_name = entity_types().get(type_name)?;
        Some(EntityUid::from_type_name_and_id(
            type_name.clone(),
            EntityId::new(id),
        ))
    });
    match simple {
        Some(uid) => Ok(uid),
        None => EntityUid::from_str(text).map_err(|e| CedarError::Internal(render(&e))),
    }
}

pub(super) fn string(value: &str) -> RestrictedExpression {
    RestrictedExpression::new_string(value.to_owned())
}

pub(super) fn record(
    fields: impl IntoIterator<Item = (&'static str, RestrictedExpression)>,
) -> Result<RestrictedExpression, CedarError> {
    RestrictedExpression::new_record(fields.into_iter().map(|(k, v)| (k.to_owned(), v)))
        .map_err(|e| CedarError::Internal(render(&e)))
}
