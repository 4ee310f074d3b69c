//! `skiffctl top nodes|pods`: what is *requested* on each node (or by each pod).
//!
//! `kubectl top` shows what is *used*, read from the metrics server (which scrapes each
//! kubelet's cAdvisor). skiff has no metrics server, so skiffctl shows the next best thing,
//! the same sums the scheduler fits pods by: the requests of the pods bound to each node,
//! against the node's allocatable.

use api::Quantity;
use serde_json::Value;

use super::args::Invocation;
use super::client::{Ctl, CtlError, CtlResult, collection_path, resolve};
use super::output::{Rows, format_table};

/// The note printed above the table: these are requests, not usage.
pub const NOTE: &str = "(requests, not usage: skiff has no metrics server)";

fn quantity(value: &Value, field: &str) -> CtlResult<Quantity> {
    match value.as_str() {
        None => Ok(Quantity::from_integer(0)),
        Some(text) => Quantity::parse(text)
            .map_err(|e| CtlError::local(format!("error: {field}: {text:?}: {e}"))),
    }
}

/// The CPU (millicores) and memory (bytes) a pod requests: the sum over its containers.
pub fn pod_requests(pod: &Value) -> CtlResult<(i64, i64)> {
    let (mut cpu, mut memory) = (0, 0);
    for c in pod["spec"]["containers"].as_array().into_iter().flatten() {
        let requests = &c["resources"]["requests"];
        cpu += quantity(&requests["cpu"], "resources.requests.cpu")?.millis();
        memory += quantity(&requests["memory"], "resources.requests.memory")?.value();
    }
    Ok((cpu, memory))
}

fn mebibytes(bytes: i64) -> String {
    format!("{}Mi", bytes / (1024 * 1024))
}

fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "<unknown>".to_string();
    }
    format!("{}%", part * 100 / whole)
}

/// The rows of `top nodes`: per node, the requests of its running pods against allocatable.
pub fn node_rows(nodes: &[Value], pods: &[Value]) -> CtlResult<Rows> {
    let mut rows = Rows {
        headers: [
            "NAME",
            "CPU(requests)",
            "CPU%",
            "MEMORY(requests)",
            "MEMORY%",
            "PODS",
        ]
        .map(String::from)
        .to_vec(),
        rows: Vec::new(),
    };
    for node in nodes {
        let name = node["metadata"]["name"].as_str().unwrap_or("");
        let allocatable = &node["status"]["allocatable"];
        let cpu_total = quantity(&allocatable["cpu"], "status.allocatable.cpu")?.millis();
        let memory_total = quantity(&allocatable["memory"], "status.allocatable.memory")?.value();
        let pod_total = quantity(&allocatable["pods"], "status.allocatable.pods")?.value();
        let (mut cpu, mut memory, mut count) = (0, 0, 0);
        for pod in pods.iter().filter(|p| p["spec"]["nodeName"] == name) {
            if matches!(
                pod["status"]["phase"].as_str(),
                Some("Succeeded" | "Failed")
            ) {
                continue;
            }
            let (c, m) = pod_requests(pod)?;
            cpu += c;
            memory += m;
            count += 1;
        }
        rows.rows.push(vec![
            name.to_string(),
            format!("{cpu}m"),
            percent(cpu, cpu_total),
            mebibytes(memory),
            percent(memory, memory_total),
            format!("{count}/{pod_total}"),
        ]);
    }
    Ok(rows)
}

/// Runs `top nodes` or `top pods`.
pub async fn run(ctl: &Ctl, inv: &Invocation) -> CtlResult<()> {
    let what = inv.words.get(1).map(String::as_str).unwrap_or("");
    let pods_info = resolve("pods")?;
    match what {
        "node" | "nodes" | "no" => {
            let nodes = ctl.get(&collection_path(resolve("nodes")?, None)).await?;
            let pods = ctl.get(&collection_path(pods_info, None)).await?;
            let items = |v: &Value| v["items"].as_array().cloned().unwrap_or_default();
            let rows = node_rows(&items(&nodes), &items(&pods))?;
            println!("{NOTE}");
            print!("{}", format_table(&rows, !inv.no_headers));
            Ok(())
        }
        "pod" | "pods" | "po" => {
            let namespace = (!inv.all_namespaces).then_some(ctl.namespace.as_str());
            let pods = ctl.get(&collection_path(pods_info, namespace)).await?;
            let mut rows = Rows {
                headers: vec![
                    "NAME".into(),
                    "CPU(requests)".into(),
                    "MEMORY(requests)".into(),
                ],
                rows: Vec::new(),
            };
            if inv.all_namespaces {
                rows.headers.insert(0, "NAMESPACE".into());
            }
            for pod in pods["items"].as_array().into_iter().flatten() {
                let (cpu, memory) = pod_requests(pod)?;
                let mut row = vec![
                    pod["metadata"]["name"].as_str().unwrap_or("").to_string(),
                    format!("{cpu}m"),
                    mebibytes(memory),
                ];
                if inv.all_namespaces {
                    row.insert(
                        0,
                        pod["metadata"]["namespace"].as_str().unwrap_or("").into(),
                    );
                }
                rows.rows.push(row);
            }
            println!("{NOTE}");
            print!("{}", format_table(&rows, !inv.no_headers));
            Ok(())
        }
        other => Err(CtlError::local(format!(
            "error: top: expected `nodes` or `pods`, got {other:?}"
        ))),
    }
}
