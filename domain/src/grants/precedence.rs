//! Which policy governs a just-in-time entitlement when several cover it. The most
//! specific wins: an exact resource before a pattern and a longer pattern before a
//! shorter one, an exact action before `*`, a narrower scope before a broader one.
//! Among equally specific policies the strictest wins: more approvals, then fewer
//! requesters, then the shorter maximum; the oldest breaks a full tie. A policy added
//! later can therefore tighten access, never loosen it silently: a laxer policy that
//! another outranks on everything it covers is reported as shadowed when it is saved.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};

use super::{approvals_needed, in_scope, Policy, PolicyDraft, Requesters};
use crate::inventory::{IdentityQuery, IdentitySummary};

/// How specific a policy is; compared field by field, greater is more specific.
fn specificity(draft: &PolicyDraft) -> (bool, usize, bool, usize) {
    let (exact, length) = match draft.resource.strip_suffix('*') {
        Some(prefix) => (false, prefix.len()),
        None => (true, draft.resource.len()),
    };
    let scope_terms = draft
        .scope
        .split('&')
        .filter(|term| !term.trim().is_empty())
        .count();
    (exact, length, draft.action != "*", scope_terms)
}

/// How strict a policy is; greater is stricter.
fn strictness(draft: &PolicyDraft) -> (usize, u8, std::cmp::Reverse<u32>) {
    let requesters = match draft.requesters {
        Requesters::Owners => 2,
        Requesters::Team => 1,
        Requesters::Anyone => 0,
    };
    (
        approvals_needed(draft.approval),
        requesters,
        std::cmp::Reverse(draft.max_minutes),
    )
}

/// Whether `a` takes precedence over `b` where both cover an entitlement.
pub fn outranks(a: &Policy, b: &Policy) -> bool {
    precedence(a, b) == Ordering::Greater
}

fn precedence(a: &Policy, b: &Policy) -> Ordering {
    specificity(&a.draft)
        .cmp(&specificity(&b.draft))
        .then_with(|| strictness(&a.draft).cmp(&strictness(&b.draft)))
        // The older one wins a full tie (so the answer never changes by itself).
        .then_with(|| b.created_at.cmp(&a.created_at))
        .then_with(|| b.id.cmp(&a.id))
}

/// The active policy that governs a just-in-time entitlement to `action` on
/// `resource` of `identity` at `now`, if any covers it.
pub fn governing<'a>(
    policies: &'a [Policy],
    identity: &IdentitySummary,
    resource: &str,
    action: &str,
    now: DateTime<Utc>,
) -> Option<&'a Policy> {
    policies
        .iter()
        .filter(|p| {
            p.draft.covers(resource, action)
                && IdentityQuery::from_query_string(&p.draft.scope)
                    .is_ok_and(|scope| in_scope(&scope, identity, now))
        })
        .max_by(|a, b| precedence(a, b))
}

/// The policy that outranks `policy` on everything it covers (the same resource,
/// action and scope, and stricter or as strict and older), making it dead: nothing
/// is ever requested under it.
pub fn shadowing<'a>(policy: &Policy, others: &'a [Policy]) -> Option<&'a Policy> {
    others
        .iter()
        .filter(|other| {
            other.id != policy.id
                && other.draft.resource == policy.draft.resource
                && other.draft.action == policy.draft.action
                && other.draft.scope == policy.draft.scope
                && outranks(other, policy)
        })
        .max_by(|a, b| precedence(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grants::ApprovalMode;
    use chrono::Duration;
    use uuid::Uuid;

    /// A new id each time, without `uuid`'s random feature (the domain crate does not
    /// turn it on; the server's build does, so only this crate's own test run missed it).
    fn fresh_id() -> Uuid {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        Uuid::from_u128(u128::from(
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        ))
    }

    fn policy(name: &str, resource: &str, approval: ApprovalMode, age_days: i64) -> Policy {
        let at = Utc::now() - Duration::days(age_days);
        Policy {
            id: fresh_id(),
            draft: PolicyDraft {
                name: name.into(),
                resource: resource.into(),
                action: "admin".into(),
                scope: String::new(),
                requesters: Requesters::Anyone,
                approval,
                max_minutes: 60,
                reason_required: false,
                windows: vec![],
            },
            created_by: "test".into(),
            created_at: at,
            updated_at: at,
            shadowed_by: None,
        }
    }

    #[test]
    fn the_strictest_of_equally_specific_policies_governs_in_either_order_of_creation() {
        for (older, newer) in [
            (ApprovalMode::Automatic, ApprovalMode::Owner),
            (ApprovalMode::Owner, ApprovalMode::Automatic),
        ] {
            let policies = [
                policy("older", "ledger-db", older, 10),
                policy("newer", "ledger-db", newer, 1),
            ];
            let strict = policies
                .iter()
                .find(|p| p.draft.approval == ApprovalMode::Owner)
                .unwrap();
            let lax = policies
                .iter()
                .find(|p| p.draft.approval == ApprovalMode::Automatic)
                .unwrap();
            assert!(outranks(strict, lax));
            assert_eq!(shadowing(lax, &policies).map(|p| p.id), Some(strict.id));
            assert_eq!(shadowing(strict, &policies), None);
        }
    }

    #[test]
    fn the_most_specific_resource_and_action_win_over_strictness() {
        let broad = policy(
            "all ledgers, two approvers",
            "ledger-*",
            ApprovalMode::TwoApprovers,
            5,
        );
        let narrow = policy(
            "ledger-db self-service",
            "ledger-db",
            ApprovalMode::Automatic,
            1,
        );
        assert!(outranks(&narrow, &broad));
        let longer = policy("ledger-d*", "ledger-d*", ApprovalMode::Automatic, 1);
        assert!(outranks(&longer, &broad));
        let mut any_action = narrow.clone();
        any_action.draft.action = "*".into();
        any_action.draft.approval = ApprovalMode::TwoApprovers;
        assert!(outranks(&narrow, &any_action));
        // A scope with more terms is narrower.
        let mut scoped = broad.clone();
        scoped.id = fresh_id();
        scoped.draft.scope = "env=prod".into();
        scoped.draft.approval = ApprovalMode::Automatic;
        assert!(outranks(&scoped, &broad));
        // Neither shadows the other: they cover different things.
        let all = [broad.clone(), narrow.clone()];
        assert_eq!(shadowing(&broad, &all), None);
        assert_eq!(shadowing(&narrow, &all), None);
    }
}
