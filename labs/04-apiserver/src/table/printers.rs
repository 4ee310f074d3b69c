//! One printer per kind: its column definitions and how an object becomes a row's cells,
//! after `pkg/printers/internalversion/printers.go`.

use serde_json::{Value, json};

use super::Column;
use super::age::since;
use crate::labelselector::format_label_selector;

/// A row's cells and, for finished pods, its `conditions` (`Completed`).
pub(crate) struct Printed {
    pub cells: Vec<Value>,
    pub conditions: Option<Value>,
}

impl From<Vec<Value>> for Printed {
    fn from(cells: Vec<Value>) -> Self {
        Printed {
            cells,
            conditions: None,
        }
    }
}

/// The columns of a kind and the function printing one of its objects.
pub(crate) struct Printer {
    pub columns: &'static [Column],
    pub row: fn(&Value, i64) -> Printed,
}

const fn col(name: &'static str, kind: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind,
        format: "",
        description,
        priority: 0,
    }
}

const fn wide(name: &'static str, description: &'static str) -> Column {
    Column {
        name,
        kind: "string",
        format: "",
        description,
        priority: 1,
    }
}

const NAME: Column = Column {
    name: "Name",
    kind: "string",
    format: "name",
    description: "Name must be unique within a namespace.",
    priority: 0,
};
const AGE: Column = col(
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
);

/// The printer for a resource (plural); kinds without one get Kubernetes' default table,
/// `Name` and `Created At`.
pub(crate) fn printer(resource: &str) -> Printer {
    match resource {
        "pods" => Printer {
            columns: POD_COLUMNS,
            row: pod_row,
        },
        "nodes" => Printer {
            columns: NODE_COLUMNS,
            row: node_row,
        },
        "deployments" => Printer {
            columns: DEPLOYMENT_COLUMNS,
            row: deployment_row,
        },
        "replicasets" => Printer {
            columns: REPLICASET_COLUMNS,
            row: replicaset_row,
        },
        "services" => Printer {
            columns: SERVICE_COLUMNS,
            row: service_row,
        },
        "endpoints" => Printer {
            columns: ENDPOINTS_COLUMNS,
            row: endpoints_row,
        },
        "namespaces" => Printer {
            columns: NAMESPACE_COLUMNS,
            row: namespace_row,
        },
        "configmaps" => Printer {
            columns: CONFIGMAP_COLUMNS,
            row: configmap_row,
        },
        "secrets" => Printer {
            columns: SECRET_COLUMNS,
            row: secret_row,
        },
        "events" => Printer {
            columns: EVENT_COLUMNS,
            row: event_row,
        },
        "leases" => Printer {
            columns: LEASE_COLUMNS,
            row: lease_row,
        },
        _ => Printer {
            columns: DEFAULT_COLUMNS,
            row: default_row,
        },
    }
}

fn s<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

fn int(object: &Value, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn list<'a>(object: &'a Value, pointer: &str) -> &'a [Value] {
    object
        .pointer(pointer)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn or_none(text: &str) -> String {
    if text.is_empty() {
        "<none>".to_string()
    } else {
        text.to_string()
    }
}

fn name(object: &Value) -> Value {
    json!(s(object, "/metadata/name"))
}

fn age(object: &Value, now: i64) -> Value {
    json!(since(object.pointer("/metadata/creationTimestamp"), now))
}

// ---------------------------------------------------------------------------------------------
// Pods

const POD_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide(
        "IP",
        "IP address allocated to the pod. Routable at least within the cluster.",
    ),
    wide(
        "Node",
        "NodeName is the name of the node the pod is bound to.",
    ),
    wide(
        "Nominated Node",
        "The node the scheduler nominated for this pod after a preemption.",
    ),
    wide(
        "Readiness Gates",
        "Extra conditions evaluated for pod readiness.",
    ),
];

/// True for a sidecar: an init container with `restartPolicy: Always`, which keeps running
/// beside the app containers instead of finishing before them.
fn is_sidecar(pod: &Value, name: &str) -> bool {
    list(pod, "/spec/initContainers")
        .iter()
        .any(|c| s(c, "/name") == name && s(c, "/restartPolicy") == "Always")
}

/// True when the pod's `Initialized` condition is `True`.
fn initialized(pod: &Value) -> bool {
    list(pod, "/status/conditions")
        .iter()
        .find(|c| c["type"] == "Initialized")
        .is_some_and(|c| c["status"] == "True")
}

/// The reason of a terminated container: its `reason`, else `Signal:N` or `ExitCode:N`.
fn terminated_reason(terminated: &Value) -> String {
    match (s(terminated, "/reason"), int(terminated, "/signal")) {
        ("", 0) => format!("ExitCode:{}", int(terminated, "/exitCode")),
        ("", signal) => format!("Signal:{signal}"),
        (reason, _) => reason.to_string(),
    }
}

/// The init container that holds the pod back, as `(index, status)`: the first one that has
/// neither exited 0 nor (for a sidecar) started. `None` once initialization is done.
fn blocking_init_container(pod: &Value) -> Option<(usize, &Value)> {
    list(pod, "/status/initContainerStatuses")
        .iter()
        .enumerate()
        .find(|(_, status)| {
            let succeeded = status
                .pointer("/state/terminated")
                .is_some_and(|t| int(t, "/exitCode") == 0);
            let sidecar_started =
                is_sidecar(pod, s(status, "/name")) && status["started"] == json!(true);
            !succeeded && !sidecar_started
        })
}

// ANCHOR: pod_status
/// The STATUS cell of a pod, as `kubectl get pods` shows it (Kubernetes' `printPod`): the
/// phase (or `status.reason`, or `SchedulingGated`), overridden by what the containers report:
/// while an init container holds the pod back, `Init:<reason>`, `Init:ExitCode:N` or
/// `Init:i/n`; afterwards, walking the containers from the last, a waiting reason
/// (`CrashLoopBackOff`), a terminated reason (`Completed`, `Error`) or `ExitCode:N`; and
/// `Terminating` once deletion began on a pod that has not finished.
pub fn pod_status(pod: &Value) -> String {
    // EXERCISE(apiserver-pod-status-column): start from status.reason or the phase; if an init container blocks (blocking_init_container), give Init:<waiting reason>, Init:<terminated reason> or Init:i/n; otherwise walk the container statuses from the last (waiting reason, then terminated_reason); a deletionTimestamp on a pod that is not Succeeded/Failed gives Terminating
    let phase = s(pod, "/status/phase");
    let mut reason = match s(pod, "/status/reason") {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let gated = list(pod, "/status/conditions")
        .iter()
        .any(|c| c["type"] == "PodScheduled" && c["reason"] == "SchedulingGated");
    if gated {
        reason = "SchedulingGated".to_string();
    }
    let blocking = blocking_init_container(pod);
    if let Some((i, status)) = blocking {
        let waiting = s(status, "/state/waiting/reason");
        reason = match status.pointer("/state/terminated") {
            Some(terminated) => format!("Init:{}", terminated_reason(terminated)),
            None if !waiting.is_empty() && waiting != "PodInitializing" => {
                format!("Init:{waiting}")
            }
            None => format!("Init:{i}/{}", list(pod, "/spec/initContainers").len()),
        };
    }
    if blocking.is_none() || initialized(pod) {
        let mut has_running = false;
        for status in list(pod, "/status/containerStatuses").iter().rev() {
            let waiting = s(status, "/state/waiting/reason");
            if !waiting.is_empty() {
                reason = waiting.to_string();
            } else if let Some(terminated) = status.pointer("/state/terminated") {
                reason = terminated_reason(terminated);
            } else if status["ready"] == json!(true) && status.pointer("/state/running").is_some() {
                has_running = true;
            }
        }
        // A finished container beside one still running: the pod is not Completed.
        if reason == "Completed" && has_running {
            let ready = list(pod, "/status/conditions")
                .iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True");
            reason = if ready { "Running" } else { "NotReady" }.to_string();
        }
    }
    let deleting = pod
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|t| !t.is_null());
    if deleting && s(pod, "/status/reason") == "NodeLost" {
        reason = "Unknown".to_string();
    } else if deleting && phase != "Succeeded" && phase != "Failed" {
        reason = "Terminating".to_string();
    }
    reason
    // END EXERCISE
}
// ANCHOR_END: pod_status

/// READY as `ready/total` and RESTARTS as `N (age ago)`, counted like `printPod`: sidecars
/// count as containers; while initialization is under way, restarts are the init
/// containers', afterwards the sidecars' and the app containers'.
fn pod_counts(pod: &Value, now: i64) -> (String, String) {
    let mut total = list(pod, "/spec/containers").len();
    total += list(pod, "/spec/initContainers")
        .iter()
        .filter(|c| s(c, "/restartPolicy") == "Always")
        .count();
    let init_statuses = list(pod, "/status/initContainerStatuses");
    let statuses = list(pod, "/status/containerStatuses");
    let is_ready = |c: &Value| c["ready"] == json!(true);
    let mut ready = init_statuses
        .iter()
        .filter(|c| is_sidecar(pod, s(c, "/name")) && c["started"] == json!(true) && is_ready(c))
        .count();
    let initializing = blocking_init_container(pod).is_some() && !initialized(pod);
    let counted: Vec<&Value> = if initializing {
        init_statuses.iter().collect()
    } else {
        ready += statuses
            .iter()
            .filter(|c| {
                is_ready(c)
                    && c.pointer("/state/running").is_some()
                    && c.pointer("/state/waiting").is_none()
                    && c.pointer("/state/terminated").is_none()
            })
            .count();
        init_statuses
            .iter()
            .filter(|c| is_sidecar(pod, s(c, "/name")))
            .chain(statuses)
            .collect()
    };
    let restarts: i64 = counted.iter().map(|c| int(c, "/restartCount")).sum();
    let last_restart = counted
        .iter()
        .filter_map(|c| c.pointer("/lastState/terminated/finishedAt"))
        .filter_map(Value::as_str)
        .max();
    let restarts = match last_restart {
        Some(at) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(&json!(at)), now)),
        _ => restarts.to_string(),
    };
    (format!("{ready}/{total}"), restarts)
}

fn pod_row(pod: &Value, now: i64) -> Printed {
    let (ready, restarts) = pod_counts(pod, now);
    let ip = match s(pod, "/status/podIPs/0/ip") {
        "" => s(pod, "/status/podIP"),
        ip => ip,
    };
    let gates = list(pod, "/spec/readinessGates");
    let readiness_gates = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conditions = list(pod, "/status/conditions");
        let met = gates
            .iter()
            .filter(|g| {
                conditions
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| c["status"] == "True")
            })
            .count();
        format!("{met}/{}", gates.len())
    };
    let conditions = match s(pod, "/status/phase") {
        "Succeeded" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Succeeded",
            "message": "The pod has completed successfully."
        }])),
        "Failed" => Some(json!([{
            "type": "Completed", "status": "True", "reason": "Failed",
            "message": "The pod failed."
        }])),
        _ => None,
    };
    Printed {
        cells: vec![
            name(pod),
            json!(ready),
            json!(pod_status(pod)),
            json!(restarts),
            age(pod, now),
            json!(or_none(ip)),
            json!(or_none(s(pod, "/spec/nodeName"))),
            json!(or_none(s(pod, "/status/nominatedNodeName"))),
            json!(readiness_gates),
        ],
        conditions,
    }
}

// ---------------------------------------------------------------------------------------------
// Nodes

const NODE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", "Kubelet Version reported by the node."),
    wide("Internal-IP", "List of addresses reachable to the node."),
    wide("External-IP", "List of addresses reachable to the node."),
    wide(
        "OS-Image",
        "OS Image reported by the node from /etc/os-release.",
    ),
    wide(
        "Kernel-Version",
        "Kernel Version reported by the node from 'uname -r'.",
    ),
    wide(
        "Container-Runtime",
        "ContainerRuntime Version reported by the node.",
    ),
];

fn node_row(node: &Value, now: i64) -> Printed {
    let mut status: Vec<String> = list(node, "/status/conditions")
        .iter()
        .filter(|c| c["type"] == "Ready")
        .map(|c| {
            if c["status"] == "True" {
                "Ready"
            } else {
                "NotReady"
            }
            .to_string()
        })
        .take(1)
        .collect();
    if status.is_empty() {
        status.push("Unknown".to_string());
    }
    if node.pointer("/spec/unschedulable") == Some(&json!(true)) {
        status.push("SchedulingDisabled".to_string());
    }
    let mut roles: Vec<String> = node
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            if let Some(role) = key.strip_prefix("node-role.kubernetes.io/") {
                (!role.is_empty()).then(|| role.to_string())
            } else if key == "kubernetes.io/role" {
                value.as_str().filter(|v| !v.is_empty()).map(str::to_string)
            } else {
                None
            }
        })
        .collect();
    roles.sort();
    roles.dedup();
    let address = |kind: &str| {
        list(node, "/status/addresses")
            .iter()
            .find(|a| a["type"] == kind)
            .map_or("<none>".to_string(), |a| s(a, "/address").to_string())
    };
    let info = |field: &str| match s(node, &format!("/status/nodeInfo/{field}")) {
        "" => "<unknown>".to_string(),
        v => v.to_string(),
    };
    vec![
        name(node),
        json!(status.join(",")),
        json!(or_none(&roles.join(","))),
        age(node, now),
        json!(s(node, "/status/nodeInfo/kubeletVersion")),
        json!(address("InternalIP")),
        json!(address("ExternalIP")),
        json!(info("osImage")),
        json!(info("kernelVersion")),
        json!(info("containerRuntimeVersion")),
    ]
    .into()
}

// ---------------------------------------------------------------------------------------------
// Deployments and ReplicaSets

const DEPLOYMENT_COLUMNS: &[Column] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col(
        "Up-to-date",
        "string",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
    ),
    col(
        "Available",
        "string",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    AGE,
    wide("Containers", "Names of each container in the template."),
    wide(
        "Images",
        "Images referenced by each container in the template.",
    ),
    wide(
        "Selector",
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.",
    ),
];

const REPLICASET_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
    ),
    col(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
    ),
    col(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
    ),
    AGE,
    wide("Containers", "Names of each container in the template."),
    wide(
        "Images",
        "Images referenced by each container in the template.",
    ),
    wide(
        "Selector",
        "Selector is a label query over pods that should match the replica count.",
    ),
];

/// CONTAINERS, IMAGES and SELECTOR of a workload with a pod template.
fn template_cells(object: &Value) -> [Value; 3] {
    let containers = list(object, "/spec/template/spec/containers");
    let names: Vec<&str> = containers.iter().map(|c| s(c, "/name")).collect();
    let images: Vec<&str> = containers.iter().map(|c| s(c, "/image")).collect();
    let selector = object
        .pointer("/spec/selector")
        .cloned()
        .and_then(|v| serde_json::from_value::<api::LabelSelector>(v).ok())
        .map_or("<none>".to_string(), |sel| format_label_selector(&sel));
    [
        json!(names.join(",")),
        json!(images.join(",")),
        json!(selector),
    ]
}

fn desired_replicas(object: &Value) -> i64 {
    // An absent spec.replicas defaults to 1, as Kubernetes' defaulting does.
    object
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1)
}

fn deployment_row(d: &Value, now: i64) -> Printed {
    let mut cells = vec![
        name(d),
        json!(format!(
            "{}/{}",
            int(d, "/status/readyReplicas"),
            desired_replicas(d)
        )),
        json!(int(d, "/status/updatedReplicas")),
        json!(int(d, "/status/availableReplicas")),
        age(d, now),
    ];
    cells.extend(template_cells(d));
    cells.into()
}

fn replicaset_row(rs: &Value, now: i64) -> Printed {
    let mut cells = vec![
        name(rs),
        json!(desired_replicas(rs)),
        json!(int(rs, "/status/replicas")),
        json!(int(rs, "/status/readyReplicas")),
        age(rs, now),
    ];
    cells.extend(template_cells(rs));
    cells.into()
}

// ---------------------------------------------------------------------------------------------
// Services and Endpoints

const SERVICE_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Type",
        "string",
        "The type of the service (ClusterIP, NodePort, LoadBalancer, ExternalName).",
    ),
    col(
        "Cluster-IP",
        "string",
        "The IP address of the service, assigned by the cluster.",
    ),
    col(
        "External-IP",
        "string",
        "IP addresses for which nodes in the cluster will also accept traffic for this service.",
    ),
    col(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
    ),
    AGE,
    wide(
        "Selector",
        "Route service traffic to pods with label keys and values matching this selector.",
    ),
];

fn service_row(svc: &Value, now: i64) -> Printed {
    let kind = match s(svc, "/spec/type") {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = match s(svc, "/spec/clusterIPs/0") {
        "" => s(svc, "/spec/clusterIP"),
        ip => ip,
    };
    let external_ips: Vec<&str> = list(svc, "/spec/externalIPs")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let external = match kind {
        "ClusterIP" | "NodePort" => or_none(&external_ips.join(",")),
        "LoadBalancer" => {
            // The ingress addresses as a sorted set, then the external IPs.
            let mut ips: Vec<&str> = list(svc, "/status/loadBalancer/ingress")
                .iter()
                .map(|i| match s(i, "/ip") {
                    "" => s(i, "/hostname"),
                    ip => ip,
                })
                .filter(|ip| !ip.is_empty())
                .collect();
            ips.sort();
            ips.dedup();
            ips.extend(external_ips);
            if ips.is_empty() {
                "<pending>".to_string()
            } else {
                ips.join(",")
            }
        }
        "ExternalName" => s(svc, "/spec/externalName").to_string(),
        _ => "<unknown>".to_string(),
    };
    let ports: Vec<String> = list(svc, "/spec/ports")
        .iter()
        .map(|p| {
            let protocol = match s(p, "/protocol") {
                "" => "TCP",
                proto => proto,
            };
            match int(p, "/nodePort") {
                0 => format!("{}/{protocol}", int(p, "/port")),
                node => format!("{}:{node}/{protocol}", int(p, "/port")),
            }
        })
        .collect();
    let mut selector: Vec<String> = svc
        .pointer("/spec/selector")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
        .collect();
    selector.sort();
    vec![
        name(svc),
        json!(kind),
        json!(or_none(cluster_ip)),
        json!(external),
        json!(or_none(&ports.join(","))),
        age(svc, now),
        json!(or_none(&selector.join(","))),
    ]
    .into()
}

const ENDPOINTS_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Endpoints",
        "string",
        "Endpoints is the list of endpoints in the service.",
    ),
    AGE,
];

/// Up to three `ip:port` endpoints, then ` + N more...`, like kubectl's `formatEndpoints`.
fn format_endpoints(endpoints: &Value) -> String {
    const MAX: usize = 3;
    let subsets = list(endpoints, "/subsets");
    if subsets.is_empty() {
        return "<none>".to_string();
    }
    let mut shown = Vec::new();
    let mut count = 0;
    for subset in subsets {
        let addresses = list(subset, "/addresses");
        let ports = list(subset, "/ports");
        if ports.is_empty() {
            count += addresses.len();
            for a in addresses {
                if shown.len() < MAX {
                    shown.push(s(a, "/ip").to_string());
                }
            }
        } else {
            for port in ports {
                count += addresses.len();
                for a in addresses {
                    if shown.len() < MAX {
                        let ip = s(a, "/ip");
                        let port = int(port, "/port");
                        shown.push(if ip.contains(':') {
                            format!("[{ip}]:{port}")
                        } else {
                            format!("{ip}:{port}")
                        });
                    }
                }
            }
        }
    }
    let text = shown.join(",");
    if count > MAX {
        format!("{text} + {} more...", count - MAX)
    } else {
        or_none(&text)
    }
}

fn endpoints_row(e: &Value, now: i64) -> Printed {
    vec![name(e), json!(format_endpoints(e)), age(e, now)].into()
}

// ---------------------------------------------------------------------------------------------
// Namespaces, ConfigMaps, Secrets, Events, Leases

const NAMESPACE_COLUMNS: &[Column] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

fn namespace_row(ns: &Value, now: i64) -> Printed {
    // An absent phase is Active: Kubernetes defaults it when the namespace is created.
    let phase = match s(ns, "/status/phase") {
        "" => "Active",
        p => p,
    };
    vec![name(ns), json!(phase), age(ns, now)].into()
}

const CONFIGMAP_COLUMNS: &[Column] = &[
    NAME,
    col(
        "Data",
        "string",
        "The number of entries in data and binaryData.",
    ),
    AGE,
];

fn entries(object: &Value, pointer: &str) -> usize {
    object
        .pointer(pointer)
        .and_then(Value::as_object)
        .map_or(0, |m| m.len())
}

fn configmap_row(cm: &Value, now: i64) -> Printed {
    let data = entries(cm, "/data") + entries(cm, "/binaryData");
    vec![name(cm), json!(data), age(cm, now)].into()
}

const SECRET_COLUMNS: &[Column] = &[
    NAME,
    col("Type", "string", "The type of the secret"),
    col("Data", "string", "The number of entries in data."),
    AGE,
];

fn secret_row(secret: &Value, now: i64) -> Printed {
    let kind = match s(secret, "/type") {
        "" => "Opaque",
        t => t,
    };
    vec![
        name(secret),
        json!(kind),
        json!(entries(secret, "/data")),
        age(secret, now),
    ]
    .into()
}

const EVENT_COLUMNS: &[Column] = &[
    col(
        "Last Seen",
        "string",
        "The time at which the most recent occurrence of this event was recorded.",
    ),
    col(
        "Type",
        "string",
        "Type of this event (Normal, Warning), new types could be added in the future.",
    ),
    col(
        "Reason",
        "string",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    col("Object", "string", "The object that this event is about."),
    wide(
        "Subobject",
        "The field of the object the event is about, e.g. spec.containers{web}.",
    ),
    wide("Source", "The component reporting this event."),
    col(
        "Message",
        "string",
        "A human-readable description of the status of this operation.",
    ),
    wide(
        "First Seen",
        "The time at which the event was first recorded.",
    ),
    wide("Count", "The number of times this event has occurred."),
    Column {
        name: "Name",
        kind: "string",
        format: "name",
        description: "Name must be unique within a namespace.",
        priority: 1,
    },
];

fn event_row(event: &Value, now: i64) -> Printed {
    let first = match event.pointer("/firstTimestamp").filter(|v| !v.is_null()) {
        Some(t) => since(Some(t), now),
        None => since(event.pointer("/eventTime"), now),
    };
    let mut last = match event.pointer("/lastTimestamp").filter(|v| !v.is_null()) {
        Some(t) => since(Some(t), now),
        None => first.clone(),
    };
    // A series (events.k8s.io's deduplication) carries the latest time and count.
    let mut count = match int(event, "/count") {
        0 => 1,
        n => n,
    };
    if let Some(series) = event.get("series").filter(|v| v.is_object()) {
        last = since(series.get("lastObservedTime"), now);
        count = int(series, "/count");
    }
    let kind = s(event, "/involvedObject/kind").to_lowercase();
    let object = match s(event, "/involvedObject/name") {
        "" => kind,
        n => format!("{kind}/{n}"),
    };
    let first_non_empty = |a: &str, b: &str| {
        if a.is_empty() {
            b.to_string()
        } else {
            a.to_string()
        }
    };
    let component = first_non_empty(
        s(event, "/source/component"),
        s(event, "/reportingController"),
    );
    let instance = first_non_empty(s(event, "/source/host"), s(event, "/reportingInstance"));
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        json!(last),
        json!(s(event, "/type")),
        json!(s(event, "/reason")),
        json!(object),
        json!(s(event, "/involvedObject/fieldPath")),
        json!(source),
        json!(s(event, "/message").trim()),
        json!(first),
        json!(count),
        name(event),
    ]
    .into()
}

const LEASE_COLUMNS: &[Column] = &[
    NAME,
    col("Holder", "string", "The holder of the lease."),
    AGE,
];

fn lease_row(lease: &Value, now: i64) -> Printed {
    vec![
        name(lease),
        json!(s(lease, "/spec/holderIdentity")),
        age(lease, now),
    ]
    .into()
}

const DEFAULT_COLUMNS: &[Column] = &[
    NAME,
    Column {
        name: "Created At",
        kind: "date",
        format: "",
        description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
        priority: 0,
    },
];

fn default_row(object: &Value, _now: i64) -> Printed {
    vec![
        name(object),
        json!(s(object, "/metadata/creationTimestamp")),
    ]
    .into()
}
