//! The runner with a toy controller: each ConfigMap `x` gets a copy `x-copy` with the same data.

use std::sync::Arc;
use std::time::Duration;

use api::client::{ApiClient, ApiResult, InMemoryApi};
use api::{ConfigMap, ObjectMeta, Time};
use controllers::runtime::{Action, Controller, Informer, Key, ReconcileError, Runner};

const COPY: &str = "-copy";

/// The toy controller. A source with data `fail=N` fails its first N reconciles.
#[derive(Default)]
struct Mirror {
    config_maps: Informer<ConfigMap>,
    reconciles: Vec<String>,
    failures: u32,
}

impl Controller<InMemoryApi> for Mirror {
    fn name(&self) -> &'static str {
        "mirror-controller"
    }

    async fn observe(&mut self, api: &InMemoryApi, _now: Duration) -> ApiResult<Vec<Key>> {
        let deltas = self.config_maps.sync(api).await?;
        // The event handler: a copy maps to its source.
        Ok(deltas
            .iter()
            .map(|delta| {
                let key = Key::of(delta.object());
                match key.name.strip_suffix(COPY) {
                    Some(source) => Key::new(&key.namespace, source),
                    None => key,
                }
            })
            .collect())
    }

    async fn reconcile(
        &mut self,
        api: &InMemoryApi,
        key: &Key,
        _now: Duration,
    ) -> Result<Action, ReconcileError> {
        self.reconciles.push(key.to_string());
        let Some(source) = self.config_maps.get(key).cloned() else {
            return Ok(Action::Done);
        };
        if let Some(n) = source.data.get("fail") {
            let n: u32 = n.parse().map_err(|_| {
                ReconcileError::Invalid(format!("data.fail: {n:?} is not a number"))
            })?;
            if self.failures < n {
                self.failures += 1;
                return Err(ReconcileError::Invalid(
                    "data.fail: failing on purpose".into(),
                ));
            }
        }
        let copy_key = Key::new(&key.namespace, &format!("{}{COPY}", key.name));
        match self.config_maps.get(&copy_key).cloned() {
            None => {
                let copy = ConfigMap {
                    metadata: ObjectMeta::namespaced(&copy_key.namespace, &copy_key.name),
                    data: source.data.clone(),
                    ..ConfigMap::default()
                };
                api.create(copy).await?;
            }
            Some(mut copy) if copy.data != source.data => {
                copy.data = source.data.clone();
                api.update(copy).await?;
            }
            Some(_) => {}
        }
        Ok(Action::Done)
    }

    fn resync_keys(&self) -> Vec<Key> {
        self.config_maps
            .keys()
            .filter(|key| !key.name.ends_with(COPY))
            .cloned()
            .collect()
    }
}

fn api() -> InMemoryApi {
    InMemoryApi::with_clock(Arc::new(|| Time(1_700_000_000)))
}

fn config_map(name: &str, pairs: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta::namespaced("default", name),
        data: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..ConfigMap::default()
    }
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

#[tokio::test]
async fn reconciles_until_the_world_matches_and_then_stays_quiet() {
    let api = api();
    api.create(config_map("a", &[("x", "1")])).await.unwrap();
    let mut runner = Runner::new(api.clone(), Mirror::default());
    let outcomes = runner.run_until_quiet(secs(0)).await.unwrap();
    assert!(outcomes.iter().all(|o| o.result == Ok(Action::Done)));
    let copy: ConfigMap = api.get(Some("default"), "a-copy").await.unwrap();
    assert_eq!(copy.data["x"], "1");
    // The copy's own Added event maps back to `a`, which is reconciled once more and is a
    // no-op: level-triggered, the second look finds nothing to do.
    assert_eq!(runner.controller().reconciles, ["default/a", "default/a"]);

    // A change to the source is followed.
    let mut a: ConfigMap = api.get(Some("default"), "a").await.unwrap();
    a.data.insert("x".into(), "2".into());
    api.update(a).await.unwrap();
    runner.run_until_quiet(secs(1)).await.unwrap();
    let copy: ConfigMap = api.get(Some("default"), "a-copy").await.unwrap();
    assert_eq!(copy.data["x"], "2");

    // Nothing changed: no reconcile at all.
    assert!(runner.run_until_quiet(secs(2)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_burst_of_changes_costs_one_reconcile() {
    let api = api();
    api.create(config_map("a", &[("x", "0")])).await.unwrap();
    let mut runner = Runner::new(api.clone(), Mirror::default());
    runner.run_until_quiet(secs(0)).await.unwrap();
    runner.controller_mut().reconciles.clear();
    for i in 1..=10 {
        let mut a: ConfigMap = api.get(Some("default"), "a").await.unwrap();
        a.data.insert("x".into(), i.to_string());
        api.update(a).await.unwrap();
    }
    runner.run_until_quiet(secs(1)).await.unwrap();
    // One reconcile for the ten updates (the queue de-duplicates), one for the copy's update.
    assert_eq!(runner.controller().reconciles, ["default/a", "default/a"]);
    let copy: ConfigMap = api.get(Some("default"), "a-copy").await.unwrap();
    assert_eq!(copy.data["x"], "10");
}

#[tokio::test]
async fn a_failing_key_is_retried_with_back_off_then_forgotten() {
    let api = api();
    api.create(config_map("a", &[("fail", "3")])).await.unwrap();
    let mut runner = Runner::new(api.clone(), Mirror::default());
    let ms = Duration::from_millis;

    let outcomes = runner.run_until_quiet(ms(0)).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert!(matches!(
        outcomes[0].result,
        Err(ReconcileError::Invalid(_))
    ));
    assert_eq!(outcomes[0].retry_in, Some(ms(5)));
    assert_eq!(runner.next_wake_up(), Some(ms(5)));
    // Not before its time.
    assert!(runner.run_until_quiet(ms(4)).await.unwrap().is_empty());

    let retry = runner.run_until_quiet(ms(5)).await.unwrap();
    assert_eq!(retry[0].retry_in, Some(ms(10)));
    let retry = runner.run_until_quiet(ms(15)).await.unwrap();
    assert_eq!(retry[0].retry_in, Some(ms(20)));
    assert_eq!(runner.queue().num_requeues(&Key::new("default", "a")), 3);

    // The fourth try succeeds: the back-off is forgotten.
    let done = runner.run_until_quiet(ms(35)).await.unwrap();
    assert_eq!(done[0].result, Ok(Action::Done));
    assert_eq!(runner.queue().num_requeues(&Key::new("default", "a")), 0);
    assert!(
        api.get::<ConfigMap>(Some("default"), "a-copy")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn bad_input_is_an_error_naming_the_field() {
    let api = api();
    api.create(config_map("a", &[("fail", "many")]))
        .await
        .unwrap();
    let mut runner = Runner::new(api.clone(), Mirror::default());
    let outcomes = runner.run_until_quiet(secs(0)).await.unwrap();
    let Err(error) = &outcomes[0].result else {
        panic!("expected an error, got {:?}", outcomes[0].result);
    };
    assert_eq!(error.to_string(), "data.fail: \"many\" is not a number");
}

#[tokio::test]
async fn resync_requeues_every_key_each_period() {
    let api = api();
    api.create(config_map("a", &[])).await.unwrap();
    api.create(config_map("b", &[])).await.unwrap();
    let mut runner = Runner::new(api.clone(), Mirror::default()).with_resync(secs(30));
    runner.run_until_quiet(secs(0)).await.unwrap();
    assert_eq!(runner.next_wake_up(), Some(secs(30)));
    runner.controller_mut().reconciles.clear();

    assert!(runner.run_until_quiet(secs(29)).await.unwrap().is_empty());
    let outcomes = runner.run_until_quiet(secs(30)).await.unwrap();
    let keys: Vec<String> = outcomes.iter().map(|o| o.key.to_string()).collect();
    assert_eq!(keys, ["default/a", "default/b"]);
    assert_eq!(runner.next_wake_up(), Some(secs(60)));

    // A copy deleted behind the controller's back, with the event lost, is restored by the
    // next resync at the latest (here the watch sees it too).
    api.delete::<ConfigMap>(Some("default"), "a-copy", Default::default())
        .await
        .unwrap();
    runner.run_until_quiet(secs(61)).await.unwrap();
    assert!(
        api.get::<ConfigMap>(Some("default"), "a-copy")
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn requeue_after_brings_a_key_back_later() {
    let api = api();
    api.create(config_map("a", &[])).await.unwrap();
    let mut runner = Runner::new(api.clone(), Mirror::default());
    runner.run_until_quiet(secs(0)).await.unwrap();
    runner
        .queue()
        .add_after(Key::new("default", "a"), secs(10), secs(0));
    assert_eq!(runner.next_wake_up(), Some(secs(10)));
    assert!(runner.run_until_quiet(secs(9)).await.unwrap().is_empty());
    assert_eq!(runner.run_until_quiet(secs(10)).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_tokio_driver_reconciles_in_real_time() {
    let api = api();
    let mut copies = api.watch::<ConfigMap>(Some("default"), "").await.unwrap();
    // A concrete runner's future is Send: it can be spawned on a multi-threaded runtime.
    let driver = tokio::spawn(Runner::new(api.clone(), Mirror::default()).run());
    api.create(config_map("a", &[("x", "1")])).await.unwrap();
    // Wait for the copy through a watch; the timeout is only a safety net.
    let copied = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = copies.next().await {
            let event = event.unwrap();
            if event.object.metadata.name.as_deref() == Some("a-copy") {
                return event.object;
            }
        }
        panic!("the watch ended");
    })
    .await
    .expect("the runner made a copy");
    assert_eq!(copied.data["x"], "1");
    driver.abort();
}
