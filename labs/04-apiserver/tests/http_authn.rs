//! Bearer tokens and the static token file: parsing, lookup, and errors that name the line.

use apiserver::http::{Authn, TokenAuthenticator, TokenFile, bearer_token};

#[test]
fn bearer_token_reads_the_token_after_the_scheme() {
    assert_eq!(bearer_token("Bearer abc123"), Some("abc123"));
    assert_eq!(
        bearer_token("bearer abc123"),
        Some("abc123"),
        "the scheme ignores case"
    );
    assert_eq!(bearer_token("BEARER   abc123  "), Some("abc123"));
}

#[test]
fn bearer_token_refuses_other_schemes_and_empty_tokens() {
    assert_eq!(bearer_token("Basic YWRtaW46YWRtaW4="), None);
    assert_eq!(bearer_token("Bearer"), None);
    assert_eq!(bearer_token("Bearer    "), None);
    assert_eq!(bearer_token("abc123"), None);
    assert_eq!(bearer_token("Bearer a b"), None);
    assert_eq!(bearer_token(""), None);
}

const FILE: &str = "t-admin,admin,uid-1,\"system:masters\"\n\
t-node,system:node:n1,uid-2,\"system:nodes,extra\"\n\
\n\
t-plain,alice,uid-3\n";

#[test]
fn the_token_file_maps_tokens_to_users_and_groups() {
    let auth = TokenAuthenticator::from_csv(FILE).unwrap();
    let node = auth.authenticate("t-node").unwrap();
    assert_eq!(node.name, "system:node:n1");
    assert_eq!(node.groups, vec!["system:nodes", "extra"]);
    assert!(auth.authenticate("t-plain").unwrap().groups.is_empty());
    assert_eq!(auth.authenticate("nope"), None);
    assert_eq!(auth.token_for("admin"), Some("t-admin"));
}

#[test]
fn authenticate_header_tells_anonymous_from_invalid() {
    let auth = TokenAuthenticator::from_csv(FILE).unwrap();
    assert_eq!(auth.authenticate_header(None), Authn::Anonymous);
    assert_eq!(
        auth.authenticate_header(Some("Bearer nope")),
        Authn::Invalid
    );
    assert_eq!(auth.authenticate_header(Some("Basic x")), Authn::Invalid);
    match auth.authenticate_header(Some("Bearer t-admin")) {
        Authn::User(user) => assert_eq!(user.name, "admin"),
        other => panic!("expected admin, got {other:?}"),
    }
}

#[test]
fn a_bad_token_file_is_refused_naming_the_line() {
    let cases = [
        (
            "a,b\n",
            "line 1: expected token,user,uid[,\"groups\"], found 2 column(s)",
        ),
        ("t,u,1\n,u2,2\n", "line 2: token: must not be empty"),
        ("t,,1\n", "line 1: user: must not be empty"),
        ("t,u,1,\"g1,g2\n", "line 1: unterminated quote"),
        ("t,u,1\nt,v,2\n", "line 2: token: duplicate token"),
    ];
    for (text, expected) in cases {
        let error = TokenAuthenticator::from_csv(text).unwrap_err().to_string();
        assert!(error.contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn a_missing_token_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.csv");
    let error = TokenAuthenticator::load(&path).unwrap_err().to_string();
    assert!(error.contains("missing.csv"), "{error}");
}

#[test]
fn node_tokens_are_added_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let file = TokenFile::new(dir.path().join("tokens.csv"));
    let auth = file.ensure_builtin().unwrap();
    assert_eq!(auth.entries().len(), 5);
    let t1 = file.node_token("n1").unwrap();
    let t2 = file.node_token("n2").unwrap();
    assert_ne!(t1, t2);
    assert_eq!(file.node_token("n1").unwrap(), t1);
    let auth = TokenAuthenticator::load(file.path()).unwrap();
    assert_eq!(auth.entries().len(), 7);
    let n2 = auth.authenticate(&t2).unwrap();
    assert_eq!(n2.name, "system:node:n2");
    assert_eq!(n2.groups, vec!["system:nodes"]);
    // Existing tokens survive: ensure_builtin never rewrites a file that exists.
    assert_eq!(file.ensure_builtin().unwrap().entries().len(), 7);
    let error = file.node_token("a,b").unwrap_err().to_string();
    assert!(error.contains("must not contain"), "{error}");
}
