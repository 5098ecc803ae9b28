//! The inventory's CSV export: the column contract and one line per identity.

use chrono::{DateTime, Utc};

use super::IdentitySummary;

/// Columns of the inventory CSV export, in order.
pub const INVENTORY_CSV_COLUMNS: &[&str] = &[
    "id",
    "name",
    "actor_class",
    "kind",
    "source",
    "external_id",
    "environment",
    "status",
    "owner_email",
    "owner_name",
    "orphaned",
    "team",
    "spiffe_id",
    "expires_at",
    "created_at",
    "last_used_at",
];

pub fn inventory_csv_header() -> String {
    let mut header = INVENTORY_CSV_COLUMNS.join(",");
    header.push('\n');
    header
}

/// One identity as a CSV line (fields quoted and formula-defused like the audit export).
pub fn inventory_csv_line(row: &IdentitySummary) -> String {
    let time = |t: Option<DateTime<Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default()
    };
    let fields = [
        row.id.to_string(),
        row.name.clone(),
        row.actor_class.to_string(),
        row.kind.to_string(),
        row.source.to_string(),
        row.external_id.clone().unwrap_or_default(),
        row.environment.clone(),
        row.status.to_string(),
        row.owner
            .as_ref()
            .map(|o| o.email.clone())
            .unwrap_or_default(),
        row.owner
            .as_ref()
            .map(|o| o.display_name.clone())
            .unwrap_or_default(),
        row.is_orphaned().to_string(),
        row.team.clone().unwrap_or_default(),
        row.spiffe_id.clone().unwrap_or_default(),
        time(row.expires_at),
        time(Some(row.created_at)),
        time(row.last_used_at),
    ];
    let mut line = fields
        .iter()
        .map(|f| crate::audit::csv_field(f))
        .collect::<Vec<_>>()
        .join(",");
    line.push('\n');
    line
}
