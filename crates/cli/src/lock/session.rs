//! The lock's session: created with a 15 s TTL, renewed every half TTL until destroyed
//! (Consul's `Session.RenewPeriodic`).

use praetor_client::{Client, ClientError, SessionBehavior, SessionCreate};
use tokio::task::JoinHandle;

use super::SESSION_TTL;

/// A session kept alive by a renewal task.
pub(crate) struct LockSession {
    client: Client,
    id: String,
    renewer: JoinHandle<()>,
}

impl LockSession {
    /// Creates the session (bound to the agent's node and its `serfHealth`, default
    /// lock-delay) and starts renewing it.
    pub(crate) async fn create(
        client: &Client,
        name: &str,
        behavior: SessionBehavior,
    ) -> Result<Self, ClientError> {
        let spec = SessionCreate {
            name: name.to_owned(),
            ttl: Some(format!("{}s", SESSION_TTL.as_secs())),
            behavior: Some(behavior),
            ..SessionCreate::default()
        };
        let id = client.session_create(&spec).await?;
        let renewer = tokio::spawn(renew(client.clone(), id.clone()));
        Ok(Self {
            client: client.clone(),
            id,
            renewer,
        })
    }

    /// The session's ID.
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// Stops renewing and destroys the session, releasing whatever it still holds. Failures
    /// are ignored: the TTL reaps a session nobody renews.
    pub(crate) async fn destroy(self) {
        self.renewer.abort();
        let _aborted = self.renewer.await;
        let _ignored = self.client.session_destroy(&self.id).await;
    }
}

/// Renews `id` every half TTL until the session is gone (the agent's 404) or the task is
/// aborted; transient failures are retried at the next tick.
async fn renew(client: Client, id: String) {
    let mut interval = tokio::time::interval(SESSION_TTL / 2);
    // The first tick is immediate; the session was just created.
    interval.tick().await;
    loop {
        interval.tick().await;
        if let Ok(None) = client.session_renew(&id).await {
            return;
        }
    }
}
