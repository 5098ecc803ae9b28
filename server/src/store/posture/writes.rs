//! The statements that change the posture tables: findings brought up to date by an
//! evaluation, a risk accepted or reopened by hand, and the day's dashboard snapshot.
//! The service applies them with their audit events through [`Store::write`](crate::store::Store::write).

use chrono::{DateTime, Utc};
use steward_domain::posture::dashboard::Snapshot;
use steward_domain::posture::findings::FindingChange;
use uuid::Uuid;

use crate::store::write::{Arg, Statement};
use crate::store::{Dialect, StoreError};

/// Rows per multi-row insert of new findings on SQLite (5 parameters each).
const OPEN_BATCH: usize = 500;
/// Rows per insert of new findings on PostgreSQL (five array parameters in all).
const OPEN_BATCH_ARRAYS: usize = 10_000;

/// What a new finding, or a resolved one failing again, is set to: open, its
/// acceptance cleared.
const REOPEN: &str =
    " ON CONFLICT (identity_id, check_id) DO UPDATE SET severity = excluded.severity, \
     state = 'open', detail = excluded.detail, opened_at = excluded.opened_at, \
     resolved_at = NULL, accepted_reason = NULL, accepted_by = NULL, accepted_at = NULL, \
     accepted_until = NULL";

/// The statements that apply `changes` (per identity) at `now` in `dialect`.
pub fn finding_statements(
    dialect: Dialect,
    changes: &[(Uuid, FindingChange)],
    now: DateTime<Utc>,
) -> Vec<Statement> {
    let mut statements = Vec::new();
    let opens: Vec<(&Uuid, &String, &str, &String)> = changes
        .iter()
        .filter_map(|(id, change)| match change {
            FindingChange::Open {
                check,
                severity,
                detail,
            } => Some((id, check, severity.as_str(), detail)),
            _ => None,
        })
        .collect();
    match dialect {
        // Columns as arrays, one parameter each: a first evaluation opens millions of
        // findings, and PostgreSQL took twice as long to insert them from rows of
        // parameters (a 500-row VALUES list of 2,500) as from the same rows in a table.
        Dialect::Postgres => {
            for chunk in opens.chunks(OPEN_BATCH_ARRAYS) {
                statements.push(
                    Statement::new(format!(
                        "INSERT INTO findings (identity_id, check_id, severity, state, detail, \
                         opened_at, resolved_at, accepted_reason, accepted_by, accepted_at, \
                         accepted_until) \
                         SELECT f.identity_id, f.check_id, f.severity, 'open', f.detail, $5, \
                         NULL, NULL, NULL, NULL, NULL \
                         FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[]) \
                         AS f (identity_id, check_id, severity, detail){REOPEN}"
                    ))
                    .bind(Arg::UuidList(chunk.iter().map(|open| *open.0).collect()))
                    .bind(Arg::TextList(
                        chunk.iter().map(|open| open.1.clone()).collect(),
                    ))
                    .bind(Arg::TextList(
                        chunk.iter().map(|open| open.2.to_owned()).collect(),
                    ))
                    .bind(Arg::TextList(
                        chunk.iter().map(|open| open.3.clone()).collect(),
                    ))
                    .bind(now),
                );
            }
        }
        Dialect::Sqlite => {
            for chunk in opens.chunks(OPEN_BATCH) {
                let mut sql = String::from(
                    "INSERT INTO findings (identity_id, check_id, severity, state, detail, opened_at, \
                     resolved_at, accepted_reason, accepted_by, accepted_at, accepted_until) VALUES ",
                );
                for n in 0..chunk.len() {
                    if n > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str("(?, ?, ?, 'open', ?, ?, NULL, NULL, NULL, NULL, NULL)");
                }
                sql.push_str(REOPEN);
                let mut statement = Statement::positional(sql);
                for (id, check, severity, detail) in chunk {
                    statement = statement
                        .bind(**id)
                        .bind((*check).clone())
                        .bind(*severity)
                        .bind((*detail).clone())
                        .bind(now);
                }
                statements.push(statement);
            }
        }
    }
    for (id, change) in changes {
        match change {
            FindingChange::Open { .. } => {}
            FindingChange::Detail { check, detail } => statements.push(
                Statement::new(
                    "UPDATE findings SET detail = $3 WHERE identity_id = $1 AND check_id = $2",
                )
                .bind(*id)
                .bind(check.clone())
                .bind(detail.clone()),
            ),
            FindingChange::Resolve { check } => statements.push(
                Statement::new(
                    "UPDATE findings SET state = 'resolved', resolved_at = $3 \
                     WHERE identity_id = $1 AND check_id = $2",
                )
                .bind(*id)
                .bind(check.clone())
                .bind(now),
            ),
            // The acceptance stays on record (who accepted, until when); the finding
            // is open again from now.
            FindingChange::AcceptanceLapsed { check, detail } => statements.push(
                Statement::new(
                    "UPDATE findings SET state = 'open', detail = $3, opened_at = $4 \
                     WHERE identity_id = $1 AND check_id = $2",
                )
                .bind(*id)
                .bind(check.clone())
                .bind(detail.clone())
                .bind(now),
            ),
        }
    }
    statements
}

/// Saves `snapshot` as its day's (replacing an earlier one of the same day).
pub fn snapshot_statement(snapshot: &Snapshot) -> Result<Statement, StoreError> {
    let data = serde_json::to_string(snapshot)
        .map_err(|e| StoreError::Corrupt(format!("posture snapshot: {e}")))?;
    Ok(Statement::new(
        "INSERT INTO posture_snapshots (day, taken_at, data) VALUES ($1, $2, $3) \
         ON CONFLICT (day) DO UPDATE SET taken_at = excluded.taken_at, data = excluded.data",
    )
    .bind(steward_domain::posture::dashboard::snapshot_day(
        snapshot.taken_at,
    ))
    .bind(snapshot.taken_at)
    .bind(data))
}

/// Accepts the risk of an open finding until `until`; the finding must still be open.
pub fn accept_finding_risk(
    identity_id: Uuid,
    check: &str,
    justification: &str,
    approver: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Statement {
    Statement::new(
        "UPDATE findings SET state = 'accepted', accepted_reason = $3, accepted_by = $4, \
         accepted_at = $5, accepted_until = $6 \
         WHERE identity_id = $1 AND check_id = $2 AND state = 'open'",
    )
    .bind(identity_id)
    .bind(check)
    .bind(justification)
    .bind(approver)
    .bind(now)
    .bind(until)
    .must_touch(1, "the finding changed meanwhile; it is no longer open")
}

/// Opens an accepted finding again from `now` (its acceptance ends now); the finding
/// must still be accepted.
pub fn reopen_finding(identity_id: Uuid, check: &str, now: DateTime<Utc>) -> Statement {
    Statement::new(
        "UPDATE findings SET state = 'open', opened_at = $3, accepted_until = $3 \
         WHERE identity_id = $1 AND check_id = $2 AND state = 'accepted'",
    )
    .bind(identity_id)
    .bind(check)
    .bind(now)
    .must_touch(1, "the finding changed meanwhile; it is no longer accepted")
}
