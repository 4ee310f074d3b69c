//! Parsing manifests: strict, with every error naming the full path of the field at fault.
//! Graded for `objects-base64`: Secret data is decoded from base64, and bad data names its key.

use api::{Object, ParseError, PodPhase, Quantity, parse_manifests};

fn read(name: &str) -> String {
    let path = format!("{}/tests/manifests/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

fn parse_error(text: &str) -> ParseError {
    parse_manifests(text).expect_err("the manifest should be rejected")
}

#[test]
fn a_misspelled_field_is_reported_with_its_full_path() {
    let error = parse_error(&read("pod-web-typo.yaml"));
    assert_eq!(error.path, "spec.containers[0].imagePullPolicyy");
    assert_eq!(error.message, "unknown field");
    assert_eq!(
        error.to_string(),
        "document 0: spec.containers[0].imagePullPolicyy: unknown field"
    );
}

#[test]
fn an_unknown_top_level_field_is_named_without_a_leading_dot() {
    let error = parse_error("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\nspce: {}\n");
    assert_eq!(
        (error.path.as_str(), error.message.as_str()),
        ("spce", "unknown field")
    );
}

#[test]
fn unknown_fields_deep_in_lists_and_maps_are_located() {
    let text = read("app.yaml").replace(
        "      maxSurge: 25%",
        "      maxSurge: 25%\n      maxSurges: 1",
    );
    let error = parse_error(&text);
    assert_eq!(error.document, 3, "the Deployment is the fourth document");
    assert_eq!(error.path, "spec.strategy.rollingUpdate.maxSurges");
    assert_eq!(error.message, "unknown field");
}

#[test]
fn type_errors_name_their_path_too() {
    let text = read("pod-web.yaml").replace("containerPort: 8080", "containerPort: eighty");
    let error = parse_error(&text);
    assert_eq!(error.path, "spec.containers[0].ports[0].containerPort");
    assert!(
        error.message.starts_with("invalid type: string \"eighty\""),
        "{}",
        error.message
    );
}

#[test]
fn a_bad_quantity_names_the_resource() {
    let text = read("pod-web.yaml").replace("memory: 256Mi", "memory: 256MB");
    let error = parse_error(&text);
    assert_eq!(error.path, "spec.containers[0].resources.limits.memory");
    assert!(
        error
            .message
            .starts_with("quantities must match the regular expression")
    );
}

#[test]
fn invalid_base64_in_a_secret_names_the_key() {
    let text = read("app.yaml").replace("password: aHVudGVyMg==", "password: hunter2!");
    let error = parse_error(&text);
    assert_eq!((error.document, error.path.as_str()), (2, "data.password"));
    assert!(
        error.message.starts_with("illegal base64 data"),
        "{}",
        error.message
    );
}

#[test]
fn base64_is_an_encoding_not_encryption() {
    let objects = parse_manifests(&read("app.yaml")).unwrap();
    let Object::Secret(secret) = &objects[2] else {
        panic!("the third document is the Secret");
    };
    // No key needed: anyone who can read the Secret can read the password.
    assert_eq!(secret.data["password"].0, b"hunter2");
}

#[test]
fn a_realistic_pod_parses_into_typed_fields() {
    let objects = parse_manifests(&read("pod-web.yaml")).unwrap();
    let [Object::Pod(pod)] = objects.as_slice() else {
        panic!("expected one Pod, got {objects:?}");
    };
    let web = &pod.spec.containers[0];
    assert_eq!(web.resources.requests["cpu"].millis(), 250);
    assert_eq!(web.resources.limits["memory"].value(), 256 * 1024 * 1024);
    assert_eq!(
        web.env[1]
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap()
            .key,
        "password"
    );
    assert_eq!(pod.spec.init_containers[0].name, "migrate");
    assert_eq!(pod.status, None, "a manifest carries no status");
    let config_volume = pod.spec.volumes[0].config_map.as_ref().unwrap();
    assert_eq!(
        config_volume.default_mode,
        Some(0o440),
        "0440 is octal in YAML 1.1"
    );
}

#[test]
fn multi_document_yaml_gives_one_object_per_document() {
    let objects = parse_manifests(&read("app.yaml")).unwrap();
    let kinds: Vec<&str> = objects.iter().map(Object::kind).collect();
    assert_eq!(
        kinds,
        ["Namespace", "ConfigMap", "Secret", "Deployment", "Service"]
    );
    let Object::Deployment(deployment) = &objects[3] else {
        panic!("the fourth document is the Deployment");
    };
    let cpu = &deployment.spec.template.spec.containers[0]
        .resources
        .requests["cpu"];
    assert_eq!(
        *cpu,
        Quantity::from_millis(250),
        "a bare YAML number is a quantity too"
    );
}

#[test]
fn json_parses_like_yaml() {
    let objects = parse_manifests(&read("node.json")).unwrap();
    let [Object::Node(node)] = objects.as_slice() else {
        panic!("expected one Node, got {objects:?}");
    };
    let status = node.status.as_ref().unwrap();
    assert_eq!(
        status.allocatable["memory"].value(),
        7 * (1 << 30) + (1 << 29)
    );
    assert_eq!(
        status
            .daemon_endpoints
            .as_ref()
            .unwrap()
            .kubelet_endpoint
            .port,
        10250
    );
}

#[test]
fn node_info_sends_every_required_field_even_when_empty() {
    // Kubernetes' OpenAPI marks all ten nodeInfo fields required; clients generated from it
    // (the Python one) refuse a Node whose nodeInfo lacks one, so empty ones are sent too.
    let json = serde_json::to_value(api::NodeSystemInfo::default()).unwrap();
    let mut fields: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "architecture",
            "bootID",
            "containerRuntimeVersion",
            "kernelVersion",
            "kubeProxyVersion",
            "kubeletVersion",
            "machineID",
            "operatingSystem",
            "osImage",
            "systemUUID",
        ]
    );
    assert_eq!(json["kubeProxyVersion"], "");
}

#[test]
fn every_kind_round_trips_through_json() {
    for file in ["pod-web.yaml", "app.yaml", "node.json", "lease.yaml"] {
        let objects = parse_manifests(&read(file)).unwrap();
        for object in objects {
            let json = serde_json::to_string_pretty(&object).unwrap();
            let again = parse_manifests(&json).unwrap_or_else(|e| panic!("{file}: {e}\n{json}"));
            assert_eq!(again, vec![object], "{file}");
        }
    }
}

#[test]
fn status_fields_parse_for_the_components_that_write_them() {
    let text = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
        "spec":{"containers":[{"name":"web","image":"nginx"}]},
        "status":{"phase":"Running","podIP":"127.0.1.5","startTime":"2024-05-01T12:00:00Z",
          "containerStatuses":[{"name":"web","ready":true,"restartCount":2,"image":"nginx",
            "imageID":"skiff://nginx","containerID":"skiff://4f2a",
            "state":{"running":{"startedAt":"2024-05-01T12:00:03Z"}},
            "lastState":{"terminated":{"exitCode":137,"signal":9,"reason":"OOMKilled"}}}]}}"#;
    let objects = parse_manifests(text).unwrap();
    let Object::Pod(pod) = &objects[0] else {
        panic!("a Pod")
    };
    let status = pod.status.as_ref().unwrap();
    assert_eq!(status.phase, Some(PodPhase::Running));
    let last = status.container_statuses[0].last_state.as_ref().unwrap();
    assert_eq!(last.terminated.as_ref().unwrap().exit_code, 137);
}

#[test]
fn an_unknown_kind_names_its_version_and_document() {
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: batch/v1\nkind: CronJob\n";
    let error = parse_error(text);
    assert_eq!(
        error.to_string(),
        "document 1: kind: no kind \"CronJob\" is registered for version \"batch/v1\""
    );
}

#[test]
fn a_document_without_a_kind_is_rejected() {
    let error = parse_error("apiVersion: v1\nmetadata: {name: a}\n");
    assert_eq!(error.to_string(), "document 0: kind: Required value");
    let error = parse_error("- just\n- a list\n");
    assert_eq!(
        error.to_string(),
        "document 0: a manifest must be a mapping (an object)"
    );
}

#[test]
fn syntax_errors_are_reported_not_panicked() {
    assert!(
        parse_error("{\"apiVersion\": ")
            .message
            .starts_with("invalid JSON")
    );
    assert!(
        parse_error("kind: [unclosed")
            .message
            .starts_with("invalid YAML")
    );
}
