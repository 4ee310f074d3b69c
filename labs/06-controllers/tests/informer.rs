//! Informers against the in-memory API: list, watch, resume, relist on 410 Gone.

use std::sync::Arc;

use api::client::{ApiClient, DeleteOptions, InMemoryApi};
use api::{ConfigMap, ObjectMeta, Time};
use controllers::runtime::{Delta, Informer, InformerStats, Key};

fn api_with_history(history: usize) -> InMemoryApi {
    InMemoryApi::with_clock_and_history(Arc::new(|| Time(1_700_000_000)), history)
}

fn config_map(name: &str, value: &str) -> ConfigMap {
    let mut cm = ConfigMap {
        metadata: ObjectMeta::namespaced("default", name),
        ..ConfigMap::default()
    };
    cm.data.insert("v".into(), value.into());
    cm
}

async fn set(api: &InMemoryApi, name: &str, value: &str) {
    let mut cm: ConfigMap = api.get(Some("default"), name).await.unwrap();
    cm.data.insert("v".into(), value.into());
    api.update(cm).await.unwrap();
}

/// A short description of each delta: `+name`, `~name=value`, `-name`.
fn describe(deltas: &[Delta<ConfigMap>]) -> Vec<String> {
    deltas
        .iter()
        .map(|delta| {
            let name = delta.object().metadata.name.clone().unwrap();
            match delta {
                Delta::Added(_) => format!("+{name}"),
                Delta::Updated { new, .. } => format!("~{name}={}", new.data["v"]),
                Delta::Deleted(_) => format!("-{name}"),
            }
        })
        .collect()
}

#[tokio::test]
async fn lists_then_watches_every_change_in_order() {
    let api = api_with_history(1000);
    api.create(config_map("a", "1")).await.unwrap();
    api.create(config_map("b", "1")).await.unwrap();
    let mut informer = Informer::<ConfigMap>::new(None);
    assert!(!informer.has_synced());

    let deltas = informer.sync(&api).await.unwrap();
    assert_eq!(describe(&deltas), ["+a", "+b"]);
    assert!(informer.has_synced());
    assert_eq!(informer.resource_version(), Some("2"));

    api.create(config_map("c", "1")).await.unwrap();
    set(&api, "a", "2").await;
    api.delete::<ConfigMap>(Some("default"), "b", DeleteOptions::default())
        .await
        .unwrap();
    let deltas = informer.sync(&api).await.unwrap();
    assert_eq!(describe(&deltas), ["+c", "~a=2", "-b"]);
    let keys: Vec<_> = informer.keys().map(Key::to_string).collect();
    assert_eq!(keys, ["default/a", "default/c"]);
    assert_eq!(
        informer.get(&Key::new("default", "a")).unwrap().data["v"],
        "2"
    );
    assert_eq!(informer.resource_version(), Some("5"));
    // Nothing new: nothing to report, and no new list or watch.
    assert!(informer.sync(&api).await.unwrap().is_empty());
    assert_eq!(
        informer.stats(),
        InformerStats {
            lists: 1,
            watches: 1
        }
    );
}

#[tokio::test]
async fn a_dropped_watch_resumes_from_the_last_version_without_relisting() {
    // Enough history to resume: the watch is dropped (its buffer overflows) but the
    // versions it missed are still kept.
    let api = api_with_history(5000);
    api.create(config_map("a", "0")).await.unwrap();
    let mut informer = Informer::<ConfigMap>::new(Some("default"));
    informer.sync(&api).await.unwrap();
    for i in 1..=1500 {
        set(&api, "a", &i.to_string()).await;
    }
    let deltas = informer.sync(&api).await.unwrap();
    // Every change arrives exactly once: the buffered ones, then the replayed ones.
    assert_eq!(deltas.len(), 1500);
    let values: Vec<usize> = deltas
        .iter()
        .map(|d| d.object().data["v"].parse().unwrap())
        .collect();
    assert_eq!(values, (1..=1500).collect::<Vec<_>>());
    assert_eq!(
        informer.stats(),
        InformerStats {
            lists: 1,
            watches: 2
        }
    );
    assert_eq!(
        informer.get(&Key::new("default", "a")).unwrap().data["v"],
        "1500"
    );
}

#[tokio::test]
async fn gone_relists_and_reports_the_difference() {
    // A tiny history: once the watch is dropped, resuming is 410 Gone.
    let api = api_with_history(10);
    api.create(config_map("a", "0")).await.unwrap();
    api.create(config_map("b", "0")).await.unwrap();
    api.create(config_map("stays", "0")).await.unwrap();
    let mut informer = Informer::<ConfigMap>::new(None);
    informer.sync(&api).await.unwrap();

    for i in 1..=1500 {
        set(&api, "a", &i.to_string()).await;
    }
    api.delete::<ConfigMap>(Some("default"), "b", DeleteOptions::default())
        .await
        .unwrap();
    api.create(config_map("new", "0")).await.unwrap();

    let deltas = informer.sync(&api).await.unwrap();
    assert_eq!(
        informer.stats(),
        InformerStats {
            lists: 2,
            watches: 2
        }
    );
    // The buffered events come first (up to the overflow), then the relist's difference:
    // `a` changed, `new` appeared, `b` is gone; `stays` is unchanged and not reported.
    let described = describe(&deltas);
    let (buffered, relist) = described.split_at(described.len() - 3);
    assert_eq!(relist, ["~a=1500", "+new", "-b"]);
    let expected: Vec<String> = (1..=buffered.len()).map(|i| format!("~a={i}")).collect();
    assert_eq!(buffered, expected);
    assert!(
        buffered.len() < 1500,
        "the watch was dropped before the end"
    );
    let keys: Vec<_> = informer.keys().map(Key::to_string).collect();
    assert_eq!(keys, ["default/a", "default/new", "default/stays"]);
    assert_eq!(
        informer.resource_version(),
        Some(api.resource_version().as_str())
    );

    // And the new watch works.
    set(&api, "stays", "1").await;
    assert_eq!(describe(&informer.sync(&api).await.unwrap()), ["~stays=1"]);
}

#[tokio::test]
async fn a_namespaced_informer_sees_only_its_namespace() {
    let api = api_with_history(100);
    api.create(config_map("a", "0")).await.unwrap();
    let mut other = config_map("b", "0");
    other.metadata.namespace = Some("other".into());
    api.create(other.clone()).await.unwrap();
    let mut informer = Informer::<ConfigMap>::new(Some("other"));
    assert_eq!(describe(&informer.sync(&api).await.unwrap()), ["+b"]);
    api.create(config_map("c", "0")).await.unwrap();
    assert!(informer.sync(&api).await.unwrap().is_empty());
    assert_eq!(informer.in_namespace("other").count(), 1);
    assert_eq!(informer.len(), 1);
}

#[tokio::test]
async fn next_waits_for_an_event() {
    let api = api_with_history(100);
    let mut informer = Informer::<ConfigMap>::new(None);
    informer.sync(&api).await.unwrap();
    assert!(informer.is_empty());
    let writer = api.clone();
    let wait = tokio::spawn(async move {
        let deltas = informer.next(&writer).await.unwrap();
        describe(&deltas)
    });
    api.create(config_map("late", "0")).await.unwrap();
    assert_eq!(wait.await.unwrap(), ["+late"]);
}
