//! Importing real inventories: the files that AWS, Kubernetes, GitHub, Google Cloud and
//! Entra ID produce, and Steward's own format, turned into [`ImportedIdentity`] records.
//!
//! Parsing is pure (no IO) and streaming: a parser reads from any `std::io::Read` and
//! hands out one record at a time, so memory stays bounded however large the file. Every
//! problem names where it is (line or record), the field and what is wrong.

pub mod aws;
pub mod entra;
pub mod gcp;
pub mod github;
pub mod k8s;
pub mod steward;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::identity::CredentialKind;
use crate::inventory::{IdentityKind, Source};
use crate::string_enum::string_enum;

string_enum! {
    /// The formats Steward imports, named as on the command line and in the API.
    pub enum ImportFormat: "import format" {
        AwsCredentialReport = "aws-credential-report",
        K8sServiceAccounts = "k8s-serviceaccounts",
        GithubPats = "github-pats",
        GithubInstallations = "github-installations",
        GcpServiceAccounts = "gcp-service-accounts",
        GcpKeys = "gcp-keys",
        EntraServicePrincipals = "entra-service-principals",
        StewardCsv = "steward-csv",
        StewardJson = "steward-json",
    }
}

/// Where in a file a record or a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "number")]
pub enum Location {
    /// A line of a CSV file (1 = the header).
    Line(u64),
    /// A record of a JSON document (1 = the first).
    Record(u64),
    /// The file as a whole.
    File,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(n) => write!(f, "line {n}"),
            Location::Record(n) => write!(f, "record {n}"),
            Location::File => f.write_str("the file"),
        }
    }
}

/// A problem with the input: where, which field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{location}{}: {problem}", field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
pub struct ImportError {
    pub location: Location,
    pub field: Option<String>,
    pub problem: String,
}

impl ImportError {
    pub fn at(location: Location, field: Option<&str>, problem: impl Into<String>) -> Self {
        ImportError {
            location,
            field: field.map(str::to_owned),
            problem: problem.into(),
        }
    }
}

/// What an import noticed about an identity that governance must look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "signal")]
pub enum ImportSignal {
    /// A console password *and* active keys: a person may be using this identity
    /// (OWASP NHI10, human use of NHI).
    PossibleHumanUse { detail: String },
    /// An application installed by a third party (OWASP NHI3, vulnerable third-party NHI).
    ThirdPartyIntegration { detail: String },
    /// Secret material was uploaded and discarded (OWASP NHI2, secret leakage).
    SecretUploaded { detail: String },
    /// The account's root user: not a workload identity, reported for completeness.
    RootAccount,
}

/// A credential as an import saw it: metadata only, never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedCredential {
    pub kind: CredentialKind,
    /// A key id or a stable name for the credential slot (e.g. `access_key_1`).
    pub key_id: String,
    pub active: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A permission as the source names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedPermission {
    pub resource: String,
    pub access: String,
}

impl ImportedPermission {
    /// Whether it allows changes (`write`, `admin`, …), not only reading.
    pub fn writes(&self) -> bool {
        !matches!(self.access.as_str(), "read" | "none")
    }
}

/// One identity read from an import file, matched to the register on
/// `(source, external_id)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedIdentity {
    pub location: Location,
    pub source: Source,
    pub external_id: String,
    pub name: String,
    pub kind: IdentityKind,
    pub environment: String,
    /// False for an identity the source reports as disabled.
    pub enabled: bool,
    pub created_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub spiffe_id: Option<String>,
    pub team: Option<String>,
    pub purpose: Option<String>,
    pub credentials: Vec<ImportedCredential>,
    /// External ids of the identities this one acts as (delegation edges).
    pub acts_as: Vec<String>,
    /// What the source says it may do, as `resource` → `access` (e.g.
    /// `repository:contents` → `write`).
    pub permissions: Vec<ImportedPermission>,
    pub signals: Vec<ImportSignal>,
}

impl ImportedIdentity {
    /// A record with the given identity and nothing else known yet.
    pub fn new(
        location: Location,
        source: Source,
        external_id: &str,
        name: &str,
        kind: IdentityKind,
        environment: &str,
    ) -> Self {
        ImportedIdentity {
            location,
            source,
            external_id: external_id.to_owned(),
            name: name.to_owned(),
            kind,
            environment: environment.to_owned(),
            enabled: true,
            created_at: None,
            last_used_at: None,
            expires_at: None,
            spiffe_id: None,
            team: None,
            purpose: None,
            credentials: Vec::new(),
            acts_as: Vec::new(),
            permissions: Vec::new(),
            signals: Vec::new(),
        }
    }

    /// When it was last used by any means: itself or any of its credentials.
    pub fn last_activity(&self) -> Option<DateTime<Utc>> {
        self.credentials
            .iter()
            .filter_map(|c| c.last_used_at)
            .chain(self.last_used_at)
            .max()
    }
}

/// Limits on what one import may hold (configurable on the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    pub max_bytes: u64,
    pub max_records: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits {
            max_bytes: 64 * 1024 * 1024,
            max_records: 500_000,
        }
    }
}

/// What to import and how (the file itself travels separately).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema, utoipa::IntoParams))]
pub struct ImportRequest {
    pub format: ImportFormat,
    /// The file's name, for messages and the audit trail.
    #[serde(default = "default_file_name")]
    pub file_name: String,
    /// Given to identities whose format does not name an environment (default `prod`).
    #[serde(default = "default_environment")]
    pub environment: String,
    /// The cluster's SPIFFE trust domain, for `k8s-serviceaccounts` (default `cluster.local`).
    #[serde(default)]
    pub trust_domain: Option<String>,
    /// A full export of its source: identities of the same source and environment
    /// missing from it are marked *not seen* (never deleted).
    #[serde(default)]
    pub full: bool,
    /// Report what would change without writing anything.
    #[serde(default)]
    pub dry_run: bool,
}

fn default_file_name() -> String {
    "upload".into()
}

fn default_environment() -> String {
    "prod".into()
}

impl ImportRequest {
    pub fn new(format: ImportFormat, file_name: &str) -> Self {
        ImportRequest {
            format,
            file_name: file_name.to_owned(),
            environment: default_environment(),
            trust_domain: None,
            full: false,
            dry_run: false,
        }
    }

    /// Checks the options; the error names the option.
    pub fn validated(&self) -> Result<ImportRequest, crate::DomainError> {
        let environment = self.environment.trim();
        if environment.is_empty()
            || !environment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        {
            return Err(crate::DomainError::invalid(
                "environment",
                format!("'{environment}' is not an environment name (lower-case letters, digits, '-', '_')"),
            ));
        }
        if let Some(domain) = &self.trust_domain {
            if domain.is_empty()
                || !domain
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c))
            {
                return Err(crate::DomainError::invalid(
                    "trust_domain",
                    format!("'{domain}' is not a SPIFFE trust domain (lower-case letters, digits, '.', '-', '_')"),
                ));
            }
        }
        Ok(ImportRequest {
            environment: environment.to_owned(),
            ..self.clone()
        })
    }
}

/// What happens (or would happen) to one identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    Create,
    Update,
    Unchanged,
    NotSeen,
    Skip,
}

impl ImportAction {
    /// The word for people (the preview table, the command line).
    pub fn label(self) -> &'static str {
        match self {
            ImportAction::Create => "create",
            ImportAction::Update => "update",
            ImportAction::Unchanged => "unchanged",
            ImportAction::NotSeen => "not seen",
            ImportAction::Skip => "skip",
        }
    }
}

/// One line of an import's preview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportChange {
    pub action: ImportAction,
    pub external_id: String,
    pub name: String,
    /// For updates: the fields that change; for skips: why.
    pub detail: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub format: ImportFormat,
    pub file_name: String,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    pub dry_run: bool,
    pub records: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub not_seen: u64,
    pub skipped: u64,
    /// Credentials added or changed.
    pub credentials: u64,
    /// Delegation edges added.
    pub delegations: u64,
    /// Governance signals raised (possible human use, third party, secret uploaded).
    pub signals: u64,
    /// The first changes, for a preview (at most [`PREVIEW_CHANGES`]).
    pub changes: Vec<ImportChange>,
}

/// How many changes a report lists.
pub const PREVIEW_CHANGES: usize = 200;

/// Reads every record of `input` in `format`, handing each to `each`; stops at the
/// first problem. At most `limits.max_records` records are read.
pub fn read_records(
    format: ImportFormat,
    input: &[u8],
    request: &ImportRequest,
    limits: ImportLimits,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let mut seen = 0u64;
    let mut counted = |mut identity: ImportedIdentity| {
        seen += 1;
        if seen > limits.max_records {
            return Err(ImportError::at(
                identity.location,
                None,
                format!(
                    "is past the limit of {} records per import",
                    limits.max_records
                ),
            ));
        }
        // The same name and team rules as the API's, whatever the format.
        let location = identity.location;
        let invalid = |field: &str, error: crate::DomainError| {
            let problem = match error {
                crate::DomainError::InvalidInput { message, .. } => message,
                other => other.to_string(),
            };
            ImportError::at(location, Some(field), problem)
        };
        identity.name =
            crate::identity::check_name(&identity.name).map_err(|e| invalid("name", e))?;
        identity.team = identity
            .team
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(crate::inventory::parse_team)
            .transpose()
            .map_err(|e| invalid("team", e))?;
        each(identity)
    };
    let environment = request.environment.as_str();
    match format {
        ImportFormat::AwsCredentialReport => {
            let mut count = 0;
            for record in aws::CredentialReport::new(input, environment) {
                counted(record?)?;
                count += 1;
            }
            Ok(count)
        }
        ImportFormat::K8sServiceAccounts => k8s::service_accounts(
            input,
            request.trust_domain.as_deref().unwrap_or("cluster.local"),
            environment,
            counted,
        ),
        ImportFormat::GithubPats => github::personal_access_tokens(input, environment, counted),
        ImportFormat::GithubInstallations => github::installations(input, environment, counted),
        ImportFormat::GcpServiceAccounts => gcp::service_accounts(input, environment, counted),
        ImportFormat::GcpKeys => gcp::keys(input, environment, counted),
        ImportFormat::EntraServicePrincipals => {
            entra::service_principals(input, environment, counted)
        }
        ImportFormat::StewardCsv => steward::csv(input, counted),
        ImportFormat::StewardJson => steward::json(input, counted),
    }
}

/// Every record a callback-style parser hands out, in order (for tests).
#[cfg(test)]
pub(crate) fn collect_records(
    parse: impl FnOnce(
        &mut dyn FnMut(ImportedIdentity) -> Result<(), ImportError>,
    ) -> Result<u64, ImportError>,
) -> Result<Vec<ImportedIdentity>, ImportError> {
    let mut found = Vec::new();
    parse(&mut |record| {
        found.push(record);
        Ok(())
    })?;
    Ok(found)
}

/// Parses an ISO 8601 / RFC 3339 time as the sources write them (`2026-01-02T03:04:05Z`,
/// `+00:00` offsets, fractional seconds).
pub fn parse_time(
    value: &str,
    location: Location,
    field: &str,
) -> Result<DateTime<Utc>, ImportError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            ImportError::at(
                location,
                Some(field),
                format!("'{value}' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"),
            )
        })
}

/// Reads the records of a JSON document one at a time — the elements of the top-level
/// array (`key` = `None`) or of the array under `key` in the top-level object — and
/// hands each to `each` with its number (from 1). Memory holds one record, however
/// long the file. Other keys of the object are skipped.
pub fn for_each_json_record<T, R, F>(
    input: R,
    key: Option<&'static str>,
    mut each: F,
) -> Result<u64, ImportError>
where
    T: serde::de::DeserializeOwned,
    R: std::io::Read,
    F: FnMut(u64, T) -> Result<(), ImportError>,
{
    use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
    use std::cell::RefCell;
    use std::marker::PhantomData;

    struct State<'f, T, F> {
        each: &'f mut F,
        count: u64,
        failure: Option<ImportError>,
        found: bool,
        _record: PhantomData<T>,
    }
    struct Records<'s, 'f, T, F>(&'s RefCell<State<'f, T, F>>);
    impl<'de, T, F> Visitor<'de> for Records<'_, '_, T, F>
    where
        T: serde::de::DeserializeOwned,
        F: FnMut(u64, T) -> Result<(), ImportError>,
    {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an array of records")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.0.borrow_mut().found = true;
            loop {
                let number = self.0.borrow().count + 1;
                let Some(record) = seq
                    .next_element::<T>()
                    .map_err(|e| serde::de::Error::custom(format!("record {number}: {e}")))?
                else {
                    return Ok(());
                };
                let mut state = self.0.borrow_mut();
                state.count = number;
                if let Err(error) = (state.each)(number, record) {
                    state.failure = Some(error);
                    return Err(serde::de::Error::custom("stopped"));
                }
            }
        }
    }
    impl<'de, T, F> DeserializeSeed<'de> for Records<'_, '_, T, F>
    where
        T: serde::de::DeserializeOwned,
        F: FnMut(u64, T) -> Result<(), ImportError>,
    {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_seq(self)
        }
    }
    struct Document<'s, 'f, T, F> {
        state: &'s RefCell<State<'f, T, F>>,
        key: &'static str,
    }
    impl<'de, T, F> Visitor<'de> for Document<'_, '_, T, F>
    where
        T: serde::de::DeserializeOwned,
        F: FnMut(u64, T) -> Result<(), ImportError>,
    {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "an object with \"{}\"", self.key)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            while let Some(name) = map.next_key::<String>()? {
                if name == self.key {
                    map.next_value_seed(Records(self.state))?;
                } else {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
            Ok(())
        }
    }

    let state = RefCell::new(State {
        each: &mut each,
        count: 0,
        failure: None,
        found: false,
        _record: PhantomData::<T>,
    });
    let mut reader = serde_json::Deserializer::from_reader(input);
    let outcome = match key {
        None => (&mut reader).deserialize_seq(Records(&state)),
        Some(key) => (&mut reader).deserialize_map(Document { state: &state, key }),
    }
    .and_then(|()| reader.end());
    let state = state.into_inner();
    if let Some(failure) = state.failure {
        return Err(failure);
    }
    match outcome {
        Err(error) => {
            let place = format!("line {} column {}", error.line(), error.column());
            let detail = error.to_string();
            // serde_json appends its own position; ours comes first.
            let detail = detail
                .rsplit_once(" at line ")
                .map_or(detail.as_str(), |(message, _)| message)
                .to_owned();
            Err(ImportError::at(
                Location::File,
                None,
                if error.is_eof() && state.count == 0 && error.line() <= 1 {
                    "is empty; expected a JSON document".to_owned()
                } else {
                    format!("is not the expected JSON at {place}: {detail}")
                },
            ))
        }
        Ok(()) if !state.found => Err(ImportError::at(
            Location::File,
            key,
            "is missing: the document has no array of records there",
        )),
        Ok(()) => Ok(state.count),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Real files, mutated many times over (bytes flipped, cut, repeated, quotes and
    /// brackets inserted, invalid UTF-8), read as every format: a parser may refuse a
    /// file, never panic. (`make fuzz` runs the cargo-fuzz targets for longer.)
    #[test]
    fn no_input_makes_a_parser_panic() {
        let seeds: [&[u8]; 5] = [
            include_bytes!("../../../server/tests/fixtures/imports/aws-credential-report.csv"),
            include_bytes!("../../../server/tests/fixtures/imports/k8s-serviceaccounts.json"),
            include_bytes!("../../../server/tests/fixtures/imports/gcp-service-accounts.json"),
            include_bytes!("../../../server/tests/fixtures/imports/gcp-key-file.json"),
            br##"{"value":[{"@odata.type":"#microsoft.graph.agentIdentity","id":"1","appId":"a","keyCredentials":[{"keyId":"k","endDateTime":"2026-01-01T00:00:00Z"}]}],"installations":[{"id":1,"account":{"login":"x"},"app_slug":"s","permissions":{"a":"write"}}]}"##,
        ];
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let request = ImportRequest::new(ImportFormat::StewardCsv, "fuzz");
        let limits = ImportLimits::default();
        for seed in seeds {
            for _ in 0..300 {
                let mut input = seed.to_vec();
                for _ in 0..=(next() % 4) {
                    if input.is_empty() {
                        break;
                    }
                    let at = (next() as usize) % input.len();
                    match next() % 6 {
                        0 => input[at] = (next() % 256) as u8,
                        1 => {
                            let end = (at + (next() as usize % 40)).min(input.len());
                            input.drain(at..end);
                        }
                        2 => {
                            let end = (at + (next() as usize % 40)).min(input.len());
                            let copy = input[at..end].to_vec();
                            input.splice(at..at, copy);
                        }
                        3 => input.insert(at, b"\",\n{[]}:\xff"[(next() % 9) as usize]),
                        4 => input.truncate(at),
                        _ => input.insert(at, 0xc3),
                    }
                }
                for format in ImportFormat::ALL {
                    let _ = read_records(*format, &input, &request, limits, |_| Ok(()));
                }
            }
        }
    }

    #[test]
    fn every_format_applies_the_apis_name_and_team_rules() {
        let request = ImportRequest::new(ImportFormat::StewardCsv, "x.csv");
        let read = |text: String| {
            read_records(
                ImportFormat::StewardCsv,
                text.as_bytes(),
                &request,
                ImportLimits::default(),
                |_| Ok(()),
            )
            .map_err(|e| e.to_string())
        };
        let header = "name,kind,environment,team,external_id\n";
        let long_team = "t".repeat(81);
        assert_eq!(
            read(format!("{header}ok,agent,prod,{long_team},a1\n")).unwrap_err(),
            format!("line 2, field team: '{long_team}' is not a team name (1–80 characters)")
        );
        assert_eq!(
            read(format!("{header}\"bad\u{7}name\",agent,prod,,a2\n")).unwrap_err(),
            "line 2, field name: a name has 1–200 characters and no control characters"
        );
        assert_eq!(read(format!("{header}ok,agent,prod,Payments,a3\n")), Ok(1));
    }

    #[test]
    fn errors_name_the_place_the_field_and_the_problem() {
        let error = ImportError::at(Location::Line(4), Some("arn"), "is empty");
        assert_eq!(error.to_string(), "line 4, field arn: is empty");
        let error = ImportError::at(Location::File, None, "is empty");
        assert_eq!(error.to_string(), "the file: is empty");
    }

    #[test]
    fn times_are_read_with_offsets_and_fractions() {
        let at = parse_time("2026-03-04T05:06:07+00:00", Location::Line(2), "t").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-03-04T05:06:07+00:00");
        assert!(parse_time("2026-03-04T05:06:07.123Z", Location::Line(2), "t").is_ok());
        assert_eq!(
            parse_time("yesterday", Location::Line(2), "t")
                .unwrap_err()
                .to_string(),
            "line 2, field t: 'yesterday' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"
        );
    }
}
