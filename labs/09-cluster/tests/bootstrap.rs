//! The pieces of `skiff join` that need no cluster: the bootstrap token in the token file,
//! the credential request's body, the issuer's refusal of a taken name, and the flags.

use apiserver::http::{TokenAuthenticator, TokenFile};
use skiff::bootstrap::{
    IssueError, ensure_bootstrap_token, issue, parse_request, validate_node_name,
};

#[test]
fn the_bootstrap_token_is_made_once_and_found_again() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenFile::new(dir.path().join("tokens.csv"));
    let token = ensure_bootstrap_token(&tokens).unwrap();
    let (id, secret) = token.split_once('.').unwrap();
    assert_eq!((id.len(), secret.len()), (6, 16), "{token}");
    assert!(token.chars().all(|c| c == '.' || c.is_ascii_hexdigit()));
    // A second `skiff up` on the same data dir prints the same join command.
    assert_eq!(ensure_bootstrap_token(&tokens).unwrap(), token);
    let auth = TokenAuthenticator::load(tokens.path()).unwrap();
    let user = auth.authenticate(&token).unwrap();
    assert_eq!(user.name, format!("system:bootstrap:{id}"));
    assert_eq!(user.groups, ["system:bootstrappers"]);
    // The built-in identities are there too: the file is the API server's.
    assert!(auth.token_for("admin").is_some());
}

#[test]
fn a_credential_is_issued_once_per_node_name() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = TokenFile::new(dir.path().join("tokens.csv"));
    ensure_bootstrap_token(&tokens).unwrap();
    let mut handed = None;
    let token = issue(&tokens, "n4", |auth| handed = Some(auth)).unwrap();
    // The running server gets the new token at once, and the file keeps it for a restart.
    let handed = handed.expect("the running server's tokens are replaced");
    assert_eq!(handed.authenticate(&token).unwrap().name, "system:node:n4");
    let reloaded = TokenAuthenticator::load(tokens.path()).unwrap();
    let user = reloaded.authenticate(&token).unwrap();
    assert_eq!(
        (user.name.as_str(), user.groups.as_slice()),
        ("system:node:n4", &["system:nodes".to_string()][..])
    );
    // The same name again (a second joiner, or an attacker with the bootstrap token): refused.
    let again = issue(&tokens, "n4", |_| panic!("nothing changes"));
    assert!(
        matches!(&again, Err(IssueError::Taken(m)) if m.contains("\"n4\" already has an identity")),
        "{again:?}"
    );
    // A node made by `skiff up` has its token from the start: refused as well.
    tokens.node_token("n1").unwrap();
    assert!(matches!(
        issue(&tokens, "n1", |_| {}),
        Err(IssueError::Taken(_))
    ));
}

#[test]
fn a_credential_request_names_a_valid_node() {
    let ok = br#"{"apiVersion":"skiff.dev/v1","kind":"NodeCredential","spec":{"nodeName":"n4"}}"#;
    assert_eq!(parse_request(ok).unwrap(), "n4");
    let cases: [(&[u8], &str); 5] = [
        (b"not json", "the body is not JSON"),
        (br#"{"spec":{"nodeName":"n4"}}"#, "kind: required"),
        (
            br#"{"kind":"Pod","spec":{"nodeName":"n4"}}"#,
            "kind: \"Pod\" is not NodeCredential",
        ),
        (
            br#"{"kind":"NodeCredential","spec":{}}"#,
            "spec.nodeName: required",
        ),
        (
            br#"{"kind":"NodeCredential","spec":{"nodeName":"N/4"}}"#,
            "spec.nodeName: \"N/4\" is not a valid node name",
        ),
    ];
    for (body, expected) in cases {
        let error = parse_request(body).unwrap_err();
        assert!(error.starts_with(expected), "{error}");
    }
}

#[test]
fn node_names_are_dns_labels() {
    for good in ["n1", "worker-7", "a", &"x".repeat(63)] {
        assert_eq!(validate_node_name(good), Ok(()), "{good}");
    }
    for bad in [
        "",
        "N1",
        "-n1",
        "n1-",
        "n_1",
        "n.1",
        "n 1",
        "../n1",
        &"x".repeat(64),
    ] {
        assert!(validate_node_name(bad).is_err(), "{bad:?} must be refused");
    }
}

#[test]
fn join_flags_are_checked_and_name_the_flag() {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let base = [
        "--api",
        "https://127.0.0.1:6443",
        "--token",
        "abcdef.0123456789abcdef",
        "--ca-file",
        "/tmp/ca.crt",
        "--node",
    ];
    let with = |node: &str, extra: &[&str]| {
        let mut all = args(&base);
        all.push(node.to_string());
        all.extend(args(extra));
        skiff::join::parse(&all)
    };
    let parsed = with("n4", &[]).unwrap().unwrap();
    assert_eq!(parsed.node_index, 3, "n4 is node number 3, like skiff up's");
    assert_eq!(parsed.data_dir, std::path::PathBuf::from("./skiff-node-n4"));
    assert_eq!(
        with("edge", &["--node-index", "7"])
            .unwrap()
            .unwrap()
            .node_index,
        7
    );
    let error = |node: &str, extra: &[&str]| with(node, extra).unwrap_err();
    assert_eq!(
        error("edge", &[]),
        "--node-index: required, since \"edge\" is not of the form nK"
    );
    assert!(error("Edge", &[]).starts_with("--node: \"Edge\" is not a valid node name"));
    assert_eq!(
        error("n4", &["--node-index", "89"]),
        "--node-index: 89 is more than 88"
    );
    let mut no_https = args(&base);
    no_https[1] = "http://127.0.0.1:6443".into();
    no_https.push("n4".into());
    assert_eq!(
        skiff::join::parse(&no_https).unwrap_err(),
        "--api: \"http://127.0.0.1:6443\" must start with https://"
    );
    assert_eq!(
        skiff::join::parse(&args(&["--node", "n4"])).unwrap_err(),
        "--api: required (the API server's URL)"
    );
    assert!(skiff::join::parse(&args(&["--help"])).unwrap().is_none());
}
