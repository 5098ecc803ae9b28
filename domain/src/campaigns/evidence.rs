//! The evidence pack an auditor receives about a campaign, and its CSV form. Kept
//! apart because it is an export format with its own column contract.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::csv::csv_field;

use super::{Campaign, CloseOutcome, Decision, Remediation, ReviewItem};

/// One line of the evidence pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceRow {
    pub item: ReviewItem,
    /// The audit event that recorded the outcome (decision, or the close policy).
    pub audit_seq: Option<i64>,
    pub audit_hash: Option<String>,
}

/// Everything an auditor receives about a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub campaign: Campaign,
    /// `(id, title)` of each control it evidences.
    pub controls: Vec<(String, String)>,
    pub rows: Vec<EvidenceRow>,
    pub generated_at: DateTime<Utc>,
}

impl Evidence {
    /// Decided items whose decision was not to certify, and items closed undecided:
    /// what the report lists as exceptions.
    pub fn exceptions(&self) -> impl Iterator<Item = &EvidenceRow> {
        self.rows.iter().filter(|r| {
            r.item.close_outcome.is_some()
                || r.item
                    .decision
                    .as_ref()
                    .is_some_and(|d| !matches!(d, Decision::Certify { .. }))
                || matches!(
                    r.item.remediation,
                    Remediation::Failed | Remediation::Pending
                )
        })
    }

    /// Counts per outcome: certify, revoke, reduce, expire, kept at close, revoked at close, undecided.
    pub fn outcome_counts(&self) -> Vec<(&'static str, u64)> {
        let mut counts: Vec<(&'static str, u64)> = [
            "certify",
            "revoke",
            "reduce",
            "expire",
            "kept at close",
            "revoked at close",
            "undecided",
        ]
        .iter()
        .map(|k| (*k, 0))
        .collect();
        for row in &self.rows {
            let key = match (&row.item.decision, row.item.close_outcome) {
                (Some(d), _) => d.name(),
                (None, Some(CloseOutcome::Kept)) => "kept at close",
                (None, Some(CloseOutcome::Revoked)) => "revoked at close",
                (None, None) => "undecided",
            };
            if let Some(entry) = counts.iter_mut().find(|(k, _)| *k == key) {
                entry.1 += 1;
            }
        }
        counts
    }
}

/// The columns of the evidence CSV.
pub const EVIDENCE_COLUMNS: &[&str] = &[
    "campaign_id",
    "campaign",
    "item_id",
    "identity_id",
    "identity",
    "kind",
    "environment",
    "team",
    "reviewer",
    "reviewer_kind",
    "decision",
    "comment",
    "entitlements_removed",
    "new_expiry",
    "decided_by",
    "decided_at",
    "close_outcome",
    "remediation",
    "remediation_note",
    "audit_seq",
    "audit_hash",
];

/// The evidence pack's CSV: a header and one line per item.
pub fn evidence_csv(evidence: &Evidence) -> String {
    let mut out = EVIDENCE_COLUMNS.join(",");
    out.push('\n');
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for row in &evidence.rows {
        let item = &row.item;
        let snapshot = &item.snapshot;
        let (removed, expiry) = match &item.decision {
            Some(Decision::Reduce { entitlements, .. }) => (
                snapshot
                    .entitlements
                    .iter()
                    .filter(|e| entitlements.contains(&e.id))
                    .map(|e| e.permission())
                    .collect::<Vec<_>>()
                    .join(" "),
                String::new(),
            ),
            Some(Decision::Expire { at, .. }) => (String::new(), at.to_rfc3339()),
            _ => (String::new(), String::new()),
        };
        let fields = [
            evidence.campaign.id.to_string(),
            evidence.campaign.draft.name.clone(),
            item.id.to_string(),
            item.identity_id.to_string(),
            snapshot.name.clone(),
            snapshot.kind.to_string(),
            snapshot.environment.clone(),
            snapshot.team.clone().unwrap_or_default(),
            item.reviewer
                .person
                .as_ref()
                .map_or_else(|| "security team".to_owned(), |p| p.email.clone()),
            item.reviewer.kind.to_string(),
            item.decision
                .as_ref()
                .map(|d| d.name().to_owned())
                .unwrap_or_default(),
            item.decision
                .as_ref()
                .and_then(|d| d.comment())
                .unwrap_or_default()
                .to_owned(),
            removed,
            expiry,
            item.decided_by.clone().unwrap_or_default(),
            time(item.decided_at),
            item.close_outcome
                .map(|c| c.to_string())
                .unwrap_or_default(),
            item.remediation.to_string(),
            item.remediation_note.clone().unwrap_or_default(),
            row.audit_seq.map(|s| s.to_string()).unwrap_or_default(),
            row.audit_hash.clone().unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}
