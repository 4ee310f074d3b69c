//! ConfigMaps and Secrets as environment variables: `envFrom` with prefixes, `env` with
//! `valueFrom`, `optional`, the order in which later names win, and Kubernetes' error words.

use std::collections::BTreeMap;

use api::{
    Bytes, ConfigMap, Container, EnvFromSource, EnvVar, EnvVarSource, KeySelector, NameReference,
    ObjectMeta, Secret,
};
use kubelet::config_sources::{ConfigSources, resolve_env};

fn sources() -> ConfigSources {
    let mut s = ConfigSources {
        namespace: "default".into(),
        ..ConfigSources::default()
    };
    s.config_maps.insert(
        "web-config".into(),
        ConfigMap {
            metadata: ObjectMeta::namespaced("default", "web-config"),
            data: BTreeMap::from([
                ("LOG_LEVEL".into(), "debug".into()),
                ("PORT".into(), "8080".into()),
            ]),
            ..ConfigMap::default()
        },
    );
    s.secrets.insert(
        "db".into(),
        Secret {
            metadata: ObjectMeta::namespaced("default", "db"),
            data: BTreeMap::from([
                ("password".into(), Bytes(b"hunter2".to_vec())),
                ("user".into(), Bytes(b"admin".to_vec())),
            ]),
            ..Secret::default()
        },
    );
    s
}

fn literal(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    }
}

fn from_config_map(name: &str, map: &str, key: &str, optional: Option<bool>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            config_map_key_ref: Some(KeySelector {
                name: map.into(),
                key: key.into(),
                optional,
            }),
            ..EnvVarSource::default()
        }),
    }
}

fn from_secret(name: &str, secret: &str, key: &str, optional: Option<bool>) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: None,
        value_from: Some(EnvVarSource {
            secret_key_ref: Some(KeySelector {
                name: secret.into(),
                key: key.into(),
                optional,
            }),
            ..EnvVarSource::default()
        }),
    }
}

fn container(env: Vec<EnvVar>, env_from: Vec<EnvFromSource>) -> Container {
    Container {
        name: "app".into(),
        image: "fake/sleeper".into(),
        env,
        env_from,
        ..Container::default()
    }
}

fn all_of_config_map(name: &str, prefix: Option<&str>, optional: Option<bool>) -> EnvFromSource {
    EnvFromSource {
        prefix: prefix.map(String::from),
        config_map_ref: Some(NameReference {
            name: name.into(),
            optional,
        }),
        secret_ref: None,
    }
}

fn all_of_secret(name: &str, prefix: Option<&str>, optional: Option<bool>) -> EnvFromSource {
    EnvFromSource {
        prefix: prefix.map(String::from),
        config_map_ref: None,
        secret_ref: Some(NameReference {
            name: name.into(),
            optional,
        }),
    }
}

fn pairs(env: &[(String, String)]) -> Vec<(&str, &str)> {
    env.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

#[test]
fn value_from_reads_one_key_of_a_config_map_or_a_secret() {
    let c = container(
        vec![
            literal("MODE", "prod"),
            from_config_map("LEVEL", "web-config", "LOG_LEVEL", None),
            from_secret("DB_PASSWORD", "db", "password", None),
        ],
        vec![],
    );
    let env = resolve_env(&c, &sources()).unwrap();
    assert_eq!(
        pairs(&env),
        [
            ("MODE", "prod"),
            ("LEVEL", "debug"),
            ("DB_PASSWORD", "hunter2")
        ]
    );
}

#[test]
fn env_from_takes_every_key_with_the_prefix_and_env_overrides_it() {
    let c = container(
        vec![literal("CFG_PORT", "9090"), literal("EXTRA", "1")],
        vec![
            all_of_config_map("web-config", Some("CFG_"), None),
            all_of_secret("db", None, None),
        ],
    );
    let env = resolve_env(&c, &sources()).unwrap();
    assert_eq!(
        pairs(&env),
        [
            ("CFG_LOG_LEVEL", "debug"),
            ("CFG_PORT", "9090"),
            ("password", "hunter2"),
            ("user", "admin"),
            ("EXTRA", "1"),
        ]
    );
}

#[test]
fn a_missing_key_or_object_is_an_error_in_kubernetes_words() {
    let cases = [
        (
            container(
                vec![from_config_map("X", "web-config", "DB_URL", None)],
                vec![],
            ),
            "couldn't find key DB_URL in ConfigMap default/web-config",
        ),
        (
            container(vec![from_secret("X", "db", "token", Some(false))], vec![]),
            "couldn't find key token in Secret default/db",
        ),
        (
            container(vec![from_config_map("X", "nope", "k", None)], vec![]),
            "configmap \"nope\" not found",
        ),
        (
            container(vec![from_secret("X", "nope", "k", None)], vec![]),
            "secret \"nope\" not found",
        ),
        (
            container(vec![], vec![all_of_config_map("nope", None, None)]),
            "configmap \"nope\" not found",
        ),
        (
            container(vec![], vec![all_of_secret("nope", Some("P_"), None)]),
            "secret \"nope\" not found",
        ),
    ];
    for (c, expected) in cases {
        let error = resolve_env(&c, &sources()).unwrap_err();
        assert_eq!(error.to_string(), expected);
        assert!(!error.to_string().contains("hunter2"));
    }
}

#[test]
fn optional_references_that_are_missing_are_skipped() {
    let c = container(
        vec![
            from_config_map("A", "web-config", "DB_URL", Some(true)),
            from_secret("B", "nope", "k", Some(true)),
            literal("C", "kept"),
        ],
        vec![
            all_of_config_map("nope", None, Some(true)),
            all_of_secret("gone", None, Some(true)),
        ],
    );
    let env = resolve_env(&c, &sources()).unwrap();
    assert_eq!(pairs(&env), [("C", "kept")]);
}

#[test]
fn string_data_is_read_like_data() {
    let mut s = sources();
    s.secrets.get_mut("db").unwrap().string_data =
        BTreeMap::from([("token".to_string(), "t0k3n".to_string())]);
    let c = container(vec![from_secret("TOKEN", "db", "token", None)], vec![]);
    assert_eq!(pairs(&resolve_env(&c, &s).unwrap()), [("TOKEN", "t0k3n")]);
}
