//! `k8s-serviceaccounts`: the JSON of `kubectl get serviceaccounts -A -o json`.
//!
//! Each ServiceAccount becomes a workload identity matched on its Kubernetes user name
//! (`system:serviceaccount:<namespace>:<name>`, what its tokens carry as `sub`), with its
//! natural SPIFFE ID, its legacy token secrets as credentials, and a delegation edge to
//! the cloud identity its annotations bind it to.

use std::collections::BTreeMap;
use std::io::Read;

use serde::Deserialize;

use super::{
    for_each_json_record, parse_time, ImportError, ImportedCredential, ImportedIdentity, Location,
};
use crate::identity::CredentialKind;
use crate::inventory::{IdentityKind, Source};

/// Annotations that bind a ServiceAccount to a cloud identity (workload identity).
pub const CLOUD_BINDINGS: [&str; 3] = [
    "eks.amazonaws.com/role-arn",
    "iam.gke.io/gcp-service-account",
    "azure.workload.identity/client-id",
];

#[derive(Debug, Deserialize)]
struct ServiceAccount {
    kind: Option<String>,
    metadata: Metadata,
    #[serde(default)]
    secrets: Vec<NameRef>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: String,
    namespace: String,
    #[serde(default)]
    creation_timestamp: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct NameRef {
    name: String,
}

/// Reads the list; `trust_domain` names the cluster's SPIFFE trust domain.
pub fn service_accounts<R: Read>(
    input: R,
    trust_domain: &str,
    environment: &str,
    mut each: impl FnMut(ImportedIdentity) -> Result<(), ImportError>,
) -> Result<u64, ImportError> {
    for_each_json_record(input, Some("items"), |number, account: ServiceAccount| {
        each(identity(number, account, trust_domain, environment)?)
    })
}

fn identity(
    number: u64,
    account: ServiceAccount,
    trust_domain: &str,
    environment: &str,
) -> Result<ImportedIdentity, ImportError> {
    let location = Location::Record(number);
    if let Some(kind) = account.kind.as_deref().filter(|k| *k != "ServiceAccount") {
        return Err(ImportError::at(
            location,
            Some("kind"),
            format!("'{kind}' is not a ServiceAccount"),
        ));
    }
    let meta = account.metadata;
    for (field, value) in [
        ("metadata.name", &meta.name),
        ("metadata.namespace", &meta.namespace),
    ] {
        if value.is_empty()
            || !value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-.".contains(c))
        {
            return Err(ImportError::at(
                location,
                Some(field),
                format!("'{value}' is not a Kubernetes name"),
            ));
        }
    }
    let mut identity = ImportedIdentity::new(
        location,
        Source::Kubernetes,
        &format!("system:serviceaccount:{}:{}", meta.namespace, meta.name),
        &format!("{}/{}", meta.namespace, meta.name),
        IdentityKind::Workload,
        environment,
    );
    if let Some(created) = &meta.creation_timestamp {
        identity.created_at = Some(parse_time(created, location, "metadata.creationTimestamp")?);
    }
    identity.spiffe_id = Some(format!(
        "spiffe://{trust_domain}/ns/{}/sa/{}",
        meta.namespace, meta.name
    ));
    identity.team = meta
        .labels
        .get("team")
        .or_else(|| meta.labels.get("app.kubernetes.io/part-of"))
        .cloned();
    identity.purpose = meta
        .annotations
        .get("description")
        .or_else(|| meta.annotations.get("kubernetes.io/description"))
        .cloned();
    identity.acts_as = CLOUD_BINDINGS
        .iter()
        .filter_map(|key| meta.annotations.get(*key))
        .map(|target| target.trim().to_owned())
        .filter(|target| !target.is_empty())
        .collect();
    // Secrets listed on the account are legacy long-lived token secrets.
    identity.credentials = account
        .secrets
        .into_iter()
        .map(|secret| ImportedCredential {
            kind: CredentialKind::ApiToken,
            key_id: format!("secret/{}/{}", meta.namespace, secret.name),
            active: true,
            created_at: identity.created_at,
            last_rotated_at: None,
            last_used_at: None,
            expires_at: None,
        })
        .collect();
    Ok(identity)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"{
  "apiVersion": "v1",
  "items": [
    {
      "apiVersion": "v1",
      "kind": "ServiceAccount",
      "metadata": {
        "annotations": {"eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/payments-reader"},
        "creationTimestamp": "2025-04-01T09:00:00Z",
        "labels": {"team": "payments"},
        "name": "payments-api",
        "namespace": "payments",
        "resourceVersion": "1234",
        "uid": "0b5f7c1e-3c1a-4c55-9b8e-3f0c2d1a9e77"
      }
    },
    {
      "apiVersion": "v1",
      "kind": "ServiceAccount",
      "metadata": {
        "creationTimestamp": "2024-01-01T00:00:00Z",
        "name": "default",
        "namespace": "kube-system",
        "uid": "9d9c5a3b-1111-4c55-9b8e-3f0c2d1a9e77"
      },
      "secrets": [{"name": "default-token-abcde"}],
      "automountServiceAccountToken": false
    }
  ],
  "kind": "List",
  "metadata": {"resourceVersion": ""}
}"#;

    fn read(text: &str) -> Result<Vec<ImportedIdentity>, ImportError> {
        crate::imports::collect_records(|each| {
            service_accounts(text.as_bytes(), "cluster.local", "prod", each)
        })
    }

    #[test]
    fn accounts_carry_spiffe_ids_bindings_and_token_secrets() {
        let accounts = read(LIST).unwrap();
        assert_eq!(accounts.len(), 2);
        let api = &accounts[0];
        assert_eq!(
            api.external_id,
            "system:serviceaccount:payments:payments-api"
        );
        assert_eq!(api.name, "payments/payments-api");
        assert_eq!(
            api.spiffe_id.as_deref(),
            Some("spiffe://cluster.local/ns/payments/sa/payments-api")
        );
        assert_eq!(
            api.acts_as,
            vec!["arn:aws:iam::123456789012:role/payments-reader"]
        );
        assert_eq!(api.team.as_deref(), Some("payments"));
        assert!(api.credentials.is_empty());
        let default = &accounts[1];
        assert_eq!(default.credentials.len(), 1);
        assert_eq!(
            default.credentials[0].key_id,
            "secret/kube-system/default-token-abcde"
        );
        assert_eq!(default.location, Location::Record(2));
    }

    #[test]
    fn problems_name_the_record_and_field() {
        let wrong_kind = LIST.replacen("\"kind\": \"ServiceAccount\"", "\"kind\": \"Pod\"", 1);
        assert_eq!(
            read(&wrong_kind).unwrap_err().to_string(),
            "record 1, field kind: 'Pod' is not a ServiceAccount"
        );
        let bad_time = LIST.replacen("2025-04-01T09:00:00Z", "April", 1);
        assert_eq!(
            read(&bad_time).unwrap_err().to_string(),
            "record 1, field metadata.creationTimestamp: 'April' is not an ISO 8601 time (like 2026-01-31T12:00:00Z)"
        );
        let no_name = LIST.replacen("\"name\": \"default\",", "", 1);
        let error = read(&no_name).unwrap_err().to_string();
        assert!(
            error.starts_with("the file: is not the expected JSON at line"),
            "{error}"
        );
        assert!(error.contains("record 2: missing field `name`"), "{error}");
        assert_eq!(
            read("{\"kind\": \"List\"}").unwrap_err().to_string(),
            "the file, field items: is missing: the document has no array of records there"
        );
        assert_eq!(
            read("").unwrap_err().to_string(),
            "the file: is empty; expected a JSON document"
        );
    }
}
