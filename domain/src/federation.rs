//! Workload identity federation: trust configurations that let a workload or agent
//! prove what it is with a token its platform issued (a SPIFFE JWT-SVID, a Kubernetes
//! projected service-account token, a CI OIDC token such as GitHub Actions') instead of
//! a static secret Steward handed out. A configuration names the issuer, its keys
//! (JWKS), the audience, and explicit claim rules mapping a token to one inventory
//! identity. The rules here are pure: validation on save and matching a verified
//! token's claims. Signature checks live in the server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::string_enum::string_enum;

string_enum! {
    /// What issues the tokens a trust configuration accepts.
    pub enum TrustKind: "trust kind" {
        /// SPIFFE JWT-SVIDs: `sub` is the workload's SPIFFE ID.
        Spiffe = "spiffe",
        /// Kubernetes projected service-account tokens:
        /// `sub` = `system:serviceaccount:<namespace>:<name>`.
        Kubernetes = "kubernetes",
        /// GitHub Actions OIDC tokens: `repository`, `ref`, `environment`,
        /// `job_workflow_ref` claims.
        GithubActions = "github_actions",
    }
}

string_enum! {
    /// Whether a control only reports what it would do, or does it.
    #[derive(Default)]
    pub enum EnforcementMode: "mode" {
        /// Evaluated and logged as would-allow / would-deny; the request is allowed.
        Monitor = "monitor",
        /// Enforced (the default).
        #[default]
        Enforce = "enforce",
    }
}

impl TrustKind {
    /// The issuer these tokens usually come from, offered as a default in forms.
    pub fn usual_issuer(self) -> &'static str {
        match self {
            TrustKind::Spiffe => "",
            TrustKind::Kubernetes => "https://kubernetes.default.svc",
            TrustKind::GithubActions => "https://token.actions.githubusercontent.com",
        }
    }

    /// The claims (besides `sub`) a rule of this kind may test.
    pub fn rule_claims(self) -> &'static [&'static str] {
        match self {
            TrustKind::Spiffe => &[],
            TrustKind::Kubernetes => &[],
            TrustKind::GithubActions => &[
                "repository",
                "repository_owner",
                "ref",
                "environment",
                "job_workflow_ref",
                "workflow",
                "event_name",
            ],
        }
    }

    /// Whether tokens of this kind can prove an identity from `source` (its platform),
    /// or one bound to a SPIFFE ID: a trust configuration of this kind then "exists for
    /// its source".
    pub fn serves(self, source: &str, has_spiffe_id: bool) -> bool {
        match self {
            TrustKind::Spiffe => has_spiffe_id,
            TrustKind::Kubernetes => source == "kubernetes",
            TrustKind::GithubActions => source == "github",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TrustKind::Spiffe => "SPIFFE JWT-SVID",
            TrustKind::Kubernetes => "Kubernetes service-account token",
            TrustKind::GithubActions => "GitHub Actions OIDC token",
        }
    }
}

/// One claim rule: a token whose claims equal all of these is the identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClaimRule {
    pub identity_id: Uuid,
    /// The exact `sub` claim (required for SPIFFE and Kubernetes).
    #[serde(default)]
    pub subject: Option<String>,
    /// Further claims that must equal these values exactly.
    #[serde(default)]
    pub claims: BTreeMap<String, String>,
    /// The one environment a token matching this rule acts in (decisions naming
    /// another are denied); none: the request says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// What an admin submits to create or change a trust configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrustConfigDraft {
    pub name: String,
    pub kind: TrustKind,
    /// The `iss` claim the tokens carry, exactly.
    pub issuer: String,
    /// The `aud` the tokens must be minted for (Steward's name at this issuer).
    pub audience: String,
    /// Where the issuer publishes its keys; fetched on save and when a token names an
    /// unknown key. Either this or `jwks`.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The issuer's keys pasted as a JWKS document (`{"keys": [...]}`).
    #[serde(default)]
    pub jwks: Option<String>,
    pub rules: Vec<ClaimRule>,
    #[serde(default)]
    pub mode: EnforcementMode,
}

/// A stored trust configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrustConfig {
    pub id: Uuid,
    #[serde(flatten)]
    pub draft: TrustConfigDraft,
    pub updated_at: chrono::DateTime<chrono::Utc>,
    pub updated_by: String,
}

/// A request to switch a trust configuration's or an agent policy set's mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModeChange {
    pub mode: EnforcementMode,
    /// Why (kept in the audit trail).
    pub reason: String,
}

impl ModeChange {
    /// The reason, trimmed; a switch without one is refused (it is kept in the audit
    /// trail as the evidence for the change).
    pub fn reason(&self) -> Result<&str, DomainError> {
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err(DomainError::invalid("reason", "say why the mode changes"));
        }
        if reason.chars().count() > 500 {
            return Err(DomainError::invalid("reason", "at most 500 characters"));
        }
        Ok(reason)
    }
}

/// A federated token that passed every check: which configuration and rule matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FederatedMatch {
    pub trust_config_id: Uuid,
    pub trust_config: String,
    pub identity_id: Uuid,
    pub subject: String,
    /// The environment the matching rule binds the token to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

impl FederatedMatch {
    /// How the decision log names this credential.
    pub fn credential(&self) -> String {
        format!("trust:{} sub:{}", self.trust_config_id, self.subject)
    }
}

/// The answer of the token check on the trust configuration page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenCheck {
    /// The match, when the token is accepted.
    pub matched: Option<FederatedMatch>,
    /// Why it is refused, otherwise.
    pub refusal: Option<String>,
}

/// How an identity proves what it is at runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProofOfIdentity {
    /// Trust configurations with a rule for this identity (name, mode).
    pub federated: Vec<(String, EnforcementMode)>,
    /// Active static secrets: Steward API tokens made for it and static credentials
    /// recorded in the inventory.
    pub static_secrets: i64,
}

impl ProofOfIdentity {
    pub fn summary(&self) -> &'static str {
        match (self.federated.is_empty(), self.static_secrets > 0) {
            (false, false) => "federated token",
            (false, true) => "federated token, static secret still active",
            (true, true) => "static secret",
            (true, false) => "none",
        }
    }
}

const MAX_RULES: usize = 500;

fn bad(field: &str, message: impl Into<String>) -> DomainError {
    DomainError::invalid(field, message)
}

/// Whether a claim value pattern-matches rather than equals: refused, since a rule
/// that matches more than one workload is how CI trust is usually misconfigured.
fn wildcard(value: &str) -> bool {
    value.contains('*') || value.contains('?')
}

fn check_text(field: &str, value: &str, max: usize) -> Result<(), DomainError> {
    if value.trim().is_empty() {
        return Err(bad(field, "must not be empty"));
    }
    if value.trim() != value || value.chars().any(char::is_control) {
        return Err(bad(
            field,
            "must not start or end with spaces or hold control characters",
        ));
    }
    if value.chars().count() > max {
        return Err(bad(field, format!("at most {max} characters")));
    }
    Ok(())
}

/// A Kubernetes name or namespace: a DNS label or subdomain.
fn kubernetes_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !text.starts_with(['-', '.'])
        && !text.ends_with(['-', '.'])
}

fn check_subject(kind: TrustKind, field: &str, subject: &str) -> Result<(), DomainError> {
    match kind {
        TrustKind::Spiffe => {
            let Some(rest) = subject.strip_prefix("spiffe://") else {
                return Err(bad(
                    field,
                    format!("'{subject}' is not a SPIFFE ID (spiffe://<trust domain>/<path>)"),
                ));
            };
            match rest.split_once('/') {
                Some((domain, path))
                    if !domain.is_empty()
                        && !path.is_empty()
                        && !path.split('/').any(str::is_empty) => {}
                _ => {
                    return Err(bad(
                        field,
                        format!(
                            "'{subject}' needs a trust domain and a workload path \
                             (spiffe://example.org/ns/payments/sa/api)"
                        ),
                    ))
                }
            }
        }
        TrustKind::Kubernetes => {
            let parts: Vec<&str> = subject.split(':').collect();
            let ok = parts.len() == 4
                && parts[0] == "system"
                && parts[1] == "serviceaccount"
                && kubernetes_name(parts[2])
                && kubernetes_name(parts[3]);
            if !ok {
                return Err(bad(
                    field,
                    format!(
                        "'{subject}' is not a service account subject \
                         (system:serviceaccount:<namespace>:<name>)"
                    ),
                ));
            }
        }
        TrustKind::GithubActions => {
            if !subject.starts_with("repo:") {
                return Err(bad(
                    field,
                    format!("'{subject}' is not a GitHub Actions subject (repo:<owner>/<repo>:…)"),
                ));
            }
        }
    }
    Ok(())
}

impl TrustConfigDraft {
    /// Checks everything that needs no I/O: names, the issuer, the key source, and that
    /// every claim rule is explicit. (The keys' contents and the identities named are
    /// checked by the server.)
    pub fn validate(&self) -> Result<(), DomainError> {
        check_text("name", &self.name, 100)?;
        check_text("issuer", &self.issuer, 500)?;
        check_text("audience", &self.audience, 500)?;
        if wildcard(&self.issuer) || wildcard(&self.audience) {
            return Err(bad(
                "issuer",
                "the issuer and audience match exactly: no wildcards",
            ));
        }
        match (
            self.jwks_url
                .as_deref()
                .map(str::trim)
                .filter(|u| !u.is_empty()),
            self.jwks
                .as_deref()
                .map(str::trim)
                .filter(|j| !j.is_empty()),
        ) {
            (Some(_), Some(_)) => {
                return Err(bad(
                    "jwks",
                    "give either the URL of the issuer's keys or the keys themselves, not both",
                ))
            }
            (None, None) => {
                return Err(bad(
                    "jwks",
                    "the issuer's keys are needed: a JWKS URL or the pasted JWKS",
                ))
            }
            (Some(url), None) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(bad("jwks_url", format!("'{url}' is not an http(s) URL")));
                }
            }
            (None, Some(_)) => {}
        }
        if self.rules.is_empty() {
            return Err(bad(
                "rules",
                "at least one claim rule mapping a token to an identity is needed",
            ));
        }
        if self.rules.len() > MAX_RULES {
            return Err(bad("rules", format!("at most {MAX_RULES} rules")));
        }
        let allowed = self.kind.rule_claims();
        let mut seen = std::collections::HashSet::new();
        for (n, rule) in self.rules.iter().enumerate() {
            let field = format!("rules[{}]", n + 1);
            if let Some(environment) = rule.environment.as_deref() {
                crate::inventory::parse_environment(environment).map_err(|e| match e {
                    DomainError::InvalidInput { message, .. } => {
                        bad(&format!("{field}.environment"), message)
                    }
                    other => other,
                })?;
            }
            let subject = rule
                .subject
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty());
            if let Some(subject) = subject {
                if wildcard(subject) {
                    return Err(bad(
                        &format!("{field}.subject"),
                        format!(
                            "'{subject}' is a wildcard: a rule names exactly one workload's subject"
                        ),
                    ));
                }
                check_subject(self.kind, &format!("{field}.subject"), subject)?;
            }
            for (claim, value) in &rule.claims {
                if !allowed.contains(&claim.as_str()) {
                    return Err(bad(
                        &format!("{field}.claims"),
                        if allowed.is_empty() {
                            format!(
                                "{} rules match the subject only; '{claim}' is not used",
                                self.kind.label()
                            )
                        } else {
                            format!(
                                "'{claim}' is not a claim rules can test; use {}",
                                allowed.join(", ")
                            )
                        },
                    ));
                }
                if value.trim().is_empty() {
                    return Err(bad(&format!("{field}.claims.{claim}"), "must not be empty"));
                }
                if wildcard(value) {
                    return Err(bad(
                        &format!("{field}.claims.{claim}"),
                        format!("'{value}' is a wildcard: claim values match exactly"),
                    ));
                }
            }
            match self.kind {
                TrustKind::Spiffe | TrustKind::Kubernetes => {
                    if subject.is_none() {
                        return Err(bad(
                            &format!("{field}.subject"),
                            format!("a {} rule needs the exact subject", self.kind.label()),
                        ));
                    }
                }
                TrustKind::GithubActions => {
                    let has = |claim: &str| rule.claims.contains_key(claim);
                    if !has("repository") {
                        return Err(bad(
                            &format!("{field}.claims"),
                            "a GitHub Actions rule needs the repository (owner/name): \
                             without it any repository's workflow could match (OWASP NHI6)",
                        ));
                    }
                    if let Some(repository) = rule.claims.get("repository") {
                        let parts: Vec<&str> = repository.split('/').collect();
                        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
                            return Err(bad(
                                &format!("{field}.claims.repository"),
                                format!("'{repository}' is not owner/name"),
                            ));
                        }
                    }
                    if !(has("ref") || has("environment") || has("job_workflow_ref")) {
                        return Err(bad(
                            &format!("{field}.claims"),
                            "a GitHub Actions rule needs a branch or environment condition \
                             (ref, environment or job_workflow_ref): without one any \
                             branch of the repository could act as the identity (OWASP NHI6)",
                        ));
                    }
                }
            }
            let key = (subject.map(str::to_owned), rule.claims.clone());
            if !seen.insert(key) {
                return Err(bad(
                    &field,
                    "has the same conditions as an earlier rule: a token must map to one identity",
                ));
            }
        }
        Ok(())
    }
}

/// The rule a verified token's claims satisfy. `claims` is the token's payload.
/// Exactly one rule must match; no match or several are refusals (as text naming the
/// claims that were compared).
pub fn match_rule<'a>(
    rules: &'a [ClaimRule],
    claims: &serde_json::Map<String, serde_json::Value>,
) -> Result<&'a ClaimRule, String> {
    let text = |name: &str| claims.get(name).and_then(serde_json::Value::as_str);
    let matching: Vec<&ClaimRule> = rules
        .iter()
        .filter(|rule| {
            rule.subject
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .is_none_or(|subject| text("sub") == Some(subject))
                && rule
                    .claims
                    .iter()
                    .all(|(claim, value)| text(claim) == Some(value.as_str()))
        })
        .collect();
    match matching.as_slice() {
        [one] => Ok(one),
        [] => {
            let mut shown = vec![format!("sub={}", text("sub").unwrap_or("(none)"))];
            for claim in ["repository", "ref", "environment", "job_workflow_ref"] {
                if let Some(value) = text(claim) {
                    shown.push(format!("{claim}={value}"));
                }
            }
            Err(format!(
                "no claim rule matches the token ({})",
                shown.join(", ")
            ))
        }
        _ => Err("more than one claim rule matches the token".into()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::json;

    fn rule(subject: Option<&str>, claims: &[(&str, &str)]) -> ClaimRule {
        ClaimRule {
            environment: None,
            identity_id: Uuid::from_u128(1),
            subject: subject.map(str::to_owned),
            claims: claims
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn draft(kind: TrustKind, rules: Vec<ClaimRule>) -> TrustConfigDraft {
        TrustConfigDraft {
            name: "ci".into(),
            kind,
            issuer: "https://issuer.example".into(),
            audience: "steward".into(),
            jwks_url: Some("https://issuer.example/jwks".into()),
            jwks: None,
            rules,
            mode: EnforcementMode::Enforce,
        }
    }

    fn refused(draft: &TrustConfigDraft) -> String {
        draft.validate().unwrap_err().to_string()
    }

    #[test]
    fn github_rules_need_a_repository_and_a_branch_or_environment() {
        let ok = draft(
            TrustKind::GithubActions,
            vec![rule(
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
            )],
        );
        ok.validate().unwrap();
        let no_repo = draft(
            TrustKind::GithubActions,
            vec![rule(
                Some("repo:acme/deploy:ref:refs/heads/main"),
                &[("ref", "refs/heads/main")],
            )],
        );
        assert!(refused(&no_repo).contains("needs the repository"));
        let no_branch = draft(
            TrustKind::GithubActions,
            vec![rule(None, &[("repository", "acme/deploy")])],
        );
        assert!(refused(&no_branch).contains("branch or environment"));
        let wildcard = draft(
            TrustKind::GithubActions,
            vec![rule(
                Some("repo:acme/*"),
                &[("repository", "acme/deploy"), ("environment", "prod")],
            )],
        );
        assert!(refused(&wildcard).contains("wildcard"));
        let wild_value = draft(
            TrustKind::GithubActions,
            vec![rule(
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/*")],
            )],
        );
        assert!(refused(&wild_value).contains("claim values match exactly"));
        let unknown = draft(
            TrustKind::GithubActions,
            vec![rule(
                None,
                &[
                    ("repository", "acme/deploy"),
                    ("ref", "refs/heads/main"),
                    ("actor", "x"),
                ],
            )],
        );
        assert!(refused(&unknown).contains("'actor' is not a claim"));
    }

    #[test]
    fn spiffe_and_kubernetes_rules_name_one_exact_subject() {
        draft(
            TrustKind::Spiffe,
            vec![rule(Some("spiffe://acme.org/ns/pay/sa/api"), &[])],
        )
        .validate()
        .unwrap();
        assert!(refused(&draft(TrustKind::Spiffe, vec![rule(None, &[])])).contains("exact subject"));
        assert!(refused(&draft(
            TrustKind::Spiffe,
            vec![rule(Some("spiffe://acme.org"), &[])]
        ))
        .contains("workload path"));
        draft(
            TrustKind::Kubernetes,
            vec![rule(Some("system:serviceaccount:payments:api"), &[])],
        )
        .validate()
        .unwrap();
        assert!(refused(&draft(
            TrustKind::Kubernetes,
            vec![rule(Some("system:serviceaccount:payments"), &[])]
        ))
        .contains("system:serviceaccount:<namespace>:<name>"));
        assert!(refused(&draft(
            TrustKind::Kubernetes,
            vec![rule(
                Some("system:serviceaccount:payments:api"),
                &[("ns", "x")]
            )]
        ))
        .contains("match the subject only"));
    }

    #[test]
    fn keys_come_from_one_source_and_rules_do_not_repeat() {
        let mut both = draft(
            TrustKind::Spiffe,
            vec![rule(Some("spiffe://acme.org/a"), &[])],
        );
        both.jwks = Some("{\"keys\":[]}".into());
        assert!(refused(&both).contains("not both"));
        both.jwks_url = None;
        both.jwks = None;
        assert!(refused(&both).contains("keys are needed"));
        let twice = draft(
            TrustKind::Spiffe,
            vec![
                rule(Some("spiffe://acme.org/a"), &[]),
                rule(Some("spiffe://acme.org/a"), &[]),
            ],
        );
        assert!(refused(&twice).contains("same conditions"));
        assert!(refused(&draft(TrustKind::Spiffe, vec![])).contains("at least one claim rule"));
    }

    #[test]
    fn a_configuration_serves_the_platform_its_tokens_come_from() {
        assert!(TrustKind::Kubernetes.serves("kubernetes", false));
        assert!(!TrustKind::Kubernetes.serves("aws", false));
        assert!(TrustKind::GithubActions.serves("github", false));
        assert!(TrustKind::Spiffe.serves("manual", true));
        assert!(!TrustKind::Spiffe.serves("kubernetes", false));
    }

    #[test]
    fn a_token_maps_to_the_one_rule_its_claims_equal() {
        let rules = vec![
            rule(
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
            ),
            ClaimRule {
                environment: None,
                identity_id: Uuid::from_u128(2),
                ..rule(
                    None,
                    &[("repository", "acme/deploy"), ("environment", "prod")],
                )
            },
        ];
        let claims = |v: serde_json::Value| v.as_object().unwrap().clone();
        let main = claims(json!({"sub": "repo:acme/deploy:ref:refs/heads/main",
            "repository": "acme/deploy", "ref": "refs/heads/main"}));
        assert_eq!(
            match_rule(&rules, &main).unwrap().identity_id,
            Uuid::from_u128(1)
        );
        let feature = claims(json!({"sub": "x", "repository": "acme/deploy",
            "ref": "refs/heads/feature"}));
        let refusal = match_rule(&rules, &feature).unwrap_err();
        assert!(refusal.contains("ref=refs/heads/feature"), "{refusal}");
        let both = claims(
            json!({"repository": "acme/deploy", "ref": "refs/heads/main",
            "environment": "prod"}),
        );
        assert!(match_rule(&rules, &both)
            .unwrap_err()
            .contains("more than one"));
        // A claim of another type never equals the rule's text.
        let number = claims(json!({"repository": "acme/deploy", "ref": 1}));
        assert!(match_rule(&rules, &number).is_err());
    }
}
