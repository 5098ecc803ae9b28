//! The workload trust page: trust configurations that let workloads and agents prove
//! what they are with a token their platform issued (SPIFFE, Kubernetes, GitHub
//! Actions) instead of a static secret; a form to add or change one, its mode
//! (monitor or enforce), and a box that checks a pasted token against them all.

use leptos::prelude::*;
use leptos_meta::Title;
use steward_domain::federation::{ClaimRule, EnforcementMode, TokenCheck, TrustConfig, TrustKind};
use steward_domain::DomainError;

use crate::error::{AppError, ErrorNotice};
use crate::toast::Toast;

/// Claim rules typed one per line: the identity's id, then `claim=value` pairs
/// (`sub=…` is the subject), e.g.
/// `0190… repository=acme/deploy ref=refs/heads/main`.
pub fn parse_rules(text: &str) -> Result<Vec<ClaimRule>, DomainError> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let field = format!("rules line {}", n + 1);
        let mut words = line.split_whitespace();
        let id = words.next().unwrap_or_default();
        let identity_id = id.parse().map_err(|_| {
            DomainError::invalid(
                &field,
                format!("'{id}' is not an identity id (the id is in the identity page's address)"),
            )
        })?;
        let mut rule = ClaimRule {
            identity_id,
            subject: None,
            claims: Default::default(),
            environment: None,
        };
        for word in words {
            let Some((claim, value)) = word.split_once('=') else {
                return Err(DomainError::invalid(
                    &field,
                    format!("'{word}' is not claim=value"),
                ));
            };
            if claim == "sub" {
                rule.subject = Some(value.to_owned());
            } else if claim == "env" {
                // Not a claim: the environment tokens matching the rule act in.
                rule.environment = Some(value.to_owned());
            } else if rule
                .claims
                .insert(claim.to_owned(), value.to_owned())
                .is_some()
            {
                return Err(DomainError::invalid(
                    &field,
                    format!("'{claim}' is given twice"),
                ));
            }
        }
        if rule.subject.is_none() && rule.claims.is_empty() {
            return Err(DomainError::invalid(
                &field,
                "a rule needs at least one condition (sub=… or claim=value)",
            ));
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// The rules as the form shows them (the inverse of [`parse_rules`]).
pub fn rules_text(rules: &[ClaimRule]) -> String {
    rules
        .iter()
        .map(|rule| {
            let mut words = vec![rule.identity_id.to_string()];
            if let Some(subject) = &rule.subject {
                words.push(format!("sub={subject}"));
            }
            words.extend(rule.claims.iter().map(|(k, v)| format!("{k}={v}")));
            if let Some(environment) = &rule.environment {
                words.push(format!("env={environment}"));
            }
            words.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[server(prefix = "/rpc", endpoint = "trust/list")]
pub async fn trust_configs() -> Result<(Vec<TrustConfig>, bool), AppError> {
    let ports = crate::session::ports()?;
    let principal = crate::session::principal();
    let list = ports.federation.trust_configs(principal.as_ref()).await?;
    Ok((
        list,
        principal.is_some_and(|p| p.can(steward_domain::auth::Action::ManageIdentities)),
    ))
}

/// The trust configuration form's server function: one argument per field.
mod save_form {
    #![allow(clippy::too_many_arguments)]
    use leptos::prelude::*;
    use steward_domain::federation::TrustConfig;

    use crate::error::AppError;

    #[server(prefix = "/rpc", endpoint = "trust/save")]
    pub async fn save_trust_config(
        id: Option<String>,
        name: String,
        kind: String,
        issuer: String,
        audience: String,
        jwks_url: String,
        jwks: String,
        rules: String,
        mode: String,
    ) -> Result<TrustConfig, AppError> {
        let ports = crate::session::ports()?;
        let id = match id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => Some(crate::error::parse_uuid("trust configuration", id)?),
            None => None,
        };
        let draft = steward_domain::federation::TrustConfigDraft {
            name,
            kind: kind.parse()?,
            issuer,
            audience,
            jwks_url: Some(jwks_url).filter(|u| !u.trim().is_empty()),
            jwks: Some(jwks).filter(|j| !j.trim().is_empty()),
            rules: super::parse_rules(&rules)?,
            mode: mode.parse()?,
        };
        Ok(ports
            .federation
            .save_trust_config(crate::session::principal().as_ref(), id, &draft)
            .await?)
    }
}
pub use save_form::{save_trust_config, SaveTrustConfig};

#[server(prefix = "/rpc", endpoint = "trust/delete")]
pub async fn delete_trust_config(id: String, confirm: Option<String>) -> Result<(), AppError> {
    let ports = crate::session::ports()?;
    if confirm.as_deref() != Some("yes") {
        return Err(DomainError::invalid(
            "confirm",
            "tick the box to confirm deleting the trust configuration",
        )
        .into());
    }
    let id = crate::error::parse_uuid("trust configuration", &id)?;
    Ok(ports
        .federation
        .delete_trust_config(crate::session::principal().as_ref(), id)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "trust/mode")]
pub async fn set_trust_mode(
    id: String,
    mode: String,
    reason: String,
) -> Result<TrustConfig, AppError> {
    let ports = crate::session::ports()?;
    let id = crate::error::parse_uuid("trust configuration", &id)?;
    let change = steward_domain::federation::ModeChange {
        mode: mode.parse()?,
        reason,
    };
    Ok(ports
        .federation
        .set_trust_mode(crate::session::principal().as_ref(), id, &change)
        .await?)
}

#[server(prefix = "/rpc", endpoint = "trust/check")]
pub async fn check_token(token: String) -> Result<TokenCheck, AppError> {
    let ports = crate::session::ports()?;
    Ok(ports
        .federation
        .check_token(crate::session::principal().as_ref(), &token)
        .await?)
}

pub fn mode_badge(mode: EnforcementMode) -> impl IntoView {
    view! { <span class=format!("badge mode-{mode}")>{mode.as_str()}</span> }
}

/// The workload trust page.
#[component]
pub fn TrustPage() -> impl IntoView {
    let save = ServerAction::<SaveTrustConfig>::new();
    let delete = ServerAction::<DeleteTrustConfig>::new();
    let mode = ServerAction::<SetTrustMode>::new();
    let check = ServerAction::<CheckToken>::new();
    let configs = Resource::new(
        move || {
            (
                save.version().get(),
                delete.version().get(),
                mode.version().get(),
            )
        },
        |_| trust_configs(),
    );
    let outcome = move || {
        let saved = save.value().get().map(|r| {
            r.map(|c| {
                format!(
                    "Trust configuration '{}' saved ({}).",
                    c.draft.name, c.draft.mode
                )
            })
        });
        let switched = mode
            .value()
            .get()
            .map(|r| r.map(|c| format!("'{}' is now in {} mode.", c.draft.name, c.draft.mode)));
        let deleted = delete
            .value()
            .get()
            .map(|r| r.map(|()| "Trust configuration deleted.".to_owned()));
        saved.or(switched).or(deleted).map(|r| match r {
            Ok(message) => view! { <Toast message /> }.into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert" id="trust-error">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    let checked = move || {
        check.value().get().map(|r| match r {
            Ok(TokenCheck {
                matched: Some(m), ..
            }) => view! {
                <div class="notice" role="status" id="token-check-result">
                    <p>
                        "Accepted: this token proves identity "
                        <a href=format!(
                            "/identities/{}",
                            m.identity_id,
                        )>{m.identity_id.to_string()}</a> " through "
                        <strong>{m.trust_config}</strong>" (subject "<code>{m.subject}</code>")."
                    </p>
                </div>
            }
            .into_any(),
            Ok(TokenCheck { refusal, .. }) => view! {
                <div class="notice error" role="alert" id="token-check-result">
                    <p>"Refused: "{refusal.unwrap_or_default()}</p>
                </div>
            }
            .into_any(),
            Err(e) => view! {
                <p class="notice error" role="alert" id="token-check-result">
                    {e.to_string()}
                </p>
            }
            .into_any(),
        })
    };
    view! {
        <Title text="Workload trust" />
        <h1>"Workload trust"</h1>
        <p class="lede">
            "Let workloads and agents prove what they are with the token their platform already gives them — \
            a SPIFFE JWT-SVID, a Kubernetes service-account token, a GitHub Actions OIDC token — instead of a static secret. \
            They present it to POST /api/v1/authorize, or exchange it at POST /api/v1/token for a short-lived credential of an active grant. \
            Claim rules are exact: no wildcards, and a CI rule names its repository and a branch or environment."
        </p>
        {outcome}
        <Transition fallback=|| {
            view! { <p class="loading">"Loading trust configurations…"</p> }
        }>
            {move || Suspend::new(async move {
                match configs.await {
                    Ok((list, can_manage)) => {
                        view! { <TrustList list can_manage save delete mode /> }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error /> }.into_any(),
                }
            })}
        </Transition>
        <section class="card">
            <h2>"Check a token"</h2>
            <p class="muted">
                "Paste a workload's token to see which identity it proves, or exactly why it is refused. Nothing is logged or kept."
            </p>
            <ActionForm action=check attr:class="stacked" attr:id="token-check">
                <label>
                    "Token (JWT)"
                    <textarea
                        name="token"
                        rows="4"
                        class="code"
                        spellcheck="false"
                        required=true
                    ></textarea>
                </label>
                <button type="submit">"Check"</button>
            </ActionForm>
            {checked}
        </section>
    }
}

#[component]
fn TrustList(
    list: Vec<TrustConfig>,
    can_manage: bool,
    save: ServerAction<SaveTrustConfig>,
    delete: ServerAction<DeleteTrustConfig>,
    mode: ServerAction<SetTrustMode>,
) -> impl IntoView {
    let table = if list.is_empty() {
        view! {
            <div class="empty-state">
                <p>
                    "No trust configuration yet: every workload and agent proves itself with a static secret. \
                    Add one below for the platform your workloads run on."
                </p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <div class="table-wrap">
                <table class="data-table" id="trust-configs">
                    <thead>
                        <tr>
                            <th scope="col">"Configuration"</th>
                            <th scope="col">"Issuer and audience"</th>
                            <th scope="col">"Keys"</th>
                            <th scope="col">"Rules"</th>
                            <th scope="col">"Mode"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {list
                            .into_iter()
                            .map(|c| {
                                let other = match c.draft.mode {
                                    EnforcementMode::Monitor => EnforcementMode::Enforce,
                                    EnforcementMode::Enforce => EnforcementMode::Monitor,
                                };
                                let manage = can_manage
                                    .then(|| {
                                        view! {
                                            <details>
                                                <summary>{format!("Switch to {other}…")}</summary>
                                                <ActionForm action=mode attr:class="stacked">
                                                    <input type="hidden" name="id" value=c.id.to_string() />
                                                    <input type="hidden" name="mode" value=other.as_str() />
                                                    <label>
                                                        "Why (kept in the audit trail)"
                                                        <input
                                                            type="text"
                                                            name="reason"
                                                            required=true
                                                            maxlength="500"
                                                        />
                                                    </label>
                                                    <button type="submit">
                                                        {format!("Switch to {other}")}
                                                    </button>
                                                </ActionForm>
                                            </details>
                                            <details>
                                                <summary>"Edit…"</summary>
                                                <TrustForm save config=Some(c.clone()) />
                                            </details>
                                            <details>
                                                <summary>"Delete…"</summary>
                                                <ActionForm action=delete>
                                                    <input type="hidden" name="id" value=c.id.to_string() />
                                                    <label class="check">
                                                        <input
                                                            type="checkbox"
                                                            name="confirm"
                                                            value="yes"
                                                            required=true
                                                        />
                                                        "I confirm: these workloads can no longer prove themselves with tokens of this issuer"
                                                    </label>
                                                    <button type="submit" class="danger">
                                                        "Delete"
                                                    </button>
                                                </ActionForm>
                                            </details>
                                        }
                                    });
                                let keys = match &c.draft.jwks_url {
                                    Some(url) => format!("fetched from {url}"),
                                    None => "pasted JWKS".to_owned(),
                                };
                                view! {
                                    <tr>
                                        <th scope="row">
                                            {c.draft.name.clone()}
                                            <span class="sub">{c.draft.kind.label()}</span>
                                        </th>
                                        <td>
                                            <code>{c.draft.issuer.clone()}</code>
                                            <span class="sub">
                                                {format!("audience {}", c.draft.audience)}
                                            </span>
                                        </td>
                                        <td>{keys}</td>
                                        <td>
                                            <ul class="plain">
                                                {c
                                                    .draft
                                                    .rules
                                                    .iter()
                                                    .map(|r| {
                                                        let conditions = rules_text(std::slice::from_ref(r));
                                                        let conditions = conditions
                                                            .split_once(' ')
                                                            .map(|(_, rest)| rest.to_owned())
                                                            .unwrap_or_default();
                                                        view! {
                                                            <li>
                                                                <a href=format!(
                                                                    "/identities/{}",
                                                                    r.identity_id,
                                                                )>"identity"</a>
                                                                " ← "
                                                                <code>{conditions}</code>
                                                            </li>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </ul>
                                        </td>
                                        <td>{mode_badge(c.draft.mode)}{manage}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        {table}
        {can_manage
            .then(|| {
                view! {
                    <section class="card">
                        <h2>"New trust configuration"</h2>
                        <TrustForm save config=None />
                    </section>
                }
            })}
    }
    .into_any()
}

/// The form creating a configuration (`config` none) or changing one.
#[component]
fn TrustForm(save: ServerAction<SaveTrustConfig>, config: Option<TrustConfig>) -> impl IntoView {
    let form_id = if config.is_some() {
        "edit-trust"
    } else {
        "new-trust"
    };
    let (id, draft) = match config {
        Some(c) => (c.id.to_string(), Some(c.draft)),
        None => (String::new(), None),
    };
    let kind = draft.as_ref().map_or(TrustKind::GithubActions, |d| d.kind);
    let mode = draft.as_ref().map_or(EnforcementMode::Monitor, |d| d.mode);
    view! {
        <ActionForm action=save attr:class="stacked trust-form" attr:id=form_id>
            <input type="hidden" name="id" value=id />
            <label>
                "Name"
                <input
                    type="text"
                    name="name"
                    required=true
                    maxlength="100"
                    value=draft.as_ref().map(|d| d.name.clone())
                />
            </label>
            <label>
                "Token kind"
                <select name="kind">
                    {TrustKind::ALL
                        .iter()
                        .map(|k| {
                            view! {
                                <option value=k.as_str() selected=*k == kind>
                                    {k.label()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                "Issuer (the tokens' iss, exactly)"
                <input
                    type="text"
                    name="issuer"
                    required=true
                    maxlength="500"
                    placeholder="https://token.actions.githubusercontent.com"
                    value=draft.as_ref().map(|d| d.issuer.clone())
                />
            </label>
            <label>
                "Audience (the aud the tokens are minted for)"
                <input
                    type="text"
                    name="audience"
                    required=true
                    maxlength="500"
                    placeholder="steward"
                    value=draft.as_ref().map(|d| d.audience.clone())
                />
            </label>
            <label>
                "JWKS URL (where the keys are published; fetched now and when a new key appears)"
                <input
                    type="url"
                    name="jwks_url"
                    maxlength="500"
                    value=draft.as_ref().and_then(|d| d.jwks_url.clone())
                />
            </label>
            <label>
                "…or the JWKS itself, pasted"
                <textarea name="jwks" rows="3" class="code" spellcheck="false">
                    {draft.as_ref().and_then(|d| d.jwks.clone())}
                </textarea>
            </label>
            <label>
                "Claim rules, one per line: the identity's id, then claim=value pairs (sub=… is the subject; env=… binds the token to one environment)"
                <textarea
                    name="rules"
                    rows="4"
                    class="code"
                    spellcheck="false"
                    required=true
                    placeholder="0190a1b2-… repository=acme/deploy ref=refs/heads/main"
                >
                    {draft.as_ref().map(|d| rules_text(&d.rules))}
                </textarea>
            </label>
            <label>
                "Mode" <select name="mode">
                    <option value="monitor" selected=mode == EnforcementMode::Monitor>
                        "monitor — static secrets still work; what enforcing would refuse is logged"
                    </option>
                    <option value="enforce" selected=mode == EnforcementMode::Enforce>
                        "enforce — these identities must use a federated token"
                    </option>
                </select>
            </label>
            <button type="submit">"Check and save"</button>
        </ActionForm>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_from_lines_and_print_back() {
        let id = "0190a1b2-0000-7000-8000-000000000001";
        let text = format!(
            "# CI\n{id} repository=acme/deploy ref=refs/heads/main\n\n{id} sub=system:serviceaccount:pay:api\n"
        );
        let rules = parse_rules(&text).unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].claims["repository"], "acme/deploy");
        assert_eq!(
            rules[1].subject.as_deref(),
            Some("system:serviceaccount:pay:api")
        );
        assert_eq!(parse_rules(&rules_text(&rules)).unwrap(), rules);
        assert!(parse_rules("payments repository=x")
            .unwrap_err()
            .to_string()
            .contains("not an identity id"));
        assert!(parse_rules(&format!("{id} repository"))
            .unwrap_err()
            .to_string()
            .contains("claim=value"));
        assert!(parse_rules(id)
            .unwrap_err()
            .to_string()
            .contains("at least one condition"));
        assert!(parse_rules(&format!("{id} ref=a ref=b"))
            .unwrap_err()
            .to_string()
            .contains("twice"));
    }
}
