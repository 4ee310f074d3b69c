//! `ScriptedProber`: probe outcomes decided by the test, as a function of virtual time.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runtime::FakeClock;

use super::{ProbeKind, ProbeOutcome, ProbeRequest, ProbeRunner};

/// A script: the outcome of a probe given the virtual time elapsed since the clock started.
type Script = Arc<dyn Fn(Duration) -> ProbeOutcome + Send + Sync>;

/// Scripts by (pod, container, probe kind).
type Scripts = BTreeMap<(String, String, ProbeKind), Script>;

/// Answers probes from scripts; an unscripted probe succeeds. Clones share the scripts.
#[derive(Clone)]
pub struct ScriptedProber {
    clock: FakeClock,
    scripts: Arc<Mutex<Scripts>>,
}

impl std::fmt::Debug for ScriptedProber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedProber").finish_non_exhaustive()
    }
}

impl ScriptedProber {
    /// A prober reading virtual time from `clock`.
    pub fn new(clock: FakeClock) -> Self {
        ScriptedProber {
            clock,
            scripts: Arc::default(),
        }
    }

    /// Scripts the `kind` probe of `container` in pod `pod` (`namespace/name`).
    pub fn script(
        &self,
        pod: &str,
        container: &str,
        kind: ProbeKind,
        script: impl Fn(Duration) -> ProbeOutcome + Send + Sync + 'static,
    ) {
        let key = (pod.to_string(), container.to_string(), kind);
        self.lock().insert(key, Arc::new(script));
    }

    /// Scripts a probe that fails from `from` on (virtual time since the clock started).
    pub fn fail_from(&self, pod: &str, container: &str, kind: ProbeKind, from: Duration) {
        self.script(pod, container, kind, move |elapsed| {
            if elapsed >= from {
                ProbeOutcome::Failure
            } else {
                ProbeOutcome::Success
            }
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Scripts> {
        self.scripts.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ProbeRunner for ScriptedProber {
    async fn run(&self, request: ProbeRequest) -> (ProbeOutcome, String) {
        let key = (request.pod, request.container, request.kind);
        let script = self.lock().get(&key).cloned();
        let outcome = script.map_or(ProbeOutcome::Success, |s| s(self.clock.elapsed()));
        (outcome, format!("scripted {outcome:?}"))
    }
}
