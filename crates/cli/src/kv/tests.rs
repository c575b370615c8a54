//! `consul kv …` through `run()` against a [`FakeAgent`] on loopback.

use praetor_client::testing::FakeAgent;

use crate::tests::{Outcome, invoke, invoke_with};

struct Harness {
    agent: FakeAgent,
    addr: String,
}

impl Harness {
    async fn start() -> Self {
        let agent = FakeAgent::start().await.unwrap();
        let addr = format!("-http-addr={}", agent.http_addr());
        Self { agent, addr }
    }

    async fn kv(&self, args: &[&str]) -> Outcome {
        self.kv_stdin(args, b"").await
    }

    async fn kv_stdin(&self, args: &[&str], stdin: &[u8]) -> Outcome {
        let (sub, rest) = args.split_first().expect("a kv subcommand");
        let mut argv = vec!["kv", sub, self.addr.as_str()];
        argv.extend_from_slice(rest);
        invoke_with(&argv, stdin, &[]).await
    }

    fn value(&self, key: &str) -> Option<Vec<u8>> {
        self.agent.state().kv.get(key).map(|e| e.value.clone())
    }
}

#[tokio::test]
async fn put_then_get_prints_value() {
    let h = Harness::start().await;
    let put = h.kv(&["put", "web/key1", "test"]).await;
    assert_eq!(
        (put.code, put.out.as_str()),
        (0, "Success! Data written to: web/key1\n")
    );
    let get = h.kv(&["get", "web/key1"]).await;
    assert_eq!((get.code, get.out.as_str()), (0, "test\n"));
    let get = h.kv(&["get", "/web/key1"]).await;
    assert_eq!(get.out, "test\n", "leading slash is stripped for reads");
}

#[tokio::test]
async fn get_missing_key_is_an_error() {
    let h = Harness::start().await;
    let get = h.kv(&["get", "x"]).await;
    assert_eq!(get.code, 1);
    assert_eq!(get.err, "Error! No key exists at: x\n");
    assert!(get.out.is_empty());
}

#[tokio::test]
async fn get_without_key_needs_recurse_or_keys() {
    let h = Harness::start().await;
    let get = h.kv(&["get"]).await;
    assert_eq!(
        (get.code, get.err.as_str()),
        (1, "Error! Missing KEY argument\n")
    );
}

#[tokio::test]
async fn get_base64_and_detailed() {
    let h = Harness::start().await;
    h.agent.insert("redis/config/connections", b"5", 0);
    let get = h.kv(&["get", "-base64", "redis/config/connections"]).await;
    assert_eq!(get.out, "NQ==\n");
    let get = h
        .kv(&["get", "-detailed", "redis/config/connections"])
        .await;
    assert_eq!(
        get.out,
        "CreateIndex      1\nFlags            0\nKey              redis/config/connections\n\
         LockIndex        0\nModifyIndex      1\nSession          -\nValue            5\n"
    );
}

#[tokio::test]
async fn get_recurse_prints_key_value_lines_sorted() {
    let h = Harness::start().await;
    h.agent.insert("web/b", b"2", 0);
    h.agent.insert("web/a", b"1", 0);
    h.agent.insert("other", b"x", 0);
    let get = h.kv(&["get", "-recurse", "web/"]).await;
    assert_eq!((get.code, get.out.as_str()), (0, "web/a:1\nweb/b:2\n"));
    let none = h.kv(&["get", "-recurse", "nothing/"]).await;
    assert_eq!(
        (none.code, none.out.as_str(), none.err.as_str()),
        (0, "", "")
    );
    let detailed = h.kv(&["get", "-recurse", "-detailed", "web/"]).await;
    assert!(
        detailed.out.contains("Value            1\n\nCreateIndex"),
        "{}",
        detailed.out
    );
    assert!(detailed.out.ends_with("Value            2\n"));
}

#[tokio::test]
async fn get_keys_rolls_up_at_separator() {
    let h = Harness::start().await;
    for key in ["web/bar", "web/foo", "web/subdir/a", "web/subdir/b"] {
        h.agent.insert(key, b"x", 0);
    }
    let keys = h.kv(&["get", "-keys", "web/"]).await;
    assert_eq!(keys.out, "web/bar\nweb/foo\nweb/subdir/\n");
    let all = h.kv(&["get", "-keys", "-separator=", "web/"]).await;
    assert_eq!(all.out, "web/bar\nweb/foo\nweb/subdir/a\nweb/subdir/b\n");
}

#[tokio::test]
async fn put_reads_file_stdin_base64_and_negative_literals() {
    let h = Harness::start().await;
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), b"from file").unwrap();
    let at = format!("@{}", file.path().display());
    assert_eq!(h.kv(&["put", "f", &at]).await.code, 0);
    assert_eq!(h.value("f").unwrap(), b"from file");

    assert_eq!(h.kv_stdin(&["put", "s", "-"], b"from\nstdin").await.code, 0);
    assert_eq!(h.value("s").unwrap(), b"from\nstdin");

    assert_eq!(h.kv(&["put", "-base64", "b", "aGk="]).await.code, 0);
    assert_eq!(h.value("b").unwrap(), b"hi");

    assert_eq!(h.kv(&["put", "n", "-1"]).await.code, 0);
    assert_eq!(h.value("n").unwrap(), b"-1");

    assert_eq!(h.kv(&["put", "empty"]).await.code, 0);
    assert_eq!(h.value("empty").unwrap(), b"");

    let bad = h.kv(&["put", "-base64", "b", "!!"]).await;
    assert_eq!(bad.code, 1);
    assert!(
        bad.err.starts_with("Error! Cannot base 64 decode data: "),
        "{}",
        bad.err
    );
    let missing = h.kv(&["put", "m", "@/nonexistent/praetor"]).await;
    assert!(
        missing.err.starts_with("Error! Failed to read file: "),
        "{}",
        missing.err
    );
}

#[tokio::test]
async fn put_flags_are_stored() {
    let h = Harness::start().await;
    assert_eq!(h.kv(&["put", "-flags=42", "k", "v"]).await.code, 0);
    assert_eq!(h.agent.state().kv["k"].flags, 42);
    let get = h.kv(&["get", "-detailed", "k"]).await;
    assert!(get.out.contains("Flags            42\n"));
}

#[tokio::test]
async fn put_cas_succeeds_then_fails_on_stale_index() {
    let h = Harness::start().await;
    h.agent.insert("web/key1", b"v1", 0);
    let index = h.agent.state().kv["web/key1"].modify_index.to_string();
    let modify = format!("-modify-index={index}");
    let ok = h.kv(&["put", "-cas", &modify, "web/key1", "v2"]).await;
    assert_eq!(
        (ok.code, ok.out.as_str()),
        (0, "Success! Data written to: web/key1\n")
    );
    let stale = h.kv(&["put", "-cas", &modify, "web/key1", "v3"]).await;
    assert_eq!(stale.code, 1);
    assert_eq!(stale.err, "Error! Did not write to web/key1: CAS failed\n");
    assert_eq!(h.value("web/key1").unwrap(), b"v2");
    let no_index = h.kv(&["put", "-cas", "web/key1", "v4"]).await;
    assert_eq!(
        (no_index.code, no_index.err.as_str()),
        (1, "Must specify -modify-index with -cas!\n")
    );
}

#[tokio::test]
async fn put_acquire_and_release_lock() {
    let h = Harness::start().await;
    let ok = h
        .kv(&["put", "-acquire", "-session=s1", "lock", "me"])
        .await;
    assert_eq!(ok.out, "Success! Lock acquired on: lock\n");
    let held = h
        .kv(&["put", "-acquire", "-session=s2", "lock", "me"])
        .await;
    assert_eq!(
        (held.code, held.err.as_str()),
        (1, "Error! Did not write to lock: lock acquisition failed\n")
    );
    let wrong = h.kv(&["put", "-release", "-session=s2", "lock"]).await;
    assert_eq!(
        wrong.err,
        "Error! Did not write to lock: lock release failed\n"
    );
    let released = h.kv(&["put", "-release", "-session", "s1", "lock"]).await;
    assert_eq!(released.out, "Success! Lock released on: lock\n");
    let no_session = h.kv(&["put", "-acquire", "lock"]).await;
    assert_eq!(
        no_session.err,
        "Error! Missing -session (required with -acquire and -release)\n"
    );
}

#[tokio::test]
async fn put_argument_errors() {
    let h = Harness::start().await;
    let many = h.kv(&["put", "a", "b", "c"]).await;
    assert_eq!(
        (many.code, many.err.as_str()),
        (1, "Error! Too many arguments (expected 1 or 2, got 3)\n")
    );
    let slash = h.kv(&["put", "/foo", "x"]).await;
    assert_eq!(
        slash.err,
        "Error! Invalid key. Key must not begin with a '/': /foo\n"
    );
    let none = h.kv(&["put"]).await;
    assert_eq!(none.err, "Error! Missing KEY argument\n");
}

#[tokio::test]
async fn api_errors_surface_with_status_and_body() {
    let h = Harness::start().await;
    h.agent.state().fail_next = Some((500, "No cluster leader".into()));
    let put = h.kv(&["put", "k", "v"]).await;
    assert_eq!(put.code, 1);
    assert_eq!(
        put.err,
        "Error! Failed writing data: Unexpected response code: 500 (No cluster leader)\n"
    );
    h.agent.state().fail_next = Some((403, "Permission denied".into()));
    let get = h.kv(&["get", "k"]).await;
    assert_eq!(
        get.err,
        "Error querying Consul agent: Unexpected response code: 403 (Permission denied)\n"
    );
}

#[tokio::test]
async fn unreachable_agent_exits_1() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("-http-addr={}", listener.local_addr().unwrap());
    drop(listener);
    let get = invoke(&["kv", "get", &addr, "k"]).await;
    assert_eq!(get.code, 1);
    assert!(
        get.err
            .starts_with("Error querying Consul agent: Get \"http://127.0.0.1:"),
        "{}",
        get.err
    );
}

#[tokio::test]
async fn bad_address_is_reported() {
    let get = invoke(&["kv", "get", "-http-addr=unix:///tmp/sock", "k"]).await;
    assert_eq!(get.code, 1);
    assert!(
        get.err
            .starts_with("Error connecting to Consul agent: unix socket"),
        "{}",
        get.err
    );
}

#[tokio::test]
async fn environment_address_and_token_are_used() {
    let agent = FakeAgent::start().await.unwrap();
    agent.insert("k", b"v", 0);
    let addr = agent.addr().to_string();
    let env = [
        ("CONSUL_HTTP_ADDR", addr.as_str()),
        ("CONSUL_HTTP_TOKEN", "secret"),
    ];
    let get = invoke_with(&["kv", "get", "k"], b"", &env).await;
    assert_eq!(get.out, "v\n", "{}", get.err);
    assert_eq!(agent.state().last_token.as_deref(), Some("secret"));
}

#[tokio::test]
async fn delete_single_cas_and_recursive() {
    let h = Harness::start().await;
    for key in ["a/1", "a/2", "b"] {
        h.agent.insert(key, b"x", 0);
    }
    let gone = h.kv(&["delete", "missing"]).await;
    assert_eq!(
        (gone.code, gone.out.as_str()),
        (0, "Success! Deleted key: missing\n")
    );
    let index = h.agent.state().kv["b"].modify_index;
    let stale = format!("-modify-index={}", index + 1);
    let failed = h.kv(&["delete", "-cas", &stale, "b"]).await;
    assert_eq!(
        (failed.code, failed.err.as_str()),
        (1, "Error! Did not delete key b: CAS failed\n")
    );
    let exact = format!("-modify-index={index}");
    assert_eq!(
        h.kv(&["delete", "-cas", &exact, "b"]).await.out,
        "Success! Deleted key: b\n"
    );
    let tree = h.kv(&["delete", "-recurse", "a/"]).await;
    assert_eq!(tree.out, "Success! Deleted keys with prefix: a/\n");
    assert!(h.agent.state().kv.is_empty());
}

#[tokio::test]
async fn delete_flag_conflicts() {
    let h = Harness::start().await;
    let both = h
        .kv(&["delete", "-cas", "-modify-index=3", "-recurse", "a"])
        .await;
    assert_eq!(
        (both.code, both.err.as_str()),
        (1, "Cannot specify both -cas and -recurse!\n")
    );
    let no_cas = h.kv(&["delete", "-modify-index=3", "a"]).await;
    assert_eq!(no_cas.err, "Cannot specify -modify-index without -cas!\n");
    let no_key = h.kv(&["delete"]).await;
    assert_eq!(no_key.err, "Error! Missing KEY argument\n");
}

#[tokio::test]
async fn export_then_import_round_trips() {
    let source = Harness::start().await;
    source.agent.insert("redis/config/connections", b"5", 0);
    source.agent.insert("redis/config/dir/", b"", 7);
    source.agent.insert("other", b"x", 0);
    let export = source.kv(&["export", "redis/"]).await;
    assert_eq!(export.code, 0, "{}", export.err);
    assert_eq!(
        export.out,
        "[\n\t{\n\t\t\"key\": \"redis/config/connections\",\n\t\t\"flags\": 0,\n\t\t\"value\": \"NQ==\"\n\t},\n\
         \t{\n\t\t\"key\": \"redis/config/dir/\",\n\t\t\"flags\": 7,\n\t\t\"value\": \"\"\n\t}\n]\n"
    );

    let target = Harness::start().await;
    let import = target
        .kv_stdin(&["import", "-"], export.out.as_bytes())
        .await;
    assert_eq!(import.code, 0, "{}", import.err);
    assert_eq!(
        import.out,
        "Imported: redis/config/connections\nImported: redis/config/dir/\n"
    );
    assert_eq!(target.value("redis/config/connections").unwrap(), b"5");
    assert_eq!(target.agent.state().kv["redis/config/dir/"].flags, 7);

    let prefixed = target.kv(&["import", "-prefix=backup", &export.out]).await;
    assert_eq!(prefixed.code, 0, "{}", prefixed.err);
    assert!(target.value("backup/redis/config/connections").is_some());
}

#[tokio::test]
async fn export_of_empty_store_is_empty_array() {
    let h = Harness::start().await;
    let export = h.kv(&["export"]).await;
    assert_eq!((export.code, export.out.as_str()), (0, "[]\n"));
}

#[tokio::test]
async fn import_rejects_bad_json() {
    let h = Harness::start().await;
    let import = h.kv(&["import", "{nope"]).await;
    assert_eq!(import.code, 1);
    assert!(
        import.err.starts_with("Cannot unmarshal data: "),
        "{}",
        import.err
    );
    let missing = h.kv(&["import"]).await;
    assert_eq!(missing.err, "Error! Missing DATA argument\n");
}

#[tokio::test]
async fn kv_without_subcommand_prints_help_and_fails() {
    let outcome = invoke(&["kv"]).await;
    assert_eq!(outcome.code, 1);
    assert!(outcome.err.contains("Subcommands:"));
    let unknown = invoke(&["kv", "frob"]).await;
    assert_eq!(unknown.code, 1);
}
