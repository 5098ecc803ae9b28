//! The ownership port over the store: assignments (one or in bulk, with a reason), the
//! assignee's answer, the orphan queue and deactivating people who left.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;
use steward_domain::audit::{AuditAction, NewAuditEvent};
use steward_domain::auth::{authorize, Action, Principal, Role};
use steward_domain::identity::{required_text, LeaverPolicy};
use steward_domain::inventory::{IdentityKind, IdentityQuery, IdentityStatus, PersonRef};
use steward_domain::ownership::{
    suggest_successor, AnswerRequest, AssignRequest, Assignment, AssignmentRole, AssignmentState,
    BulkAssignRequest, BulkAssignResult, DeactivateRequest, DeactivationResult, Inbox, OrphanEntry,
    PersonInfo,
};
use steward_domain::ports::Ownership;
use steward_domain::DomainError;
use uuid::Uuid;

use super::inventory::{identity_target, ownership_state_after_answer, refuse_retired, suspension};
use super::posture::PostureService;
use crate::services::write_error;
use crate::store::notify::writes::notification;
use crate::store::ownership::writes::{
    answer_assignment, assign_identities, deactivate_person, dequeue_orphans, insert_assignments,
    queue_orphan, set_ownership_state, supersede_pending_assignments, NewAssignment,
};
use crate::store::ownership::PersonRow;
use crate::store::write::Statement;
use crate::store::Store;

/// Identities per statement when a change touches many (bind-parameter limits).
const CHUNK: usize = 400;
const LIST_LIMIT: i64 = 500;

pub struct OwnershipService {
    store: Store,
    /// Re-evaluates the findings of the identities whose owner or sponsor changed.
    posture: Arc<PostureService>,
    /// Which identities a leaver's deactivation suspends.
    leaver: LeaverPolicy,
}

/// One identity to assign and who holds the role now.
struct Target {
    id: Uuid,
    current: Option<Uuid>,
}

impl OwnershipService {
    pub fn new(store: Store, posture: Arc<PostureService>, leaver: LeaverPolicy) -> Self {
        OwnershipService {
            store,
            posture,
            leaver,
        }
    }

    /// The assignee: a person who exists and has not left.
    async fn assignee(&self, email: &str) -> Result<PersonRow, DomainError> {
        let person = self
            .store
            .find_person_by_email(email)
            .await?
            .ok_or_else(|| {
                DomainError::invalid(
                    "person",
                    format!("nobody with the email {email} is known to Steward"),
                )
            })?;
        if !person.active {
            return Err(DomainError::invalid(
                "person",
                format!(
                    "{} has left; choose someone who is still here",
                    person.display_name
                ),
            ));
        }
        Ok(person)
    }

    /// Statements and audit events that assign `role` of `targets` to `person`.
    fn assign_statements(
        principal: &Principal,
        targets: &[Target],
        role: AssignmentRole,
        person: &PersonRow,
        reason: &str,
        bulk: bool,
        now: DateTime<Utc>,
    ) -> (Vec<Statement>, Vec<NewAuditEvent>, Vec<Uuid>) {
        let mut statements = Vec::new();
        let mut events = Vec::new();
        let mut assignment_ids = Vec::new();
        for chunk in targets.chunks(CHUNK) {
            let ids: Vec<Uuid> = chunk.iter().map(|t| t.id).collect();
            statements.push(supersede_pending_assignments(role, &ids));

            let mut assignments = Vec::with_capacity(chunk.len());
            for target in chunk {
                let assignment_id = Uuid::new_v4();
                assignment_ids.push(assignment_id);
                assignments.push(NewAssignment {
                    id: assignment_id,
                    identity_id: target.id,
                    previous_id: target.current,
                });
                events.push(NewAuditEvent::new(
                    principal.audit_actor(),
                    match role {
                        AssignmentRole::Owner => AuditAction::IdentityAssignOwner,
                        AssignmentRole::Sponsor => AuditAction::IdentityAssignSponsor,
                    },
                    identity_target(target.id),
                    json!({ "assignment_id": assignment_id, "person": person.email,
                            "previous": target.current, "reason": reason, "bulk": bulk }),
                ));
            }
            statements.push(insert_assignments(
                role,
                person.id,
                reason,
                &principal.audit_actor(),
                now,
                &assignments,
            ));
            statements.push(assign_identities(role, person.id, now, &ids));
            if role == AssignmentRole::Owner {
                statements.push(dequeue_orphans(&ids));
            }
        }
        (statements, events, assignment_ids)
    }

    async fn answer(
        &self,
        principal: Option<&Principal>,
        assignment_id: Uuid,
        answer: &AnswerRequest,
        accept: bool,
    ) -> Result<Assignment, DomainError> {
        authorize(principal, Action::AnswerAssignment)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let note = match (&answer.note, accept) {
            (Some(note), _) if !note.trim().is_empty() => Some(required_text("note", note)?),
            (_, true) => None,
            (_, false) => {
                return Err(DomainError::invalid(
                    "note",
                    "a dispute needs a note saying why (e.g. who should own it instead)",
                ))
            }
        };
        let not_found = || DomainError::not_found(format!("assignment {assignment_id}"));
        let assignment = self
            .store
            .find_assignment(assignment_id)
            .await?
            .ok_or_else(not_found)?;
        if assignment.person.id != principal.person_id {
            return Err(DomainError::Forbidden {
                reason: "only the person an assignment names can answer it".into(),
            });
        }
        let state = if accept {
            AssignmentState::Accepted
        } else {
            AssignmentState::Disputed
        };
        let now = Utc::now();
        let mut statements = vec![answer_assignment(assignment_id, state, now, note.clone())];
        if assignment.role == AssignmentRole::Owner {
            statements.push(set_ownership_state(
                assignment.identity.id,
                principal.person_id,
                ownership_state_after_answer(accept),
            ));
        }
        let event = NewAuditEvent::new(
            principal.audit_actor(),
            if accept {
                AuditAction::IdentityAssignmentAccept
            } else {
                AuditAction::IdentityAssignmentDispute
            },
            identity_target(assignment.identity.id),
            json!({ "assignment_id": assignment_id, "role": assignment.role, "note": note }),
        );
        self.store
            .write(&statements, |_| vec![event])
            .await
            .map_err(|e| write_error(e, ""))?;
        self.store
            .find_assignment(assignment_id)
            .await?
            .ok_or_else(not_found)
    }
}

#[async_trait]
impl Ownership for OwnershipService {
    async fn assign(
        &self,
        principal: Option<&Principal>,
        identity_id: Uuid,
        request: &AssignRequest,
    ) -> Result<Assignment, DomainError> {
        authorize(principal, Action::AssignOwnership)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let request = request.validated()?;
        let person = self.assignee(&request.person).await?;
        let (summary, extra) = self
            .store
            .find_identity(identity_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("identity {identity_id}")))?;
        refuse_retired(&summary)?;
        let current = match request.role {
            AssignmentRole::Owner => summary.owner.as_ref().map(|o| o.id),
            AssignmentRole::Sponsor => extra.sponsor_id,
        };
        if current == Some(person.id) {
            return Err(DomainError::Conflict {
                message: format!(
                    "{} is already the {} of {}",
                    person.display_name, request.role, summary.name
                ),
            });
        }
        // The sponsor may be promoted to owner (the sponsor slot is then empty), but the
        // owner cannot also be their own backup.
        if request.role == AssignmentRole::Sponsor
            && summary.owner.as_ref().map(|o| o.id) == Some(person.id)
        {
            return Err(DomainError::invalid(
                "person",
                "the owner and the sponsor must be different people (the sponsor is the backup)",
            ));
        }
        let (statements, events, ids) = Self::assign_statements(
            principal,
            &[Target {
                id: identity_id,
                current,
            }],
            request.role,
            &person,
            &request.reason,
            false,
            Utc::now(),
        );
        self.store
            .write(&statements, |_| events)
            .await
            .map_err(|e| write_error(e, ""))?;
        self.posture.after_change(&[identity_id]).await;
        self.store
            .find_assignment(ids[0])
            .await?
            .ok_or(DomainError::Internal)
    }

    async fn bulk_assign(
        &self,
        principal: Option<&Principal>,
        request: &BulkAssignRequest,
    ) -> Result<BulkAssignResult, DomainError> {
        authorize(principal, Action::AssignOwnership)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let filter = IdentityQuery::from_query_string(request.filter.trim_start_matches('?'))
            .map_err(|e| match e {
                DomainError::InvalidInput { field, message } => {
                    DomainError::invalid("filter", format!("{field}: {message}"))
                }
                other => other,
            })?
            .filter_only();
        if !filter.is_filtered() {
            return Err(DomainError::invalid(
                "filter",
                "a bulk assignment needs a filter; it never applies to the whole inventory at once",
            ));
        }
        let assignment = request.assignment().validated()?;
        let person = self.assignee(&assignment.person).await?;
        let max = BulkAssignRequest::MAX_IDENTITIES;
        let matched = self
            .store
            .identity_holders_matching(&filter, Utc::now(), max as i64 + 1)
            .await?;
        let count = matched.len() as u64;
        if count > max {
            return Err(DomainError::invalid(
                "filter",
                format!(
                    "the filter matches more than {max} identities; narrow it and assign in parts"
                ),
            ));
        }
        if let Some(expected) = request.expected_count {
            if expected != count {
                return Err(DomainError::Conflict {
                    message: format!(
                        "the filter now matches {count} identities, not {expected} as shown; nothing was changed — review the list and try again"
                    ),
                });
            }
        }
        let targets: Vec<Target> = matched
            .into_iter()
            .filter(|h| h.status != IdentityStatus::Retired.as_str())
            .filter_map(|h| {
                let current = match assignment.role {
                    AssignmentRole::Owner => h.owner_id,
                    AssignmentRole::Sponsor => h.sponsor_id,
                };
                // Skipped: already held by this person, or the owner would be their own sponsor.
                let own_backup =
                    assignment.role == AssignmentRole::Sponsor && h.owner_id == Some(person.id);
                (current != Some(person.id) && !own_backup).then_some(Target { id: h.id, current })
            })
            .collect();
        if targets.is_empty() {
            return Ok(BulkAssignResult {
                matched: count,
                assigned: 0,
            });
        }
        let (statements, events, _) = Self::assign_statements(
            principal,
            &targets,
            assignment.role,
            &person,
            &assignment.reason,
            true,
            Utc::now(),
        );
        self.store
            .write(&statements, |_| events)
            .await
            .map_err(|e| write_error(e, ""))?;
        let touched: Vec<Uuid> = targets.iter().map(|t| t.id).collect();
        self.posture.after_change(&touched).await;
        Ok(BulkAssignResult {
            matched: count,
            assigned: targets.len() as u64,
        })
    }

    async fn inbox(&self, principal: Option<&Principal>) -> Result<Inbox, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        Ok(Inbox {
            assignments: self
                .store
                .list_assignments(Some(principal.person_id), Some("pending"), None, LIST_LIMIT)
                .await?,
            notifications: self
                .store
                .notifications_for(principal.person_id, 50)
                .await?,
        })
    }

    async fn accept(
        &self,
        principal: Option<&Principal>,
        assignment_id: Uuid,
        answer: &AnswerRequest,
    ) -> Result<Assignment, DomainError> {
        self.answer(principal, assignment_id, answer, true).await
    }

    async fn dispute(
        &self,
        principal: Option<&Principal>,
        assignment_id: Uuid,
        answer: &AnswerRequest,
    ) -> Result<Assignment, DomainError> {
        self.answer(principal, assignment_id, answer, false).await
    }

    async fn list_assignments(
        &self,
        principal: Option<&Principal>,
        state: Option<AssignmentState>,
    ) -> Result<Vec<Assignment>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let only = (principal.role != Role::Admin).then_some(principal.person_id);
        Ok(self
            .store
            .list_assignments(only, state.map(|s| s.as_str()), None, LIST_LIMIT)
            .await?)
    }

    async fn orphan_queue(
        &self,
        principal: Option<&Principal>,
    ) -> Result<Vec<OrphanEntry>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        Ok(self.store.orphan_queue(LIST_LIMIT).await?)
    }

    async fn people(
        &self,
        principal: Option<&Principal>,
        search: &str,
    ) -> Result<Vec<PersonInfo>, DomainError> {
        authorize(principal, Action::ReadInventory)?;
        if search.chars().count() > 200 {
            return Err(DomainError::invalid(
                "q",
                "search text is longer than 200 characters",
            ));
        }
        Ok(self.store.list_people(search.trim(), LIST_LIMIT).await?)
    }

    async fn deactivate_person(
        &self,
        principal: Option<&Principal>,
        person_id: Uuid,
        request: &DeactivateRequest,
    ) -> Result<DeactivationResult, DomainError> {
        authorize(principal, Action::DeactivatePerson)?;
        let principal = principal.ok_or(DomainError::Unauthenticated)?;
        let reason = required_text("reason", &request.reason)?;
        let person = self
            .store
            .find_person(person_id)
            .await?
            .ok_or_else(|| DomainError::not_found(format!("person {person_id}")))?;
        if person_id == principal.person_id {
            return Err(DomainError::invalid(
                "person",
                "you cannot deactivate yourself",
            ));
        }
        if !person.active {
            return Err(DomainError::Conflict {
                message: format!("{} is already deactivated", person.display_name),
            });
        }
        let now = Utc::now();
        let held = self.store.identities_held_by(person_id).await?;
        let mut statements = deactivate_person(person_id);
        let mut events = vec![NewAuditEvent::new(
            principal.audit_actor(),
            AuditAction::PersonDeactivate,
            format!("person:{person_id}"),
            json!({ "email": person.email, "reason": reason }),
        )];
        let mut colleagues: HashMap<String, Option<PersonRow>> = HashMap::new();
        let mut orphaned = 0u64;
        let mut sponsors_notified = 0u64;
        let mut suspended = 0u64;
        for identity in held.iter().filter(|h| h.owner_id == Some(person_id)) {
            let sponsor = match identity.sponsor_id {
                Some(id) if id != person_id => self.store.find_person(id).await?,
                _ => None,
            };
            let colleague = match &identity.team {
                Some(team) => {
                    if !colleagues.contains_key(team) {
                        let found = self.store.active_team_member(team, person_id).await?;
                        colleagues.insert(team.clone(), found);
                    }
                    colleagues.get(team).cloned().flatten()
                }
                None => None,
            };
            let sponsor_ref: Option<(PersonRef, bool)> =
                sponsor.as_ref().map(|s| (s.as_ref(), s.active));
            let (suggested, why) = suggest_successor(
                sponsor_ref.as_ref(),
                colleague.as_ref().map(PersonRow::as_ref).as_ref(),
                identity.team.as_deref(),
            );
            statements.extend(queue_orphan(
                identity.id,
                person_id,
                suggested.as_ref().map(|p| p.id),
                &why,
                now,
            ));
            orphaned += 1;
            if let Some(sponsor) = sponsor.filter(|s| s.active) {
                statements.push(notification(
                    sponsor.id,
                    Some(identity.id),
                    &format!(
                        "{} has left. You sponsor {}, which now has no owner: take it over or name a new owner.",
                        person.display_name, identity.name
                    ),
                    now,
                ));
                sponsors_notified += 1;
            }
            let kind = identity.kind.parse::<IdentityKind>()?;
            if identity.status == IdentityStatus::Active.as_str() && self.leaver.suspends(kind) {
                let (suspend, suspend_events) = suspension(
                    &self.store,
                    identity.id,
                    &principal.audit_actor(),
                    &format!("{} left (deactivated): {reason}", person.display_name),
                    json!({ "cause": AuditAction::PersonDeactivate, "leaver_policy": self.leaver }),
                    now,
                )
                .await?;
                statements.extend(suspend);
                events.extend(suspend_events);
                suspended += 1;
            }
            events.push(NewAuditEvent::new(
                principal.audit_actor(),
                AuditAction::IdentityOrphaned,
                identity_target(identity.id),
                json!({ "former_owner": person.email, "suggested": suggested.map(|p| p.email),
                        "suggested_reason": why }),
            ));
        }
        self.store
            .write(&statements, |_| events)
            .await
            .map_err(|e| write_error(e, ""))?;
        let touched: Vec<Uuid> = held.iter().map(|h| h.id).collect();
        self.posture.after_change(&touched).await;
        Ok(DeactivationResult {
            person: person.as_ref(),
            orphaned,
            sponsors_notified,
            suspended,
        })
    }
}
