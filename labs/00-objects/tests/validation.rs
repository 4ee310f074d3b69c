//! Validation: every broken rule, with its path, in Kubernetes' words.

use api::{Object, Pod, Validate, parse_manifests};

fn manifests_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests")
}

fn parse_file(name: &str) -> Vec<Object> {
    let text = std::fs::read_to_string(manifests_dir().join(name)).unwrap();
    parse_manifests(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn the_sample_manifests_are_valid() {
    for file in ["pod-web.yaml", "app.yaml", "node.json", "lease.yaml"] {
        for object in parse_file(file) {
            if let Err(errors) = object.validate() {
                panic!("{file}: {} is invalid:\n{errors}", object.display_name());
            }
        }
    }
}

#[test]
fn an_invalid_name_is_rejected_with_the_rule_it_broke() {
    let mut pod = Pod::default();
    pod.metadata.name = Some("Web".to_string());
    pod.spec.containers.push(api::Container {
        name: "web".to_string(),
        image: "nginx".to_string(),
        ..Default::default()
    });
    let errors = pod.validate().unwrap_err();
    assert_eq!(
        errors.to_string(),
        "metadata.name: Invalid value: \"Web\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    );
}

#[test]
fn a_generated_name_prefix_may_end_with_a_dash() {
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: web-}\n";
    assert_eq!(parse_manifests(text).unwrap()[0].validate(), Ok(()));
    let nameless = "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n";
    let errors = parse_manifests(nameless).unwrap()[0]
        .validate()
        .unwrap_err();
    assert_eq!(
        errors.to_string(),
        "metadata.name: Required value: name or generateName is required"
    );
}

#[test]
fn a_selector_must_match_its_template() {
    let text = std::fs::read_to_string(manifests_dir().join("app.yaml"))
        .unwrap()
        .replace("        tier: frontend\n", "        tier: backend\n");
    let objects = parse_manifests(&text).unwrap();
    let errors = objects[3].validate().unwrap_err();
    assert_eq!(
        errors.to_string(),
        r#"spec.template.metadata.labels: Invalid value: {"app": "web", "tier": "backend"}: `selector` does not match template `labels`"#
    );
}

// ANCHOR: snapshot
/// Every file under `tests/manifests/invalid/`, with the errors validation finds in it.
#[test]
fn bad_manifests_report_every_error() {
    let mut files: Vec<_> = std::fs::read_dir(manifests_dir().join("invalid"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut report = String::new();
    for file in files {
        for object in parse_file(&format!("invalid/{file}")) {
            report += &format!("== {file}: {}\n", object.display_name());
            match object.validate() {
                Ok(()) => report += "(valid)\n",
                Err(errors) => report += &format!("{errors}\n"),
            }
        }
    }
    insta::assert_snapshot!(report);
}
// ANCHOR_END: snapshot

#[test]
fn a_mount_path_must_be_absolute_unique_and_stay_inside() {
    let text = r#"
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  volumes:
    - {name: config, configMap: {name: web-config}}
    - {name: cache, emptyDir: {}}
  containers:
    - name: web
      image: skiff/echo
      volumeMounts:
        - {name: config, mountPath: etc/web}
        - {name: cache, mountPath: /data/../etc}
        - {name: cache, mountPath: /etc/web}
        - {name: config, mountPath: /etc/web/}
        - {name: cache, mountPath: ""}
"#;
    let errors = parse_manifests(text).unwrap()[0].validate().unwrap_err();
    let lines: Vec<String> = errors.to_string().lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            "spec.containers[0].volumeMounts[0].mountPath: Invalid value: \"etc/web\": must be an absolute path",
            "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data/../etc\": must not contain '..'",
            "spec.containers[0].volumeMounts[3].mountPath: Invalid value: \"/etc/web/\": must be unique",
            "spec.containers[0].volumeMounts[4].mountPath: Required value",
        ]
    );
}
