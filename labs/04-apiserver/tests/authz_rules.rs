//! Does one rule cover one request? Verbs, API groups, resources with `*` and subresources,
//! and resource names, one question at a time.

use apiserver::auth::{Attributes, Rule};
use apiserver::request::User;

fn bob() -> User {
    User::new("bob", &["system:authenticated"])
}

#[test]
fn verbs_must_be_listed_or_starred() {
    let user = bob();
    let read = Rule::new(&["get", "list"], &[""], &["pods"]);
    assert!(
        read.matches(
            &Attributes::new(&user, "get", "pods")
                .ns("default")
                .named("web")
        )
    );
    assert!(read.matches(&Attributes::new(&user, "list", "pods").ns("default")));
    assert!(!read.matches(&Attributes::new(&user, "watch", "pods").ns("default")));
    assert!(
        !read.matches(
            &Attributes::new(&user, "delete", "pods")
                .ns("default")
                .named("web")
        )
    );
    let any = Rule::new(&["*"], &[""], &["pods"]);
    assert!(any.matches(&Attributes::new(&user, "deletecollection", "pods").ns("default")));
}

#[test]
fn the_api_group_must_match_and_core_is_the_empty_string() {
    let user = bob();
    let core = Rule::new(&["get"], &[""], &["deployments"]);
    let apps = Rule::new(&["get"], &["apps"], &["deployments"]);
    let all = Rule::new(&["get"], &["*"], &["deployments"]);
    let in_apps = Attributes::new(&user, "get", "deployments")
        .group("apps")
        .ns("default");
    assert!(!core.matches(&in_apps));
    assert!(apps.matches(&in_apps));
    assert!(all.matches(&in_apps));
    let in_core = Attributes::new(&user, "get", "pods").ns("default");
    assert!(!Rule::new(&["get"], &["apps"], &["pods"]).matches(&in_core));
    assert!(Rule::new(&["get"], &["*"], &["pods"]).matches(&in_core));
}

#[test]
fn a_resource_rule_does_not_cover_its_subresources() {
    let user = bob();
    let pods = Rule::new(&["update"], &[""], &["pods"]);
    let status = Attributes::new(&user, "update", "pods")
        .ns("default")
        .named("web")
        .subresource("status");
    assert!(!pods.matches(&status));
    assert!(Rule::new(&["update"], &[""], &["pods/status"]).matches(&status));
    // ...and a subresource rule does not cover the resource.
    let spec = Attributes::new(&user, "update", "pods")
        .ns("default")
        .named("web");
    assert!(!Rule::new(&["update"], &[""], &["pods/status"]).matches(&spec));
    // Another resource's subresource of the same name is another thing.
    assert!(!Rule::new(&["update"], &[""], &["nodes/status"]).matches(&status));
}

#[test]
fn star_covers_every_resource_and_every_subresource() {
    let user = bob();
    let star = Rule::new(&["get"], &["*"], &["*"]);
    assert!(
        star.matches(
            &Attributes::new(&user, "get", "pods")
                .ns("default")
                .named("web")
        )
    );
    assert!(
        star.matches(
            &Attributes::new(&user, "get", "pods")
                .ns("default")
                .named("web")
                .subresource("log")
        )
    );
    assert!(
        star.matches(
            &Attributes::new(&user, "get", "nodes")
                .named("n1")
                .subresource("status")
        )
    );
}

#[test]
fn star_slash_sub_covers_that_subresource_of_every_resource() {
    let user = bob();
    let scale = Rule::new(&["update"], &["apps"], &["*/scale"]);
    let deploy_scale = Attributes::new(&user, "update", "deployments")
        .group("apps")
        .ns("default")
        .named("web")
        .subresource("scale");
    assert!(scale.matches(&deploy_scale));
    assert!(scale.matches(&Attributes {
        resource: "replicasets",
        ..deploy_scale
    }));
    assert!(!scale.matches(&Attributes {
        subresource: "status",
        ..deploy_scale
    }));
    assert!(!scale.matches(&Attributes {
        subresource: "",
        ..deploy_scale
    }));
    // A subresource whose name merely ends the same way is not the same subresource.
    assert!(!scale.matches(&Attributes {
        subresource: "rescale",
        ..deploy_scale
    }));
}

#[test]
fn resource_names_restrict_to_those_objects() {
    let user = bob();
    let only_app =
        Rule::new(&["get", "update", "list"], &[""], &["configmaps"]).named(&["app", "db"]);
    let get = |name| {
        Attributes::new(&user, "get", "configmaps")
            .ns("dev")
            .named(name)
    };
    assert!(only_app.matches(&get("app")));
    assert!(only_app.matches(&get("db")));
    assert!(!only_app.matches(&get("other")));
    // A list names no object, so a rule with names never allows it.
    assert!(!only_app.matches(&Attributes::new(&user, "list", "configmaps").ns("dev")));
}

#[test]
fn the_rule_ignores_who_and_where() {
    // Who and which namespace are the bindings' business, not the rule's.
    let rule = Rule::new(&["get"], &[""], &["pods"]);
    for user in [
        bob(),
        User::anonymous(),
        User::new("system:node:n1", &["system:nodes"]),
    ] {
        for ns in ["", "default", "kube-system"] {
            assert!(rule.matches(&Attributes::new(&user, "get", "pods").ns(ns).named("web")));
        }
    }
}
