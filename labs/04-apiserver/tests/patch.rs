//! PATCH: the three formats, as kubectl sends them, and their errors.

use apiserver::patch::{PatchKind, apply_patch, merge_diff, merge_patch};
use serde_json::{Value, json};

fn run(kind: PatchKind, resource: &str, target: &Value, patch: Value) -> Result<Value, String> {
    apply_patch(kind, resource, target, patch.to_string().as_bytes()).map_err(|e| e.to_string())
}

fn deployment() -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "labels": {"app": "web"},
            "finalizers": ["a", "b"]
        },
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.25",
                            "ports": [{"containerPort": 80, "name": "http"}],
                            "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                            "args": ["--x", "--y"]
                        },
                        {"name": "sidecar", "image": "busybox", "volumeMounts": [{"name": "data", "mountPath": "/data"}]}
                    ],
                    "volumes": [{"name": "data", "emptyDir": {}}],
                    "tolerations": [{"key": "k", "operator": "Exists"}]
                }
            }
        }
    })
}

#[test]
fn content_types_choose_the_kind() {
    let cases = [
        ("application/json-patch+json", Some(PatchKind::Json)),
        ("application/merge-patch+json", Some(PatchKind::Merge)),
        (
            "application/strategic-merge-patch+json",
            Some(PatchKind::StrategicMerge),
        ),
        (
            "application/merge-patch+json; charset=utf-8",
            Some(PatchKind::Merge),
        ),
        ("application/apply-patch+yaml", None),
        ("application/json", None),
        ("", None),
    ];
    for (content_type, expected) in cases {
        assert_eq!(
            PatchKind::from_content_type(content_type),
            expected,
            "{content_type}"
        );
    }
}

#[test]
fn merge_patch_follows_rfc_7386() {
    // The examples of RFC 7386 appendix A.
    let cases = [
        (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
        (
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        ),
        (json!({"a": "b"}), json!({"a": null}), json!({})),
        (
            json!({"a": "b", "b": "c"}),
            json!({"a": null}),
            json!({"b": "c"}),
        ),
        (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
        (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
        (
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        ),
        (
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        ),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a": "b"}), json!(["c"]), json!(["c"])),
        (json!({"a": "foo"}), json!(null), json!(null)),
        (json!({"a": "foo"}), json!("bar"), json!("bar")),
        (
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        ),
        (
            json!([1, 2]),
            json!({"a": "b", "c": null}),
            json!({"a": "b"}),
        ),
        (
            json!({}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        ),
    ];
    for (target, patch, expected) in cases {
        assert_eq!(merge_patch(&target, &patch), expected, "{target} + {patch}");
    }
}

#[test]
fn merge_patch_replaces_lists_whole() {
    let patched = run(
        PatchKind::Merge,
        "deployments",
        &deployment(),
        json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.26"}]}}}}),
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "image": "nginx:1.26"}])
    );
}

#[test]
fn merge_diff_round_trips() {
    let a = deployment();
    let mut b = deployment();
    b["spec"]["replicas"] = json!(5);
    b["metadata"]["labels"] = json!({"app": "web", "tier": "front"});
    b["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    b["spec"]["strategy"]
        .as_object_mut()
        .unwrap()
        .remove("rollingUpdate");
    let pairs = [
        (a.clone(), b.clone()),
        (b.clone(), a.clone()),
        (a.clone(), json!({})),
        (json!({}), a.clone()),
        (json!({"x": [1]}), json!({"x": {"y": 1}})),
    ];
    for (from, to) in pairs {
        let diff = merge_diff(&from, &to);
        assert_eq!(merge_patch(&from, &diff), to, "diff {diff}");
    }
    assert_eq!(merge_diff(&a, &a), json!({}));
}

#[test]
fn kubectl_scale_and_label_patches() {
    let d = deployment();
    // kubectl scale (on /scale) and kubectl patch -p '{"spec":{"replicas":3}}'
    let scaled = run(
        PatchKind::Merge,
        "deployments",
        &d,
        json!({"spec": {"replicas": 3}}),
    )
    .unwrap();
    assert_eq!(scaled["spec"]["replicas"], 3);
    assert_eq!(scaled["spec"]["template"], d["spec"]["template"]);
    // kubectl label deployment web env=prod / env-
    let labelled = run(
        PatchKind::StrategicMerge,
        "deployments",
        &d,
        json!({"metadata": {"labels": {"env": "prod"}}}),
    )
    .unwrap();
    assert_eq!(
        labelled["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    let unlabelled = run(
        PatchKind::StrategicMerge,
        "deployments",
        &labelled,
        json!({"metadata": {"labels": {"env": null}}}),
    )
    .unwrap();
    assert_eq!(unlabelled["metadata"]["labels"], json!({"app": "web"}));
    // kubectl annotate
    let annotated = run(
        PatchKind::StrategicMerge,
        "deployments",
        &d,
        json!({"metadata": {"annotations": {"note": "hi"}}}),
    )
    .unwrap();
    assert_eq!(annotated["metadata"]["annotations"], json!({"note": "hi"}));
}

#[test]
fn kubectl_apply_changing_one_image_keeps_the_other_container() {
    // What `kubectl apply` sends after the image of "web" changed in the manifest.
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
            "containers": [{"image": "nginx:1.26", "name": "web"}]
        }}}
    });
    let patched = run(
        PatchKind::StrategicMerge,
        "deployments",
        &deployment(),
        patch,
    )
    .unwrap();
    let containers = &patched["spec"]["template"]["spec"]["containers"];
    assert_eq!(containers[0]["name"], "web");
    assert_eq!(containers[0]["image"], "nginx:1.26");
    assert_eq!(
        containers[0]["ports"],
        json!([{"containerPort": 80, "name": "http"}])
    );
    assert_eq!(
        containers[1],
        deployment()["spec"]["template"]["spec"]["containers"][1]
    );
    assert_eq!(containers.as_array().unwrap().len(), 2);
    assert!(patched.to_string().find("$setElementOrder").is_none());
}

#[test]
fn set_element_order_reorders_the_merged_list() {
    let patch = json!({"spec": {"template": {"spec": {
        "$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}],
        "containers": [{"name": "sidecar", "image": "busybox:2"}]
    }}}});
    let patched = run(
        PatchKind::StrategicMerge,
        "deployments",
        &deployment(),
        patch,
    )
    .unwrap();
    let names: Vec<&str> = patched["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["sidecar", "web"]);
    // The order alone (no list in the patch) reorders too.
    let patch = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "web"}]}}}});
    let patched = run(
        PatchKind::StrategicMerge,
        "deployments",
        &deployment(),
        patch,
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["template"]["spec"]["containers"][0]["name"],
        "sidecar"
    );
}

/// A check of one patched object.
type Check = Box<dyn Fn(&Value)>;

#[test]
fn strategic_merge_patch_cases() {
    let d = deployment();
    let containers = |v: &Value| v["spec"]["template"]["spec"]["containers"].clone();
    let cases: Vec<(&str, Value, Check)> = vec![
        (
            // Without $setElementOrder, Kubernetes puts the patch's new elements before the
            // stored ones (kubectl apply always sends the order, so this only shows with
            // hand-written patches).
            "a new container comes first",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "log", "image": "fluent"}]}}}}),
            Box::new(move |p: &Value| {
                let c = containers(p);
                assert_eq!(c.as_array().unwrap().len(), 3);
                assert_eq!(c[0], json!({"name": "log", "image": "fluent"}));
                assert_eq!(c[1]["name"], "web");
                assert_eq!(c[2]["name"], "sidecar");
            }),
        ),
        (
            "$patch: delete removes a container by name",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/containers": [{"name": "web"}],
                "containers": [{"$patch": "delete", "name": "sidecar"}]
            }}}}),
            Box::new(move |p: &Value| {
                assert_eq!(containers(p).as_array().unwrap().len(), 1);
                assert_eq!(containers(p)[0]["name"], "web");
            }),
        ),
        (
            "env merges by name (stored order kept), ports by containerPort",
            json!({"spec": {"template": {"spec": {"containers": [{
                "name": "web",
                "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                "ports": [{"containerPort": 443, "name": "https"}]
            }]}}}}),
            Box::new(|p: &Value| {
                let web = &p["spec"]["template"]["spec"]["containers"][0];
                assert_eq!(
                    web["env"],
                    json!([{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}])
                );
                assert_eq!(
                    web["ports"],
                    json!([{"containerPort": 443, "name": "https"}, {"containerPort": 80, "name": "http"}])
                );
            }),
        ),
        (
            "an env var is removed with $patch: delete",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "env": [{"$patch": "delete", "name": "A"}]}]}}}}),
            Box::new(|p: &Value| {
                assert_eq!(
                    p["spec"]["template"]["spec"]["containers"][0]["env"],
                    json!([{"name": "B", "value": "2"}])
                );
            }),
        ),
        (
            "args and tolerations are atomic: replaced",
            json!({"spec": {"template": {"spec": {
                "containers": [{"name": "web", "args": ["--z"]}],
                "tolerations": [{"key": "other", "operator": "Exists"}]
            }}}}),
            Box::new(|p: &Value| {
                assert_eq!(
                    p["spec"]["template"]["spec"]["containers"][0]["args"],
                    json!(["--z"])
                );
                assert_eq!(
                    p["spec"]["template"]["spec"]["tolerations"],
                    json!([{"key": "other", "operator": "Exists"}])
                );
            }),
        ),
        (
            "volumes merge by name",
            json!({"spec": {"template": {"spec": {"volumes": [{"name": "cache", "emptyDir": {}}]}}}}),
            Box::new(|p: &Value| {
                assert_eq!(
                    p["spec"]["template"]["spec"]["volumes"],
                    json!([{"name": "cache", "emptyDir": {}}, {"name": "data", "emptyDir": {}}])
                );
            }),
        ),
        (
            "a list element $patch: replace replaces the whole list",
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "x"}]}}}}),
            Box::new(move |p: &Value| {
                assert_eq!(containers(p), json!([{"name": "only", "image": "x"}]));
            }),
        ),
        (
            "a map $patch: replace replaces the map",
            json!({"spec": {"selector": {"$patch": "replace", "matchLabels": {"app": "v2"}}}}),
            Box::new(|p: &Value| {
                assert_eq!(p["spec"]["selector"], json!({"matchLabels": {"app": "v2"}}));
            }),
        ),
        (
            "$retainKeys drops the RollingUpdate parameters when switching to Recreate",
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}),
            Box::new(|p: &Value| {
                assert_eq!(p["spec"]["strategy"], json!({"type": "Recreate"}));
            }),
        ),
        (
            // What kubectl apply sends when a volume's source changes (volumes carry
            // patchStrategy "merge,retainKeys"): the old emptyDir must go.
            "$retainKeys inside a list element switches a volume's source",
            json!({"spec": {"template": {"spec": {
                "$setElementOrder/volumes": [{"name": "data"}],
                "volumes": [{"$retainKeys": ["configMap", "name"], "configMap": {"name": "cfg"}, "name": "data"}]
            }}}}),
            Box::new(|p: &Value| {
                assert_eq!(
                    p["spec"]["template"]["spec"]["volumes"],
                    json!([{"name": "data", "configMap": {"name": "cfg"}}])
                );
            }),
        ),
        (
            "finalizers are a set: union, and $deleteFromPrimitiveList removes",
            json!({"metadata": {"finalizers": ["b", "c"], "$deleteFromPrimitiveList/finalizers": ["a"]}}),
            Box::new(|p: &Value| {
                assert_eq!(p["metadata"]["finalizers"], json!(["b", "c"]));
            }),
        ),
        (
            "null deletes a field",
            json!({"spec": {"strategy": null}}),
            Box::new(|p: &Value| {
                assert!(p["spec"].get("strategy").is_none());
            }),
        ),
    ];
    for (name, patch, check) in cases {
        let patched = run(PatchKind::StrategicMerge, "deployments", &d, patch)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        check(&patched);
        assert!(
            !patched.to_string().contains("\"$"),
            "{name}: a directive leaked: {patched}"
        );
    }
}

#[test]
fn strategic_merge_knows_pods_services_and_conditions() {
    let pod = json!({
        "metadata": {"name": "p", "ownerReferences": [{"uid": "u1", "name": "rs", "kind": "ReplicaSet"}]},
        "spec": {"containers": [{"name": "c", "image": "a"}]},
        "status": {"conditions": [
            {"type": "Ready", "status": "False"},
            {"type": "PodScheduled", "status": "True"}
        ]}
    });
    let patched = run(
        PatchKind::StrategicMerge,
        "pods",
        &pod,
        json!({
            "metadata": {"ownerReferences": [{"uid": "u2", "name": "other", "kind": "ReplicaSet"}]},
            "spec": {"containers": [{"name": "c", "image": "b"}]},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}
        }),
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["containers"],
        json!([{"name": "c", "image": "b"}])
    );
    assert_eq!(
        patched["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "True"}])
    );
    assert_eq!(
        patched["metadata"]["ownerReferences"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let svc = json!({"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}});
    let patched = run(
        PatchKind::StrategicMerge,
        "services",
        &svc,
        json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
    )
    .unwrap();
    assert_eq!(
        patched["spec"]["ports"],
        json!([{"port": 80, "targetPort": 9090}, {"port": 443}])
    );
}

#[test]
fn json_patch_operations() {
    let d = deployment();
    let cases = [
        (
            json!([{"op": "replace", "path": "/spec/replicas", "value": 4}]),
            "/spec/replicas",
            json!(4),
        ),
        (
            json!([{"op": "add", "path": "/metadata/labels/tier", "value": "front"}]),
            "/metadata/labels/tier",
            json!("front"),
        ),
        (
            json!([{"op": "add", "path": "/metadata/annotations", "value": {}},
                   {"op": "add", "path": "/metadata/annotations/example.com~1owner", "value": "me"}]),
            "/metadata/annotations",
            json!({"example.com/owner": "me"}),
        ),
        (
            json!([{"op": "add", "path": "/metadata/finalizers/-", "value": "z"}]),
            "/metadata/finalizers",
            json!(["a", "b", "z"]),
        ),
        (
            json!([{"op": "add", "path": "/metadata/finalizers/0", "value": "z"}]),
            "/metadata/finalizers",
            json!(["z", "a", "b"]),
        ),
        (
            json!([{"op": "remove", "path": "/metadata/finalizers/0"}]),
            "/metadata/finalizers",
            json!(["b"]),
        ),
        (
            json!([{"op": "test", "path": "/spec/replicas", "value": 2},
                   {"op": "copy", "from": "/metadata/labels", "path": "/metadata/annotations"}]),
            "/metadata/annotations",
            json!({"app": "web"}),
        ),
        (
            // RFC 6902 compares numbers by value: 2.0 equals 2.
            json!([{"op": "test", "path": "/spec/replicas", "value": 2.0},
                   {"op": "replace", "path": "/spec/replicas", "value": 6}]),
            "/spec/replicas",
            json!(6),
        ),
        (
            json!([{"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/name"}]),
            "/metadata/labels",
            json!({"name": "web"}),
        ),
        (
            json!([{"op": "add", "path": "/metadata/labels/a~0b", "value": "t"}]),
            "/metadata/labels/a~0b",
            json!("t"),
        ),
    ];
    for (patch, pointer, expected) in cases {
        let patched = run(PatchKind::Json, "deployments", &d, patch.clone()).unwrap();
        assert_eq!(patched.pointer(pointer), Some(&expected), "{patch}");
    }
}

#[test]
fn errors_name_the_path_and_reason() {
    let d = deployment();
    let cases = [
        (
            PatchKind::Json,
            json!([{"op": "test", "path": "/spec/replicas", "value": 3}]),
            "json patch: test failed at /spec/replicas",
        ),
        (
            PatchKind::Json,
            json!([{"op": "remove", "path": "/spec/nothing"}]),
            "json patch: remove: no value at /spec/nothing",
        ),
        (
            PatchKind::Json,
            json!([{"op": "replace", "path": "/spec/nothing/deeper", "value": 1}]),
            "json patch: replace: no value at /spec/nothing/deeper",
        ),
        (
            PatchKind::Json,
            json!([{"op": "add", "path": "/metadata/finalizers/7", "value": "x"}]),
            "index \"7\" is out of bounds at /metadata/finalizers/7",
        ),
        (
            PatchKind::Json,
            json!([{"op": "add", "path": "/metadata/annotations/x", "value": "y"}]),
            "json patch: add: the parent of /metadata/annotations/x does not exist",
        ),
        (
            PatchKind::Json,
            json!([{"op": "frobnicate", "path": "/spec"}]),
            "unknown op \"frobnicate\"",
        ),
        (
            PatchKind::Json,
            json!([{"path": "/spec"}]),
            "operation 0 is missing the field \"op\"",
        ),
        (
            PatchKind::Json,
            json!([{"op": "add", "path": "spec", "value": 1}]),
            "a JSON pointer starts with '/'",
        ),
        (
            PatchKind::Json,
            json!([{"op": "add", "path": "/a~2", "value": 1}]),
            "'~' must be followed by 0 or 1",
        ),
        (
            PatchKind::Json,
            json!([{"op": "move", "from": "/spec", "path": "/spec/x"}]),
            "cannot move /spec into its own child /spec/x",
        ),
        (
            PatchKind::Json,
            json!({"op": "add"}),
            "must be a JSON array",
        ),
        (
            PatchKind::Merge,
            json!([1]),
            "merge patch: the patch must be a JSON object",
        ),
        (
            PatchKind::StrategicMerge,
            json!("x"),
            "must be a JSON object",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
            "spec.template.spec.containers: an element has no merge key \"name\"",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "delete"}]}}}}),
            "spec.template.spec.containers: a $patch: delete element has no merge key \"name\"",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "merge", "name": "web"}]}}}}),
            "merging lists cannot yet be specified in the patch",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"template": {"spec": {"containers": [{"$patch": "explode", "name": "web"}]}}}}),
            "unsupported $patch directive in a list element",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"template": {"spec": {"containers": ["web"]}}}}),
            "list elements must be objects with the merge key \"name\"",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"metadata": {"finalizers": [{"a": 1}]}}),
            "metadata.finalizers: a set of scalars cannot hold objects or lists",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"metadata": {"$deleteFromPrimitiveList/finalizers": "a"}}),
            "metadata: $deleteFromPrimitiveList/finalizers must be a list",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"template": {"spec": {"$setElementOrder/containers": {"name": "web"}}}}}),
            "spec.template.spec.containers: $setElementOrder must be a list",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"$retainKeys": "type"}}),
            "spec: $retainKeys must be a list of field names",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"$patch": "explode"}}),
            "strategic merge patch: spec: unknown $patch directive",
        ),
        (
            PatchKind::StrategicMerge,
            json!({"spec": {"$frob": 1}}),
            "strategic merge patch: spec: unknown directive $frob",
        ),
    ];
    for (kind, patch, expected) in cases {
        let err = run(kind, "deployments", &d, patch.clone()).unwrap_err();
        assert!(
            err.contains(expected),
            "{patch}: got {err:?}, expected {expected:?}"
        );
    }
    let err = apply_patch(PatchKind::Merge, "pods", &d, b"{not json").unwrap_err();
    assert!(
        err.message.starts_with("the patch is not valid JSON"),
        "{err}"
    );
}

#[test]
fn a_failed_json_patch_changes_nothing() {
    let d = deployment();
    let result = run(
        PatchKind::Json,
        "deployments",
        &d,
        json!([{"op": "replace", "path": "/spec/replicas", "value": 9}, {"op": "test", "path": "/spec/replicas", "value": 2}]),
    );
    assert!(result.is_err());
    assert_eq!(d["spec"]["replicas"], 2);
}

/// A small deterministic generator (a linear congruential one), so the property test below
/// explores many shapes yet always the same ones.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }

    /// A JSON value without `null` (a merge patch cannot store one) of bounded depth, over few
    /// keys so that two values share keys often.
    fn value(&mut self, depth: u32) -> Value {
        match self.next(if depth == 0 { 3 } else { 5 }) {
            0 => json!(self.next(4)),
            1 => json!(["a", "b", "c"][self.next(3) as usize]),
            2 => json!(self.next(2) == 0),
            3 => Value::Array((0..self.next(3)).map(|_| self.value(depth - 1)).collect()),
            _ => {
                let mut map = serde_json::Map::new();
                for _ in 0..self.next(4) {
                    let key = ["x", "y", "z", "w"][self.next(4) as usize];
                    map.insert(key.to_string(), self.value(depth - 1));
                }
                Value::Object(map)
            }
        }
    }
}

#[test]
fn merge_diff_then_merge_patch_gives_the_target_for_many_values() {
    let mut rng = Lcg(42);
    for _ in 0..500 {
        let (a, b) = (rng.value(3), rng.value(3));
        let diff = merge_diff(&a, &b);
        assert_eq!(merge_patch(&a, &diff), b, "a = {a}, b = {b}, diff = {diff}");
    }
}
