//! `entra-service-principals`: Microsoft Graph's `servicePrincipals` list
//! (`{"value": [...]}`), with key and password credential end dates and agent
//! identities (`@odata.type` `#microsoft.graph.agentIdentity`).

use std::io::Read;

use serde::Deserialize;

use super::{
    for_each_json_record, parse_time, ImportError, ImportedCredential, ImportedIdentity, Location,
};
use crate::identity::CredentialKind;
use crate::inventory::{IdentityKind, Source};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServicePrincipal {
    #[serde(rename = "@odata.type", default)]
    odata_type: Option<String>,
    id: String,
    app_id: Option<String>,
    display_name: Option<String>,
    service_principal_type: Option<String>,
    #[serde(default = "enabled")]
    account_enabled: Option<bool>,
    created_date_time: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    key_credentials: Vec<Credential>,
    /// `hint` (the secret's first characters) is deliberately not read.
    #[serde(default)]
    password_credentials: Vec<Credential>,
}

fn enabled() -> Option<bool> {
    Some(true)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Credential {
    key_id: String,
    start_date_time: Option<String>,
    end_date_time: Option<String>,
}

/// Reads the service principals.
pub fn service_principals<R: Read>(
    input: R,
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    for_each_json_record(input, Some("value"), |number, sp: ServicePrincipal| {
        let location = Location::Record(number);
        let time = |value: &Option<String>, field: &str| {
            value
                .as_deref()
                .map(|v| parse_time(v, location, field))
                .transpose()
        };
        let agent = sp.odata_type.as_deref() == Some("#microsoft.graph.agentIdentity");
        let kind = if agent {
            IdentityKind::Agent
        } else {
            match sp.service_principal_type.as_deref() {
                Some("ManagedIdentity") => IdentityKind::Workload,
                Some("Application") | None => IdentityKind::ApiClient,
                Some("Legacy" | "SocialIdp") => IdentityKind::Integration,
                Some(other) => {
                    return Err(ImportError::at(
                        location,
                        Some("servicePrincipalType"),
                        format!(
                            "'{other}' is not Application, ManagedIdentity, Legacy or SocialIdp"
                        ),
                    ))
                }
            }
        };
        let external_id = sp.app_id.clone().unwrap_or_else(|| sp.id.clone());
        let name = sp
            .display_name
            .clone()
            .unwrap_or_else(|| external_id.clone());
        let mut identity = ImportedIdentity::new(
            location,
            Source::Azure,
            &external_id,
            &name,
            kind,
            environment,
        );
        identity.enabled = sp.account_enabled.unwrap_or(true);
        identity.created_at = time(&sp.created_date_time, "createdDateTime")?;
        if sp
            .tags
            .iter()
            .any(|t| t == "WindowsAzureActiveDirectoryIntegratedApp")
        {
            identity.purpose = Some("integrated application".into());
        }
        for (list, kind, field) in [
            (
                &sp.key_credentials,
                CredentialKind::Certificate,
                "keyCredentials",
            ),
            (
                &sp.password_credentials,
                CredentialKind::ClientSecret,
                "passwordCredentials",
            ),
        ] {
            for credential in list {
                let start = time(
                    &credential.start_date_time,
                    &format!("{field}.startDateTime"),
                )?;
                let end = time(&credential.end_date_time, &format!("{field}.endDateTime"))?;
                identity.credentials.push(ImportedCredential {
                    kind,
                    key_id: credential.key_id.clone(),
                    active: true,
                    created_at: start,
                    last_rotated_at: start,
                    last_used_at: None,
                    expires_at: end,
                });
            }
        }
        // The identity lives as long as its last credential.
        identity.expires_at = identity
            .credentials
            .iter()
            .filter_map(|c| c.expires_at)
            .max();
        each(identity)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::ActorClass;

    const GRAPH: &str = r##"{
  "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals",
  "value": [
    {"id": "00af7a3e-0000-4000-8000-000000000001", "appId": "a3b1c2d4-0000-4000-8000-00000000000a",
     "displayName": "payroll-sync", "servicePrincipalType": "Application", "accountEnabled": true,
     "appOwnerOrganizationId": "72f988bf-86f1-41af-91ab-2d7cd011db47", "createdDateTime": "2024-03-01T12:00:00Z",
     "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
     "keyCredentials": [{"customKeyIdentifier": null, "displayName": "CN=payroll", "endDateTime": "2027-03-01T12:00:00Z",
        "keyId": "k-1", "startDateTime": "2025-03-01T12:00:00Z", "type": "AsymmetricX509Cert", "usage": "Verify"}],
     "passwordCredentials": [{"displayName": "ci", "endDateTime": "2026-06-01T00:00:00.1234567Z", "hint": "Abc",
        "keyId": "p-1", "secretText": null, "startDateTime": "2025-06-01T00:00:00Z"}]},
    {"@odata.type": "#microsoft.graph.agentIdentity", "id": "00af7a3e-0000-4000-8000-000000000002",
     "appId": "b3b1c2d4-0000-4000-8000-00000000000b", "displayName": "Invoice triage agent",
     "servicePrincipalType": "Application", "accountEnabled": false, "createdDateTime": "2026-09-01T00:00:00Z",
     "keyCredentials": [], "passwordCredentials": []}
  ]
}"##;

    #[test]
    fn principals_with_credential_end_dates_and_agents() {
        let found = crate::imports::collect_records(|each| {
            service_principals(GRAPH.as_bytes(), "prod", each)
        })
        .unwrap();
        assert_eq!(found.len(), 2);
        let app = &found[0];
        assert_eq!(app.external_id, "a3b1c2d4-0000-4000-8000-00000000000a");
        assert_eq!(app.credentials.len(), 2);
        assert_eq!(
            app.expires_at.unwrap().to_rfc3339(),
            "2027-03-01T12:00:00+00:00"
        );
        assert!(
            !serde_json::to_string(app).unwrap().contains("Abc"),
            "the hint is not kept"
        );
        let agent = &found[1];
        assert_eq!(agent.kind, IdentityKind::Agent);
        assert_eq!(agent.kind.actor_class(), ActorClass::Ai);
        assert!(!agent.enabled);
        let bad = GRAPH.replacen("\"Application\"", "\"Robot\"", 1);
        let error = service_principals(bad.as_bytes(), "prod", |_| Ok(())).unwrap_err();
        assert_eq!(
            error.to_string(),
            "record 1, field servicePrincipalType: 'Robot' is not Application, ManagedIdentity, Legacy or SocialIdp"
        );
    }
}
