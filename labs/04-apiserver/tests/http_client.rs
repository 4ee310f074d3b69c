//! `HttpApi`, the `ApiClient` over HTTPS, against the real core: every verb, the watch stream,
//! and each `Status` mapped back to the same `ApiError` the in-memory API returns.

mod wire;

use api::client::{ApiClient, ApiError, DeleteOptions, WatchEventType};
use api::{Container, LabelSelector, ObjectMeta, Pod, PodPhase, PodSpec, PodStatus};
use apiserver::client::HttpApi;
use wire::cluster::Cluster;

fn pod(name: &str, app: &str) -> Pod {
    let mut metadata = ObjectMeta::namespaced("default", name);
    metadata.labels.insert("app".to_string(), app.to_string());
    Pod {
        metadata,
        spec: PodSpec {
            containers: vec![Container {
                name: "app".to_string(),
                image: "skiff/sleep".to_string(),
                ..Container::default()
            }],
            ..PodSpec::default()
        },
        ..Pod::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_verb_round_trips() {
    let cluster = Cluster::start().await;
    let api = &cluster.api;
    let created = api.create(pod("a", "web")).await.unwrap();
    assert!(created.metadata.uid.is_some());
    api.create(pod("b", "db")).await.unwrap();

    let got: Pod = api.get(Some("default"), "a").await.unwrap();
    assert_eq!(got.metadata.uid, created.metadata.uid);

    let web = api
        .list::<Pod>(
            Some("default"),
            &LabelSelector::from_pairs([("app", "web")]),
        )
        .await
        .unwrap();
    let names: Vec<_> = web
        .items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(names, vec!["a".to_string()]);
    assert!(!web.resource_version.is_empty());

    let mut changed = got.clone();
    changed
        .metadata
        .labels
        .insert("tier".to_string(), "front".to_string());
    let updated = api.update(changed).await.unwrap();
    assert_eq!(updated.metadata.labels["tier"], "front");

    let mut running = updated.clone();
    running.status = Some(PodStatus {
        phase: Some(PodPhase::Running),
        ..PodStatus::default()
    });
    let updated = api.update_status(running).await.unwrap();
    assert_eq!(updated.status.unwrap().phase, Some(PodPhase::Running));

    let gone: Pod = api
        .delete(Some("default"), "b", DeleteOptions::now())
        .await
        .unwrap();
    assert_eq!(gone.metadata.name.as_deref(), Some("b"));
    let error = api.get::<Pod>(Some("default"), "b").await.unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_streams_changes_after_the_list() {
    let cluster = Cluster::start().await;
    let api = &cluster.api;
    let list = api
        .list::<Pod>(Some("default"), &LabelSelector::default())
        .await
        .unwrap();
    let mut events = api
        .watch::<Pod>(Some("default"), &list.resource_version)
        .await
        .unwrap();
    api.create(pod("w", "web")).await.unwrap();
    api.delete::<Pod>(Some("default"), "w", DeleteOptions::now())
        .await
        .unwrap();
    let first = events.next().await.unwrap().unwrap();
    assert_eq!(first.event_type, WatchEventType::Added);
    assert_eq!(first.object.metadata.name.as_deref(), Some("w"));
    // (The stand-in kubelet may not touch it: it was deleted without grace.)
    let mut last = first;
    while last.event_type != WatchEventType::Deleted {
        last = events.next().await.unwrap().unwrap();
    }
    assert_eq!(last.object.metadata.name.as_deref(), Some("w"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statuses_come_back_as_the_same_api_errors() {
    let cluster = Cluster::start().await;
    let api = &cluster.api;
    api.create(pod("dup", "web")).await.unwrap();

    let error = api.create(pod("dup", "web")).await.unwrap_err();
    assert!(
        matches!(&error, ApiError::AlreadyExists { resource: "pods", name } if name == "dup"),
        "{error:?}"
    );

    let error = api
        .get::<Pod>(Some("default"), "missing")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ApiError::NotFound { resource: "pods", name } if name == "missing"),
        "{error:?}"
    );

    let mut stale: Pod = api.get(Some("default"), "dup").await.unwrap();
    api.update(stale.clone()).await.unwrap();
    stale
        .metadata
        .labels
        .insert("x".to_string(), "y".to_string());
    let error = api.update(stale).await.unwrap_err();
    assert!(error.is_conflict(), "{error:?}");

    let mut bad = pod("Bad_Name", "web");
    bad.spec.containers[0].image = String::new();
    let error = api.create(bad).await.unwrap_err();
    match &error {
        ApiError::Invalid { kind, errors, .. } => {
            assert_eq!(*kind, "Pod");
            let fields: Vec<String> = errors.iter().map(|e| e.path.to_string()).collect();
            assert!(fields.contains(&"metadata.name".to_string()), "{fields:?}");
        }
        other => panic!("expected Invalid, got {other:?}"),
    }

    let path = cluster.server.dir.path().join("viewer.kubeconfig");
    cluster
        .server
        .started
        .write_kubeconfig_for("viewer", &path)
        .unwrap();
    let viewer = HttpApi::from_kubeconfig(&path).unwrap();
    viewer.get::<Pod>(Some("default"), "dup").await.unwrap();
    let error = viewer.create(pod("nope", "web")).await.unwrap_err();
    match &error {
        ApiError::Forbidden { message } => assert!(
            message.contains("User \"viewer\" cannot create resource \"pods\""),
            "{message}"
        ),
        other => panic!("expected Forbidden, got {other:?}"),
    }
    assert_eq!(error.code(), 403);

    let wrong = HttpApi::new(
        &cluster.server.started.url,
        &cluster.server.started.pki.ca_cert_pem,
        "not-a-token",
    )
    .unwrap();
    let error = wrong.get::<Pod>(Some("default"), "dup").await.unwrap_err();
    assert!(matches!(error, ApiError::Unauthorized { .. }), "{error:?}");
    assert_eq!(error.code(), 401);
}

#[test]
fn bad_client_settings_are_refused_naming_the_setting() {
    let pki = apiserver::tls::Pki::generate(&[]).unwrap();
    let cases = [
        (
            "http://127.0.0.1:6443",
            pki.ca_cert_pem.as_str(),
            "t",
            "must start with https://",
        ),
        (
            "https://127.0.0.1:x",
            pki.ca_cert_pem.as_str(),
            "t",
            "port \"x\" is not a number",
        ),
        (
            "https://127.0.0.1:6443",
            "not pem",
            "t",
            "certificate-authority-data",
        ),
        (
            "https://127.0.0.1:6443",
            pki.ca_cert_pem.as_str(),
            "",
            "token",
        ),
    ];
    for (url, ca, token, expected) in cases {
        let error = HttpApi::new(url, ca, token).unwrap_err();
        assert!(error.contains(expected), "{url}: {error}");
    }
}

#[test]
fn a_kubeconfig_without_what_skiff_needs_names_the_field() {
    let cases = [
        (
            "apiVersion: v1\nkind: Config\n",
            "current-context: required",
        ),
        (
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: \"https://x:1\"}\nusers:\n- name: u\n  user: {token: t}\n",
            "clusters[k].cluster.certificate-authority-data: required",
        ),
        (
            "current-context: c\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nclusters:\n- name: k\n  cluster: {server: \"https://x:1\", certificate-authority-data: \"aGk=\"}\nusers:\n- name: u\n  user: {}\n",
            "users[u].user.token: required",
        ),
        ("current-context: c\n", "contexts[c]: not found"),
    ];
    for (text, expected) in cases {
        let error = apiserver::kubeconfig::parse_kubeconfig(text).unwrap_err();
        assert!(error.contains(expected), "{error}");
    }
}
