//! The web UI in headless Chromium against a real `-dev` agent: a registered service with
//! a failing check, nodes, and the KV editor (create, edit with CAS, delete, recursive
//! delete), read back through the API. Screenshots go to `target/ui-screenshots/` and,
//! with `PRAETOR_UPDATE_SCREENSHOTS=1`, to `docs/ui/`.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::json;

use crate::agent::AgentProcess;
use crate::http;
use crate::webdriver::{self, Browser};

struct Shots {
    dirs: Vec<PathBuf>,
}

impl Shots {
    fn new() -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut dirs = vec![root.join("target/ui-screenshots")];
        if std::env::var_os("PRAETOR_UPDATE_SCREENSHOTS").is_some() {
            dirs.push(root.join("docs/ui"));
        }
        Self { dirs }
    }

    async fn take(&self, browser: &Browser, name: &str) {
        for dir in &self.dirs {
            browser.screenshot(&dir.join(format!("{name}.png"))).await;
        }
    }
}

async fn put(url: &str, body: impl Into<reqwest::Body>) -> String {
    let resp = http().put(url).body(body).send().await.unwrap();
    assert!(resp.status().is_success(), "PUT {url}: {}", resp.status());
    resp.text().await.unwrap().trim().to_owned()
}

async fn raw(agent: &AgentProcess, key: &str) -> Option<String> {
    let resp = http()
        .get(format!("{}/v1/kv/{key}?raw", agent.http))
        .send()
        .await
        .unwrap();
    match resp.status().as_u16() {
        404 => None,
        200 => Some(resp.text().await.unwrap()),
        s => panic!("GET {key}: {s}"),
    }
}

/// Waits until `key` has `want` through the API (the UI's writes are async to the test).
async fn wait_kv(agent: &AgentProcess, key: &str, want: Option<&str>) {
    let deadline = tokio::time::Instant::now() + webdriver::WAIT;
    loop {
        let got = raw(agent, key).await;
        if got.as_deref() == want {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{key} = {got:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn register(agent: &AgentProcess) {
    let url = format!("{}/v1/catalog/register", agent.http);
    let web = json!({
        "Node": "web-node-1", "Address": "127.0.0.2",
        "NodeMeta": {"rack": "r1"},
        "Service": {"ID": "web1", "Service": "web", "Port": 8080, "Tags": ["v1", "primary"],
                    "Meta": {"version": "1.2.0"}},
        "Checks": [{"CheckID": "web-http", "Name": "web HTTP check", "Status": "critical",
                    "ServiceID": "web1", "Notes": "Probes /health every 10s",
                    "Output": "HTTP GET http://127.0.0.2:8080/health: 503 Service Unavailable"},
                   {"CheckID": "mem", "Name": "Memory", "Status": "passing", "Output": "ok"}],
    });
    assert_eq!(put(&url, web.to_string()).await, "true");
    let api = json!({
        "Node": "web-node-1", "Address": "127.0.0.2", "NodeMeta": {"rack": "r1"},
        "Service": {"ID": "api1", "Service": "api", "Port": 9090, "Tags": ["v2"]},
        "Check": {"CheckID": "api-ttl", "Name": "api TTL", "Status": "warning", "ServiceID": "api1",
                  "Output": "TTL expired 12s ago"},
    });
    assert_eq!(put(&url, api.to_string()).await, "true");
    for (key, value) in [
        ("config/app/name", "praetor"),
        ("config/app/port", "8080"),
        ("config/db/url", "postgres://db"),
    ] {
        put(&format!("{}/v1/kv/{key}", agent.http), value).await;
    }
}

#[tokio::test]
async fn the_ui_shows_services_checks_nodes_and_edits_kv() {
    if !webdriver::available() {
        assert!(
            std::env::var_os("PRAETOR_SKIP_BROWSER_TESTS").is_some(),
            "chromium and chromedriver are needed (apt-get install chromium chromium-driver, \
             as .ci/run does), or set PRAETOR_SKIP_BROWSER_TESTS=1"
        );
        return;
    }
    let agent = AgentProcess::dev();
    register(&agent).await;
    let browser = Browser::start().await;
    let shots = Shots::new();
    let ui = format!("{}/ui", agent.http);

    // `/` redirects to the UI, which opens on the services of this datacenter.
    browser.goto(&format!("{}/", agent.http)).await;
    let row = browser
        .wait_text("tr[data-service=\"web\"]", "critical")
        .await;
    assert!(
        row.contains("1 instance") && row.contains("primary"),
        "{row}"
    );
    assert!(browser.url().await.ends_with("/ui/dc1/services"));
    browser
        .wait_text("tr[data-service=\"api\"]", "warning")
        .await;
    browser.wait_text("#dc", "dc1").await;
    shots.take(&browser, "services").await;

    // The health filter and the search narrow the list.
    browser.script("const s = document.getElementById('service-health'); s.value = 'critical'; s.dispatchEvent(new Event('change'));", json!([])).await;
    let list = browser.text_of("#services").await;
    assert!(list.contains("web") && !list.contains("api"), "{list}");
    browser
        .type_into("#service-search", "nothing-like-this")
        .await;
    browser.wait_text(".list-body", "No service matches").await;

    // Service detail (a deep link, as after a reload): the instance and its failing check.
    browser.goto(&format!("{ui}/dc1/services/web")).await;
    let check = browser
        .wait_text(
            "li.check.critical[data-check-id=\"web-http\"]",
            "web HTTP check",
        )
        .await;
    assert!(
        check.contains("503 Service Unavailable") && check.contains("Probes /health"),
        "{check}"
    );
    let instance = browser.text_of("[data-instance=\"web1\"]").await;
    assert!(
        instance.contains("127.0.0.2:8080") && instance.contains("web-node-1"),
        "{instance}"
    );
    assert!(
        instance.contains("version") && instance.contains("1.2.0"),
        "{instance}"
    );
    shots.take(&browser, "service").await;

    // Live: the check turns passing while the page is open; a blocking query brings it.
    let url = format!("{}/v1/catalog/register", agent.http);
    let fixed = json!({"Node": "web-node-1", "Address": "127.0.0.2", "SkipNodeUpdate": true,
        "Check": {"CheckID": "web-http", "Name": "web HTTP check", "Status": "passing",
                  "ServiceID": "web1", "Output": "HTTP GET: 200 OK"}});
    put(&url, fixed.to_string()).await;
    browser
        .wait_text("li.check.passing[data-check-id=\"web-http\"]", "200 OK")
        .await;

    // Nodes and node detail, reached by clicking.
    browser.goto(&format!("{ui}/dc1/nodes")).await;
    browser
        .wait_text("tr[data-node=\"web-node-1\"]", "127.0.0.2")
        .await;
    shots.take(&browser, "nodes").await;
    browser.click("tr[data-node=\"web-node-1\"] a").await;
    browser.wait_text("#node-services", "api1").await;
    let node = browser.text_of("main").await;
    assert!(node.contains("rack") && node.contains("Memory"), "{node}");
    shots.take(&browser, "node").await;

    // KV: create a key through the form (a deep link to the folder).
    browser.goto(&format!("{ui}/dc1/kv/config/")).await;
    browser.wait_text("#kv-list", "app/").await;
    shots.take(&browser, "kv").await;
    browser.type_into("#kv-create-key", "web/greeting").await;
    browser.type_into("#kv-create-value", "hello").await;
    browser.click("#kv-create-save").await;
    browser.wait_text("#kv-key", "config/web/greeting").await;
    wait_kv(&agent, "config/web/greeting", Some("hello")).await;

    // Edit it: the save carries ?cas, and the API reads the new value back.
    browser.wait_text("#kv-modify-index", "").await;
    browser.type_into("#kv-value", "hello, world").await;
    browser.click("#kv-save").await;
    browser.wait_text(".banner.success", "Saved").await;
    wait_kv(&agent, "config/web/greeting", Some("hello, world")).await;
    browser.wait_text("#kv-value", "").await;
    shots.take(&browser, "kv-key").await;

    // A change made elsewhere while editing is not overwritten: the CAS save is refused.
    browser.type_into("#kv-value", "my edit").await;
    put(
        &format!("{}/v1/kv/config/web/greeting", agent.http),
        "changed elsewhere",
    )
    .await;
    browser
        .wait_text(".banner.warning", "changed on the server")
        .await;
    browser.click("#kv-save").await;
    browser.wait_text("main .banner.error", "Not saved").await;
    assert_eq!(
        raw(&agent, "config/web/greeting").await.as_deref(),
        Some("changed elsewhere")
    );

    // Delete it, after confirming.
    browser.click("#kv-delete").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_text("main .empty", "This folder is empty")
        .await;
    wait_kv(&agent, "config/web/greeting", None).await;

    // Delete a folder recursively from its parent, after confirming.
    browser.goto(&format!("{ui}/dc1/kv/config/")).await;
    browser.click("li[data-key=\"config/app/\"] button").await;
    browser
        .wait_text("#confirm-text", "every key below it")
        .await;
    browser.click("#confirm-ok").await;
    wait_kv(&agent, "config/app/name", None).await;
    wait_kv(&agent, "config/app/port", None).await;
    assert_eq!(
        raw(&agent, "config/db/url").await.as_deref(),
        Some("postgres://db")
    );

    // An API error is shown plainly.
    browser.goto(&format!("{ui}/dc9/services")).await;
    browser.wait_text("#error", "No path to datacenter").await;

    // A phone-sized screen.
    browser.window(390, 844).await;
    browser.goto(&format!("{ui}/dc1/services")).await;
    browser
        .wait_text("tr[data-service=\"web\"]", "passing")
        .await;
    shots.take(&browser, "services-phone").await;
}
