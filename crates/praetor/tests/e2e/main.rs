//! End-to-end tests: the real `praetor` binary on loopback, driven over HTTP and its CLI.
#![allow(clippy::unwrap_used)] // a test crate: a failed unwrap is a failed test

mod agent;
mod autopilot;
mod catalog;
mod catalog_cli;
mod cluster;
mod crash;
mod dns;
mod events;
mod faults;
mod kv;
mod lifecycle;
mod lock;
mod netns;
mod services;
mod sessions;
mod ui;
mod watch;
mod webdriver;

use std::sync::Once;

/// An HTTP client for the tests (plain http; rustls needs a provider installed once).
pub fn http() -> reqwest::Client {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder().build().expect("http client")
}

/// `GET url`, decoded as JSON (panics on a transport or decoding error).
pub async fn get_json(url: impl reqwest::IntoUrl) -> serde_json::Value {
    http()
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("a JSON body")
}

/// The `X-Consul-Index` of a response.
pub fn index_of(resp: &reqwest::Response) -> u64 {
    resp.headers()
        .get("X-Consul-Index")
        .expect("X-Consul-Index header")
        .to_str()
        .expect("ascii header")
        .parse()
        .expect("numeric index")
}
