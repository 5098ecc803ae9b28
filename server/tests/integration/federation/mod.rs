//! Workload identity federation and monitor-before-enforce, on SQLite and (when
//! configured) PostgreSQL. Tokens are minted here with key material of our own: a test
//! issuer serves its JWKS on loopback, as SPIRE, a Kubernetes API server or GitHub would.

mod jwks;

use std::collections::BTreeMap;

use crate::common::{assert_problem, draft, for_each_store, owned_identity, Auth, TestApp};
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::{json, Value};
use steward_domain::auth::Role;
use steward_domain::auth::Scope;
use steward_domain::authz::{AgentLimits, AuthorizeRequest, RequestContext, ResourceRef};
use steward_domain::federation::{
    ClaimRule, EnforcementMode, ModeChange, TrustConfigDraft, TrustKind,
};
use steward_domain::grants::{ApprovalMode, GrantRequest, PolicyDraft, Requesters};
use steward_domain::identity::{GrantType, NewEntitlement, Privilege};
use steward_domain::inventory::IdentityKind;
use steward_domain::DomainError;
use uuid::Uuid;

/// An RSA key (RS256, as Kubernetes and GitHub sign) and a P-256 key (ES256, as SPIRE
/// can), with the JWKS publishing both.
struct Issuer {
    rsa: EncodingKey,
    /// The RSA public key in PKCS#1 DER, for the key-confusion attempt.
    rsa_public_der: Vec<u8>,
    ec: EncodingKey,
    jwks: Value,
}

impl Issuer {
    fn new() -> Issuer {
        let mut rng = rand::thread_rng();
        let private = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let public = private.to_public_key();
        let rsa_der = private.to_pkcs1_der().unwrap();
        let rsa_public_der = {
            use rsa::pkcs1::EncodeRsaPublicKey;
            public.to_pkcs1_der().unwrap().as_bytes().to_vec()
        };
        let ring_rng = ring::rand::SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &ring_rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &ring_rng)
                .unwrap();
        let point = pair.public_key().as_ref();
        let b64 = |bytes: &[u8]| URL_SAFE_NO_PAD.encode(bytes);
        let jwks = json!({ "keys": [
            { "kty": "RSA", "kid": "rsa-1", "alg": "RS256", "use": "sig",
              "n": b64(&public.n().to_bytes_be()), "e": b64(&public.e().to_bytes_be()) },
            { "kty": "EC", "kid": "ec-1", "alg": "ES256", "use": "sig", "crv": "P-256",
              "x": b64(&point[1..33]), "y": b64(&point[33..65]) },
        ]});
        Issuer {
            rsa: EncodingKey::from_rsa_der(rsa_der.as_bytes()),
            rsa_public_der,
            ec: EncodingKey::from_ec_der(pkcs8.as_ref()),
            jwks,
        }
    }

    fn rs256(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("rsa-1".into());
        jsonwebtoken::encode(&header, claims, &self.rsa).unwrap()
    }

    fn es256(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some("ec-1".into());
        jsonwebtoken::encode(&header, claims, &self.ec).unwrap()
    }

    /// Serves the JWKS at `http://<addr>/jwks` until the test ends.
    async fn serve(&self) -> String {
        let jwks = self.jwks.clone();
        let router = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                let jwks = jwks.clone();
                async move { axum::Json(jwks) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        format!("http://{addr}/jwks")
    }
}

/// A token signed with nothing (`alg: none`).
fn unsigned(claims: &Value) -> String {
    let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.",
        part(json!({"alg": "none", "typ": "JWT"})),
        part(claims.clone())
    )
}

const K8S_ISSUER: &str = "https://kubernetes.default.svc.cluster.local";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";
const SPIFFE_ISSUER: &str = "https://spire.acme.test";
const AUDIENCE: &str = "steward";

fn times(offset_minutes: i64) -> (i64, i64, i64) {
    let now = Utc::now().timestamp() + offset_minutes * 60;
    (now - 60, now - 60, now + 600)
}

fn k8s_claims(name: &str) -> Value {
    let (iat, nbf, exp) = times(0);
    json!({ "iss": K8S_ISSUER, "aud": [AUDIENCE], "sub": format!("system:serviceaccount:payments:{name}"),
            "iat": iat, "nbf": nbf, "exp": exp,
            "kubernetes.io": { "namespace": "payments", "serviceaccount": { "name": name } } })
}

fn github_claims(git_ref: &str) -> Value {
    let (iat, nbf, exp) = times(0);
    json!({ "iss": GITHUB_ISSUER, "aud": AUDIENCE, "sub": format!("repo:acme/deploy:ref:{git_ref}"),
            "repository": "acme/deploy", "repository_owner": "acme", "ref": git_ref,
            "job_workflow_ref": "acme/deploy/.github/workflows/release.yml@refs/heads/main",
            "iat": iat, "nbf": nbf, "exp": exp })
}

fn spiffe_claims() -> Value {
    let (iat, _, exp) = times(0);
    json!({ "iss": SPIFFE_ISSUER, "aud": [AUDIENCE], "sub": "spiffe://acme.test/ns/ai/sa/triage-agent",
            "iat": iat, "exp": exp })
}

async fn identity(app: &TestApp, name: &str, kind: IdentityKind) -> Uuid {
    owned_identity(app, &draft(name, kind)).await
}

fn rule(identity_id: Uuid, subject: Option<&str>, claims: &[(&str, &str)]) -> ClaimRule {
    ClaimRule {
        environment: None,
        identity_id,
        subject: subject.map(str::to_owned),
        claims: claims
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect::<BTreeMap<_, _>>(),
    }
}

struct Setup {
    app: TestApp,
    issuer: Issuer,
    deployer: Uuid,
    ci: Uuid,
    agent: Uuid,
    k8s_config: Uuid,
    github_config: Uuid,
}

/// Three trust configurations (Kubernetes and GitHub keys from the JWKS URL, SPIFFE
/// keys pasted) mapping to a deployer workload, a CI runner and an agent.
async fn setup(store: &steward_server::store::Store) -> Setup {
    let app = TestApp::new(store).await;
    let admin = app.principal(Role::Admin).await;
    let issuer = Issuer::new();
    let url = issuer.serve().await;
    let deployer = identity(&app, "payments-deployer", IdentityKind::Workload).await;
    let ci = identity(&app, "release-pipeline", IdentityKind::CiRunner).await;
    let agent = identity(&app, "triage-agent", IdentityKind::Agent).await;
    let federation = &app.services.ports().federation;
    let save = |name: &str,
                kind,
                issuer_url: &str,
                jwks_url: Option<String>,
                jwks: Option<String>,
                rules| TrustConfigDraft {
        name: name.into(),
        kind,
        issuer: issuer_url.into(),
        audience: AUDIENCE.into(),
        jwks_url,
        jwks,
        rules,
        mode: EnforcementMode::Enforce,
    };
    let k8s_config = federation
        .save_trust_config(
            Some(&admin),
            None,
            &save(
                "payments cluster",
                TrustKind::Kubernetes,
                K8S_ISSUER,
                Some(url.clone()),
                None,
                vec![rule(
                    deployer,
                    Some("system:serviceaccount:payments:deployer"),
                    &[],
                )],
            ),
        )
        .await
        .unwrap()
        .id;
    let github_config = federation
        .save_trust_config(
            Some(&admin),
            None,
            &save(
                "release workflow",
                TrustKind::GithubActions,
                GITHUB_ISSUER,
                Some(url.clone()),
                None,
                vec![rule(
                    ci,
                    None,
                    &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
                )],
            ),
        )
        .await
        .unwrap()
        .id;
    federation
        .save_trust_config(
            Some(&admin),
            None,
            &save(
                "spire",
                TrustKind::Spiffe,
                SPIFFE_ISSUER,
                None,
                Some(issuer.jwks.to_string()),
                vec![rule(
                    agent,
                    Some("spiffe://acme.test/ns/ai/sa/triage-agent"),
                    &[],
                )],
            ),
        )
        .await
        .unwrap();
    Setup {
        app,
        issuer,
        deployer,
        ci,
        agent,
        k8s_config,
        github_config,
    }
}

async fn refusal(app: &TestApp, token: &str) -> String {
    match app.services.federation.verify(token).await {
        Err(DomainError::CredentialRefused { reason }) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn each_kind_of_token_proves_its_identity_and_bad_tokens_are_refused_by_name() {
    for_each_store(|store| async move {
        let s = setup(&store).await;
        let app = &s.app;
        let verify = |token: String| {
            let services = app.services.clone();
            async move { services.federation.verify(&token).await.unwrap().0 }
        };
        let k8s = verify(s.issuer.rs256(&k8s_claims("deployer"))).await;
        assert_eq!(k8s.identity_id, s.deployer);
        assert_eq!(k8s.trust_config_id, s.k8s_config);
        assert_eq!(k8s.subject, "system:serviceaccount:payments:deployer");
        let github = verify(s.issuer.rs256(&github_claims("refs/heads/main"))).await;
        assert_eq!(github.identity_id, s.ci);
        assert_eq!(github.trust_config_id, s.github_config);
        let spiffe = verify(s.issuer.es256(&spiffe_claims())).await;
        assert_eq!(spiffe.identity_id, s.agent);

        // Refusals, each naming the check that failed.
        let mut expired = k8s_claims("deployer");
        expired["exp"] = json!(Utc::now().timestamp() - 3600);
        assert!(refusal(app, &s.issuer.rs256(&expired))
            .await
            .contains("expired"));
        let mut early = k8s_claims("deployer");
        early["nbf"] = json!(Utc::now().timestamp() + 3600);
        assert!(refusal(app, &s.issuer.rs256(&early))
            .await
            .contains("not valid yet"));
        let mut audience = k8s_claims("deployer");
        audience["aud"] = json!(["someone-else"]);
        assert!(refusal(app, &s.issuer.rs256(&audience))
            .await
            .contains("audience"));
        let mut issuer = k8s_claims("deployer");
        issuer["iss"] = json!("https://evil.example");
        assert!(refusal(app, &s.issuer.rs256(&issuer)).await.contains(
            "no trust configuration accepts tokens from the issuer 'https://evil.example'"
        ));
        assert!(refusal(app, &unsigned(&k8s_claims("deployer")))
            .await
            .contains("unsigned"));
        // Key confusion: HS256 with the issuer's public key as the shared secret.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        let confused = jsonwebtoken::encode(
            &header,
            &k8s_claims("deployer"),
            &EncodingKey::from_secret(&s.issuer.rsa_public_der),
        )
        .unwrap();
        assert!(refusal(app, &confused).await.contains("shared-secret"));
        // Signed by a key the issuer does not publish.
        let stranger = Issuer::new();
        assert!(refusal(app, &stranger.rs256(&k8s_claims("deployer")))
            .await
            .contains("signature does not verify"));
        // Claim rules: another service account, a feature branch.
        assert!(refusal(app, &s.issuer.rs256(&k8s_claims("intruder")))
            .await
            .contains(
                "no claim rule matches the token (sub=system:serviceaccount:payments:intruder"
            ));
        let branch = refusal(app, &s.issuer.rs256(&github_claims("refs/heads/feature"))).await;
        assert!(branch.contains("ref=refs/heads/feature"), "{branch}");

        // Over HTTP: the reason is the problem's detail.
        let reply = app
            .send_json(
                "POST",
                "/api/v1/authorize",
                &Auth::Bearer(s.issuer.rs256(&expired)),
                &serde_json::to_value(call_tool(s.deployer, "deploy")).unwrap(),
            )
            .await;
        assert_problem(&reply, StatusCode::UNAUTHORIZED, "the token has expired");
    })
    .await;
}

fn call_tool(agent: Uuid, tool: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        principal: agent,
        action: "call_tool".into(),
        resource: ResourceRef {
            resource_type: "Tool".into(),
            id: tool.into(),
        },
        context: RequestContext {
            task: "triage".into(),
            environment: "prod".into(),
            ..RequestContext::default()
        },
    }
}

#[tokio::test]
async fn claim_rules_are_explicit_and_checked_on_save() {
    for_each_store(|store| async move {
        let s = setup(&store).await;
        let admin = s.app.principal(Role::Admin).await;
        let federation = &s.app.services.ports().federation;
        let base = TrustConfigDraft {
            name: "loose".into(),
            kind: TrustKind::GithubActions,
            issuer: GITHUB_ISSUER.into(),
            audience: AUDIENCE.into(),
            jwks_url: None,
            jwks: Some(s.issuer.jwks.to_string()),
            rules: vec![rule(s.ci, None, &[("repository", "acme/deploy")])],
            mode: EnforcementMode::Enforce,
        };
        let error = federation
            .save_trust_config(Some(&admin), None, &base)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("branch or environment"),
            "{error}"
        );
        let wildcard = TrustConfigDraft {
            rules: vec![rule(
                s.ci,
                Some("repo:acme/*"),
                &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
            )],
            ..base.clone()
        };
        let error = federation
            .save_trust_config(Some(&admin), None, &wildcard)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("wildcard"), "{error}");
        let unknown = TrustConfigDraft {
            rules: vec![rule(
                Uuid::now_v7(),
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
            )],
            ..base.clone()
        };
        let error = federation
            .save_trust_config(Some(&admin), None, &unknown)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("there is no identity"),
            "{error}"
        );
        let unreachable = TrustConfigDraft {
            jwks: None,
            jwks_url: Some("http://127.0.0.1:9/jwks".into()),
            rules: vec![rule(
                s.ci,
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
            )],
            ..base.clone()
        };
        let error = federation
            .save_trust_config(Some(&admin), None, &unreachable)
            .await
            .unwrap_err();
        assert!(
            error.to_string().contains("cannot fetch the JWKS"),
            "{error}"
        );
        let symmetric = TrustConfigDraft {
            jwks: Some(r#"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#.into()),
            rules: vec![rule(
                s.ci,
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/main")],
            )],
            ..base.clone()
        };
        let error = federation
            .save_trust_config(Some(&admin), None, &symmetric)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("symmetric"), "{error}");
        // Owners may read but not configure trust.
        let owner = s.app.principal(Role::Owner).await;
        let ok = TrustConfigDraft {
            name: "fine".into(),
            ..symmetric.clone()
        };
        assert!(matches!(
            federation.save_trust_config(Some(&owner), None, &ok).await,
            Err(DomainError::Forbidden { .. })
        ));
        assert_eq!(
            federation.trust_configs(Some(&owner)).await.unwrap().len(),
            3
        );
        // Nothing was half-written.
        assert!(federation
            .trust_configs(Some(&admin))
            .await
            .unwrap()
            .iter()
            .all(|c| c.draft.name != "loose" && c.draft.name != "fine"));
        // A second configuration for the same issuer (another workflow): each token
        // finds the configuration whose rule it satisfies.
        let hotfix = TrustConfigDraft {
            name: "hotfix workflow".into(),
            rules: vec![rule(
                s.deployer,
                None,
                &[("repository", "acme/deploy"), ("ref", "refs/heads/hotfix")],
            )],
            ..base.clone()
        };
        let hotfix = federation
            .save_trust_config(Some(&admin), None, &hotfix)
            .await
            .unwrap();
        let services = &s.app.services;
        let (matched, _) = services
            .federation
            .verify(&s.issuer.rs256(&github_claims("refs/heads/hotfix")))
            .await
            .unwrap();
        assert_eq!(matched.trust_config_id, hotfix.id);
        assert_eq!(matched.identity_id, s.deployer);
        let (matched, _) = services
            .federation
            .verify(&s.issuer.rs256(&github_claims("refs/heads/main")))
            .await
            .unwrap();
        assert_eq!(matched.trust_config_id, s.github_config);
    })
    .await;
}

/// Gives `identity` an automatically approved grant of a `ledger` entitlement.
async fn ledger_grant(app: &TestApp, identity: Uuid) -> Uuid {
    let admin = app.principal(Role::Admin).await;
    let owner = app.principal(Role::Owner).await;
    let ports = &app.services.ports();
    let entitlement = ports
        .inventory
        .add_entitlement(
            Some(&admin),
            identity,
            &NewEntitlement {
                resource: "ledger".into(),
                action: "read".into(),
                privilege: Privilege::Read,
                grant_type: GrantType::JustInTime,
            },
        )
        .await
        .unwrap()
        .id;
    ports
        .grants
        .create_policy(
            Some(&admin),
            &PolicyDraft {
                name: "ledger".into(),
                resource: "ledger".into(),
                action: "*".into(),
                scope: String::new(),
                requesters: Requesters::Owners,
                approval: ApprovalMode::Automatic,
                max_minutes: 60,
                reason_required: false,
                windows: Vec::new(),
            },
        )
        .await
        .unwrap();
    ports
        .grants
        .request(
            Some(&owner),
            &GrantRequest {
                identity_id: identity,
                entitlement_id: entitlement,
                minutes: Some(30),
                reason: None,
            },
        )
        .await
        .unwrap()
        .id
}

fn exchange_form(token: &str, resource: Option<&str>) -> String {
    let mut fields = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", token),
        ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
    ];
    if let Some(resource) = resource {
        fields.push(("resource", resource));
    }
    serde_urlencoded::to_string(fields).unwrap()
}

async fn post_form(app: &TestApp, uri: &str, form: String) -> crate::common::Reply {
    app.send(
        Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn a_federated_token_asks_for_decisions_and_exchanges_for_a_grant_credential() {
    for_each_store(|store| async move {
        let s = setup(&store).await;
        let app = &s.app;
        let admin = app.principal(Role::Admin).await;
        app.services
            .ports()
            .authz
            .set_limits(
                Some(&admin),
                s.agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let svid = s.issuer.es256(&spiffe_claims());
        let reply = app
            .send_json(
                "POST",
                "/api/v1/authorize",
                &Auth::Bearer(svid.clone()),
                &serde_json::to_value(call_tool(s.agent, "jira.search")).unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["decision"], "allow");
        // Asking for another identity with it is forbidden.
        let reply = app
            .send_json(
                "POST",
                "/api/v1/authorize",
                &Auth::Bearer(svid.clone()),
                &serde_json::to_value(call_tool(s.ci, "jira.search")).unwrap(),
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        app.services.authz.flush().await;
        let log = app
            .services
            .ports()
            .authz
            .decisions(Some(&admin), s.agent, None)
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
        assert!(
            log[0].credential.starts_with("trust:")
                && log[0]
                    .credential
                    .ends_with("sub:spiffe://acme.test/ns/ai/sa/triage-agent"),
            "the log names the trust configuration: {}",
            log[0].credential
        );

        // Token exchange: nothing to exchange for without an active grant.
        let github = s.issuer.rs256(&github_claims("refs/heads/main"));
        let reply = post_form(app, "/api/v1/token", exchange_form(&github, None)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert_eq!(reply.json()["error"], "invalid_grant");
        let grant = ledger_grant(app, s.ci).await;
        let reply = post_form(
            app,
            "/api/v1/token",
            exchange_form(&github, Some(&format!("urn:steward:grant:{grant}"))),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let issued = reply.json();
        assert_eq!(
            issued["issued_token_type"],
            "urn:ietf:params:oauth:token-type:jwt"
        );
        assert_eq!(issued["token_type"], "Bearer");
        assert!(issued["expires_in"].as_i64().unwrap() <= 15 * 60);
        let credential = issued["access_token"].as_str().unwrap();
        // The credential is the grant's: introspection says so.
        let (claims, found) = app
            .services
            .grants
            .active_credential(credential)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, grant);
        assert!(claims.scope.contains("ledger"));
        // A refused subject token is an RFC 6749 error naming the reason.
        let reply = post_form(
            app,
            "/api/v1/token",
            exchange_form(&s.issuer.rs256(&github_claims("refs/heads/feature")), None),
        )
        .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        let body = reply.json();
        assert_eq!(body["error"], "invalid_grant");
        assert!(body["error_description"]
            .as_str()
            .unwrap()
            .contains("refs/heads/feature"));
        let reply = post_form(app, "/api/v1/token", "grant_type=password".into()).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert_eq!(reply.json()["error"], "unsupported_grant_type");
        // Exchanged credentials are audited as the workload's.
        let audit = app
            .get(
                "/api/v1/audit?action=grant.credential_exchange",
                &Auth::Bearer(app.token(Role::Admin, &[Scope::AuditRead]).await),
            )
            .await;
        assert!(audit.body.contains("release workflow"), "{}", audit.body);
    })
    .await;
}

#[tokio::test]
async fn monitor_mode_logs_what_enforcing_would_deny_and_enforce_denies() {
    for_each_store(|store| async move {
        let s = setup(&store).await;
        let app = &s.app;
        let admin = app.principal(Role::Admin).await;
        let authz = &app.services.ports().authz;
        authz
            .set_limits(
                Some(&admin),
                s.agent,
                &AgentLimits {
                    tools: vec!["jira.search".into()],
                    ..AgentLimits::default()
                },
            )
            .await
            .unwrap();
        let svid = s.issuer.es256(&spiffe_claims());
        let ask = |tool: &str| {
            let request = serde_json::to_value(call_tool(s.agent, tool)).unwrap();
            let svid = svid.clone();
            async move {
                app.send_json("POST", "/api/v1/authorize", &Auth::Bearer(svid), &request)
                    .await
            }
        };
        assert_eq!(ask("shell.exec").await.json()["decision"], "deny");
        let error = authz
            .set_mode(
                Some(&admin),
                s.agent,
                &ModeChange {
                    mode: EnforcementMode::Monitor,
                    reason: " ".into(),
                },
            )
            .await
            .unwrap_err();
        assert!(error.to_string().contains("why"), "{error}");
        authz
            .set_mode(
                Some(&admin),
                s.agent,
                &ModeChange {
                    mode: EnforcementMode::Monitor,
                    reason: "rolling out limits".into(),
                },
            )
            .await
            .unwrap();
        let monitored = ask("shell.exec").await.json();
        assert_eq!(monitored["decision"], "allow", "{monitored}");
        assert_eq!(monitored["would_deny"], "policy");
        assert_eq!(ask("jira.search").await.json()["decision"], "allow");
        app.services.authz.flush().await;
        let report = authz.monitored(Some(&admin), s.agent, 7).await.unwrap();
        assert_eq!(report.mode, EnforcementMode::Monitor);
        assert_eq!(report.would_deny, 1);
        assert_eq!(
            report.decisions, 3,
            "the enforced denial, then two in monitor mode"
        );
        assert_eq!(report.recent[0].would_deny.as_deref(), Some("policy"));
        authz
            .set_mode(
                Some(&admin),
                s.agent,
                &ModeChange {
                    mode: EnforcementMode::Enforce,
                    reason: "no surprises in a week".into(),
                },
            )
            .await
            .unwrap();
        assert_eq!(ask("shell.exec").await.json()["decision"], "deny");
        let trail = app
            .services
            .ports()
            .audit
            .list(
                Some(&admin),
                &steward_domain::audit::AuditQuery {
                    action: Some("authz.mode_change".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(trail.events.len(), 2, "both switches are audited");

        // Trust configurations: an enforcing one covering the agent refuses its static
        // token; in monitor mode the token works and the log says enforcing would deny.
        let token = crate::common::agent_token(app, s.agent).await;
        let request = serde_json::to_value(call_tool(s.agent, "jira.search")).unwrap();
        let reply = app
            .send_json(
                "POST",
                "/api/v1/authorize",
                &Auth::Bearer(token.clone()),
                &request,
            )
            .await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(reply.body.contains("spire"), "{}", reply.body);
        let spire = app
            .services
            .ports()
            .federation
            .trust_configs(Some(&admin))
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.draft.name == "spire")
            .unwrap();
        app.services
            .ports()
            .federation
            .set_trust_mode(
                Some(&admin),
                spire.id,
                &ModeChange {
                    mode: EnforcementMode::Monitor,
                    reason: "migrating".into(),
                },
            )
            .await
            .unwrap();
        let reply = app
            .send_json("POST", "/api/v1/authorize", &Auth::Bearer(token), &request)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(reply.json()["would_deny"], "static_secret:spire");
    })
    .await;
}

#[tokio::test]
async fn a_static_secret_where_federation_exists_is_a_finding() {
    for_each_store(|store| async move {
        let s = setup(&store).await;
        let app = &s.app;
        let admin = app.principal(Role::Admin).await;
        let proof = app
            .services
            .ports()
            .federation
            .proof_of(Some(&admin), s.deployer)
            .await
            .unwrap();
        assert_eq!(proof.summary(), "federated token");
        app.services
            .ports()
            .inventory
            .add_credential(
                Some(&admin),
                s.deployer,
                &steward_domain::identity::NewCredential {
                    kind: steward_domain::identity::CredentialKind::ClientSecret,
                    key_id: "deployer-secret".into(),
                    expires_at: None,
                    rotation_days: Some(90),
                },
            )
            .await
            .unwrap();
        let proof = app
            .services
            .ports()
            .federation
            .proof_of(Some(&admin), s.deployer)
            .await
            .unwrap();
        assert_eq!(proof.static_secrets, 1);
        assert_eq!(
            proof.summary(),
            "federated token, static secret still active"
        );
        app.services.posture.evaluate_all("test").await.unwrap();
        let findings = app
            .services
            .ports()
            .posture
            .findings_of(Some(&admin), s.deployer)
            .await
            .unwrap();
        let finding = findings
            .iter()
            .find(|f| f.check == "static-secret-despite-federation")
            .expect("the finding is raised");
        assert!(
            finding.detail.contains("payments cluster"),
            "{}",
            finding.detail
        );
        // The CI runner has no static secret: no finding.
        let findings = app
            .services
            .ports()
            .posture
            .findings_of(Some(&admin), s.ci)
            .await
            .unwrap();
        assert!(findings
            .iter()
            .all(|f| f.check != "static-secret-despite-federation"));
    })
    .await;
}
