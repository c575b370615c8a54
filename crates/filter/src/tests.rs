use proptest::prelude::*;
use serde_json::{Value, json};

use crate::{Filter, FilterError};

const PREFIX: &str = "Failed to create boolean expression evaluator: ";

fn eval(expr: &str, value: &Value) -> bool {
    Filter::parse(expr)
        .unwrap_or_else(|e| panic!("{expr:?} should parse: {e}"))
        .matches(value)
        .unwrap_or_else(|e| panic!("{expr:?} should evaluate: {e}"))
}

fn eval_err(expr: &str, value: &Value) -> FilterError {
    Filter::parse(expr)
        .unwrap_or_else(|e| panic!("{expr:?} should parse: {e}"))
        .matches(value)
        .expect_err("evaluation should fail")
}

fn parse_err(expr: &str) -> FilterError {
    Filter::parse(expr).expect_err(&format!("{expr:?} should not parse"))
}

/// A `/catalog/service/<s>` element.
fn service_node() -> Value {
    json!({
        "ID": "40e4a748-2192-161a-0510-9bf59fe950b5",
        "Node": "foo",
        "Address": "10.1.10.12",
        "Datacenter": "dc1",
        "TaggedAddresses": {"lan": "10.1.10.12", "wan": "10.1.10.12"},
        "NodeMeta": {"os": "linux"},
        "ServiceID": "web-1",
        "ServiceName": "web-frontend",
        "ServiceKind": "",
        "ServiceTags": ["primary", "v1"],
        "ServiceAddress": "",
        "ServiceMeta": {"env": "qa", "version": "1.2"},
        "ServicePort": 8080,
        "ServiceEnableTagOverride": false,
        "ServiceWeights": {"Passing": 1, "Warning": 1},
        "Meta": {"env": "qa"},
        "Ratio": 0.5,
        "CreateIndex": 10,
        "ModifyIndex": 12
    })
}

/// A `/health/service/<s>` element.
fn health_service(statuses: &[&str]) -> Value {
    let checks: Vec<Value> = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| {
            json!({
                "Node": "foo",
                "CheckID": format!("check-{i}"),
                "Name": "check",
                "Status": status,
                "Output": "",
                "ServiceTags": ["v1"],
            })
        })
        .collect();
    json!({
        "Node": {"Node": "foo", "Address": "10.0.0.1", "Meta": {"os": "linux"}},
        "Service": {"ID": "web-1", "Service": "web", "Tags": ["v1", "http"], "Port": 80,
                    "Meta": {}, "EnableTagOverride": false},
        "Checks": checks,
    })
}

// ---- the spec's examples -------------------------------------------------------------

#[test]
fn spec_examples_match_a_catalog_service_node() {
    let node = service_node();
    assert!(eval(r#"Meta.env == "qa""#, &node));
    assert!(eval(r#""primary" in ServiceTags"#, &node));
    assert!(eval(r#"NodeMeta.os == "linux""#, &node));
    assert!(eval(r#"ServiceName matches "^web-""#, &node));
    assert!(!eval(r#"ServiceName matches "^api-""#, &node));
}

#[test]
fn spec_example_over_health_service_checks() {
    let expr = r#"Service.Tags contains "v1" and Checks.Status != "critical""#;
    assert!(eval(expr, &health_service(&["passing", "passing"])));
    assert!(!eval(expr, &health_service(&["passing", "critical"])));
    assert!(eval(expr, &health_service(&[])));
}

#[test]
fn selecting_into_a_list_of_checks_matches_if_any_matches() {
    assert!(eval(
        r#"Checks.Status == "critical""#,
        &health_service(&["passing", "critical"])
    ));
    assert!(!eval(
        r#"Checks.Status == "critical""#,
        &health_service(&["passing", "warning"])
    ));
    assert!(!eval(
        r#"Checks.Status == "critical""#,
        &health_service(&[])
    ));
    assert!(eval(
        r#"Checks.CheckID == "check-1""#,
        &health_service(&["a", "b"])
    ));
    // A list reached through a list: any check's tags.
    assert!(eval(
        r#""v1" in Checks.ServiceTags"#,
        &health_service(&["passing"])
    ));
    assert!(!eval(
        r#""v2" in Checks.ServiceTags"#,
        &health_service(&["passing"])
    ));
    assert!(eval(
        r#"Checks.Output is empty"#,
        &health_service(&["passing"])
    ));
}

#[test]
fn negated_operators_over_lists_are_the_negation_of_any() {
    let mixed = health_service(&["passing", "critical"]);
    assert_eq!(
        eval(r#"Checks.Status != "critical""#, &mixed),
        eval(r#"not Checks.Status == "critical""#, &mixed)
    );
    assert!(!eval(r#"Checks.Status != "critical""#, &mixed));
    assert!(!eval(r#"Checks.Status not matches "^crit""#, &mixed));
    assert!(eval(r#"Checks.Status not matches "^warn""#, &mixed));
}

// ---- operators on each JSON type ------------------------------------------------------

#[test]
fn string_operators() {
    let node = service_node();
    assert!(eval(r#"Node == "foo""#, &node));
    assert!(!eval(r#"Node != "foo""#, &node));
    assert!(eval(r#"Node != "bar""#, &node));
    assert!(eval(r#"ServiceName contains "front""#, &node));
    assert!(eval(r#"ServiceName not contains "back""#, &node));
    assert!(eval(r#""front" in ServiceName"#, &node));
    assert!(eval(r#""back" not in ServiceName"#, &node));
    assert!(eval(r#"ServiceName matches "end$""#, &node));
    assert!(eval(r#"ServiceName not matches "^api""#, &node));
    assert!(eval("ServiceKind is empty", &node));
    assert!(eval("ServiceName is not empty", &node));
    assert!(!eval("ServiceName is empty", &node));
    // Numbers and bare words compare as their text against a string field.
    assert!(eval("Node == foo", &node));
    assert!(eval(r#"Address matches `^10\.1\.`"#, &node));
}

#[test]
fn number_operators_coerce_the_value() {
    let node = service_node();
    assert!(eval("ServicePort == 8080", &node));
    assert!(eval(r#"ServicePort == "8080""#, &node));
    assert!(eval("ServicePort != 80", &node));
    assert!(!eval("ServicePort == 8080.5", &node));
    assert!(eval("ServicePort == 8080.0", &node));
    assert!(eval("Ratio == 0.5", &node));
    assert!(eval("ServiceWeights.Passing == 1", &node));
    assert!(eval("-1 not in ServiceTags", &node));
    let err = eval_err(r#"ServicePort == "http""#, &node);
    assert!(
        matches!(err, FilterError::Coerce { kind: "number", .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with(PREFIX));
    let err = eval_err(r#"ServicePort contains "80""#, &node);
    assert!(
        matches!(err, FilterError::UnsupportedOperator { .. }),
        "{err}"
    );
    assert!(matches!(
        eval_err("ServicePort is empty", &node),
        FilterError::UnsupportedOperator { .. }
    ));
    assert!(matches!(
        eval_err(r#"ServicePort matches "8""#, &node),
        FilterError::UnsupportedOperator { .. }
    ));
}

#[test]
fn bool_operators_accept_go_spellings() {
    let node = service_node();
    assert!(eval("ServiceEnableTagOverride == false", &node));
    assert!(eval(r#"ServiceEnableTagOverride == "false""#, &node));
    assert!(eval("ServiceEnableTagOverride != true", &node));
    assert!(eval("ServiceEnableTagOverride == F", &node));
    assert!(eval("ServiceEnableTagOverride == 0", &node));
    assert!(matches!(
        eval_err("ServiceEnableTagOverride == yes", &node),
        FilterError::Coerce { kind: "bool", .. }
    ));
}

#[test]
fn list_operators_are_membership() {
    let node = service_node();
    assert!(eval(r#"ServiceTags contains "v1""#, &node));
    assert!(!eval(r#"ServiceTags contains "v2""#, &node));
    assert!(eval(r#""v2" not in ServiceTags"#, &node));
    assert!(eval(r#"ServiceTags not contains "v2""#, &node));
    // Membership, not substring.
    assert!(!eval(r#""prim" in ServiceTags"#, &node));
    assert!(eval("ServiceTags is not empty", &node));
    assert!(eval("Empty is empty", &json!({"Empty": []})));
    assert!(eval(r#"ServiceTags matches "^v\\d""#, &node));
    assert!(eval("1 in Ports", &json!({"Ports": [1, 2]})));
    assert!(eval("true in Flags", &json!({"Flags": [true]})));
    assert!(matches!(
        eval_err(r#"ServiceTags == "v1""#, &node),
        FilterError::UnsupportedOperator { .. }
    ));
}

#[test]
fn map_operators_test_keys() {
    let node = service_node();
    assert!(eval(r#""env" in ServiceMeta"#, &node));
    assert!(eval(r#"ServiceMeta contains "version""#, &node));
    assert!(
        !eval(r#""qa" in ServiceMeta"#, &node),
        "values are not keys"
    );
    assert!(eval(r#""team" not in ServiceMeta"#, &node));
    assert!(eval("TaggedAddresses is not empty", &node));
    assert!(eval("Service.Meta is empty", &health_service(&[])));
    assert!(matches!(
        eval_err(r#"ServiceMeta == "x""#, &node),
        FilterError::UnsupportedOperator { .. }
    ));
}

#[test]
fn map_selectors_by_dot_and_bracket() {
    let node = service_node();
    assert!(eval(r#"ServiceMeta["env"] == "qa""#, &node));
    assert!(eval(r#"ServiceMeta.version == "1.2""#, &node));
    assert!(eval(r#"TaggedAddresses["wan"] == "10.1.10.12""#, &node));
    let odd = json!({"Meta": {"my-key.x": "v", "a b": "c"}});
    assert!(eval(r#"Meta["my-key.x"] == "v""#, &odd));
    assert!(eval(r#"Meta[ "a b" ] == `c`"#, &odd));
    assert!(eval(r#"Node.Meta.os == "linux""#, &health_service(&[])));
}

#[test]
fn missing_map_key_selects_the_empty_string() {
    let node = service_node();
    assert!(!eval(r#"Meta.team == "core""#, &node));
    assert!(eval(r#"Meta.team != "core""#, &node));
    assert!(eval(r#"Meta.team == """#, &node));
    assert!(eval("Meta.team is empty", &node));
    assert!(!eval(r#"Meta.team contains "a""#, &node));
    assert!(!eval(r#"Meta.team matches ".""#, &node));
    assert!(eval(r#"Meta["team"].deeper is empty"#, &node));
    // A null map (Go's nil map) behaves the same.
    assert!(eval(r#"Meta.env != "qa""#, &json!({"Meta": null})));
}

#[test]
fn unknown_top_level_selector_is_an_error() {
    let node = service_node();
    let err = eval_err(r#"Bogus == "x""#, &node);
    assert_eq!(
        err.to_string(),
        format!(r#"{PREFIX}Selector "Bogus" is not valid"#)
    );
    // Reported even where `or` would not reach it.
    let err = eval_err(r#"Node == "foo" or Bogus.Field == "x""#, &node);
    assert_eq!(
        err.to_string(),
        format!(r#"{PREFIX}Selector "Bogus.Field" is not valid"#)
    );
    // Selecting into a scalar is no better.
    assert!(matches!(
        eval_err(r#"Node.Name == "x""#, &node),
        FilterError::UnknownSelector { .. }
    ));
}

// ---- boolean structure --------------------------------------------------------------

#[test]
fn precedence_is_not_then_and_then_or() {
    let v = json!({"A": "1", "B": "0", "C": "1"});
    // and binds tighter than or: A or (B and C)
    assert!(eval(r#"A == "1" or B == "1" and C == "0""#, &v));
    assert!(!eval(r#"(A == "1" or B == "1") and C == "0""#, &v));
    // not binds tighter than and: (not A) and C
    assert!(!eval(r#"not A == "1" and C == "1""#, &v));
    assert!(eval(r#"not (A == "1" and B == "1")"#, &v));
    assert!(eval(r#"not not A == "1""#, &v));
    assert!(eval(r#"((A == "1"))"#, &v));
    assert!(eval("A==\"1\"\n\tand\tC==\"1\"", &v));
}

// ---- literals -----------------------------------------------------------------------

#[test]
fn string_literals_resolve_escapes() {
    let v = json!({"S": "a\"b\\c\nd\té", "R": r"a\nb"});
    assert!(eval(r#"S == "a\"b\\c\nd\té""#, &v));
    assert!(eval(r#"S == "a\x22b\\c\012d\u0009\u00e9""#, &v));
    assert!(eval(r#"S == "a\"b\\c\nd\t\U000000e9""#, &v));
    assert!(eval(r#"R == `a\nb`"#, &v));
    assert!(!eval(r#"R == "a\nb""#, &v));
}

// ---- errors -------------------------------------------------------------------------

#[test]
fn syntax_errors_carry_consuls_prefix_and_position() {
    for expr in [
        "",
        "Node",
        "Node ==",
        r#"Node = "x""#,
        r#"Node == "x" and"#,
        r#"Node == "x" or or Node == "y""#,
        r#"(Node == "x""#,
        r#"Node == "x")"#,
        r#"Node === "x""#,
        r#"Node == "unterminated"#,
        "Node == `unterminated",
        r#"Node == "bad \q escape""#,
        r#"Node == "\xff""#,
        r#"Node is "x""#,
        "Node is not full",
        r#"Node not == "x""#,
        r#"Meta . env == "x""#,
        r#"Meta. env == "x""#,
        r#"Meta.["x"] == "y""#,
        r#"Meta[env] == "x""#,
        r#"Meta["env" == "x""#,
        r#""x" in"#,
        r#""x" == Node"#,
        "Address == 10.0.0.1",
        "Port == 1.",
        "Port == -",
        "Port == 12abc",
        r#"and == "x""#,
        r#"Node == "x" Node == "y""#,
        r#"Node ~ "x""#,
        "Node == \"a\nb\"",
    ] {
        let err = parse_err(expr);
        assert!(matches!(err, FilterError::Syntax { .. }), "{expr:?}: {err}");
        assert!(err.to_string().starts_with(PREFIX), "{expr:?}: {err}");
    }
}

#[test]
fn syntax_error_reports_the_column() {
    let err = parse_err(r#"Node == "x" and"#);
    let FilterError::Syntax { offset, column, .. } = err else {
        panic!("expected a syntax error, got {err}");
    };
    assert_eq!((offset, column), (15, 16));
}

#[test]
fn invalid_regex_is_a_parse_error() {
    let err = parse_err(r#"ServiceName matches "([a-z""#);
    assert!(matches!(err, FilterError::InvalidRegex { .. }), "{err}");
    assert!(err.to_string().starts_with(PREFIX), "{err}");
}

#[test]
fn deep_nesting_is_rejected_not_a_stack_overflow() {
    let expr = format!("{}Node == \"x\"{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(matches!(parse_err(&expr), FilterError::Syntax { .. }));
    let expr = format!("{}Node == \"x\"", "not ".repeat(10_000));
    assert!(matches!(parse_err(&expr), FilterError::Syntax { .. }));
    let ok = format!("{}Node == \"x\"{}", "(".repeat(50), ")".repeat(50));
    assert!(eval(&ok, &json!({"Node": "x"})));
}

// ---- apply --------------------------------------------------------------------------

#[derive(serde::Serialize, Debug, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Member {
    name: String,
    port: u16,
    tags: std::collections::BTreeMap<String, String>,
}

fn member(name: &str, port: u16, role: &str) -> Member {
    Member {
        name: name.to_owned(),
        port,
        tags: [("role".to_owned(), role.to_owned())].into(),
    }
}

#[test]
fn apply_keeps_matching_elements_in_order() {
    let filter: Filter = r#"Tags.role == "consul" and Port != 8302"#.parse().unwrap();
    let kept = filter
        .apply(vec![
            member("a", 8301, "consul"),
            member("b", 8301, "node"),
            member("c", 8302, "consul"),
            member("d", 8301, "consul"),
        ])
        .unwrap();
    let names: Vec<&str> = kept.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["a", "d"]);
    assert_eq!(
        filter.expression(),
        r#"Tags.role == "consul" and Port != 8302"#
    );
}

#[test]
fn apply_reports_an_unknown_selector() {
    let filter = Filter::parse(r#"Bogus == "x""#).unwrap();
    let err = filter.apply(vec![member("a", 1, "x")]).unwrap_err();
    assert!(matches!(err, FilterError::UnknownSelector { .. }));
    // Nothing to look at, nothing to complain about.
    assert!(filter.apply(Vec::<Member>::new()).unwrap().is_empty());
}

#[test]
fn compiled_filter_is_reusable_across_clones() {
    let filter = Filter::parse(r#"Name matches "^w""#).unwrap();
    let copy = filter.clone();
    assert!(copy.matches(&json!({"Name": "web"})).unwrap());
    assert!(!filter.matches(&json!({"Name": "api"})).unwrap());
}

// ---- properties ---------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parser_never_panics_on_arbitrary_input(input in "\\PC*") {
        let _ = Filter::parse(&input);
    }

    #[test]
    fn parser_never_panics_on_grammar_shaped_input(
        parts in proptest::collection::vec(
            prop_oneof![
                Just("Node"), Just("Meta"), Just("."), Just("["), Just("]"), Just("("), Just(")"),
                Just("=="), Just("!="), Just("and"), Just("or"), Just("not"), Just("in"),
                Just("is"), Just("empty"), Just("contains"), Just("matches"), Just("\"x\""),
                Just("`y`"), Just("12"), Just("-1.5"), Just(" "), Just("\"\\"), Just("é"),
            ],
            0..24,
        )
    ) {
        let input = parts.concat();
        if let Ok(filter) = Filter::parse(&input) {
            let _ = filter.matches(&service_node());
            let _ = filter.matches(&json!({"Node": ["a", {"Meta": 1}], "Meta": null}));
        }
    }

    #[test]
    fn string_literals_round_trip(s in "\\PC*") {
        let quoted = serde_json::to_string(&s).unwrap();
        let filter = Filter::parse(&format!("S == {quoted}")).unwrap();
        let value = json!({"S": s});
        let matched = filter.matches(&value).unwrap();
        prop_assert!(matched);
    }

    #[test]
    fn negation_is_consistent(a in "[ab]{0,2}", tags in proptest::collection::vec("[ab]{0,2}", 0..4)) {
        let v = json!({"A": a, "Tags": tags});
        for (pos, neg) in [
            (r#"A == "a""#, r#"A != "a""#),
            (r#""a" in Tags"#, r#""a" not in Tags"#),
            (r#"A contains "b""#, r#"A not contains "b""#),
            (r#"Tags matches "^a""#, r#"Tags not matches "^a""#),
            ("Tags is empty", "Tags is not empty"),
        ] {
            let p = Filter::parse(pos).unwrap().matches(&v).unwrap();
            let n = Filter::parse(neg).unwrap().matches(&v).unwrap();
            let not_p = Filter::parse(&format!("not {pos}")).unwrap().matches(&v).unwrap();
            prop_assert_eq!(p, !n);
            prop_assert_eq!(n, not_p);
        }
    }
}

#[test]
fn bare_words_are_values_on_either_side() {
    let v = json!({"Status": "passing", "Tags": ["passing", "v1"]});
    assert!(eval("Status == passing", &v));
    assert!(eval("passing in Tags", &v));
    assert!(eval("warning not in Tags", &v));
    assert!(eval("Tags contains v1", &v));
    assert!(eval("Status matches pass", &v));
}

#[test]
fn filter_can_be_shared_between_tasks() {
    fn assert_send_sync<T: Send + Sync + 'static>() {}
    assert_send_sync::<Filter>();
    assert_send_sync::<FilterError>();
}
