//! Server-side printing: the Table kubectl asks for, per kind.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apiserver::table::{
    IncludeObject, human_duration, pod_status, render_text, table, wants_table,
};
use serde_json::{Value, json};

/// 2023-11-14T22:13:20Z: every age below is counted up to this instant.
fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// The table JSON and its rendering, one snapshot per kind.
fn snapshot(resource: &str, objects: &[Value]) -> String {
    let t = table(resource, objects, IncludeObject::None, now());
    format!(
        "{}\n---\n{}",
        render_text(&t),
        serde_json::to_string_pretty(&t).unwrap()
    )
}

fn meta(name: &str, created: &str) -> Value {
    json!({"name": name, "namespace": "default", "creationTimestamp": created, "uid": format!("uid-{name}")})
}

fn running(name: &str, ready: bool, restarts: i64) -> Value {
    json!({"name": name, "ready": ready, "restartCount": restarts, "state": {"running": {"startedAt": "2023-11-14T22:00:00Z"}}})
}

fn pods() -> Vec<Value> {
    vec![
        json!({
            "metadata": meta("web-1", "2023-11-14T22:10:10Z"),
            "spec": {"nodeName": "node-1", "containers": [{"name": "web"}, {"name": "log"}]},
            "status": {"phase": "Running", "podIP": "10.0.1.5", "containerStatuses": [running("web", true, 0), running("log", true, 0)]}
        }),
        json!({
            "metadata": meta("pending", "2023-11-14T22:13:15Z"),
            "spec": {"containers": [{"name": "web"}]},
            "status": {"phase": "Pending"}
        }),
        json!({
            "metadata": meta("crashy", "2023-11-12T19:13:20Z"),
            "spec": {"nodeName": "node-2", "containers": [{"name": "app"}]},
            "status": {"phase": "Running", "podIPs": [{"ip": "10.0.2.9"}], "containerStatuses": [{
                "name": "app", "ready": false, "restartCount": 5,
                "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                "lastState": {"terminated": {"exitCode": 1, "reason": "Error", "finishedAt": "2023-11-14T22:08:20Z"}}
            }]}
        }),
        json!({
            "metadata": meta("job-x", "2023-11-11T22:13:20Z"),
            "spec": {"nodeName": "node-1", "containers": [{"name": "run"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{
                "name": "run", "ready": false, "restartCount": 0,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}
            }]}
        }),
        json!({
            "metadata": {
                "name": "leaving", "namespace": "default",
                "creationTimestamp": "2023-11-14T21:43:20Z", "deletionTimestamp": "2023-11-14T22:13:00Z"
            },
            "spec": {"nodeName": "node-1", "containers": [{"name": "web"}], "readinessGates": [{"conditionType": "example.com/lb"}]},
            "status": {"phase": "Running", "podIP": "10.0.1.7", "nominatedNodeName": "", "containerStatuses": [running("web", true, 0)],
                       "conditions": [{"type": "example.com/lb", "status": "True"}]}
        }),
    ]
}

#[test]
fn pods_table() {
    insta::assert_snapshot!(snapshot("pods", &pods()));
}

#[test]
fn pod_status_cases() {
    let base = |status: Value| json!({"metadata": {"name": "p"}, "spec": {"initContainers": [{"name": "i1"}, {"name": "i2"}], "containers": [{"name": "a"}, {"name": "b"}]}, "status": status});
    let cases = [
        (json!({"phase": "Pending"}), "Pending"),
        (json!({"phase": "Failed", "reason": "Evicted"}), "Evicted"),
        (
            json!({"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"terminated": {"exitCode": 0}}},
                {"name": "i2", "state": {"running": {}}}
            ]}),
            "Init:1/2",
        ),
        (
            json!({"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"waiting": {"reason": "ImagePullBackOff"}}}
            ]}),
            "Init:ImagePullBackOff",
        ),
        (
            json!({"phase": "Pending", "initContainerStatuses": [
                {"name": "i1", "state": {"terminated": {"exitCode": 3}}}
            ]}),
            "Init:ExitCode:3",
        ),
        (
            json!({"phase": "Pending", "containerStatuses": [
                {"name": "a", "state": {"waiting": {"reason": "ContainerCreating"}}},
                {"name": "b", "state": {"waiting": {"reason": "ErrImagePull"}}}
            ]}),
            // The first container's reason wins: the statuses are walked from the last.
            "ContainerCreating",
        ),
        (
            json!({"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "state": {"running": {}}},
                {"name": "b", "state": {"terminated": {"exitCode": 137}}}
            ]}),
            "ExitCode:137",
        ),
        (
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}], "containerStatuses": [
                {"name": "a", "ready": true, "state": {"running": {}}},
                {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]}),
            // One container finished, the other still runs: not Completed.
            "NotReady",
        ),
        (
            json!({"phase": "Succeeded", "containerStatuses": [
                {"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "b", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}
            ]}),
            "Completed",
        ),
        (
            json!({"phase": "Running", "containerStatuses": [
                {"name": "a", "state": {"terminated": {"exitCode": 137, "signal": 9}}}
            ]}),
            "Signal:9",
        ),
        (
            json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}),
            "SchedulingGated",
        ),
        (
            // The init containers look unfinished, but the kubelet says the pod is initialized
            // (statuses lost after a restart): the app containers decide.
            json!({"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
                   "initContainerStatuses": [{"name": "i1", "state": {"waiting": {"reason": "PodInitializing"}}}],
                   "containerStatuses": [{"name": "a", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
            "CrashLoopBackOff",
        ),
    ];
    for (status, expected) in cases {
        assert_eq!(pod_status(&base(status.clone())), expected, "{status}");
    }
    let mut deleting = base(json!({"phase": "Running"}));
    deleting["metadata"]["deletionTimestamp"] = json!("2023-11-14T22:00:00Z");
    assert_eq!(pod_status(&deleting), "Terminating");
    deleting["status"]["phase"] = json!("Succeeded");
    assert_eq!(pod_status(&deleting), "Succeeded");
}

#[test]
fn nodes_table() {
    let nodes = [
        json!({
            "metadata": {"name": "cp", "creationTimestamp": "2022-10-10T22:13:20Z",
                         "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "cp"}},
            "spec": {},
            "status": {
                "conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "True"}],
                "addresses": [{"type": "InternalIP", "address": "192.168.1.10"}, {"type": "Hostname", "address": "cp"}],
                "nodeInfo": {"kubeletVersion": "v0.1.0-skiff", "osImage": "Debian GNU/Linux 12", "kernelVersion": "6.1.0", "containerRuntimeVersion": "skiff://0.1"}
            }
        }),
        json!({
            "metadata": {"name": "worker-1", "creationTimestamp": "2023-11-12T19:13:20Z", "labels": {"kubernetes.io/role": "worker"}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}], "nodeInfo": {"kubeletVersion": "v0.1.0-skiff"}}
        }),
        json!({
            "metadata": {"name": "new", "creationTimestamp": "2023-11-14T22:13:15Z"},
            "status": {}
        }),
    ];
    insta::assert_snapshot!(snapshot("nodes", &nodes));
}

fn template(containers: Value) -> Value {
    json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}})
}

#[test]
fn deployments_and_replicasets_tables() {
    let containers =
        json!([{"name": "web", "image": "nginx:1.25"}, {"name": "log", "image": "fluent-bit:2"}]);
    let deployments = [
        json!({
            "metadata": meta("web", "2023-11-12T19:13:20Z"),
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front", "cache"]}]},
                     "template": template(containers.clone())},
            "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
        }),
        json!({
            "metadata": meta("new", "2023-11-14T22:13:15Z"),
            "spec": {"selector": {"matchLabels": {"app": "new"}}, "template": template(json!([{"name": "c", "image": "busybox"}]))}
        }),
    ];
    let replicasets = [json!({
        "metadata": meta("web-5d4f8c7b9", "2023-11-14T22:10:10Z"),
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web", "pod-template-hash": "5d4f8c7b9"}}, "template": template(containers)},
        "status": {"replicas": 3, "readyReplicas": 1}
    })];
    insta::assert_snapshot!("deployments_table", snapshot("deployments", &deployments));
    insta::assert_snapshot!("replicasets_table", snapshot("replicasets", &replicasets));
}

#[test]
fn services_and_endpoints_tables() {
    let services = [
        json!({
            "metadata": meta("web", "2023-11-14T22:10:10Z"),
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "selector": {"app": "web", "tier": "front"},
                     "ports": [{"port": 80, "targetPort": 8080}, {"port": 53, "protocol": "UDP"}]}
        }),
        json!({
            "metadata": meta("np", "2023-11-14T21:43:20Z"),
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.11", "externalIPs": ["1.2.3.4"], "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}]}
        }),
        json!({"metadata": meta("lb", "2023-11-14T21:43:20Z"), "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.12", "ports": [{"port": 443}]}}),
        json!({"metadata": meta("ext", "2023-11-14T21:43:20Z"), "spec": {"type": "ExternalName", "externalName": "example.com"}}),
        json!({"metadata": meta("headless", "2023-11-14T21:43:20Z"), "spec": {"clusterIP": "None"}}),
    ];
    let endpoints = [
        json!({
            "metadata": meta("web", "2023-11-14T22:10:10Z"),
            "subsets": [{"addresses": [{"ip": "10.0.1.5"}, {"ip": "10.0.1.6"}, {"ip": "10.0.2.9"}, {"ip": "10.0.2.10"}], "ports": [{"port": 8080}]}]
        }),
        json!({"metadata": meta("two", "2023-11-14T22:10:10Z"), "subsets": [{"addresses": [{"ip": "10.0.1.5"}], "ports": [{"port": 80}, {"port": 443}]}]}),
        json!({"metadata": meta("empty", "2023-11-14T22:10:10Z")}),
    ];
    insta::assert_snapshot!("services_table", snapshot("services", &services));
    insta::assert_snapshot!("endpoints_table", snapshot("endpoints", &endpoints));
}

#[test]
fn small_kinds_tables() {
    let namespaces = [
        json!({"metadata": {"name": "default", "creationTimestamp": "2022-10-10T22:13:20Z"}, "status": {"phase": "Active"}}),
        json!({"metadata": {"name": "old", "creationTimestamp": "2023-11-14T22:10:10Z"}, "status": {"phase": "Terminating"}}),
    ];
    let configmaps = [
        json!({"metadata": meta("cfg", "2023-11-14T22:10:10Z"), "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}}),
    ];
    let secrets = [
        json!({"metadata": meta("tls", "2023-11-14T22:10:10Z"), "type": "kubernetes.io/tls", "data": {"tls.crt": "", "tls.key": ""}}),
        json!({"metadata": meta("plain", "2023-11-14T22:10:10Z")}),
    ];
    let events = [
        json!({
            "metadata": meta("web-1.179a", "2023-11-14T22:10:10Z"),
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default", "fieldPath": "spec.containers{web}"},
            "reason": "Pulled", "type": "Normal", "message": "Container image \"nginx\" already present on machine ",
            "source": {"component": "kubelet", "host": "node-1"},
            "firstTimestamp": "2023-11-14T21:43:20Z", "lastTimestamp": "2023-11-14T22:10:10Z", "count": 4
        }),
        json!({
            "metadata": meta("node-1.1", "2023-11-14T22:13:15Z"),
            "involvedObject": {"kind": "Node", "name": "node-1"},
            "reason": "NodeNotReady", "type": "Warning", "message": "Node is not ready",
            "reportingController": "node-controller", "eventTime": "2023-11-14T22:13:15.250000Z"
        }),
        json!({
            "metadata": meta("web-1.backoff", "2023-11-14T21:43:20Z"),
            "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
            "reason": "BackOff", "type": "Warning", "message": "Back-off restarting failed container",
            "reportingController": "kubelet", "reportingInstance": "node-2",
            "eventTime": "2023-11-14T21:43:20.000000Z",
            "series": {"count": 12, "lastObservedTime": "2023-11-14T22:13:00.000000Z"}
        }),
    ];
    let leases = [
        json!({"metadata": meta("kube-scheduler", "2023-11-14T21:43:20Z"), "spec": {"holderIdentity": "scheduler-1_abc"}}),
    ];
    let others = [json!({"metadata": meta("thing", "2023-11-14T21:43:20Z")})];
    insta::assert_snapshot!("namespaces_table", snapshot("namespaces", &namespaces));
    insta::assert_snapshot!("configmaps_table", snapshot("configmaps", &configmaps));
    insta::assert_snapshot!("secrets_table", snapshot("secrets", &secrets));
    insta::assert_snapshot!("events_table", snapshot("events", &events));
    insta::assert_snapshot!("leases_table", snapshot("leases", &leases));
    insta::assert_snapshot!("default_table", snapshot("widgets", &others));
}

#[test]
fn include_object_controls_the_row_object() {
    // A ConfigMap, so that this test does not depend on the pod printer (an exercise).
    let cms = [json!({"metadata": meta("cfg", "2023-11-14T22:10:10Z"), "data": {"a": "1"}})];
    let none = table("configmaps", &cms, IncludeObject::None, now());
    assert!(none["rows"][0].get("object").is_none());
    let metadata = table("configmaps", &cms, IncludeObject::Metadata, now());
    assert_eq!(
        metadata["rows"][0]["object"],
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": cms[0]["metadata"]})
    );
    let object = table("configmaps", &cms, IncludeObject::Object, now());
    assert_eq!(object["rows"][0]["object"], cms[0]);
    assert_eq!(object["kind"], "Table");
    assert_eq!(object["apiVersion"], "meta.k8s.io/v1");

    assert_eq!(IncludeObject::from_query(None), Ok(IncludeObject::Metadata));
    assert_eq!(
        IncludeObject::from_query(Some("None")),
        Ok(IncludeObject::None)
    );
    assert_eq!(
        IncludeObject::from_query(Some("Object")),
        Ok(IncludeObject::Object)
    );
    let err = IncludeObject::from_query(Some("All")).unwrap_err();
    assert!(
        err.contains("includeObject") && err.contains("\"All\""),
        "{err}"
    );
}

#[test]
fn finished_pods_carry_a_completed_condition() {
    let t = table("pods", &pods(), IncludeObject::None, now());
    assert_eq!(t["rows"][3]["conditions"][0]["type"], "Completed");
    assert!(t["rows"][0].get("conditions").is_none());
}

#[test]
fn accept_headers_that_ask_for_a_table() {
    let cases = [
        (
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
            true,
        ),
        ("application/json;as=Table;g=meta.k8s.io;v=v1", true),
        ("application/json; as=Table; v=v1beta1; g=meta.k8s.io", true),
        ("application/json", false),
        (
            "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
            false,
        ),
        ("application/json;as=Table;v=v2;g=meta.k8s.io", false),
        ("application/yaml;as=Table;v=v1;g=meta.k8s.io", false),
        ("", false),
    ];
    for (accept, expected) in cases {
        assert_eq!(wants_table(accept), expected, "{accept}");
    }
}

#[test]
fn ages_like_human_duration() {
    let cases = [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (5, "5s"),
        (119, "119s"),
        (120, "2m"),
        (190, "3m10s"),
        (599, "9m59s"),
        (600, "10m"),
        (3 * 3600 - 1, "179m"),
        (3 * 3600, "3h"),
        (7 * 3600 + 59 * 60, "7h59m"),
        (8 * 3600, "8h"),
        (47 * 3600, "47h"),
        (48 * 3600, "2d"),
        (51 * 3600, "2d3h"),
        (8 * 86400, "8d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (3 * 365 * 86400 + 20 * 86400, "3y20d"),
        (8 * 365 * 86400, "8y"),
    ];
    for (seconds, expected) in cases {
        assert_eq!(human_duration(seconds), expected, "{seconds}s");
    }
}

#[test]
fn a_missing_timestamp_is_unknown() {
    let t = table(
        "configmaps",
        &[json!({"metadata": {"name": "x"}})],
        IncludeObject::None,
        now(),
    );
    assert_eq!(t["rows"][0]["cells"], json!(["x", 0, "<unknown>"]));
}

#[test]
fn sidecars_count_as_containers_and_do_not_block_initialization() {
    let pod = json!({
        "metadata": meta("with-sidecar", "2023-11-14T22:10:10Z"),
        "spec": {
            "initContainers": [{"name": "setup"}, {"name": "proxy", "restartPolicy": "Always"}],
            "containers": [{"name": "app"}]
        },
        "status": {
            "phase": "Running",
            "initContainerStatuses": [
                {"name": "setup", "restartCount": 1, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}},
                {"name": "proxy", "started": true, "ready": true, "restartCount": 2, "state": {"running": {}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2023-11-14T22:12:20Z"}}}
            ],
            "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0, "state": {"running": {}}}]
        }
    });
    let t = table("pods", &[pod], IncludeObject::None, now());
    let cells = &t["rows"][0]["cells"];
    assert_eq!(cells[1], "2/2", "the sidecar counts: {cells}");
    assert_eq!(cells[2], "Running");
    // The finished init container's restart no longer counts; the sidecar's do.
    assert_eq!(cells[3], "2 (60s ago)");

    let starting = json!({
        "metadata": meta("starting", "2023-11-14T22:10:10Z"),
        "spec": {"initContainers": [{"name": "setup"}], "containers": [{"name": "app"}]},
        "status": {
            "phase": "Pending",
            "initContainerStatuses": [{"name": "setup", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                                       "lastState": {"terminated": {"exitCode": 1, "finishedAt": "2023-11-14T22:13:10Z"}}}],
            "containerStatuses": [{"name": "app", "restartCount": 0, "state": {"waiting": {"reason": "PodInitializing"}}}]
        }
    });
    let t = table("pods", &[starting], IncludeObject::None, now());
    let cells = &t["rows"][0]["cells"];
    assert_eq!(cells[1], "0/1");
    assert_eq!(cells[2], "Init:CrashLoopBackOff");
    assert_eq!(cells[3], "3 (10s ago)");
}
