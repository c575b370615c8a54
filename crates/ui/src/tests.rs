use super::*;

#[test]
fn app_routes_resolve_to_the_index() {
    for rel in [
        "",
        "index.html",
        "dc1/services",
        "dc1/services/web",
        "dc1/kv/web/",
        "dc1/nodes/n1",
    ] {
        assert_eq!(resolve(rel), Target::Index, "{rel}");
    }
}

#[test]
fn assets_resolve_with_their_content_types() {
    let Target::Asset(js) = resolve("assets/app.js") else {
        panic!("app.js is not an asset");
    };
    assert_eq!(js.content_type, "text/javascript; charset=utf-8");
    assert!(!js.body.is_empty());
    let Target::Asset(css) = resolve("assets/app.css") else {
        panic!("app.css is not an asset");
    };
    assert_eq!(css.content_type, "text/css; charset=utf-8");
    assert_eq!(resolve("assets/nope.js"), Target::NotFound);
    assert_eq!(resolve("assets/"), Target::NotFound);
}

#[test]
fn etags_are_quoted_and_differ_between_files() {
    let a = ASSETS[0].etag();
    assert!(
        a.starts_with('"') && a.ends_with('"') && a.len() == 18,
        "{a}"
    );
    assert_ne!(ASSETS[0].etag(), ASSETS[1].etag());
    assert_eq!(ASSETS[0].etag(), ASSETS[0].etag());
}

#[test]
fn index_carries_escaped_settings() {
    let html = index_html(&Settings {
        content_path: "/ui/".to_owned(),
        datacenter: "dc\"<1>".to_owned(),
    });
    assert!(html.contains("<base href=\"/ui/\">"), "{html}");
    assert!(html.contains("content=\"dc&quot;&lt;1&gt;\""), "{html}");
    assert!(!html.contains("{{"), "a placeholder is left: {html}");
}

#[test]
fn every_module_imported_by_the_app_is_embedded() {
    // An `import … from './x.js'` of a file not in ASSETS would 404 in the browser.
    for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
        let text = std::str::from_utf8(asset.body).expect("utf-8 script");
        for line in text.lines().filter(|l| l.starts_with("import ")) {
            let Some(start) = line.find("'./") else {
                continue;
            };
            let rest = &line[start + 3..];
            let name = &rest[..rest.find('\'').expect("closing quote")];
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{} imports {name}, which is not embedded",
                asset.name
            );
        }
    }
}

#[test]
fn nothing_is_loaded_from_outside_the_agent() {
    let index = std::str::from_utf8(assets::INDEX_HTML).expect("utf-8");
    let texts = ASSETS
        .iter()
        .filter_map(|a| std::str::from_utf8(a.body).ok())
        .chain([index]);
    for text in texts {
        // The SVG namespace is a name, not a download.
        let text = text.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for needle in ["http://", "https://", "@import", "url(//"] {
            assert!(!text.contains(needle), "an asset refers to {needle}");
        }
    }
}
