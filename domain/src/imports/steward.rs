//! `steward-csv` and `steward-json`: Steward's own format. Its columns are those of the
//! inventory export ([`INVENTORY_CSV_COLUMNS`]), so an export imports back unchanged.
//!
//! Required: `name`, `kind`, `environment`, and `external_id` or `id` (the match key).
//! Optional: `source` (default `manual`), `actor_class` (must agree with the kind),
//! `status` (`suspended` imports as disabled), `team`, `spiffe_id`, `expires_at`,
//! `created_at`, `last_used_at`. `owner_email`, `owner_name` and `orphaned` are part of
//! the export and ignored on import: owners are assigned through the ownership flow.

use std::collections::BTreeMap;
use std::io::Read;

use chrono::{DateTime, Utc};

use super::{for_each_json_record, parse_time, ImportError, ImportedIdentity, Location};
use crate::inventory::{ActorClass, IdentityKind, Source, INVENTORY_CSV_COLUMNS};

/// Columns a file must have.
pub const REQUIRED: [&str; 3] = ["name", "kind", "environment"];

/// The words of a refused value, without the field name the domain error carries.
fn problem(error: crate::DomainError) -> String {
    match error {
        crate::DomainError::InvalidInput { message, .. } => message,
        other => other.to_string(),
    }
}

/// Builds an identity from named fields (empty fields count as absent).
fn identity(
    location: Location,
    fields: &BTreeMap<String, String>,
) -> Result<ImportedIdentity, ImportError> {
    let get = |name: &str| {
        fields
            .get(name)
            .map(|v| v.trim())
            // The export's formula-defusing quote is kept: undoing it would put the
            // formula back into the register, and into whatever reads it next.
            .filter(|v| !v.is_empty())
    };
    let required =
        |name: &str| get(name).ok_or_else(|| ImportError::at(location, Some(name), "is required"));
    let name = required("name")?;
    let kind: IdentityKind = required("kind")?
        .parse()
        .map_err(|e| ImportError::at(location, Some("kind"), problem(e)))?;
    let environment = required("environment")?;
    if !environment
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err(ImportError::at(
            location,
            Some("environment"),
            format!(
                "'{environment}' is not an environment name (lower-case letters, digits, '-', '_')"
            ),
        ));
    }
    let source: Source = match get("source") {
        Some(source) => source
            .parse()
            .map_err(|e| ImportError::at(location, Some("source"), problem(e)))?,
        None => Source::Manual,
    };
    if let Some(class) = get("actor_class") {
        let class: ActorClass = class
            .parse()
            .map_err(|e| ImportError::at(location, Some("actor_class"), problem(e)))?;
        if class != kind.actor_class() {
            return Err(ImportError::at(
                location,
                Some("actor_class"),
                format!(
                    "'{class}' does not agree with the kind {kind}, which is {}",
                    kind.actor_class()
                ),
            ));
        }
    }
    let external_id = get("external_id")
        .or_else(|| get("id"))
        .ok_or_else(|| ImportError::at(location, Some("external_id"), "is required (or an id)"))?;
    let mut identity =
        ImportedIdentity::new(location, source, external_id, name, kind, environment);
    identity.enabled = match get("status") {
        None | Some("active") => true,
        Some("suspended" | "retired") => false,
        Some(other) => {
            return Err(ImportError::at(
                location,
                Some("status"),
                format!("'{other}' is not active, suspended or retired"),
            ))
        }
    };
    let time = |field: &str| -> Result<Option<DateTime<Utc>>, ImportError> {
        get(field)
            .map(|v| parse_time(v, location, field))
            .transpose()
    };
    identity.expires_at = time("expires_at")?;
    identity.created_at = time("created_at")?;
    identity.last_used_at = time("last_used_at")?;
    identity.team = get("team").map(str::to_owned);
    if let Some(spiffe) = get("spiffe_id") {
        crate::identity::parse_spiffe_id(spiffe)
            .map_err(|e| ImportError::at(location, Some("spiffe_id"), problem(e)))?;
        identity.spiffe_id = Some(spiffe.to_owned());
    }
    Ok(identity)
}

/// Reads a Steward CSV file one row at a time.
pub fn csv<R: Read>(
    input: R,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let csv_error = |error: csv::Error| {
        let line = error.position().map(csv::Position::line);
        let location = line.map_or(Location::File, Location::Line);
        let problem = match error.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => {
                format!("has {len} fields where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
            _ => format!("is not valid CSV ({error})"),
        };
        ImportError::at(location, None, problem)
    };
    let header: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
        .collect();
    if header.iter().all(String::is_empty) {
        return Err(ImportError::at(
            Location::File,
            None,
            "is empty; a Steward CSV starts with its header line",
        ));
    }
    for column in &header {
        if !INVENTORY_CSV_COLUMNS.contains(&column.as_str()) {
            return Err(ImportError::at(
                Location::Line(1),
                Some(column),
                format!(
                    "is not a Steward column (the columns are {})",
                    INVENTORY_CSV_COLUMNS.join(", ")
                ),
            ));
        }
    }
    for column in REQUIRED {
        if !header.iter().any(|h| h == column) {
            return Err(ImportError::at(
                Location::Line(1),
                Some(column),
                "is a required column and is missing",
            ));
        }
    }
    let mut count = 0;
    let mut record = csv::StringRecord::new();
    while reader.read_record(&mut record).map_err(csv_error)? {
        let line = record.position().map_or(0, csv::Position::line);
        let fields: BTreeMap<String, String> = header
            .iter()
            .cloned()
            .zip(record.iter().map(str::to_owned))
            .collect();
        count += 1;
        each(identity(Location::Line(line), &fields)?)?;
    }
    Ok(count)
}

/// Reads a Steward JSON file: an array of objects with the CSV's field names.
pub fn json<R: Read>(
    input: R,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    for_each_json_record(
        input,
        None,
        |number, row: BTreeMap<String, serde_json::Value>| {
            let location = Location::Record(number);
            let mut fields = BTreeMap::new();
            for (name, value) in row {
                if !INVENTORY_CSV_COLUMNS.contains(&name.as_str()) {
                    return Err(ImportError::at(
                        location,
                        Some(&name),
                        "is not a Steward field",
                    ));
                }
                let text = match value {
                    serde_json::Value::Null => String::new(),
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                };
                fields.insert(name, text);
            }
            each(identity(location, &fields)?)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{
        inventory_csv_header, inventory_csv_line, IdentityStatus, IdentitySummary,
    };

    fn read_csv(text: &str) -> Result<Vec<ImportedIdentity>, ImportError> {
        crate::imports::collect_records(|each| csv(text.as_bytes(), each))
    }

    #[test]
    fn an_export_reads_back() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-01T10:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let row = IdentitySummary {
            id: uuid::Uuid::nil(),
            name: "=cmd|' /C calc'!A0".into(),
            actor_class: ActorClass::Ai,
            kind: IdentityKind::Agent,
            source: Source::Aws,
            external_id: Some("arn:aws:iam::1:role/agent".into()),
            environment: "prod".into(),
            status: IdentityStatus::Suspended,
            owner: None,
            owner_active: false,
            team: Some("Payments, EU".into()),
            spiffe_id: Some("spiffe://acme.example/agent".into()),
            expires_at: Some(now),
            created_at: now,
            last_used_at: None,
        };
        let text = format!("{}{}", inventory_csv_header(), inventory_csv_line(&row));
        let back = read_csv(&text).unwrap();
        assert_eq!(back.len(), 1);
        let back = &back[0];
        assert_eq!(
            back.name,
            format!("'{}", row.name),
            "the defusing quote stays: no formula comes back into the register"
        );
        assert_eq!(back.external_id, "arn:aws:iam::1:role/agent");
        assert_eq!(
            (back.source, back.kind, back.enabled),
            (Source::Aws, IdentityKind::Agent, false)
        );
        assert_eq!(back.team.as_deref(), Some("Payments, EU"));
        assert_eq!(back.expires_at, Some(now));
        assert_eq!(back.location, Location::Line(2));
    }

    #[test]
    fn each_kind_of_bad_input_is_named() {
        let cases = [
            ("name,kind\nx,agent\n", "line 1, field environment: is a required column and is missing"),
            ("name,kind,environment,colour\n", "line 1, field colour: is not a Steward column (the columns are id, name, actor_class, kind, source, external_id, environment, status, owner_email, owner_name, orphaned, team, spiffe_id, expires_at, created_at, last_used_at)"),
            ("name,kind,environment,external_id\nx,robot,prod,1\n", "line 2, field kind: unknown value 'robot'; expected one of: service_account, workload, ci_runner, integration, api_client, agent, orchestrator, llm_app, assistant_session"),
            ("name,kind,environment,external_id\nx,agent,Prod!,1\n", "line 2, field environment: 'Prod!' is not an environment name (lower-case letters, digits, '-', '_')"),
            ("name,kind,environment,external_id,expires_at\nx,agent,prod,1,tomorrow\n", "line 2, field expires_at: 'tomorrow' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"),
            ("name,kind,environment,external_id\nx,agent,prod\n", "line 2: has 3 fields where the header has 4"),
            ("name,kind,environment\nx,agent,prod\n", "line 2, field external_id: is required (or an id)"),
            ("name,kind,environment,external_id,actor_class\nx,agent,prod,1,machine\n", "line 2, field actor_class: 'machine' does not agree with the kind agent, which is ai"),
            ("", "the file: is empty; a Steward CSV starts with its header line"),
        ];
        for (text, expected) in cases {
            assert_eq!(read_csv(text).unwrap_err().to_string(), expected, "{text}");
        }
    }

    #[test]
    fn json_uses_the_same_fields() {
        let text = r#"[{"name": "payments-api", "kind": "workload", "environment": "prod", "external_id": "pay-1", "expires_at": null, "orphaned": true}]"#;
        let found = crate::imports::collect_records(|each| json(text.as_bytes(), each)).unwrap();
        assert_eq!(found[0].external_id, "pay-1");
        assert_eq!(found[0].source, Source::Manual);
        let bad = r#"[{"name": "x", "kind": "workload", "environment": "prod", "external_id": "1", "colour": "red"}]"#;
        assert_eq!(
            json(bad.as_bytes(), |_| Ok(())).unwrap_err().to_string(),
            "record 1, field colour: is not a Steward field"
        );
    }
}
