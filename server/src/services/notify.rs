//! Telling people: in-app notifications and webhooks. A webhook delivery is written to
//! the outbox in the same transaction as what it reports (so a reminder is recorded
//! and announced together, or neither), then sent by [`Webhooks::deliver_due`] with
//! retries. Every delivery is signed: `X-Steward-Signature: sha256=<hex>` is the
//! HMAC-SHA256, keyed with the shared secret, of `<X-Steward-Timestamp>.<body>`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use steward_domain::DomainError;
use uuid::Uuid;

use crate::store::notify::writes::{
    claim_delivery, mark_delivered, queue_delivery, record_delivery_error,
};
use crate::store::write::Statement;
use crate::store::Store;

/// Attempts before a delivery is given up (its last error stays in the outbox).
pub const MAX_ATTEMPTS: i64 = 6;
/// Deliveries sent per sweep.
const BATCH: i64 = 100;

/// The body a webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// `{"event", "id", "created_at", "text", "data"}`.
    Json,
    /// Slack's incoming-webhook payload: `{"text", "blocks"}`.
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Slack => "slack",
        }
    }
}

/// Where webhooks go and the secret they are signed with.
#[derive(Debug, Clone, Default)]
pub struct WebhookConfig {
    pub targets: Vec<(WebhookFormat, String)>,
    pub secret: Option<String>,
    /// Steward's address, for links in messages (`None`: relative links).
    pub public_url: Option<String>,
}

impl WebhookConfig {
    /// Checks the configuration: every URL is http(s), and a secret of at least 16
    /// characters is set when there is a target.
    pub fn validated(self) -> Result<Self, String> {
        for (_, url) in &self.targets {
            let parsed = reqwest::Url::parse(url)
                .map_err(|e| format!("webhook URL '{url}' is not a URL: {e}"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(format!("webhook URL '{url}' must be http or https"));
            }
        }
        if !self.targets.is_empty() && self.secret.as_deref().is_none_or(|s| s.len() < 16) {
            return Err(
                "STEWARD_WEBHOOK_SECRET (at least 16 characters) is required when a webhook URL is set"
                    .into(),
            );
        }
        Ok(self)
    }

    /// A link to `path` in Steward.
    pub fn link(&self, path: &str) -> String {
        match &self.public_url {
            Some(base) => format!("{}{path}", base.trim_end_matches('/')),
            None => path.to_owned(),
        }
    }
}

/// Something to announce: its event name, a sentence for people, and its data.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub event: &'static str,
    pub text: String,
    pub data: Value,
}

/// The body sent to a target of `format`.
pub fn webhook_body(
    format: WebhookFormat,
    id: Uuid,
    announcement: &Announcement,
    now: DateTime<Utc>,
) -> String {
    let body = match format {
        WebhookFormat::Json => json!({
            "event": announcement.event,
            "id": id,
            "created_at": now,
            "text": announcement.text,
            "data": announcement.data,
        }),
        WebhookFormat::Slack => {
            let text = slack_escape(&announcement.text);
            json!({
                "text": text,
                "blocks": [{
                    "type": "section",
                    "text": { "type": "mrkdwn", "text": text },
                }],
            })
        }
    };
    body.to_string()
}

/// Text as Slack must receive it: `&`, `<` and `>` escaped. Announcements quote names
/// and reasons people typed; unescaped, `<!channel>` or `<https://evil|click here>`
/// in them would ping everyone or plant a disguised link.
pub fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The signature header's value for a body sent at `timestamp` (Unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // A key of any length is accepted by HMAC.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// How long to wait before attempt `attempts + 1`: 1, 2, 4, 8, … minutes.
fn backoff(attempts: i64) -> chrono::Duration {
    chrono::Duration::minutes(1 << attempts.clamp(0, 10))
}

#[derive(Clone)]
pub struct Webhooks {
    config: WebhookConfig,
    client: reqwest::Client,
}

impl Webhooks {
    pub fn new(config: WebhookConfig) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Webhooks { config, client }
    }

    pub fn config(&self) -> &WebhookConfig {
        &self.config
    }

    /// The outbox rows announcing `announcement` to every target (none when no
    /// webhook is configured); run them in the transaction of what they report.
    pub fn outbox(&self, announcement: &Announcement, now: DateTime<Utc>) -> Vec<Statement> {
        self.config
            .targets
            .iter()
            .map(|(format, url)| {
                let id = Uuid::now_v7();
                queue_delivery(
                    id,
                    announcement.event,
                    url,
                    format.as_str(),
                    webhook_body(*format, id, announcement, now),
                    now,
                )
            })
            .collect()
    }

    /// Sends queued deliveries in the background (after a change that announced
    /// something); nothing when no webhook is configured.
    pub fn deliver_soon(&self, store: &Store) {
        if self.config.targets.is_empty() {
            return;
        }
        let (webhooks, store) = (self.clone(), store.clone());
        tokio::spawn(async move {
            if let Err(error) = webhooks.deliver_due(&store, Utc::now()).await {
                tracing::error!(%error, "webhook delivery failed");
            }
        });
    }

    /// Sends the deliveries that are due; returns how many were delivered.
    pub async fn deliver_due(&self, store: &Store, now: DateTime<Utc>) -> Result<u64, DomainError> {
        let Some(secret) = self.config.secret.clone() else {
            return Ok(0);
        };
        let due = store.due_deliveries(MAX_ATTEMPTS, now, BATCH).await?;
        let mut delivered = 0;
        for delivery in due {
            // Claimed first (the attempt counted, the next one pushed back), so another
            // replica's sweep does not send it at the same time.
            let claim = claim_delivery(
                delivery.id,
                delivery.attempts,
                now + backoff(delivery.attempts),
            );
            if store.write(&[claim], |_| Vec::new()).await.is_err() {
                continue;
            }
            let timestamp = Utc::now().timestamp();
            let sent = self
                .client
                .post(&delivery.url)
                .header("content-type", "application/json")
                .header("x-steward-event", &delivery.event)
                .header("x-steward-delivery", delivery.id.to_string())
                .header("x-steward-timestamp", timestamp.to_string())
                .header(
                    "x-steward-signature",
                    signature(&secret, timestamp, &delivery.body),
                )
                .body(delivery.body.clone())
                .send()
                .await;
            let outcome = match sent {
                Ok(response) if response.status().is_success() => None,
                Ok(response) => Some(format!("the receiver answered {}", response.status())),
                Err(error) => Some(format!("could not deliver: {error}")),
            };
            let record = match &outcome {
                None => mark_delivered(delivery.id, Utc::now()),
                Some(error) => {
                    tracing::warn!(url = %delivery.url, %error, "webhook delivery failed");
                    record_delivery_error(delivery.id, error)
                }
            };
            store
                .write(&[record], |_| Vec::new())
                .await
                .map_err(|e| crate::services::write_error(e, ""))?;
            if outcome.is_none() {
                delivered += 1;
            }
        }
        Ok(delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_timestamp_and_body() {
        let hmac_hex = |key: &[u8], data: &[u8]| {
            let mut mac =
                <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
            mac.update(data);
            let hex: String = mac
                .finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            hex
        };
        // RFC 4231 test case 2: the primitive is HMAC-SHA256.
        assert_eq!(
            hmac_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            signature("Jefe", 1_700_000_000, "{\"a\":1}"),
            format!("sha256={}", hmac_hex(b"Jefe", b"1700000000.{\"a\":1}"))
        );
        assert_ne!(signature("a", 1, "x"), signature("a", 2, "x"));
        assert_ne!(signature("a", 1, "x"), signature("b", 1, "x"));
    }

    #[test]
    fn bodies_in_both_formats() {
        let announcement = Announcement {
            event: "campaign.reminder",
            text: "3 reviews wait for you".into(),
            data: json!({ "pending": 3 }),
        };
        let now: DateTime<Utc> = "2026-11-29T09:00:00Z".parse().unwrap_or_default();
        let id = Uuid::from_u128(1);
        let generic: Value =
            serde_json::from_str(&webhook_body(WebhookFormat::Json, id, &announcement, now))
                .unwrap_or_default();
        assert_eq!(generic["event"], "campaign.reminder");
        assert_eq!(generic["data"]["pending"], 3);
        let slack: Value =
            serde_json::from_str(&webhook_body(WebhookFormat::Slack, id, &announcement, now))
                .unwrap_or_default();
        assert_eq!(slack["text"], "3 reviews wait for you");
        assert_eq!(slack["blocks"][0]["text"]["type"], "mrkdwn");
    }

    #[test]
    fn slack_text_cannot_ping_everyone_or_plant_links() {
        let announcement = Announcement {
            event: "grant.requested",
            text: "Mallory asks for db:admin (<!channel> see <https://evil.example|the runbook> & more)".into(),
            data: json!({}),
        };
        let now: DateTime<Utc> = "2026-11-29T09:00:00Z".parse().unwrap_or_default();
        let slack: Value = serde_json::from_str(&webhook_body(
            WebhookFormat::Slack,
            Uuid::from_u128(1),
            &announcement,
            now,
        ))
        .unwrap_or_default();
        let expected = "Mallory asks for db:admin (&lt;!channel&gt; see &lt;https://evil.example|the runbook&gt; &amp; more)";
        assert_eq!(slack["text"], expected);
        assert_eq!(slack["blocks"][0]["text"]["text"], expected);
    }

    #[test]
    fn configuration_needs_a_secret_and_http_urls() {
        let target = |url: &str| WebhookConfig {
            targets: vec![(WebhookFormat::Json, url.into())],
            secret: Some("0123456789abcdef".into()),
            public_url: None,
        };
        assert!(target("https://hooks.example.com/x").validated().is_ok());
        assert!(target("ftp://hooks.example.com/x").validated().is_err());
        assert!(WebhookConfig {
            secret: Some("short".into()),
            ..target("https://hooks.example.com/x")
        }
        .validated()
        .is_err());
        assert!(WebhookConfig::default().validated().is_ok());
        assert_eq!(
            WebhookConfig {
                public_url: Some("https://steward.example.com/".into()),
                ..WebhookConfig::default()
            }
            .link("/reviews"),
            "https://steward.example.com/reviews"
        );
    }
}
