//! Issue 31, item 17: an agent that decides all day is not reported as unused.

use steward_domain::inventory::IdentityKind;

use super::{ask, call_tool, identity};
use crate::common::{agent_token, for_each_store, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runtime_decisions_mark_the_acting_identity_as_used() {
    for_each_store(|store| async move {
        let app = TestApp::new(&store).await;
        let agent = identity(&app, "busy-agent", IdentityKind::Agent).await;
        let before = store.find_identity(agent).await.unwrap().unwrap().0;
        assert_eq!(before.last_used_at, None);
        let token = agent_token(&app, agent).await;
        let started = chrono::Utc::now();
        for _ in 0..3 {
            let (status, _) = ask(&app, &token, &call_tool(agent, "search", None)).await;
            assert_eq!(status, axum::http::StatusCode::OK);
        }
        // The decision log writer notes the use, off the request path.
        app.services.authz.flush().await;
        let after = store.find_identity(agent).await.unwrap().unwrap().0;
        let used = after
            .last_used_at
            .expect("the agent is still reported as never used");
        assert!(
            used >= started - chrono::Duration::seconds(1),
            "{used} before {started}"
        );
    })
    .await;
}
