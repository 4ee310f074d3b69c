//! Graded tests for `objects-dns-label`, and the other naming rules.

use api::validation::names::{
    config_map_key, dns1035_label, dns1123_label, dns1123_subdomain, label_value, port_name,
    qualified_name,
};

const LABEL_RULE: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

#[test]
fn accepts_dns_labels() {
    for name in ["web", "a", "123-abc", "my-name", &"a".repeat(63)] {
        assert_eq!(dns1123_label(name), Vec::<String>::new(), "{name:?}");
    }
}

#[test]
fn rejects_dns_labels_with_the_rule_they_break() {
    for name in ["Web", "my_name", "-web", "web-", "my.name", "", "wéb"] {
        assert_eq!(
            dns1123_label(name),
            vec![LABEL_RULE.to_string()],
            "{name:?}"
        );
    }
}

#[test]
fn reports_length_and_shape_together() {
    let long_and_upper = format!("A{}", "a".repeat(63));
    assert_eq!(
        dns1123_label(&long_and_upper),
        vec![
            "must be no more than 63 characters".to_string(),
            LABEL_RULE.to_string()
        ]
    );
    assert_eq!(
        dns1123_label(&"a".repeat(64)),
        vec!["must be no more than 63 characters".to_string()]
    );
}

#[test]
fn subdomains_allow_dots_between_labels() {
    assert!(dns1123_subdomain("web.shop.example.com").is_empty());
    assert!(!dns1123_subdomain("web..shop").is_empty());
    assert!(!dns1123_subdomain(".web").is_empty());
    assert!(!dns1123_subdomain(&"a".repeat(254)).is_empty());
}

#[test]
fn dns1035_labels_start_with_a_letter() {
    assert!(dns1035_label("web-1").is_empty());
    assert_eq!(
        dns1035_label("1web"),
        vec!["a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')".to_string()]
    );
}

#[test]
fn qualified_names_take_an_optional_prefix() {
    assert!(qualified_name("app.kubernetes.io/name").is_empty());
    assert!(qualified_name("MyName").is_empty());
    assert_eq!(
        qualified_name("/name"),
        vec!["prefix part must be non-empty".to_string()]
    );
    assert_eq!(qualified_name("a/b/c").len(), 1);
    assert!(
        qualified_name("Example.com/name")[0]
            .starts_with("prefix part a lowercase RFC 1123 subdomain")
    );
    assert!(qualified_name("example.com/")[0].starts_with("name part must be non-empty"));
}

#[test]
fn label_values_may_be_empty() {
    assert!(label_value("").is_empty());
    assert!(label_value("v1.2_beta-3").is_empty());
    assert!(label_value("web server")[0].starts_with("a valid label must be an empty string"));
}

#[test]
fn port_names_follow_iana() {
    assert!(port_name("http").is_empty());
    assert_eq!(
        port_name("http-port-number-one"),
        vec!["must be no more than 15 characters".to_string()]
    );
    assert_eq!(
        port_name("8080"),
        vec!["must contain at least one letter (a-z)".to_string()]
    );
    assert_eq!(
        port_name("-a--b"),
        vec![
            "must not contain consecutive hyphens".to_string(),
            "must not begin or end with a hyphen".to_string()
        ]
    );
}

#[test]
fn config_keys_are_file_names() {
    assert!(config_map_key("web.toml").is_empty());
    assert_eq!(config_map_key(".."), vec!["must not be '..'".to_string()]);
    assert_eq!(
        config_map_key("..hidden"),
        vec!["must not start with '..'".to_string()]
    );
    assert!(config_map_key("a b")[0].starts_with("a valid config key must consist of"));
}
