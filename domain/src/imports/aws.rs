//! `aws-credential-report`: the CSV that `aws iam get-credential-report` returns
//! (base64-decoded), exactly as AWS writes it.

use std::io::Read;

use chrono::{DateTime, Utc};

use super::{
    parse_time, ImportError, ImportSignal, ImportedCredential, ImportedIdentity, Location,
};
use crate::identity::CredentialKind;
use crate::inventory::{IdentityKind, Source};

/// The header AWS writes, in this order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// The user name AWS gives the account's root user.
pub const ROOT_ACCOUNT: &str = "<root_account>";

/// Reads a credential report one user at a time.
pub struct CredentialReport<R: Read> {
    reader: csv::Reader<R>,
    record: csv::StringRecord,
    environment: String,
    header_checked: bool,
    done: bool,
}

impl<R: Read> CredentialReport<R> {
    /// `environment` is given to every identity (a credential report does not say).
    pub fn new(input: R, environment: &str) -> Self {
        CredentialReport {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(input),
            record: csv::StringRecord::new(),
            environment: environment.to_owned(),
            header_checked: false,
            done: false,
        }
    }

    fn read(&mut self) -> Result<Option<Location>, ImportError> {
        let position = self.reader.position().line();
        match self.reader.read_record(&mut self.record) {
            Ok(true) => Ok(Some(Location::Line(
                self.record.position().map_or(position, csv::Position::line),
            ))),
            Ok(false) => Ok(None),
            Err(error) => Err(ImportError::at(
                Location::Line(error.position().map_or(position, csv::Position::line)),
                None,
                match error.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text".to_owned(),
                    _ => format!("is not valid CSV ({error})"),
                },
            )),
        }
    }

    fn check_header(&mut self) -> Result<(), ImportError> {
        let Some(location) = self.read()? else {
            return Err(ImportError::at(
                Location::File,
                None,
                "is empty; a credential report starts with its header line",
            ));
        };
        let found: Vec<&str> = self
            .record
            .iter()
            .map(|f| f.trim_start_matches('\u{feff}'))
            .collect();
        if found != COLUMNS {
            let first_difference = COLUMNS
                .iter()
                .zip(found.iter().chain(std::iter::repeat(&"")))
                .position(|(want, got)| want != got)
                .unwrap_or(COLUMNS.len());
            let detail = match (COLUMNS.get(first_difference), found.get(first_difference)) {
                (Some(want), Some(got)) => format!(
                    "column {} is '{got}' where AWS writes '{want}'",
                    first_difference + 1
                ),
                (Some(want), None) => format!(
                    "has {} columns; column {} should be '{want}'",
                    found.len(),
                    first_difference + 1
                ),
                (None, _) => format!(
                    "has {} columns where AWS writes {}",
                    found.len(),
                    COLUMNS.len()
                ),
            };
            return Err(ImportError::at(
                location,
                None,
                format!("is not an AWS credential report header: {detail}"),
            ));
        }
        Ok(())
    }

    fn user(&self, location: Location) -> Result<ImportedIdentity, ImportError> {
        if self.record.len() != COLUMNS.len() {
            return Err(ImportError::at(
                location,
                None,
                format!(
                    "has {} fields; every line of a credential report has {}",
                    self.record.len(),
                    COLUMNS.len()
                ),
            ));
        }
        let field = |i: usize| self.record.get(i).unwrap_or_default().trim();
        let name = field(0);
        let arn = field(1);
        if name.is_empty() {
            return Err(ImportError::at(location, Some("user"), "is empty"));
        }
        if !arn.starts_with("arn:aws") || arn.split(':').count() < 6 {
            return Err(ImportError::at(
                location,
                Some("arn"),
                format!("'{arn}' is not an AWS ARN (like arn:aws:iam::123456789012:user/name)"),
            ));
        }
        let time = |i: usize| optional_time(field(i), location, COLUMNS[i]);
        let flag = |i: usize| flag(field(i), location, COLUMNS[i]);

        let root = name == ROOT_ACCOUNT;
        let mut identity = ImportedIdentity::new(
            location,
            Source::Aws,
            arn,
            name,
            kind_from_name(name),
            &self.environment,
        );
        identity.created_at = time(2)?;
        let password_enabled = flag(3)?.unwrap_or(false);
        let password_last_used = time(4)?;
        time(5)?;
        time(6)?;
        flag(7)?;
        for (slot, base) in [(1, 8), (2, 13)] {
            let active = flag(base)?.unwrap_or(false);
            let rotated = time(base + 1)?;
            let used = time(base + 2)?;
            if active || rotated.is_some() {
                identity.credentials.push(ImportedCredential {
                    kind: CredentialKind::AccessKey,
                    key_id: format!("access_key_{slot}"),
                    active,
                    created_at: rotated,
                    last_rotated_at: rotated,
                    last_used_at: used,
                    expires_at: None,
                });
            }
        }
        for (slot, base) in [(1, 18), (2, 20)] {
            let active = flag(base)?.unwrap_or(false);
            let rotated = time(base + 1)?;
            if active || rotated.is_some() {
                identity.credentials.push(ImportedCredential {
                    kind: CredentialKind::Certificate,
                    key_id: format!("cert_{slot}"),
                    active,
                    created_at: rotated,
                    last_rotated_at: rotated,
                    last_used_at: None,
                    expires_at: None,
                });
            }
        }
        identity.last_used_at = password_last_used;
        identity.last_used_at = identity.last_activity();
        if root {
            identity.signals.push(ImportSignal::RootAccount);
        } else if password_enabled
            && identity
                .credentials
                .iter()
                .any(|c| c.active && c.kind == CredentialKind::AccessKey)
        {
            identity.signals.push(ImportSignal::PossibleHumanUse {
                detail: "console password enabled and an active access key".into(),
            });
        }
        Ok(identity)
    }
}

impl<R: Read> Iterator for CredentialReport<R> {
    type Item = Result<ImportedIdentity, ImportError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if !self.header_checked {
            self.header_checked = true;
            if let Err(error) = self.check_header() {
                self.done = true;
                return Some(Err(error));
            }
        }
        loop {
            let location = match self.read() {
                Ok(Some(location)) => location,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            };
            // Blank lines (a trailing newline) carry nothing.
            if self.record.len() == 1 && self.record.get(0).is_some_and(|f| f.trim().is_empty()) {
                continue;
            }
            return Some(self.user(location));
        }
    }
}

/// A time field: ISO 8601, or one of AWS's special values for "none".
fn optional_time(
    value: &str,
    location: Location,
    field: &str,
) -> Result<Option<DateTime<Utc>>, ImportError> {
    match value {
        "N/A" | "no_information" | "not_supported" | "" => Ok(None),
        _ => parse_time(value, location, field).map(Some),
    }
}

/// A `true` / `false` field (`not_supported` for the root user's password).
fn flag(value: &str, location: Location, field: &str) -> Result<Option<bool>, ImportError> {
    match value {
        "true" | "TRUE" => Ok(Some(true)),
        "false" | "FALSE" => Ok(Some(false)),
        "N/A" | "not_supported" | "no_information" => Ok(None),
        _ => Err(ImportError::at(
            location,
            Some(field),
            format!("'{value}' is not true or false"),
        )),
    }
}

/// CI/CD users are named for their pipelines; everything else is a service account.
fn kind_from_name(name: &str) -> IdentityKind {
    let lower = name.to_ascii_lowercase();
    let ci = [
        "ci",
        "cd",
        "github",
        "gitlab",
        "jenkins",
        "circleci",
        "pipeline",
        "deploy",
        "buildkite",
    ];
    if lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|word| ci.contains(&word))
    {
        IdentityKind::CiRunner
    } else {
        IdentityKind::ServiceAccount
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated
<root_account>,arn:aws:iam::123456789012:root,2019-02-01T10:00:00+00:00,not_supported,2026-10-01T08:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
github-deploy,arn:aws:iam::123456789012:user/ci/github-deploy,2023-05-10T12:00:00+00:00,false,N/A,N/A,N/A,false,true,2023-05-10T12:00:00+00:00,2026-11-20T03:00:00+00:00,eu-west-1,s3,true,2025-01-02T00:00:00+00:00,N/A,N/A,N/A,false,N/A,false,N/A
billing-export,arn:aws:iam::123456789012:user/billing-export,2022-01-01T00:00:00+00:00,true,2026-11-01T09:30:00+00:00,2022-01-01T00:00:00+00:00,N/A,false,true,2024-06-01T00:00:00+00:00,2026-11-25T14:00:00+00:00,us-east-1,ce,false,N/A,N/A,N/A,N/A,true,2024-01-01T00:00:00+00:00,false,N/A
old-sync,arn:aws:iam::123456789012:user/old-sync,2020-03-03T00:00:00+00:00,false,no_information,N/A,N/A,false,false,2020-03-03T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A
";

    fn parse(text: &str) -> Vec<Result<ImportedIdentity, ImportError>> {
        CredentialReport::new(text.as_bytes(), "prod").collect()
    }

    #[test]
    fn reads_every_user_with_credentials_and_special_values() {
        let users: Vec<ImportedIdentity> = parse(REPORT).into_iter().map(Result::unwrap).collect();
        assert_eq!(users.len(), 4);
        let root = &users[0];
        assert_eq!(root.signals, vec![ImportSignal::RootAccount]);
        assert!(root.credentials.is_empty());

        let ci = &users[1];
        assert_eq!(
            ci.external_id,
            "arn:aws:iam::123456789012:user/ci/github-deploy"
        );
        assert_eq!(ci.kind, IdentityKind::CiRunner);
        assert_eq!(ci.location, Location::Line(3));
        assert_eq!(ci.credentials.len(), 2);
        assert!(ci.credentials.iter().all(|c| c.active));
        assert_eq!(
            ci.last_used_at.unwrap().to_rfc3339(),
            "2026-11-20T03:00:00+00:00"
        );
        assert!(ci.signals.is_empty());

        let human = &users[2];
        assert_eq!(human.kind, IdentityKind::ServiceAccount);
        assert!(matches!(
            human.signals[..],
            [ImportSignal::PossibleHumanUse { .. }]
        ));
        assert_eq!(human.credentials.len(), 2, "one key and one certificate");

        let old = &users[3];
        assert_eq!(old.last_used_at, None, "no_information is no use");
        assert_eq!(old.credentials.len(), 1);
        assert!(!old.credentials[0].active);
    }

    #[test]
    fn a_wrong_header_is_named() {
        let text = REPORT.replacen("mfa_active", "mfa", 1);
        let errors = parse(&text);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].as_ref().unwrap_err().to_string(),
            "line 1: is not an AWS credential report header: column 8 is 'mfa' where AWS writes 'mfa_active'"
        );
        assert_eq!(
            parse("").remove(0).unwrap_err().to_string(),
            "the file: is empty; a credential report starts with its header line"
        );
    }

    #[test]
    fn bad_fields_name_line_field_and_value() {
        let text = REPORT.replacen(
            "2023-05-10T12:00:00+00:00,false",
            "2023-05-10 noon,false",
            1,
        );
        let results = parse(&text);
        assert_eq!(
            results[1].as_ref().unwrap_err().to_string(),
            "line 3, field user_creation_time: '2023-05-10 noon' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"
        );
        assert!(results[2].is_ok(), "later lines are still read");
        let text = REPORT.replacen(
            ",false,N/A,N/A,N/A,false,true,",
            ",maybe,N/A,N/A,N/A,false,true,",
            1,
        );
        assert_eq!(
            parse(&text)[1].as_ref().unwrap_err().to_string(),
            "line 3, field password_enabled: 'maybe' is not true or false"
        );
        let short = format!(
            "{}x,arn:aws:iam::1:user/x\n",
            &REPORT[..REPORT.find('\n').unwrap() + 1]
        );
        assert_eq!(
            parse(&short)[0].as_ref().unwrap_err().to_string(),
            "line 2: has 2 fields; every line of a credential report has 22"
        );
    }
}
