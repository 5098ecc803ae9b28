//! The statements that change campaigns and review items: creating and launching a
//! campaign, its items' snapshots, decisions, reassignment and escalation (each only
//! while the item is still with the reviewer it was read with), the outcome of
//! carrying a decision out, reminder claims and closing.

use chrono::{DateTime, Utc};
use steward_domain::campaigns::{
    CampaignDraft, CampaignState, CloseOutcome, Decision, ItemReviewer, ItemSnapshot, Remediation,
    ReviewerKind,
};
use uuid::Uuid;

use crate::store::write::Statement;
use crate::store::StoreError;

/// The statement that inserts a campaign.
pub fn insert_campaign(
    id: Uuid,
    draft: &CampaignDraft,
    state: CampaignState,
    template: Option<&str>,
    created_by: &str,
    now: DateTime<Utc>,
    previous_id: Option<Uuid>,
) -> Result<Statement, StoreError> {
    let json = serde_json::to_string(draft)
        .map_err(|e| StoreError::Corrupt(format!("campaign draft: {e}")))?;
    Ok(Statement::new(
        "INSERT INTO campaigns (id, name, state, starts_at, due_at, template, draft, created_by, \
         created_at, previous_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(id)
    .bind(draft.name.clone())
    .bind(state.as_str())
    .bind(draft.starts_at)
    .bind(draft.due_at)
    .bind(template)
    .bind(json)
    .bind(created_by)
    .bind(now)
    .bind(previous_id))
}

/// The statement that inserts one review item.
pub fn insert_item(
    id: Uuid,
    campaign_id: Uuid,
    identity_id: Uuid,
    snapshot: &ItemSnapshot,
    reviewer: &ItemReviewer,
) -> Result<Statement, StoreError> {
    let json = serde_json::to_string(snapshot)
        .map_err(|e| StoreError::Corrupt(format!("item snapshot: {e}")))?;
    Ok(Statement::new(
        "INSERT INTO review_items (id, campaign_id, identity_id, identity_name, team, snapshot, \
         reviewer_kind, reviewer_person_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(campaign_id)
    .bind(identity_id)
    .bind(snapshot.name.clone())
    .bind(snapshot.team.clone())
    .bind(json)
    .bind(reviewer.kind.as_str())
    .bind(reviewer.person.as_ref().map(|p| p.id)))
}

/// ` AND r.reviewer_person_id = …` (or `IS NULL` for the security team): the item is
/// still with this reviewer.
fn reviewer_condition(statement: Statement, reviewer: &ItemReviewer) -> Statement {
    match &reviewer.person {
        Some(person) => Statement {
            sql: format!(
                "{} AND reviewer_person_id = ${}",
                statement.sql,
                statement.args.len() + 1
            ),
            ..statement
        }
        .bind(person.id),
        None => Statement {
            sql: format!("{} AND reviewer_person_id IS NULL", statement.sql),
            ..statement
        },
    }
}

/// Opens a scheduled campaign.
pub fn launch_campaign(id: Uuid, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE campaigns SET state = 'open', launched_at = $2 WHERE id = $1 AND state = 'scheduled'",
    )
    .bind(id)
    .bind(now)
    .must_touch(1, "the campaign was launched meanwhile")
}

/// Records a reviewer's decision on an undecided item of an open campaign, still with
/// `reviewer`; `remediation` says whether the decision has a change to carry out.
pub fn decide_item(
    item_id: Uuid,
    decision: &Decision,
    decided_by: &str,
    now: DateTime<Utc>,
    remediation: Remediation,
    reviewer: &ItemReviewer,
) -> Result<Statement, StoreError> {
    let data = serde_json::to_string(decision)
        .map_err(|e| StoreError::Corrupt(format!("item decision: {e}")))?;
    Ok(reviewer_condition(
        Statement::new(
            "UPDATE review_items SET decision = $2, decision_data = $3, decided_by = $4, \
             decided_at = $5, remediation = $6 WHERE id = $1 AND decision IS NULL \
             AND close_outcome IS NULL \
             AND campaign_id IN (SELECT id FROM campaigns WHERE state = 'open')",
        )
        .bind(item_id)
        .bind(decision.name())
        .bind(data)
        .bind(decided_by)
        .bind(now)
        .bind(remediation.as_str()),
        reviewer,
    )
    .must_touch(1, "the item changed meanwhile"))
}

/// Hands an undecided item of an open campaign from `from` to `person_id`.
pub fn reassign_item(item_id: Uuid, person_id: Uuid, from: &ItemReviewer) -> Statement {
    reviewer_condition(
        Statement::new(
            "UPDATE review_items SET reviewer_kind = 'reassigned', reviewer_person_id = $2, \
             previous_reviewer = $3 WHERE id = $1 AND decision IS NULL AND close_outcome IS NULL \
             AND campaign_id IN (SELECT id FROM campaigns WHERE state = 'open')",
        )
        .bind(item_id)
        .bind(person_id)
        .bind(from.label()),
        from,
    )
    .must_touch(1, "the item changed meanwhile")
}

/// Moves an overdue undecided item from `from` to `kind` (`person`), once: it touches
/// no row when the item changed or was escalated before.
pub fn escalate_item(
    item_id: Uuid,
    kind: ReviewerKind,
    person: Option<Uuid>,
    from: &ItemReviewer,
    now: DateTime<Utc>,
) -> Statement {
    reviewer_condition(
        Statement::new(
            "UPDATE review_items SET reviewer_kind = $2, reviewer_person_id = $3, \
             previous_reviewer = $4, escalated_at = $5 WHERE id = $1 \
             AND decision IS NULL AND close_outcome IS NULL AND escalated_at IS NULL",
        )
        .bind(item_id)
        .bind(kind.as_str())
        .bind(person)
        .bind(from.label())
        .bind(now),
        from,
    )
}

/// Records whether carrying out an item's outcome worked (while it is still pending or
/// failed).
pub fn record_remediation(item_id: Uuid, state: Remediation, note: &str) -> Statement {
    Statement::new(
        "UPDATE review_items SET remediation = $2, remediation_note = $3 \
         WHERE id = $1 AND remediation IN ('pending', 'failed')",
    )
    .bind(item_id)
    .bind(state.as_str())
    .bind(note)
}

/// Claims the reminder of `reviewer` (a person's id, or [`super::SECURITY_TEAM_KEY`])
/// in a campaign at `now`, only if nobody (another replica) reminded them after
/// `not_since`.
pub fn claim_reminder(
    campaign_id: Uuid,
    reviewer: &str,
    now: DateTime<Utc>,
    not_since: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "INSERT INTO review_reminders (campaign_id, reviewer, last_at) VALUES ($1, $2, $3) \
         ON CONFLICT (campaign_id, reviewer) DO UPDATE SET last_at = excluded.last_at \
         WHERE review_reminders.last_at <= $4",
    )
    .bind(campaign_id)
    .bind(reviewer)
    .bind(now)
    .bind(not_since)
    .must_touch(1, "already reminded")
}

/// Closes an open campaign: first gives every undecided item `outcome` (with
/// `remediation`), then closes the campaign. The first statement's count is the number
/// of undecided items.
pub fn close_campaign(
    id: Uuid,
    outcome: CloseOutcome,
    remediation: Remediation,
    now: DateTime<Utc>,
) -> [Statement; 2] {
    [
        Statement::new(
            "UPDATE review_items SET close_outcome = $2, remediation = $3 \
             WHERE campaign_id = $1 AND decision IS NULL AND close_outcome IS NULL",
        )
        .bind(id)
        .bind(outcome.as_str())
        .bind(remediation.as_str()),
        Statement::new(
            "UPDATE campaigns SET state = 'closed', closed_at = $2 WHERE id = $1 AND state = 'open'",
        )
        .bind(id)
        .bind(now)
        .must_touch(1, "the campaign was closed meanwhile"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use steward_domain::inventory::PersonRef;

    #[test]
    fn the_reviewer_condition_binds_the_next_placeholder() {
        let person = PersonRef {
            id: Uuid::from_u128(7),
            display_name: "Ann".into(),
            email: "ann@example.com".into(),
        };
        let with_person = reviewer_condition(
            Statement::new("UPDATE review_items SET x = $2 WHERE id = $1")
                .bind(Uuid::from_u128(1))
                .bind("y"),
            &ItemReviewer {
                kind: ReviewerKind::Owner,
                person: Some(person),
            },
        );
        assert!(with_person.sql.ends_with("AND reviewer_person_id = $3"));
        assert_eq!(with_person.args.len(), 3);
        let team = reviewer_condition(
            Statement::new("UPDATE review_items SET x = 1 WHERE id = $1").bind(Uuid::from_u128(1)),
            &ItemReviewer {
                kind: ReviewerKind::SecurityTeam,
                person: None,
            },
        );
        assert!(team.sql.ends_with("AND reviewer_person_id IS NULL"));
        assert_eq!(team.args.len(), 1);
    }
}
