//! `github-pats` (`GET /orgs/{org}/personal-access-tokens`) and `github-installations`
//! (`GET /orgs/{org}/installations`), as GitHub's REST API returns them.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;

use super::{
    for_each_json_record, parse_time, ImportError, ImportSignal, ImportedCredential,
    ImportedIdentity, ImportedPermission, Location,
};
use crate::identity::CredentialKind;
use crate::inventory::{IdentityKind, Source};

#[derive(Debug, Deserialize)]
struct Account {
    login: String,
}

#[derive(Debug, Deserialize)]
struct FineGrainedToken {
    id: u64,
    owner: Account,
    #[serde(default)]
    token_id: Option<u64>,
    #[serde(default)]
    token_name: Option<String>,
    #[serde(default)]
    permissions: BTreeMap<String, serde_json::Value>,
    access_granted_at: Option<String>,
    #[serde(default)]
    token_expired: bool,
    token_expires_at: Option<String>,
    token_last_used_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Installation {
    id: u64,
    account: Account,
    app_slug: String,
    #[serde(default)]
    app_id: Option<u64>,
    #[serde(default)]
    permissions: BTreeMap<String, serde_json::Value>,
    created_at: Option<String>,
    #[serde(default)]
    suspended_at: Option<String>,
}

/// `permissions` as GitHub nests them: `{"repository": {"contents": "write"}}` for
/// tokens, `{"contents": "write"}` for installations.
fn permissions(
    tree: &BTreeMap<String, serde_json::Value>,
    prefix: Option<&str>,
) -> Vec<ImportedPermission> {
    let mut found = Vec::new();
    for (name, value) in tree {
        let resource = match prefix {
            Some(prefix) => format!("{prefix}:{name}"),
            None => name.clone(),
        };
        match value {
            serde_json::Value::String(access) => found.push(ImportedPermission {
                resource,
                access: access.clone(),
            }),
            serde_json::Value::Object(inner) => {
                let inner: BTreeMap<String, serde_json::Value> =
                    inner.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                found.extend(permissions(&inner, Some(&resource)));
            }
            _ => {}
        }
    }
    found
}

fn time(
    value: Option<&str>,
    location: Location,
    field: &str,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, ImportError> {
    value.map(|v| parse_time(v, location, field)).transpose()
}

/// Reads an organization's fine-grained personal access tokens (a JSON array).
pub fn personal_access_tokens<R: Read>(
    input: R,
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    for_each_json_record(input, None, |number, token: FineGrainedToken| {
        let location = Location::Record(number);
        let name = token
            .token_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("token of {}", token.owner.login));
        let mut identity = ImportedIdentity::new(
            location,
            Source::Github,
            &format!("pat:{}", token.id),
            &name,
            IdentityKind::ApiClient,
            environment,
        );
        identity.created_at = time(
            token.access_granted_at.as_deref(),
            location,
            "access_granted_at",
        )?;
        identity.expires_at = time(
            token.token_expires_at.as_deref(),
            location,
            "token_expires_at",
        )?;
        identity.last_used_at = time(
            token.token_last_used_at.as_deref(),
            location,
            "token_last_used_at",
        )?;
        identity.enabled = !token.token_expired;
        identity.purpose = Some(format!("fine-grained token of {}", token.owner.login));
        identity.permissions = permissions(&token.permissions, None);
        identity.credentials.push(ImportedCredential {
            kind: CredentialKind::ApiToken,
            key_id: format!("token:{}", token.token_id.unwrap_or(token.id)),
            active: !token.token_expired,
            created_at: identity.created_at,
            last_rotated_at: identity.created_at,
            last_used_at: identity.last_used_at,
            expires_at: identity.expires_at,
        });
        // A token is a person's credential used by automation: a person stands behind it.
        identity.signals.push(ImportSignal::PossibleHumanUse {
            detail: format!("a personal access token of {}", token.owner.login),
        });
        each(identity)
    })
}

/// Reads an organization's app installations (`{"total_count", "installations": [...]}`).
/// Every installed app is a third-party integration candidate (OWASP NHI3).
pub fn installations<R: Read>(
    input: R,
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    for_each_json_record(input, Some("installations"), |number, app: Installation| {
        let location = Location::Record(number);
        let mut identity = ImportedIdentity::new(
            location,
            Source::Github,
            &format!("installation:{}", app.id),
            &app.app_slug,
            IdentityKind::Integration,
            environment,
        );
        identity.created_at = time(app.created_at.as_deref(), location, "created_at")?;
        identity.enabled = app.suspended_at.is_none();
        identity.purpose = Some(format!(
            "GitHub App {}{} installed on {}",
            app.app_slug,
            app.app_id
                .map(|id| format!(" (app {id})"))
                .unwrap_or_default(),
            app.account.login
        ));
        identity.permissions = permissions(&app.permissions, None);
        let writes: Vec<&str> = identity
            .permissions
            .iter()
            .filter(|p| p.writes())
            .map(|p| p.resource.as_str())
            .collect();
        identity.signals.push(ImportSignal::ThirdPartyIntegration {
            detail: if writes.is_empty() {
                "installed app with read-only permissions".into()
            } else {
                format!("{THIRD_PARTY_WRITES}{}", writes.join(", "))
            },
        });
        each(identity)
    })
}

/// How a third-party signal's detail begins when the app can change data (the
/// findings engine reads it: a third-party integration with write access, NHI3).
pub const THIRD_PARTY_WRITES: &str = "installed app that can change: ";

/// Whether a third-party integration signal's detail says the app can change data.
pub fn third_party_can_write(detail: &str) -> bool {
    detail.starts_with(THIRD_PARTY_WRITES)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATS: &str = r#"[
  {
    "id": 25381,
    "owner": {"login": "octocat", "id": 1, "type": "User"},
    "repository_selection": "all",
    "repositories_url": "https://api.github.com/organizations/652551/personal-access-tokens/25381/repositories",
    "permissions": {"organization": {"members": "read"}, "repository": {"metadata": "read", "contents": "write"}},
    "access_granted_at": "2023-05-16T08:47:09.000-07:00",
    "token_id": 98716,
    "token_name": "Deploy from laptop",
    "token_expired": false,
    "token_expires_at": "2026-12-16T08:47:09.000-07:00",
    "token_last_used_at": null
  }
]"#;

    const INSTALLATIONS: &str = r#"{
  "total_count": 2,
  "installations": [
    {"id": 1, "account": {"login": "acme", "id": 7, "type": "Organization"}, "repository_selection": "all",
     "app_id": 1, "app_slug": "ci-helper", "target_id": 7, "target_type": "Organization",
     "permissions": {"checks": "write", "metadata": "read", "contents": "read"}, "events": ["push"],
     "created_at": "2017-07-08T16:18:44-04:00", "updated_at": "2017-07-08T16:18:44-04:00",
     "suspended_by": null, "suspended_at": null},
    {"id": 2, "account": {"login": "acme", "id": 7, "type": "Organization"}, "repository_selection": "selected",
     "app_id": 9, "app_slug": "readonly-dash", "target_id": 7, "target_type": "Organization",
     "permissions": {"metadata": "read"}, "events": [],
     "created_at": "2020-01-01T00:00:00Z", "updated_at": "2020-01-01T00:00:00Z",
     "suspended_by": {"login": "admin"}, "suspended_at": "2024-01-01T00:00:00Z"}
  ]
}"#;

    use crate::imports::collect_records as collect;

    #[test]
    fn tokens_carry_expiry_permissions_and_their_person() {
        let tokens = collect(|each| personal_access_tokens(PATS.as_bytes(), "prod", each)).unwrap();
        let token = &tokens[0];
        assert_eq!(token.external_id, "pat:25381");
        assert_eq!(token.name, "Deploy from laptop");
        assert_eq!(
            token.expires_at.unwrap().to_rfc3339(),
            "2026-12-16T15:47:09+00:00"
        );
        assert_eq!(token.credentials[0].key_id, "token:98716");
        assert!(token
            .permissions
            .iter()
            .any(|p| p.resource == "repository:contents" && p.writes()));
        assert!(matches!(
            token.signals[..],
            [ImportSignal::PossibleHumanUse { .. }]
        ));
    }

    #[test]
    fn installations_are_third_party_candidates() {
        let apps = collect(|each| installations(INSTALLATIONS.as_bytes(), "prod", each)).unwrap();
        assert_eq!(apps.len(), 2);
        assert_eq!(apps[0].kind, IdentityKind::Integration);
        assert_eq!(
            apps[0].signals,
            vec![ImportSignal::ThirdPartyIntegration {
                detail: "installed app that can change: checks".into()
            }]
        );
        assert!(!apps[1].enabled, "suspended");
        let bad = INSTALLATIONS.replacen("2017-07-08T16:18:44-04:00", "07/08/2017", 1);
        assert_eq!(
            collect(|each| installations(bad.as_bytes(), "prod", each)).unwrap_err().to_string(),
            "record 1, field created_at: '07/08/2017' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"
        );
    }
}
