//! Ownership: every identity has a named owner and a sponsor (backup owner). Owners
//! are assigned with a reason — one identity or all of a filter — and answer in their
//! inbox; people who leave hand their identities to the orphan queue.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::identity::required_text;
use crate::inventory::{IdentityKind, IdentityStatus, PersonRef};
use crate::string_enum::string_enum;

string_enum! {
    /// Which responsibility an assignment gives.
    pub enum AssignmentRole: "assignment role" {
        Owner = "owner",
        /// The backup owner, told when the owner leaves.
        Sponsor = "sponsor",
    }
}

string_enum! {
    pub enum AssignmentState: "assignment state" {
        /// Waiting for the assignee's answer.
        Pending = "pending",
        Accepted = "accepted",
        Disputed = "disputed",
        /// Replaced by a later assignment before it was answered.
        Superseded = "superseded",
    }
}

/// Assign an owner or sponsor to one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    pub role: AssignmentRole,
    /// The assignee's email.
    pub person: String,
    pub reason: String,
}

impl AssignRequest {
    pub fn validated(&self) -> Result<AssignRequest, DomainError> {
        Ok(AssignRequest {
            role: self.role,
            person: crate::auth::normalize_email(&self.person).map_err(|_| {
                DomainError::invalid(
                    "person",
                    format!("'{}' is not an email address", self.person.trim()),
                )
            })?,
            reason: required_text("reason", &self.reason)?,
        })
    }
}

/// Assign an owner or sponsor to every identity matching an inventory filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkAssignRequest {
    /// The inventory filter as a query string, e.g. `orphaned=true&env=prod`.
    pub filter: String,
    // The assignment's fields, spelled out rather than a flattened `AssignRequest`:
    // serde cannot refuse unknown fields around a flattened one, and the OpenAPI
    // document would describe two closed objects that no body satisfies at once.
    pub role: AssignmentRole,
    /// The assignee's email.
    pub person: String,
    pub reason: String,
    /// How many identities the caller saw matching; if the filter now matches a
    /// different number, nothing is changed (the inventory moved since).
    pub expected_count: Option<u64>,
}

impl BulkAssignRequest {
    /// At most this many identities change in one bulk assignment.
    pub const MAX_IDENTITIES: u64 = 10_000;

    /// The assignment made to every matching identity.
    pub fn assignment(&self) -> AssignRequest {
        AssignRequest {
            role: self.role,
            person: self.person.clone(),
            reason: self.reason.clone(),
        }
    }
}

/// What a bulk assignment did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkAssignResult {
    pub matched: u64,
    /// Identities whose owner or sponsor changed (the others already had this person).
    pub assigned: u64,
}

/// The identity an assignment or queue entry is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityRef {
    pub id: Uuid,
    pub name: String,
    pub kind: IdentityKind,
    pub environment: String,
    pub status: IdentityStatus,
}

/// One owner or sponsor assignment and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub id: Uuid,
    pub identity: IdentityRef,
    pub role: AssignmentRole,
    pub person: PersonRef,
    pub previous: Option<PersonRef>,
    pub reason: String,
    pub assigned_by: String,
    pub assigned_at: DateTime<Utc>,
    pub state: AssignmentState,
    pub answered_at: Option<DateTime<Utc>>,
    pub answer_note: Option<String>,
}

/// The assignee's answer; a dispute needs a note saying why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    #[serde(default)]
    pub note: Option<String>,
}

/// An identity whose owner left, and who should pick it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrphanEntry {
    pub identity: IdentityRef,
    pub former_owner: PersonRef,
    /// The sponsor if still here, else someone active in the identity's team.
    pub suggested: Option<PersonRef>,
    pub suggested_reason: String,
    pub queued_at: DateTime<Utc>,
}

/// A message for a person, shown in their inbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notification {
    pub id: Uuid,
    pub identity_id: Option<Uuid>,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// A person in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PersonInfo {
    pub id: Uuid,
    pub display_name: String,
    pub email: String,
    pub team: Option<String>,
    pub active: bool,
    /// Identities they own.
    pub owned: u64,
}

/// Deactivating a person who has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeactivateRequest {
    pub reason: String,
}

/// What deactivating a person did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeactivationResult {
    pub person: PersonRef,
    /// Identities moved to the orphan queue.
    pub orphaned: u64,
    /// Sponsors told about it.
    pub sponsors_notified: u64,
    /// Identities suspended (their grants revoked) under the leaver policy.
    #[serde(default)]
    pub suspended: u64,
}

/// What the signed-in person has to answer: pending assignments and notifications.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inbox {
    pub assignments: Vec<Assignment>,
    pub notifications: Vec<Notification>,
}

/// Which person should pick up an orphan: the sponsor while still active, else a
/// colleague from the identity's team, else nobody (the security team decides).
pub fn suggest_successor(
    sponsor: Option<&(PersonRef, bool)>,
    team_colleague: Option<&PersonRef>,
    team: Option<&str>,
) -> (Option<PersonRef>, String) {
    match (sponsor, team_colleague) {
        (Some((sponsor, true)), _) => (Some(sponsor.clone()), "the sponsor".to_owned()),
        (_, Some(colleague)) => (
            Some(colleague.clone()),
            format!("a member of the team {}", team.unwrap_or("?")),
        ),
        _ => (
            None,
            "no sponsor or team member: the security team decides".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(n: u128) -> PersonRef {
        PersonRef {
            id: Uuid::from_u128(n),
            display_name: format!("P{n}"),
            email: format!("p{n}@example.com"),
        }
    }

    #[test]
    fn successor_is_sponsor_then_team_then_nobody() {
        let (who, why) = suggest_successor(Some(&(person(1), true)), Some(&person(2)), Some("Pay"));
        assert_eq!(
            (who.unwrap().id, why.as_str()),
            (Uuid::from_u128(1), "the sponsor")
        );
        let (who, why) =
            suggest_successor(Some(&(person(1), false)), Some(&person(2)), Some("Pay"));
        assert_eq!(
            (who.unwrap().id, why.as_str()),
            (Uuid::from_u128(2), "a member of the team Pay")
        );
        let (who, why) = suggest_successor(None, None, None);
        assert!(who.is_none() && why.contains("security team"));
    }

    #[test]
    fn assignment_requests_name_their_problem() {
        let req = AssignRequest {
            role: AssignmentRole::Owner,
            person: " Ada@Example.com ".into(),
            reason: " team change ".into(),
        };
        let ok = req.validated().unwrap();
        assert_eq!(
            (ok.person.as_str(), ok.reason.as_str()),
            ("ada@example.com", "team change")
        );
        let bad = AssignRequest {
            person: "ada".into(),
            ..req.clone()
        };
        assert_eq!(
            bad.validated().unwrap_err().to_string(),
            "invalid person: 'ada' is not an email address"
        );
        let no_reason = AssignRequest {
            reason: "".into(),
            ..req
        };
        assert_eq!(
            no_reason.validated().unwrap_err().to_string(),
            "invalid reason: a reason is required"
        );
    }
}
