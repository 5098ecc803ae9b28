//! Adding a credential or an entitlement to an identity: the requests and their
//! validation, including the check that a description does not hold a secret.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::DomainError;

use super::{CredentialKind, GrantType, Privilege};

/// A credential to record against an identity (its metadata only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewCredential {
    pub kind: CredentialKind,
    /// Fingerprint or key id — never the secret.
    pub key_id: String,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub rotation_days: Option<u32>,
}

impl NewCredential {
    pub fn validated(&self) -> Result<NewCredential, DomainError> {
        let key_id = self.key_id.trim();
        if key_id.is_empty() || key_id.len() > 500 {
            return Err(DomainError::invalid(
                "key_id",
                "a key id or fingerprint of 1–500 characters is required",
            ));
        }
        if looks_like_secret(key_id) {
            return Err(DomainError::invalid(
                "key_id",
                "this looks like secret material; record only a key id or fingerprint",
            ));
        }
        if let Some(days) = self.rotation_days {
            if !(1..=3650).contains(&days) {
                return Err(DomainError::invalid(
                    "rotation_days",
                    "a rotation period is 1–3650 days",
                ));
            }
        }
        Ok(NewCredential {
            key_id: key_id.to_owned(),
            ..self.clone()
        })
    }
}

/// Whether text looks like a secret rather than an identifier: a PEM private key, or
/// a well-known secret-token prefix. (An AWS access key *id*, `AKIA…`, is an
/// identifier and fine.) Steward refuses to store such material.
pub fn looks_like_secret(text: &str) -> bool {
    const TOKEN_PREFIXES: &[&str] = &[
        "stw_",
        "ghp_",
        "gho_",
        "ghs_",
        "github_pat_",
        "xoxb-",
        "xoxp-",
        "sk-",
        "glpat-",
    ];
    text.contains("PRIVATE KEY") || TOKEN_PREFIXES.iter().any(|prefix| text.starts_with(prefix))
}

/// An entitlement to grant an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewEntitlement {
    pub resource: String,
    pub action: String,
    pub privilege: Privilege,
    #[serde(default = "standing")]
    pub grant_type: GrantType,
}

fn standing() -> GrantType {
    GrantType::Standing
}

impl NewEntitlement {
    pub fn validated(&self) -> Result<NewEntitlement, DomainError> {
        let field = |name: &str, value: &str| {
            let value = value.trim();
            if value.is_empty()
                || value.chars().count() > 300
                || value.contains(char::is_whitespace)
            {
                Err(DomainError::invalid(
                    name,
                    "1–300 characters without spaces are required",
                ))
            } else {
                Ok(value.to_owned())
            }
        };
        Ok(NewEntitlement {
            resource: field("resource", &self.resource)?,
            action: field("action", &self.action)?,
            ..self.clone()
        })
    }
}
