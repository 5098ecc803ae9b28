//! The statements that assign owners and sponsors, record the assignee's answer, queue
//! orphaned identities and deactivate a person who left. Statements over many
//! identities take one chunk of them (the caller keeps chunks within bind-parameter
//! limits).

use chrono::{DateTime, Utc};
use steward_domain::identity::OwnershipState;
use steward_domain::ownership::{AssignmentRole, AssignmentState};
use uuid::Uuid;

use crate::store::write::{placeholders, Arg, Statement};

/// One new assignment: its id, the identity and who held the role until now.
pub struct NewAssignment {
    pub id: Uuid,
    pub identity_id: Uuid,
    pub previous_id: Option<Uuid>,
}

fn uuid_args(ids: &[Uuid]) -> impl Iterator<Item = Arg> + '_ {
    ids.iter().map(|id| Arg::Uuid(*id))
}

/// Replaces the pending assignments of `role` of `identities` (a newer one follows).
pub fn supersede_pending_assignments(role: AssignmentRole, identities: &[Uuid]) -> Statement {
    let mut supersede = Statement::new(format!(
        "UPDATE ownership_assignments SET state = 'superseded' \
         WHERE role = $1 AND state = 'pending' AND identity_id IN ({})",
        placeholders(2, identities.len())
    ))
    .bind(role.as_str());
    supersede.args.extend(uuid_args(identities));
    supersede
}

/// Records pending assignments of `role` to `person_id`, one per entry of `assignments`.
pub fn insert_assignments(
    role: AssignmentRole,
    person_id: Uuid,
    reason: &str,
    assigned_by: &str,
    now: DateTime<Utc>,
    assignments: &[NewAssignment],
) -> Statement {
    let mut insert = Statement::new(format!(
        "INSERT INTO ownership_assignments (id, identity_id, role, person_id, previous_id, reason, \
         assigned_by, assigned_at, state) VALUES {}",
        (0..assignments.len())
            .map(|i| format!("({}, 'pending')", placeholders(1 + i * 8, 8)))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    for assignment in assignments {
        insert = insert
            .bind(assignment.id)
            .bind(assignment.identity_id)
            .bind(role.as_str())
            .bind(person_id)
            .bind(assignment.previous_id)
            .bind(reason)
            .bind(assigned_by)
            .bind(now);
    }
    insert
}

/// Makes `person_id` the owner or sponsor of `identities`; a new owner's ownership is
/// pending until they answer. Refused when one of them was retired meanwhile.
pub fn assign_identities(
    role: AssignmentRole,
    person_id: Uuid,
    now: DateTime<Utc>,
    identities: &[Uuid],
) -> Statement {
    let column = match role {
        AssignmentRole::Owner => "owner_id",
        AssignmentRole::Sponsor => "sponsor_id",
    };
    // A sponsor promoted to owner leaves the sponsor slot empty.
    let ownership_state = match role {
        AssignmentRole::Owner => {
            ", ownership_state = 'pending', \
             sponsor_id = CASE WHEN sponsor_id = $1 THEN NULL ELSE sponsor_id END"
        }
        AssignmentRole::Sponsor => "",
    };
    let mut update = Statement::new(format!(
        "UPDATE identities SET {column} = $1, updated_at = $2{ownership_state} \
         WHERE status <> 'retired' AND id IN ({})",
        placeholders(3, identities.len())
    ))
    .bind(person_id)
    .bind(now);
    update.args.extend(uuid_args(identities));
    update.must_touch(
        identities.len() as u64,
        "an identity was retired meanwhile; nothing was assigned",
    )
}

/// Takes `identities` out of the orphan queue (they have an owner again).
pub fn dequeue_orphans(identities: &[Uuid]) -> Statement {
    let mut dequeue = Statement::new(format!(
        "DELETE FROM orphan_queue WHERE identity_id IN ({})",
        placeholders(1, identities.len())
    ));
    dequeue.args.extend(uuid_args(identities));
    dequeue
}

/// Records the assignee's answer to a pending assignment.
pub fn answer_assignment(
    id: Uuid,
    state: AssignmentState,
    now: DateTime<Utc>,
    note: Option<String>,
) -> Statement {
    Statement::new(
        "UPDATE ownership_assignments SET state = $2, answered_at = $3, answer_note = $4 \
         WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(state.as_str())
    .bind(now)
    .bind(note)
    .must_touch(
        1,
        "this assignment was already answered or replaced by a newer one",
    )
}

/// Sets the ownership state an owner's answer leads to, if `owner` still owns `identity`.
pub fn set_ownership_state(identity: Uuid, owner: Uuid, state: OwnershipState) -> Statement {
    Statement::new("UPDATE identities SET ownership_state = $3 WHERE id = $1 AND owner_id = $2")
        .bind(identity)
        .bind(owner)
        .bind(state.as_str())
}

/// Deactivates a person who left: marks them inactive (refused if someone did first),
/// stops their sign-in (their sessions and tokens stop at the next request) and
/// supersedes the assignments still waiting for their answer.
pub fn deactivate_person(person_id: Uuid) -> Vec<Statement> {
    vec![
        Statement::new("UPDATE people SET active = FALSE WHERE id = $1 AND active = TRUE")
            .bind(person_id)
            .must_touch(1, "this person was deactivated meanwhile"),
        // They can no longer sign in; their sessions and tokens stop at the next request.
        Statement::new("UPDATE users SET active = FALSE WHERE person_id = $1").bind(person_id),
        Statement::new(
            "UPDATE ownership_assignments SET state = 'superseded' WHERE person_id = $1 AND state = 'pending'",
        )
        .bind(person_id),
    ]
}

/// Puts an identity that lost its owner in the orphan queue (replacing any earlier
/// entry), with the successor suggested and why.
pub fn queue_orphan(
    identity: Uuid,
    former_owner: Uuid,
    suggested: Option<Uuid>,
    suggested_reason: &str,
    now: DateTime<Utc>,
) -> Vec<Statement> {
    vec![
        Statement::new("DELETE FROM orphan_queue WHERE identity_id = $1").bind(identity),
        Statement::new(
            "INSERT INTO orphan_queue (identity_id, former_owner_id, suggested_id, suggested_reason, queued_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(identity)
        .bind(former_owner)
        .bind(suggested)
        .bind(suggested_reason)
        .bind(now),
    ]
}
