//! The checks as one function: given a subject, which checks it fails and why.

use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;
use uuid::Uuid;

use crate::authz::DriftKind;
use crate::delegation::DelegationKind;
use crate::identity::{
    CredentialInfo, CredentialKind, Entitlement, GrantType, Privilege, RotationState,
};
use crate::imports::github::third_party_can_write;
use crate::inventory::{ActorClass, IdentityKind, IdentityStatus};

use super::{CheckSettings, Detection, Subject};

fn blank(text: &Option<String>) -> bool {
    text.as_deref().is_none_or(|t| t.trim().is_empty())
}

fn active_credentials<'a>(
    subject: &'a Subject,
    now: DateTime<Utc>,
) -> impl Iterator<Item = &'a CredentialInfo> + 'a {
    subject.credentials.iter().filter(move |c| {
        !matches!(
            c.rotation_state(now),
            RotationState::Revoked | RotationState::Expired
        )
    })
}

fn active_entitlements(subject: &Subject) -> impl Iterator<Item = &Entitlement> {
    subject
        .entitlements
        .iter()
        .filter(|e| e.removed_at.is_none())
}

fn signal<'a>(subject: &'a Subject, name: &str) -> Option<&'a str> {
    subject
        .signals
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, detail)| detail.as_str())
}

/// Every check `subject` fails at `now`. Retired identities fail none: they are kept
/// for the record only.
pub fn evaluate(subject: &Subject, settings: &CheckSettings, now: DateTime<Utc>) -> Vec<Detection> {
    let mut found = Vec::new();
    let mut fail = |check: &'static str, detail: String| found.push(Detection { check, detail });
    if subject.status == IdentityStatus::Retired {
        return Vec::new();
    }
    let class = subject.kind.actor_class();
    let ai = class == ActorClass::Ai;

    match subject.owner_active {
        None => fail("no-owner", "no owner is named".into()),
        Some(false) => fail("owner-left", "the owner has left".into()),
        Some(true) => {}
    }
    match subject.expires_at {
        None => fail("no-expiry", "no expiry date".into()),
        Some(expires) => {
            let max = settings.expiry.max_days(subject.kind);
            if expires > now + Duration::days(i64::from(max)) {
                fail(
                    "expiry-beyond-policy",
                    format!(
                        "expires in {} days; the policy for {class} identities allows {max}",
                        (expires - now).num_days()
                    ),
                );
            }
        }
    }
    if blank(&subject.revocation_path) {
        fail(
            "no-revocation-path",
            "no revocation path is documented".into(),
        );
    }
    // A federated credential has no secret to rotate.
    for credential in
        active_credentials(subject, now).filter(|c| c.kind != CredentialKind::Federated)
    {
        if credential.rotation_state(now) == RotationState::Overdue {
            fail(
                "rotation-overdue",
                format!(
                    "{} {} was last set {} days ago; its policy is {} days",
                    credential.kind,
                    credential.key_id,
                    credential.age_days(now),
                    credential.rotation_days.unwrap_or_default()
                ),
            );
        }
        if credential.last_rotated_at.is_none()
            && credential.age_days(now) >= i64::from(settings.never_rotated_days)
        {
            fail(
                "never-rotated",
                format!(
                    "{} {} has not been rotated in {} days",
                    credential.kind,
                    credential.key_id,
                    credential.age_days(now)
                ),
            );
        }
    }
    let unused_since = now - Duration::days(i64::from(settings.unused_days));
    match subject.last_used_at {
        Some(used) if used < unused_since => fail(
            "unused",
            format!("last used {} days ago", (now - used).num_days()),
        ),
        None if subject.created_at < unused_since => fail(
            "unused",
            format!(
                "never used in the {} days since it was created",
                (now - subject.created_at).num_days()
            ),
        ),
        _ => {}
    }
    for entitlement in active_entitlements(subject) {
        if entitlement.privilege == Privilege::Admin
            && entitlement.grant_type == GrantType::Standing
        {
            fail(
                "admin-entitlement",
                format!("standing admin on {}", entitlement.resource),
            );
        }
    }
    let elsewhere: BTreeSet<&str> = subject
        .delegates_to
        .iter()
        .chain(&subject.delegated_from)
        .map(|peer| peer.environment.as_str())
        .filter(|environment| *environment != subject.environment)
        .collect();
    if !elsewhere.is_empty() {
        fail(
            "several-environments",
            format!(
                "in {} but delegation links it to {}",
                subject.environment,
                elsewhere.into_iter().collect::<Vec<_>>().join(", ")
            ),
        );
    }
    if class == ActorClass::Machine {
        let workloads: BTreeSet<Uuid> = subject
            .delegated_from
            .iter()
            .filter(|peer| matches!(peer.kind, IdentityKind::Workload | IdentityKind::CiRunner))
            .map(|peer| peer.id)
            .collect();
        if workloads.len() >= 2 {
            fail(
                "shared-by-workloads",
                format!("{} workloads act as this identity", workloads.len()),
            );
        }
        if let Some(detail) = signal(subject, "possible_human_use") {
            fail("human-use", detail.to_owned());
        }
        let writes = active_entitlements(subject).any(|e| e.privilege != Privilege::Read);
        if let Some(detail) = signal(subject, "third_party_integration") {
            if writes || third_party_can_write(detail) {
                fail("third-party-write", detail.to_owned());
            }
        }
        if subject.kind == IdentityKind::CiRunner {
            if let Some(key) =
                active_credentials(subject, now).find(|c| c.kind == CredentialKind::AccessKey)
            {
                fail(
                    "ci-static-cloud-key",
                    format!("holds the static access key {}", key.key_id),
                );
            }
        }
    }
    if matches!(
        subject.kind,
        IdentityKind::Workload | IdentityKind::Agent | IdentityKind::Orchestrator
    ) && blank(&subject.spiffe_id)
    {
        fail("no-workload-binding", "no SPIFFE ID".into());
    }
    if let Some(detail) = signal(subject, "secret_uploaded") {
        fail("secret-uploaded", detail.to_owned());
    }
    if ai {
        let limits = &subject.agent_limits;
        if subject.kind != IdentityKind::AssistantSession && limits.tool_allowlist.is_none() {
            fail("agent-no-tool-allowlist", "any tool may be called".into());
        }
        if limits.max_session_minutes.is_none() && limits.max_calls_per_session.is_none() {
            fail(
                "agent-no-session-limits",
                "no limit on session length or calls".into(),
            );
        }
        if blank(&subject.purpose) {
            fail(
                "agent-no-purpose",
                "no task or purpose is documented".into(),
            );
        }
        if !subject.has_sponsor {
            fail("agent-no-sponsor", "no human sponsor".into());
        }
        let own: BTreeSet<String> = active_entitlements(subject)
            .map(Entitlement::permission)
            .collect();
        for peer in &subject.delegates_to {
            match peer.delegation {
                DelegationKind::ActsAs => {
                    let extra: Vec<&str> = peer
                        .permissions
                        .iter()
                        .filter(|p| !own.contains(*p))
                        .map(String::as_str)
                        .collect();
                    if !extra.is_empty() {
                        fail(
                            "agent-privilege-through-delegation",
                            format!(
                                "acts through {} ({}), which can also {}",
                                peer.id,
                                peer.kind,
                                extra.join(", ")
                            ),
                        );
                    }
                }
                DelegationKind::SubAgent => {
                    if peer.status != IdentityStatus::Active || !peer.owned {
                        fail(
                            "unregistered-subagent",
                            format!(
                                "hands work to {} ({}), which is {}{}",
                                peer.id,
                                peer.kind,
                                peer.status,
                                if peer.owned {
                                    ""
                                } else {
                                    " and has no active owner"
                                }
                            ),
                        );
                    }
                }
            }
        }
    }
    if !subject.federated_by.is_empty() {
        let secrets = active_credentials(subject, now)
            .filter(|c| c.kind.is_static_secret())
            .count()
            + subject.agent_tokens as usize;
        if secrets > 0 {
            fail(
                "static-secret-despite-federation",
                format!(
                    "holds {secrets} static secret{} where a federated token is possible \
                     (trust configuration {})",
                    if secrets == 1 { "" } else { "s" },
                    subject.federated_by.join(", ")
                ),
            );
        }
    }
    for drift in &subject.runtime_drift {
        let check = match drift.kind {
            DriftKind::ToolOutsideAllowlist if ai => "agent-tool-outside-allowlist",
            DriftKind::BeyondApprovalThroughDelegation if ai => {
                "agent-beyond-approval-through-delegation"
            }
            DriftKind::UnregisteredDelegation => "unregistered-delegation-at-runtime",
            _ => continue,
        };
        let what = match drift.kind {
            DriftKind::ToolOutsideAllowlist => "asked for tools outside its allowlist",
            DriftKind::UnregisteredDelegation => "used delegations that are not registered",
            DriftKind::BeyondApprovalThroughDelegation => {
                "acted through another identity beyond its own approval"
            }
        };
        fail(
            check,
            format!(
                "{what} in {} runtime decision{} ({})",
                drift.count,
                if drift.count == 1 { "" } else { "s" },
                drift.resources.join(", ")
            ),
        );
    }
    found
}
