//! What a decision takes from Steward's records rather than from the agent's word.
//!
//! * **Data sensitivity.** Datasets and tools have a registered sensitivity (set by
//!   admins); an environment may give a default to the resources of it that have none.
//!   A resource with neither counts as `restricted`. The request may raise the
//!   sensitivity (the agent knows it touches something more delicate) but never lower
//!   it.
//! * **Sessions.** An agent with session limits must name its session: without a
//!   `session_id` each call would be a session of one and the limits would never bite.
//! * **Environment.** Where the credential carries an environment (an agent token made
//!   for one, a trust rule that names one), the request acts in that environment and
//!   no other.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::authz::AgentLimits;
use crate::error::DomainError;
use crate::identity::Sensitivity;
use crate::string_enum::string_enum;

string_enum! {
    /// What a registered sensitivity is about.
    pub enum SensitivityScope: "sensitivity scope" {
        /// A dataset (`Dataset` resources of decisions).
        Dataset = "dataset",
        /// A tool (`Tool` resources).
        Tool = "tool",
        /// The default of every dataset and tool used in an environment that has no
        /// registered sensitivity of its own.
        Environment = "environment",
    }
}

/// A registered sensitivity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisteredSensitivity {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub scope: SensitivityScope,
    /// The dataset's or tool's id as decisions name it, or the environment's name.
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sensitivity: Sensitivity,
    #[serde(default)]
    pub updated_by: String,
    #[serde(default)]
    pub updated_at: Option<DateTime<Utc>>,
}

/// What an admin submits to register a sensitivity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SensitivityDraft {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub scope: SensitivityScope,
    pub id: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub sensitivity: Sensitivity,
}

impl SensitivityDraft {
    /// The draft with its id trimmed, or what is wrong with it.
    pub fn validated(&self) -> Result<SensitivityDraft, DomainError> {
        let id = self.id.trim();
        if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
            return Err(DomainError::invalid(
                "id",
                "name the dataset, tool or environment (1–200 characters)",
            ));
        }
        Ok(SensitivityDraft {
            id: id.to_owned(),
            ..self.clone()
        })
    }
}

/// The most rows a sensitivity file may hold.
pub const MAX_IMPORT_ROWS: usize = 10_000;

/// A sensitivity register exported from a data catalogue or kept by hand: CSV with the
/// header `scope,id,sensitivity` (in any order; other columns are ignored), one entry
/// per row. Every row is checked before anything is written; an error names its line.
pub fn parse_csv(text: &str) -> Result<Vec<SensitivityDraft>, DomainError> {
    let invalid =
        |line: u64, why: String| DomainError::invalid("file", format!("line {line}: {why}"));
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| DomainError::invalid("file", format!("line 1: {e}")))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                DomainError::invalid(
                    "file",
                    format!(
                        "line 1: the header has no '{name}' column (expected scope,id,sensitivity)"
                    ),
                )
            })
    };
    let (scope_at, id_at, sensitivity_at) =
        (column("scope")?, column("id")?, column("sensitivity")?);
    let mut seen: HashMap<(SensitivityScope, String), u64> = HashMap::new();
    let mut drafts = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            invalid(line, format!("{e}"))
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        if drafts.len() == MAX_IMPORT_ROWS {
            return Err(invalid(
                line,
                format!("a file holds at most {MAX_IMPORT_ROWS} entries"),
            ));
        }
        let field = |at: usize| record.get(at).unwrap_or("");
        let draft = SensitivityDraft {
            scope: field(scope_at)
                .parse()
                .map_err(|e: DomainError| invalid(line, e.to_string()))?,
            id: field(id_at).to_owned(),
            sensitivity: field(sensitivity_at)
                .parse()
                .map_err(|e: DomainError| invalid(line, e.to_string()))?,
        }
        .validated()
        .map_err(|e| invalid(line, e.to_string()))?;
        if let Some(first) = seen.insert((draft.scope, draft.id.clone()), line) {
            return Err(invalid(
                line,
                format!("{} {} is already on line {first}", draft.scope, draft.id),
            ));
        }
        drafts.push(draft);
    }
    if drafts.is_empty() {
        return Err(DomainError::invalid("file", "the file has no entries"));
    }
    Ok(drafts)
}

/// What importing a sensitivity file did (or, on a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SensitivityImport {
    pub dry_run: bool,
    pub created: u64,
    pub changed: u64,
    pub unchanged: u64,
}

impl SensitivityImport {
    /// Compares the file's entries with the register.
    pub fn plan(
        current: &[RegisteredSensitivity],
        file: &[SensitivityDraft],
        dry_run: bool,
    ) -> Self {
        let known: HashMap<(SensitivityScope, &str), Sensitivity> = current
            .iter()
            .map(|e| ((e.scope, e.id.as_str()), e.sensitivity))
            .collect();
        let mut plan = SensitivityImport {
            dry_run,
            ..SensitivityImport::default()
        };
        for draft in file {
            match known.get(&(draft.scope, draft.id.as_str())) {
                None => plan.created += 1,
                Some(s) if *s == draft.sensitivity => plan.unchanged += 1,
                Some(_) => plan.changed += 1,
            }
        }
        plan
    }
}

/// Every registered sensitivity, for decisions.
#[derive(Debug, Clone, Default)]
pub struct SensitivityRegister {
    resources: HashMap<(SensitivityScope, String), Sensitivity>,
}

impl SensitivityRegister {
    pub fn new(entries: &[RegisteredSensitivity]) -> Self {
        SensitivityRegister {
            resources: entries
                .iter()
                .map(|e| ((e.scope, e.id.clone()), e.sensitivity))
                .collect(),
        }
    }

    /// The sensitivity a decision on a `Dataset` or `Tool` resource uses: the
    /// resource's registered one, else its environment's default, else `restricted`;
    /// raised to what the request asserts when that is higher, never lowered. `None`
    /// for other resources (identities), which carry no data sensitivity of their own.
    pub fn effective(
        &self,
        resource_type: &str,
        resource_id: &str,
        environment: &str,
        asserted: Option<Sensitivity>,
    ) -> Option<Sensitivity> {
        let scope = match resource_type {
            "Dataset" => SensitivityScope::Dataset,
            "Tool" => SensitivityScope::Tool,
            _ => return asserted,
        };
        let known = self
            .resources
            .get(&(scope, resource_id.to_owned()))
            .or_else(|| {
                self.resources
                    .get(&(SensitivityScope::Environment, environment.to_owned()))
            })
            .copied()
            .unwrap_or(Sensitivity::Restricted);
        Some(match asserted {
            Some(claimed) if claimed > known => claimed,
            _ => known,
        })
    }
}

/// Why a request without a session is refused for an agent with session limits.
pub fn session_required(limits: &AgentLimits, session_id: Option<&str>) -> Option<String> {
    let limited = limits.max_calls.is_some() || limits.max_session_minutes.is_some();
    (limited && session_id.is_none_or(|s| s.trim().is_empty())).then(|| {
        "this agent has session limits: every request must name its session (context.session_id)"
            .to_owned()
    })
}

/// The environment a request acts in, given the one its credential is bound to: that
/// one when the request names none or the same; `Err` (why) when it names another.
pub fn bound_environment(bound: Option<&str>, requested: &str) -> Result<String, String> {
    let requested = requested.trim();
    match bound.map(str::trim).filter(|b| !b.is_empty()) {
        None => Ok(requested.to_owned()),
        Some(bound) if requested.is_empty() || requested == bound => Ok(bound.to_owned()),
        Some(bound) => Err(format!(
            "the credential is bound to the environment '{bound}', and the request names '{requested}'"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(scope: SensitivityScope, id: &str, sensitivity: Sensitivity) -> RegisteredSensitivity {
        RegisteredSensitivity {
            scope,
            id: id.into(),
            sensitivity,
            updated_by: String::new(),
            updated_at: None,
        }
    }

    #[test]
    fn the_register_decides_the_sensitivity_and_the_request_may_only_raise_it() {
        use Sensitivity::*;
        let register = SensitivityRegister::new(&[
            entry(SensitivityScope::Dataset, "ledger", Confidential),
            entry(SensitivityScope::Tool, "search", Public),
            entry(SensitivityScope::Environment, "dev", Internal),
        ]);
        // Registered: the request cannot lower it, but may raise it.
        assert_eq!(
            register.effective("Dataset", "ledger", "prod", Some(Public)),
            Some(Confidential)
        );
        assert_eq!(
            register.effective("Dataset", "ledger", "prod", None),
            Some(Confidential)
        );
        assert_eq!(
            register.effective("Dataset", "ledger", "prod", Some(Restricted)),
            Some(Restricted)
        );
        assert_eq!(
            register.effective("Tool", "search", "prod", None),
            Some(Public)
        );
        // Unregistered: the environment's default, else restricted — omitting it no
        // longer means public.
        assert_eq!(
            register.effective("Dataset", "hr", "dev", Some(Public)),
            Some(Internal)
        );
        assert_eq!(
            register.effective("Dataset", "hr", "prod", None),
            Some(Restricted)
        );
        assert_eq!(
            register.effective("Dataset", "hr", "prod", Some(Public)),
            Some(Restricted)
        );
        // Identities carry none of their own.
        assert_eq!(register.effective("Agent", "x", "prod", None), None);
    }

    #[test]
    fn a_sensitivity_file_is_checked_whole_and_errors_name_the_line() {
        let drafts = parse_csv(
            "Sensitivity,scope,id,owner\nconfidential,dataset,ledger,x\npublic, tool ,search,y\n",
        )
        .unwrap();
        assert_eq!(drafts.len(), 2);
        assert_eq!(drafts[1].scope, SensitivityScope::Tool);
        assert_eq!(drafts[1].sensitivity, Sensitivity::Public);
        let error = |text: &str| parse_csv(text).unwrap_err().to_string();
        assert!(error("scope,id\ndataset,x\n").contains("no 'sensitivity' column"));
        assert!(
            error("scope,id,sensitivity\ndataset,x,secret\n").starts_with("invalid file: line 2:")
        );
        assert!(
            error("scope,id,sensitivity\ndataset,x,public\nplace,y,public\n").contains("line 3")
        );
        assert!(
            error("scope,id,sensitivity\ndataset,x,public\ndataset,x,internal\n")
                .contains("already on line 2")
        );
        assert!(error("scope,id,sensitivity\ndataset,,public\n").contains("line 2"));
        assert!(error("scope,id,sensitivity\n").contains("no entries"));

        let current = [entry(
            SensitivityScope::Dataset,
            "ledger",
            Sensitivity::Internal,
        )];
        let plan = SensitivityImport::plan(&current, &drafts, true);
        assert_eq!((plan.created, plan.changed, plan.unchanged), (1, 1, 0));
    }

    #[test]
    fn an_agent_with_session_limits_must_name_its_session() {
        let limited = AgentLimits {
            max_calls: Some(10),
            ..AgentLimits::default()
        };
        assert!(session_required(&limited, None).is_some());
        assert!(session_required(&limited, Some(" ")).is_some());
        assert_eq!(session_required(&limited, Some("s-1")), None);
        assert_eq!(session_required(&AgentLimits::default(), None), None);
    }

    #[test]
    fn a_credential_bound_to_an_environment_acts_only_there() {
        assert_eq!(bound_environment(Some("prod"), ""), Ok("prod".into()));
        assert_eq!(bound_environment(Some("prod"), "prod"), Ok("prod".into()));
        assert!(bound_environment(Some("prod"), "dev")
            .unwrap_err()
            .contains("bound to the environment 'prod'"));
        assert_eq!(bound_environment(None, "dev"), Ok("dev".into()));
    }
}
