//! Unit tests of the register's vocabulary, queries, cursors, facets and CSV export.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::*;
use crate::error::DomainError;

fn row(name: &str) -> IdentitySummary {
    IdentitySummary {
        id: Uuid::from_u128(name.len() as u128),
        name: name.to_owned(),
        actor_class: ActorClass::Machine,
        kind: IdentityKind::Workload,
        source: Source::Manual,
        external_id: None,
        environment: "prod".into(),
        status: IdentityStatus::Active,
        owner: None,
        owner_active: false,
        team: None,
        spiffe_id: None,
        expires_at: None,
        created_at: DateTime::UNIX_EPOCH,
        last_used_at: None,
    }
}

#[test]
fn every_kind_has_the_expected_actor_class() {
    let ai: Vec<_> = IdentityKind::ALL
        .iter()
        .filter(|k| k.actor_class() == ActorClass::Ai)
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        ai,
        ["agent", "orchestrator", "llm_app", "assistant_session"]
    );
}

#[test]
fn vocabularies_round_trip_through_text_and_json() {
    for kind in IdentityKind::ALL {
        assert_eq!(kind.as_str().parse::<IdentityKind>(), Ok(*kind));
        let json = serde_json::to_string(kind).unwrap();
        assert_eq!(serde_json::from_str::<IdentityKind>(&json).unwrap(), *kind);
    }
    assert!(serde_json::from_str::<ActorClass>("\"robot\"")
        .unwrap_err()
        .to_string()
        .contains("expected one of: machine, ai"));
}

#[test]
fn posture_filters_round_trip_and_name_what_is_wrong() {
    let q = IdentityQuery::from_query_string(
        "finding=no-owner&control=NHI1&cred_age=90-180&class=machine&ungoverned=true",
    )
    .unwrap();
    assert_eq!(q.finding, Some(FindingFilter::Check("no-owner".into())));
    assert_eq!(q.control.as_deref(), Some("NHI1"));
    assert_eq!(q.credential_age, Some((90, Some(180))));
    assert_eq!(
        IdentityQuery::from_query_string(&q.to_query_string()).unwrap(),
        q
    );
    assert!(q.is_filtered());
    let open = IdentityQuery::from_query_string("finding=any&cred_age=365-").unwrap();
    assert_eq!(open.finding, Some(FindingFilter::Any));
    assert_eq!(open.credential_age, Some((365, None)));
    assert_eq!(open.to_query_string(), "finding=any&cred_age=365-");
    for (bad, field) in [
        ("finding=no-such-check", "finding"),
        ("control=NHI99", "control"),
        ("cred_age=180-90", "cred_age"),
        ("cred_age=ninety", "cred_age"),
        ("cred_age=5000-", "cred_age"),
    ] {
        match IdentityQuery::from_query_string(bad) {
            Err(DomainError::InvalidInput { field: f, .. }) => assert_eq!(f, field, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn parses_filters_and_defaults() {
    let q = IdentityQuery::from_query_string("class=ai&q=+deploy+&limit=20").unwrap();
    assert_eq!(q.actor_class, Some(ActorClass::Ai));
    assert_eq!(q.search.as_deref(), Some("deploy"));
    assert_eq!(q.limit, 20);
    assert_eq!(q.cursor, None);

    let empty = IdentityQuery::from_query_string("class=&q=&&=").unwrap();
    assert_eq!(empty, IdentityQuery::new());
}

#[test]
fn refuses_bad_input_with_a_named_field() {
    let cases = [
        ("class=robot", "invalid actor class: unknown value 'robot'; expected one of: machine, ai"),
        ("limit=0", "invalid limit: '0' is not a whole number from 1 to 500"),
        ("limit=abc", "invalid limit: 'abc' is not a whole number from 1 to 500"),
        ("cursor=%%%", "invalid cursor: malformed cursor; pass back the next_cursor value of a previous page unchanged"),
        ("cursor=bm90LWpzb24", "invalid cursor: malformed cursor; pass back the next_cursor value of a previous page unchanged"),
        ("clas=ai", "invalid query parameter: unknown parameter 'clas'; accepted: class, kind, source, env, status, owner, team, orphaned, expired, expiring, stale, ungoverned, q, finding, control, cred_age, sort, cursor, limit"),
        ("q=a&q=b", "invalid q: given more than once; give it at most once"),
        ("q=a%01b", "invalid q: search text must not contain control characters"),
    ];
    for (input, expected) in cases {
        let err = IdentityQuery::from_query_string(input).unwrap_err();
        assert_eq!(err.to_string(), expected, "for {input}");
    }
    let long = format!("q={}", "x".repeat(201));
    assert!(IdentityQuery::from_query_string(&long).is_err());
}

#[test]
fn lifecycle_and_ownership_filters() {
    let q = IdentityQuery::from_query_string(
        "kind=agent&source=azure&env=prod&status=suspended&owner=Ada%40Example.com&orphaned=true&expired=1&expiring=30&stale=90",
    )
    .unwrap();
    assert_eq!(q.kind, Some(IdentityKind::Agent));
    assert_eq!(q.source, Some(Source::Azure));
    assert_eq!(q.environment.as_deref(), Some("prod"));
    assert_eq!(q.status, Some(IdentityStatus::Suspended));
    assert_eq!(q.owner.as_deref(), Some("ada@example.com"));
    assert!(q.orphaned && q.expired);
    assert_eq!((q.expiring_days, q.stale_days), (Some(30), Some(90)));
    assert_eq!(
        IdentityQuery::from_query_string(&q.to_query_string()).unwrap(),
        q
    );

    let err = |text: &str| {
        IdentityQuery::from_query_string(text)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("class=machine&kind=agent"),
        "invalid kind: 'agent' is not a kind of Machine identity"
    );
    assert_eq!(
        err("orphaned=maybe"),
        "invalid orphaned: 'maybe' is not true or false"
    );
    assert_eq!(
        err("stale=0"),
        "invalid stale: '0' is not a number of days from 1 to 3650"
    );
    assert_eq!(
        err("env=Prod!"),
        "invalid env: 'Prod!' is not an environment name (lower-case letters, digits, '-', '_')"
    );
    assert!(err("owner=nobody").starts_with("invalid email"));
    assert!(err("status=gone").contains("expected one of: active, suspended, retired"));
}

#[test]
fn query_string_round_trips() {
    let mut q = IdentityQuery::from_query_string("class=machine&q=ci%20bot&limit=10").unwrap();
    q.cursor = Some(Cursor {
        sort: "name".into(),
        after_value: Some("name with spaces & symbols".into()),
        after_id: Uuid::from_u128(7),
    });
    let again = IdentityQuery::from_query_string(&q.to_query_string()).unwrap();
    assert_eq!(again, q);
    assert_eq!(IdentityQuery::new().to_query_string(), "");
    assert_eq!(
        q.with_actor_class(None).to_query_string(),
        "q=ci+bot&limit=10"
    );
    assert_eq!(
        q.with_search("  ").to_query_string(),
        "class=machine&limit=10"
    );
    assert_eq!(q.with_search(" x ").search.as_deref(), Some("x"));
    assert_eq!(q.with_search("x").cursor, None);
}

#[test]
fn overfetch_yields_cursor_only_when_more_rows_exist() {
    let page = page_from_overfetch(vec![row("a"), row("bb"), row("ccc")], 2, Sort::default());
    assert_eq!(page.items.len(), 2);
    let cursor = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.after_value.as_deref(), Some("bb"));
    assert_eq!(cursor.after_id, Uuid::from_u128(2));

    // By last use: a row never used carries no value.
    let by_use = Sort::parse("-last_used").unwrap();
    let page = page_from_overfetch(vec![row("a"), row("bb")], 1, by_use);
    let cursor = Cursor::decode(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        (cursor.sort.as_str(), cursor.after_value),
        ("-last_used", None)
    );

    let last = page_from_overfetch(vec![row("a"), row("bb")], 2, Sort::default());
    assert_eq!(last.items.len(), 2);
    assert_eq!(last.next_cursor, None);
}

#[test]
fn sorts_and_cursors_must_agree() {
    let q = IdentityQuery::from_query_string("sort=-expires&team=Payments").unwrap();
    assert_eq!(
        q.sort,
        Sort {
            key: SortKey::Expires,
            descending: true
        }
    );
    assert_eq!(q.team.as_deref(), Some("Payments"));
    assert_eq!(q.to_query_string(), "team=Payments&sort=-expires");
    let page = page_from_overfetch(vec![row("a"), row("b")], 1, q.sort);
    let next = q.with_cursor(page.next_cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        IdentityQuery::from_query_string(&next.to_query_string()).unwrap(),
        next
    );
    // The same cursor with another order is refused.
    let other = format!("sort=name&cursor={}", next.cursor.unwrap().encode());
    assert_eq!(
        IdentityQuery::from_query_string(&other).unwrap_err().to_string(),
        "invalid cursor: this cursor belongs to another sort order; start again from the first page"
    );
    assert!(IdentityQuery::from_query_string("sort=owner")
        .unwrap_err()
        .to_string()
        .contains("expected one of: name, created, last_used, expires"));
    assert!(q.is_filtered() && !IdentityQuery::new().with_sort(q.sort).is_filtered());
}

#[test]
fn facets_fold_groups_per_dimension() {
    let g = |v: [&str; 5], n| (v.map(str::to_owned), n);
    let facets = Facets::from_groups(
        &[
            g(["ai", "agent", "azure", "prod", "active"], 3),
            g(["machine", "workload", "aws", "prod", "active"], 5),
            g(["machine", "workload", "aws", "dev", "retired"], 1),
        ],
        2,
        1,
    );
    assert_eq!(facets.total, 9);
    assert_eq!(Facets::count(&facets.actor_class, "machine"), 6);
    assert_eq!(Facets::count(&facets.environment, "prod"), 8);
    assert_eq!(Facets::count(&facets.status, "suspended"), 0);
    assert_eq!(facets.kind[0].value, "workload");
    assert_eq!((facets.orphaned, facets.expired), (2, 1));
}

#[test]
fn csv_lines_have_one_field_per_column() {
    let mut r = row("=cmd, evil");
    r.external_id = Some("arn:aws:iam::1:user/x".into());
    let line = inventory_csv_line(&r);
    assert!(line.contains("\"'=cmd, evil\""), "{line}");
    assert!(line.ends_with(",1970-01-01T00:00:00Z,\n"), "{line}");
    assert_eq!(
        inventory_csv_header().trim_end().split(',').count(),
        INVENTORY_CSV_COLUMNS.len()
    );
}

#[test]
fn orphan_and_expiry_rules() {
    let mut r = row("x");
    assert!(r.is_orphaned());
    let now = Utc::now();
    assert!(!r.is_expired(now));
    r.expires_at = Some(now);
    assert!(r.is_expired(now));
}
