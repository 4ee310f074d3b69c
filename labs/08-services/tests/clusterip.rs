//! ClusterIP allocation through the API server's create path: addresses from the service
//! range, a requested address honoured if free, 422s naming `spec.clusterIP`, immutability,
//! release on delete, and no duplicates or leaks under 50 concurrent creates.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::sync::Arc;

use apiserver::ApiServer;
use apiserver::request::{ApiRequest, ApiResponse, Handler, User};
use apiserver::storage::memory::MemoryStorage;
use bytes::Bytes;
use serde_json::{Value, json};
use services::clusterip::{
    Bitmap, ClusterIpAllocator, DEFAULT_SERVICE_RANGE, ServiceRange, pick_free,
};

const SERVICES: &str = "/api/v1/namespaces/default/services";

struct Cluster {
    server: ApiServer,
    allocator: ClusterIpAllocator,
}

fn cluster() -> Cluster {
    cluster_with_range(DEFAULT_SERVICE_RANGE)
}

fn cluster_with_range(range: &str) -> Cluster {
    let storage = Arc::new(MemoryStorage::new());
    let allocator = ClusterIpAllocator::new(storage.clone(), ServiceRange::parse(range).unwrap());
    let server = ApiServer::new(storage).with_admission(Arc::new(allocator.clone()));
    Cluster { server, allocator }
}

impl Cluster {
    async fn call(&self, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
        let content_type = match method {
            "PATCH" => "application/merge-patch+json",
            _ => "application/json",
        };
        let mut headers = hyper::HeaderMap::new();
        headers.insert(hyper::header::CONTENT_TYPE, content_type.parse().unwrap());
        let request = ApiRequest {
            method: method.parse().unwrap(),
            path: path.to_string(),
            query: String::new(),
            headers,
            body: body.map(|b| Bytes::from(b.to_string())).unwrap_or_default(),
            user: User::new("admin", &["system:masters"]),
        };
        match self.server.handle(request).await {
            ApiResponse::Full { status, body, .. } => {
                (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
            }
            ApiResponse::Stream { status, .. } => (status, Value::Null),
        }
    }

    async fn create(&self, name: &str, cluster_ip: Option<&str>) -> (u16, Value) {
        self.call("POST", SERVICES, Some(&service(name, cluster_ip)))
            .await
    }
}

fn service(name: &str, cluster_ip: Option<&str>) -> Value {
    let mut spec = json!({"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]});
    if let Some(ip) = cluster_ip {
        spec["clusterIP"] = json!(ip);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec})
}

fn ip_of(object: &Value) -> Ipv4Addr {
    object["spec"]["clusterIP"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// The field and message of the first cause of a 422.
fn cause(status: &Value) -> (String, String) {
    let cause = &status["details"]["causes"][0];
    (
        cause["field"].as_str().unwrap_or("").to_string(),
        cause["message"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn pick_free_scans_from_the_cursor_and_wraps() {
    let mut bitmap = Bitmap::new(8); // offsets 1..=6 usable
    assert_eq!(pick_free(&bitmap, 1), Some(1));
    assert_eq!(pick_free(&bitmap, 5), Some(5));
    bitmap.set(5, true);
    bitmap.set(6, true);
    assert_eq!(pick_free(&bitmap, 5), Some(1), "wraps past the end");
    for offset in 1..=4 {
        bitmap.set(offset, true);
    }
    assert_eq!(pick_free(&bitmap, 3), None, "full");
    bitmap.set(2, false);
    assert_eq!(
        pick_free(&bitmap, 7),
        Some(2),
        "a cursor past the end wraps too"
    );
    assert!(
        !bitmap.is_set(0) && !bitmap.is_set(7),
        "network and broadcast never used"
    );
}

#[test]
fn service_ranges_are_checked() {
    let range = ServiceRange::parse("127.10.0.0/16").unwrap();
    assert_eq!(range.size(), 65536);
    assert_eq!(range.offset_of("127.10.0.0".parse().unwrap()), None);
    assert_eq!(range.offset_of("127.10.255.255".parse().unwrap()), None);
    assert_eq!(range.offset_of("127.10.1.2".parse().unwrap()), Some(258));
    assert_eq!(range.offset_of("127.11.0.1".parse().unwrap()), None);
    for (bad, why) in [
        ("127.10.0.0", "CIDR"),
        ("10.0.0.0/16", "loopback"),
        ("127.10.0.1/16", "host bits"),
        ("127.10.0.0/31", "between 8 and 30"),
        ("127.10.0.x/16", "not an IPv4"),
    ] {
        let error = ServiceRange::parse(bad).unwrap_err();
        assert!(error.contains(why), "{bad}: {error}");
    }
}

#[tokio::test]
async fn a_service_gets_an_address_from_the_range_on_create() {
    let c = cluster();
    let (code, web) = c.create("web", None).await;
    assert_eq!(code, 201, "{web}");
    let ip = ip_of(&web);
    assert_eq!(ip, Ipv4Addr::new(127, 10, 0, 1));
    assert_eq!(web["spec"]["clusterIPs"], json!([ip.to_string()]));
    let (_, api) = c.create("api", None).await;
    assert_eq!(ip_of(&api), Ipv4Addr::new(127, 10, 0, 2));
    // What the API stores is what it answered.
    let (_, stored) = c.call("GET", &format!("{SERVICES}/web"), None).await;
    assert_eq!(ip_of(&stored), ip);
    assert!(c.allocator.is_allocated(ip).await.unwrap());
}

#[tokio::test]
async fn a_requested_address_is_honoured_if_free_and_refused_if_taken_or_outside() {
    let c = cluster();
    let (code, web) = c.create("web", Some("127.10.3.4")).await;
    assert_eq!(code, 201, "{web}");
    assert_eq!(ip_of(&web), Ipv4Addr::new(127, 10, 3, 4));

    let (code, status) = c.create("other", Some("127.10.3.4")).await;
    assert_eq!(code, 422, "{status}");
    let (field, message) = cause(&status);
    assert_eq!(field, "spec.clusterIP");
    assert!(message.contains("already allocated"), "{message}");

    let (code, status) = c.create("outside", Some("127.99.0.1")).await;
    assert_eq!(code, 422, "{status}");
    let (field, message) = cause(&status);
    assert_eq!(field, "spec.clusterIP");
    assert!(message.contains("not in the valid range"), "{message}");
    assert!(message.contains("127.10.0.0/16"), "{message}");

    let (code, status) = c.create("garbage", Some("not-an-ip")).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(cause(&status).0, "spec.clusterIP");

    // None of the refused creates took an address.
    assert_eq!(c.allocator.allocated().await.unwrap(), 1);
}

#[tokio::test]
async fn headless_services_get_no_address() {
    let c = cluster();
    let (code, db) = c.create("db", Some("None")).await;
    assert_eq!(code, 201, "{db}");
    assert_eq!(db["spec"]["clusterIP"], "None");
    assert_eq!(c.allocator.allocated().await.unwrap(), 0);
    let (code, _) = c.call("DELETE", &format!("{SERVICES}/db"), None).await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn the_address_is_stable_and_immutable() {
    let c = cluster();
    let (_, web) = c.create("web", None).await;
    let ip = ip_of(&web);
    let path = format!("{SERVICES}/web");

    // An update that leaves clusterIP out keeps it.
    let mut update = web.clone();
    update["spec"].as_object_mut().unwrap().remove("clusterIP");
    update["spec"].as_object_mut().unwrap().remove("clusterIPs");
    update["metadata"]["labels"] = json!({"tier": "front"});
    let (code, updated) = c.call("PUT", &path, Some(&update)).await;
    assert_eq!(code, 200, "{updated}");
    assert_eq!(ip_of(&updated), ip);

    // One that changes it is refused.
    let mut change = updated.clone();
    change["spec"]["clusterIP"] = json!("127.10.9.9");
    let (code, status) = c.call("PUT", &path, Some(&change)).await;
    assert_eq!(code, 422, "{status}");
    let (field, message) = cause(&status);
    assert_eq!(field, "spec.clusterIP");
    assert!(message.contains("field is immutable"), "{message}");

    // So is a merge patch.
    let patch = json!({"spec": {"clusterIP": "127.10.9.9"}});
    let (code, status) = c.call("PATCH", &path, Some(&patch)).await;
    assert_eq!(code, 422, "{status}");
    assert_eq!(cause(&status).0, "spec.clusterIP");
    let (_, stored) = c.call("GET", &path, None).await;
    assert_eq!(ip_of(&stored), ip);
    assert_eq!(c.allocator.allocated().await.unwrap(), 1);
}

#[tokio::test]
async fn delete_releases_the_address_and_a_failed_create_takes_none() {
    let c = cluster();
    let (_, web) = c.create("web", Some("127.10.0.7")).await;
    let ip = ip_of(&web);
    // Same name again: 409, and the address it would have taken is given back.
    let (code, _) = c.create("web", None).await;
    assert_eq!(code, 409);
    assert_eq!(c.allocator.allocated().await.unwrap(), 1);

    let (code, _) = c.call("DELETE", &format!("{SERVICES}/web"), None).await;
    assert_eq!(code, 200);
    assert!(!c.allocator.is_allocated(ip).await.unwrap());
    assert_eq!(c.allocator.allocated().await.unwrap(), 0);
    // The released address can be asked for again.
    let (code, again) = c.create("web2", Some("127.10.0.7")).await;
    assert_eq!(code, 201, "{again}");
}

#[tokio::test]
async fn a_full_range_says_so() {
    let c = cluster_with_range("127.10.0.0/30"); // two usable addresses
    assert_eq!(c.create("a", None).await.0, 201);
    assert_eq!(c.create("b", None).await.0, 201);
    let (code, status) = c.create("c", None).await;
    assert_eq!(code, 500, "{status}");
    assert!(
        status["message"].as_str().unwrap().contains("is full"),
        "{status}"
    );
    assert_eq!(c.allocator.allocated().await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_get_fifty_distinct_addresses_and_deletes_leak_none() {
    let c = Arc::new(cluster());
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.create(&format!("svc-{i}"), None).await })
        })
        .collect();
    let mut addresses = BTreeSet::new();
    for task in tasks {
        let (code, created) = task.await.unwrap();
        assert_eq!(code, 201, "{created}");
        assert!(
            addresses.insert(ip_of(&created)),
            "duplicate {}",
            ip_of(&created)
        );
    }
    assert_eq!(addresses.len(), 50);
    assert_eq!(c.allocator.allocated().await.unwrap(), 50);

    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(
                async move { c.call("DELETE", &format!("{SERVICES}/svc-{i}"), None).await },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().0, 200);
    }
    assert_eq!(c.allocator.allocated().await.unwrap(), 0, "no leaks");
}

#[tokio::test]
async fn deleting_a_namespace_releases_its_services_addresses() {
    let c = cluster();
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}});
    assert_eq!(c.call("POST", "/api/v1/namespaces", Some(&ns)).await.0, 201);
    let path = "/api/v1/namespaces/team/services";
    assert_eq!(
        c.call("POST", path, Some(&service("web", None))).await.0,
        201
    );
    assert_eq!(c.allocator.allocated().await.unwrap(), 1);
    assert_eq!(
        c.call("DELETE", "/api/v1/namespaces/team", None).await.0,
        200
    );
    assert_eq!(c.allocator.allocated().await.unwrap(), 0);
}

/// A second hook that refuses Services named `bad-*`, after the allocator has run.
struct RefuseBad;

impl apiserver::rest::MutatingAdmission for RefuseBad {
    fn resource(&self) -> &'static str {
        "services"
    }
    fn on_create<'a>(
        &'a self,
        object: &'a mut Value,
    ) -> apiserver::rest::HookFuture<'a, Result<(), apiserver::status::StatusError>> {
        Box::pin(async move {
            let name = object["metadata"]["name"].as_str().unwrap_or("");
            if name.starts_with("bad-") {
                return Err(apiserver::status::StatusError::new(
                    403,
                    "Forbidden",
                    format!("services {name:?} is forbidden: refused by policy"),
                ));
            }
            Ok(())
        })
    }
    fn on_update(
        &self,
        _existing: &Value,
        _incoming: &mut Value,
    ) -> Result<(), apiserver::status::StatusError> {
        Ok(())
    }
    fn on_delete<'a>(&'a self, _object: &'a Value) -> apiserver::rest::HookFuture<'a, ()> {
        Box::pin(async {})
    }
}

#[tokio::test]
async fn a_later_hook_refusing_the_create_gives_the_address_back() {
    let storage = Arc::new(MemoryStorage::new());
    let range = ServiceRange::parse(DEFAULT_SERVICE_RANGE).unwrap();
    let allocator = ClusterIpAllocator::new(storage.clone(), range);
    let c = Cluster {
        server: ApiServer::new(storage)
            .with_admission(Arc::new(allocator.clone()))
            .with_admission(Arc::new(RefuseBad)),
        allocator,
    };
    let (code, status) = c.create("bad-1", None).await;
    assert_eq!(code, 403, "{status}");
    assert_eq!(c.allocator.allocated().await.unwrap(), 0, "no leak");
    assert_eq!(c.create("good", None).await.0, 201);
    assert_eq!(c.allocator.allocated().await.unwrap(), 1);
}
