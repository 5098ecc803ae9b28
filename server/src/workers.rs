//! Background work in one place: every loop the server runs beside its requests, its
//! interval and its shutdown. Each loop calls one service method per tick and logs the
//! outcome; the work itself, and its rules, stay in the service (and so are tested
//! there, without timers). Loops that only mirror something else — the change feed's
//! listener, the decision log's writer, the webhook sender kicked by a change — start
//! on demand inside their adapter or service and are not listed here.

use std::future::Future;
use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;
use tower_sessions::session_store::ExpiredDeletion;

use crate::config::ServeConfig;
use crate::services::posture::POSTURE_ACTOR;
use crate::services::Services;
use crate::web::session::Sessions;

/// How often each loop runs; `None` turns a loop off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    /// Ends grants whose time is up (`STEWARD_GRANT_EXPIRY_SECONDS`).
    pub grant_expiry: Option<Duration>,
    /// Launches, reminds, escalates and closes campaigns (`STEWARD_CAMPAIGN_INTERVAL_MINUTES`).
    pub campaigns: Option<Duration>,
    /// Evaluates every identity's posture (`STEWARD_POSTURE_INTERVAL_MINUTES`).
    pub posture: Option<Duration>,
    /// Prunes the change feed and forgets idle agent sessions.
    pub authz_upkeep: Duration,
    /// Deletes expired browser sessions.
    pub session_cleanup: Duration,
    /// Forgets old failed sign-ins.
    pub throttle_purge: Duration,
}

impl Schedule {
    pub fn from_config(serve: &ServeConfig) -> Self {
        let on = |seconds: u64| (seconds > 0).then(|| Duration::from_secs(seconds));
        Schedule {
            grant_expiry: on(u64::from(serve.grant_expiry_seconds)),
            campaigns: on(u64::from(serve.campaign_interval_minutes) * 60),
            posture: on(u64::from(serve.posture_interval_minutes) * 60),
            authz_upkeep: Duration::from_secs(600),
            session_cleanup: Duration::from_secs(300),
            throttle_purge: Duration::from_secs(600),
        }
    }
}

/// The running loops, stopped together.
pub struct Workers {
    running: Vec<(&'static str, JoinHandle<()>)>,
    authz: std::sync::Arc<crate::services::authz::AuthzService>,
}

impl Workers {
    /// Starts every loop the schedule turns on. Each runs once at once, then every
    /// interval; a tick that falls behind is delayed, not repeated.
    pub fn start(services: &Services, schedule: &Schedule) -> Workers {
        let mut running = Vec::new();
        if let Some(interval) = schedule.grant_expiry {
            running.push(every(
                "grant expiry",
                interval,
                services.grants.clone(),
                |grants| async move {
                    match grants.expire_due(Utc::now()).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(expired = n, "grants expired"),
                        Err(error) => tracing::error!(%error, "grant expiry failed"),
                    }
                },
            ));
        }
        if let Some(interval) = schedule.campaigns {
            running.push(every(
                "campaign scheduler",
                interval,
                services.campaigns.clone(),
                |campaigns| async move {
                    match campaigns.tick(Utc::now()).await {
                        Ok(report) if report != Default::default() => {
                            tracing::info!(?report, "campaign scheduler ran");
                        }
                        Ok(_) => {}
                        Err(error) => tracing::error!(%error, "campaign scheduler failed"),
                    }
                },
            ));
        }
        if let Some(interval) = schedule.posture {
            running.push(every(
                "posture evaluation",
                interval,
                services.posture.clone(),
                |posture| async move {
                    if let Err(error) = posture.evaluate_all(POSTURE_ACTOR).await {
                        tracing::error!(%error, "scheduled posture evaluation failed");
                    }
                },
            ));
        }
        running.push(every(
            "authorization upkeep",
            schedule.authz_upkeep,
            services.authz.clone(),
            |authz| async move {
                let forgotten = authz.upkeep().await;
                if forgotten > 0 {
                    tracing::debug!(forgotten, "idle agent sessions forgotten");
                }
            },
        ));
        running.push(every(
            "session cleanup",
            schedule.session_cleanup,
            Sessions::new(&services.store),
            |sessions| async move {
                if let Err(error) = sessions.delete_expired().await {
                    tracing::error!(%error, "deleting expired sessions failed");
                }
            },
        ));
        running.push(every(
            "sign-in throttle purge",
            schedule.throttle_purge,
            services.auth.clone(),
            |auth| async move {
                match auth.purge_login_throttle().await {
                    Ok(0) => {}
                    Ok(purged) => tracing::debug!(purged, "old sign-in failures forgotten"),
                    Err(error) => tracing::error!(%error, "purging sign-in failures failed"),
                }
            },
        ));
        Workers {
            running,
            authz: services.authz.clone(),
        }
    }

    /// What runs, by name (for the log at start).
    pub fn names(&self) -> Vec<&'static str> {
        self.running.iter().map(|(name, _)| *name).collect()
    }

    /// Stops every loop (a tick in progress is cut off: each tick's writes are one
    /// transaction, so it is written whole or not at all), then writes out the
    /// decisions still waiting for the log.
    pub async fn stop(self) {
        for (_, task) in self.running {
            task.abort();
        }
        self.authz.flush().await;
    }
}

/// Runs `work` on a clone of `state` now and then every `interval`, one tick at a time.
fn every<T, F, Fut>(
    name: &'static str,
    interval: Duration,
    state: T,
    work: F,
) -> (&'static str, JoinHandle<()>)
where
    T: Clone + Send + 'static,
    F: Fn(T) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            work(state.clone()).await;
        }
    });
    (name, task)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    #[tokio::test]
    async fn a_loop_runs_at_once_then_every_interval_until_stopped() {
        let runs = Arc::new(AtomicU32::new(0));
        let (name, task) = every(
            "test",
            Duration::from_millis(20),
            runs.clone(),
            |counted| async move {
                counted.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(name, "test");
        // Real time on a machine that may be busy: wait for the ticks, bounded.
        let waited = tokio::time::timeout(Duration::from_secs(10), async {
            while runs.load(Ordering::SeqCst) < 3 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(waited.is_ok(), "the loop did not repeat");
        task.abort();
        let _ = task.await;
        let stopped_at = runs.load(Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(
            runs.load(Ordering::SeqCst),
            stopped_at,
            "a stopped loop runs no more"
        );
    }
}
