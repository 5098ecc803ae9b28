//! `gcp-service-accounts` (`gcloud iam service-accounts list --format=json`) and
//! `gcp-keys` (`gcloud iam service-accounts keys list --format=json`), plus the one
//! thing that must never be kept: a downloaded key *file* (it holds `private_key`).
//! Such a file is recognised, its secret dropped unread, and the upload reported as a
//! secret-leak signal (OWASP NHI2) on the account it belongs to.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;

use super::{
    for_each_json_record, parse_time, ImportError, ImportSignal, ImportedCredential,
    ImportedIdentity, Location,
};
use crate::identity::CredentialKind;
use crate::inventory::{IdentityKind, Source};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceAccount {
    email: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    project_id: Option<String>,
    #[serde(default)]
    disabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Key {
    name: String,
    valid_after_time: Option<String>,
    valid_before_time: Option<String>,
    #[serde(default)]
    key_type: Option<String>,
    #[serde(default)]
    disabled: bool,
}

/// The fields of a key file Steward may read. `private_key` is not among them: serde
/// skips it without keeping it.
#[derive(Debug, Deserialize)]
struct KeyFile {
    client_email: String,
    private_key_id: String,
}

fn valid_email(email: &str, location: Location, field: &str) -> Result<(), ImportError> {
    if email.contains('@') && !email.contains(char::is_whitespace) {
        Ok(())
    } else {
        Err(ImportError::at(
            location,
            Some(field),
            format!("'{email}' is not a service account email"),
        ))
    }
}

/// Reads the list of service accounts (a JSON array).
pub fn service_accounts<R: Read>(
    input: R,
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    for_each_json_record(input, None, |number, account: ServiceAccount| {
        let location = Location::Record(number);
        valid_email(&account.email, location, "email")?;
        let name = account
            .display_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| {
                account
                    .email
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
        let mut identity = ImportedIdentity::new(
            location,
            Source::Gcp,
            &account.email,
            &name,
            IdentityKind::ServiceAccount,
            environment,
        );
        identity.enabled = !account.disabled;
        identity.purpose = account.description.filter(|d| !d.trim().is_empty());
        identity.team = account.project_id;
        each(identity)
    })
}

/// Reads a key list (a JSON array): user-managed keys become credentials of their
/// account, one record per account. A key *file* is recognised instead and reported.
pub fn keys(
    input: &[u8],
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let first = input.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return key_file(input, environment, each);
    }
    let mut accounts: BTreeMap<String, ImportedIdentity> = BTreeMap::new();
    let count = for_each_json_record(input, None, |number, key: Key| {
        let location = Location::Record(number);
        // projects/<project>/serviceAccounts/<email>/keys/<key id>
        let parts: Vec<&str> = key.name.split('/').collect();
        let ["projects", _, "serviceAccounts", email, "keys", key_id] = parts[..] else {
            return Err(ImportError::at(
                location,
                Some("name"),
                format!("'{}' is not projects/*/serviceAccounts/*/keys/*", key.name),
            ));
        };
        valid_email(email, location, "name")?;
        if key.key_type.as_deref() == Some("SYSTEM_MANAGED") {
            // Google holds and rotates these; nobody can download them.
            return Ok(());
        }
        let created = key
            .valid_after_time
            .as_deref()
            .map(|t| parse_time(t, location, "validAfterTime"))
            .transpose()?;
        let expires = key
            .valid_before_time
            .as_deref()
            .map(|t| parse_time(t, location, "validBeforeTime"))
            .transpose()?
            // "Never expires" is written as the year 9999.
            .filter(|t| t.format("%Y").to_string() != "9999");
        let identity = accounts.entry(email.to_owned()).or_insert_with(|| {
            ImportedIdentity::new(
                location,
                Source::Gcp,
                email,
                email.split('@').next().unwrap_or_default(),
                IdentityKind::ServiceAccount,
                environment,
            )
        });
        identity.credentials.push(ImportedCredential {
            kind: CredentialKind::AccessKey,
            key_id: key_id.to_owned(),
            active: !key.disabled,
            created_at: created,
            last_rotated_at: created,
            last_used_at: None,
            expires_at: expires,
        });
        Ok(())
    })?;
    for identity in accounts.into_values() {
        each(identity)?;
    }
    Ok(count)
}

fn key_file(
    input: &[u8],
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    let location = Location::Record(1);
    let file: KeyFile = serde_json::from_slice(input).map_err(|_| {
        ImportError::at(
            Location::File,
            None,
            "is a JSON object, but gcp-keys takes the key list of `gcloud iam service-accounts keys list --format=json` (an array) or a key file",
        )
    })?;
    valid_email(&file.client_email, location, "client_email")?;
    let mut identity = ImportedIdentity::new(
        location,
        Source::Gcp,
        &file.client_email,
        file.client_email.split('@').next().unwrap_or_default(),
        IdentityKind::ServiceAccount,
        environment,
    );
    identity.credentials.push(ImportedCredential {
        kind: CredentialKind::AccessKey,
        key_id: file.private_key_id.clone(),
        active: true,
        created_at: None,
        last_rotated_at: None,
        last_used_at: None,
        expires_at: None,
    });
    identity.signals.push(ImportSignal::SecretUploaded {
        detail: format!(
            "a key file with the private key of {} (key {}) was uploaded; the private key was discarded — rotate the key",
            file.client_email, file.private_key_id
        ),
    });
    each(identity)?;
    Ok(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::imports::collect_records as collect;

    #[test]
    fn accounts_and_user_managed_keys() {
        let accounts = r#"[{"description": "exports billing", "disabled": false, "displayName": "Billing exporter",
            "email": "billing@acme-prod.iam.gserviceaccount.com", "etag": "MDEwMjE5MjA=",
            "name": "projects/acme-prod/serviceAccounts/billing@acme-prod.iam.gserviceaccount.com",
            "oauth2ClientId": "1234", "projectId": "acme-prod", "uniqueId": "1234"}]"#;
        let found = collect(|each| service_accounts(accounts.as_bytes(), "prod", each)).unwrap();
        assert_eq!(
            found[0].external_id,
            "billing@acme-prod.iam.gserviceaccount.com"
        );
        assert_eq!(found[0].name, "Billing exporter");
        assert_eq!(found[0].team.as_deref(), Some("acme-prod"));

        let keys_json = r#"[
          {"disabled": false, "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED",
           "name": "projects/acme-prod/serviceAccounts/billing@acme-prod.iam.gserviceaccount.com/keys/a1b2c3",
           "validAfterTime": "2024-02-01T10:00:00Z", "validBeforeTime": "9999-12-31T23:59:59Z"},
          {"keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED", "keyType": "SYSTEM_MANAGED",
           "name": "projects/acme-prod/serviceAccounts/billing@acme-prod.iam.gserviceaccount.com/keys/zz",
           "validAfterTime": "2026-11-01T00:00:00Z", "validBeforeTime": "2026-11-17T00:00:00Z"}]"#;
        let found = collect(|each| keys(keys_json.as_bytes(), "prod", each)).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(
            found[0].credentials.len(),
            1,
            "system-managed keys are Google's"
        );
        assert_eq!(found[0].credentials[0].key_id, "a1b2c3");
        assert_eq!(found[0].credentials[0].expires_at, None, "9999 means never");
    }

    #[test]
    fn a_key_file_is_recognised_and_its_secret_dropped() {
        let file = r#"{"type": "service_account", "project_id": "acme-prod",
          "private_key_id": "0123456789abcdef",
          "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n",
          "client_email": "billing@acme-prod.iam.gserviceaccount.com", "client_id": "1234",
          "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token"}"#;
        let found = collect(|each| keys(file.as_bytes(), "prod", each)).unwrap();
        assert_eq!(found.len(), 1);
        assert!(matches!(
            found[0].signals[..],
            [ImportSignal::SecretUploaded { .. }]
        ));
        let kept = serde_json::to_string(&found[0]).unwrap();
        assert!(
            !kept.contains("PRIVATE KEY") && !kept.contains("MIIEvQ"),
            "{kept}"
        );
    }

    #[test]
    fn bad_key_names_are_named() {
        let keys_json = r#"[{"name": "keys/a1", "keyType": "USER_MANAGED"}]"#;
        assert_eq!(
            collect(|each| keys(keys_json.as_bytes(), "prod", each))
                .unwrap_err()
                .to_string(),
            "record 1, field name: 'keys/a1' is not projects/*/serviceAccounts/*/keys/*"
        );
    }
}
