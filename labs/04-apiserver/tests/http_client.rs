//! `HttpApi`, the `ApiClient` over HTTPS, against the real core: every verb, the watch stream,
//! and each `Status` mapped back to the same `ApiError` the in-memory API returns.

mod wire;

use api::client::{
    ApiClient, ApiError, DeleteOptions, FOREGROUND_FINALIZER, ORPHAN_FINALIZER, PropagationPolicy,
    WatchEventType,
};
use api::{
    Container, Deployment, DeploymentSpec, LabelSelector, ObjectMeta, Pod, PodPhase, PodSpec,
    PodStatus, PodTemplateSpec,
};
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
async fn a_watch_from_an_empty_version_starts_now() {
    // The trait: an empty version means "from now". Over HTTP a watch without a version would
    // replay the current objects as ADDED first, so the client starts from the current version.
    let cluster = Cluster::start().await;
    let api = &cluster.api;
    api.create(pod("old-1", "web")).await.unwrap();
    api.create(pod("old-2", "db")).await.unwrap();
    let mut events = api.watch::<Pod>(Some("default"), "").await.unwrap();
    api.create(pod("new", "web")).await.unwrap();
    api.delete::<Pod>(Some("default"), "new", DeleteOptions::now())
        .await
        .unwrap();
    // Every event up to the DELETED of "new" is about "new": none for the older pods.
    let mut seen = Vec::new();
    loop {
        let event = events.next().await.unwrap().unwrap();
        let name = event.object.metadata.name.clone().unwrap();
        let done = event.event_type == WatchEventType::Deleted;
        seen.push((event.event_type, name));
        if done {
            break;
        }
    }
    assert!(seen.iter().all(|(_, name)| name == "new"), "{seen:?}");
    let added = seen
        .iter()
        .filter(|(kind, _)| *kind == WatchEventType::Added)
        .count();
    assert_eq!(added, 1, "{seen:?}");
    assert_eq!(seen[0].0, WatchEventType::Added, "{seen:?}");
}

fn deployment(name: &str) -> Deployment {
    let mut labels = std::collections::BTreeMap::new();
    labels.insert("app".to_string(), name.to_string());
    Deployment {
        metadata: ObjectMeta::namespaced("default", name),
        spec: DeploymentSpec {
            selector: LabelSelector::from_pairs([("app", name)]),
            template: PodTemplateSpec {
                metadata: ObjectMeta {
                    labels,
                    ..ObjectMeta::default()
                },
                spec: pod(name, name).spec,
            },
            ..DeploymentSpec::default()
        },
        ..Deployment::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_sends_its_propagation_policy() {
    // No garbage collector runs here, so the finalizer the server adds stays for us to see.
    let cluster = Cluster::start().await;
    let api = &cluster.api;
    for (name, policy, finalizer) in [
        ("fg", PropagationPolicy::Foreground, FOREGROUND_FINALIZER),
        ("orphan", PropagationPolicy::Orphan, ORPHAN_FINALIZER),
    ] {
        api.create(deployment(name)).await.unwrap();
        let options = DeleteOptions {
            propagation_policy: Some(policy),
            ..DeleteOptions::default()
        };
        api.delete::<Deployment>(Some("default"), name, options)
            .await
            .unwrap();
        let stored: Deployment = api.get(Some("default"), name).await.unwrap();
        assert!(
            stored.metadata.deletion_timestamp.is_some(),
            "{policy:?}: {:?}",
            stored.metadata
        );
        assert_eq!(stored.metadata.finalizers, vec![finalizer.to_string()]);
    }
    // Background (as without a policy) removes a Deployment at once.
    api.create(deployment("bg")).await.unwrap();
    let options = DeleteOptions {
        propagation_policy: Some(PropagationPolicy::Background),
        ..DeleteOptions::default()
    };
    api.delete::<Deployment>(Some("default"), "bg", options)
        .await
        .unwrap();
    let error = api
        .get::<Deployment>(Some("default"), "bg")
        .await
        .unwrap_err();
    assert!(error.is_not_found(), "{error:?}");
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

/// Requests one after the other share one keep-alive connection: a pooled connection that has
/// not yet said it is ready for the next request is waited for, not replaced by a new TCP
/// connection and TLS handshake. A counting TCP relay in front of the server sees every
/// connection the client opens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_a_row_reuse_one_connection() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let cluster = Cluster::start().await;
    let started = &cluster.server.started;
    let target = started.url.trim_start_matches("https://").to_string();
    let relay = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let front = relay.local_addr().unwrap();
    let opened = Arc::new(AtomicUsize::new(0));
    let counter = opened.clone();
    let relay_task = tokio::spawn(async move {
        while let Ok((mut client, _)) = relay.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let target = target.clone();
            tokio::spawn(async move {
                if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                }
            });
        }
    });
    let token = started.tokens.token_for("admin").unwrap();
    let api = HttpApi::new(&format!("https://{front}"), &started.pki.ca_cert_pem, token).unwrap();
    for i in 0..200 {
        api.create(pod(&format!("row-{i}"), "row")).await.unwrap();
    }
    let list = api
        .list::<Pod>(
            Some("default"),
            &LabelSelector::from_pairs([("app", "row")]),
        )
        .await
        .unwrap();
    assert_eq!(list.items.len(), 200);
    assert_eq!(
        opened.load(Ordering::SeqCst),
        1,
        "one connection for 201 requests"
    );
    relay_task.abort();
}
