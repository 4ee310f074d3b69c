//! Validation of Pods and Pod specs (also used for Deployment and ReplicaSet templates).

use std::collections::BTreeSet;

use super::meta::{SUBDOMAIN, validate_labels, validate_object_meta};
use super::names::{dns1123_label, port_name, port_number, qualified_name};
use super::{FieldError, FieldPath, Validate, invalid_each, non_negative, one_of};
use crate::container::{Container, ContainerPort, Probe, ResourceRequirements};
use crate::meta::Resource;
use crate::pod::{Pod, PodSpec, Toleration, Volume};

const RESTART_POLICIES: &[&str] = &["Always", "Never", "OnFailure"];
const PULL_POLICIES: &[&str] = &["Always", "IfNotPresent", "Never"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const DNS_POLICIES: &[&str] = &["ClusterFirst", "ClusterFirstWithHostNet", "Default", "None"];
const TOLERATION_OPERATORS: &[&str] = &["Equal", "Exists"];
const TAINT_EFFECTS: &[&str] = &["NoExecute", "NoSchedule", "PreferNoSchedule"];

impl Validate for Pod {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, Pod::NAMESPACED, SUBDOMAIN);
        errors.extend(validate_pod_spec(&self.spec, &FieldPath::root("spec")));
        errors
    }
}

// ANCHOR: validate_pod_spec
/// Validates a Pod spec found at `path` (`spec`, or `spec.template.spec` in a controller).
pub(super) fn validate_pod_spec(spec: &PodSpec, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let volume_names = validate_volumes(&spec.volumes, &path.child("volumes"), &mut errors);
    if spec.containers.is_empty() {
        errors.push(FieldError::required(&path.child("containers"), ""));
    }
    // Init and app containers share one namespace of names (logs and status refer to them).
    let mut seen_names = BTreeSet::new();
    let groups = [
        ("initContainers", &spec.init_containers),
        ("containers", &spec.containers),
    ];
    for (field, containers) in groups {
        for (i, container) in containers.iter().enumerate() {
            let container_path = path.child(field).index(i);
            errors.extend(validate_container(
                container,
                &container_path,
                &volume_names,
            ));
            if !container.name.is_empty() && !seen_names.insert(container.name.as_str()) {
                errors.push(FieldError::duplicate(
                    &container_path.child("name"),
                    &container.name,
                ));
            }
        }
    }
    one_of(
        &mut errors,
        &path.child("restartPolicy"),
        spec.restart_policy.as_deref(),
        RESTART_POLICIES,
    );
    one_of(
        &mut errors,
        &path.child("dnsPolicy"),
        spec.dns_policy.as_deref(),
        DNS_POLICIES,
    );
    errors.extend(validate_labels(
        &spec.node_selector,
        &path.child("nodeSelector"),
    ));
    for (i, toleration) in spec.tolerations.iter().enumerate() {
        errors.extend(validate_toleration(
            toleration,
            &path.child("tolerations").index(i),
        ));
    }
    let grace = spec.termination_grace_period_seconds;
    non_negative(
        &mut errors,
        &path.child("terminationGracePeriodSeconds"),
        grace,
    );
    errors
}
// ANCHOR_END: validate_pod_spec

/// Validates volumes and returns their names, which volume mounts must refer to.
fn validate_volumes<'a>(
    volumes: &'a [Volume],
    path: &FieldPath,
    errors: &mut Vec<FieldError>,
) -> BTreeSet<&'a str> {
    let mut names = BTreeSet::new();
    for (i, volume) in volumes.iter().enumerate() {
        let volume_path = path.index(i);
        let name_path = volume_path.child("name");
        if volume.name.is_empty() {
            errors.push(FieldError::required(&name_path, ""));
        } else if !names.insert(volume.name.as_str()) {
            errors.push(FieldError::duplicate(&name_path, &volume.name));
        } else {
            invalid_each(
                errors,
                &name_path,
                &volume.name,
                dns1123_label(&volume.name),
            );
        }
        let sources = [
            volume.config_map.is_some(),
            volume.secret.is_some(),
            volume.empty_dir.is_some(),
        ];
        match sources.iter().filter(|set| **set).count() {
            0 => errors.push(FieldError::required(
                &volume_path,
                "must specify a volume type",
            )),
            1 => {}
            _ => errors.push(FieldError::forbidden(
                &volume_path,
                "may not specify more than 1 volume type",
            )),
        }
    }
    names
}

fn validate_container(
    container: &Container,
    path: &FieldPath,
    volume_names: &BTreeSet<&str>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name_path = path.child("name");
    if container.name.is_empty() {
        errors.push(FieldError::required(&name_path, ""));
    } else {
        invalid_each(
            &mut errors,
            &name_path,
            &container.name,
            dns1123_label(&container.name),
        );
    }
    if container.image.trim().is_empty() {
        errors.push(FieldError::required(&path.child("image"), ""));
    }
    let pull_policy = container.image_pull_policy.as_deref();
    one_of(
        &mut errors,
        &path.child("imagePullPolicy"),
        pull_policy,
        PULL_POLICIES,
    );
    for (i, port) in container.ports.iter().enumerate() {
        errors.extend(validate_container_port(port, &path.child("ports").index(i)));
    }
    errors.extend(validate_resources(
        &container.resources,
        &path.child("resources"),
    ));
    let probes = [
        ("livenessProbe", &container.liveness_probe),
        ("readinessProbe", &container.readiness_probe),
        ("startupProbe", &container.startup_probe),
    ];
    for (field, probe) in probes {
        if let Some(probe) = probe {
            errors.extend(validate_probe(probe, &path.child(field)));
        }
    }
    let mut mount_paths = BTreeSet::new();
    for (i, mount) in container.volume_mounts.iter().enumerate() {
        let mount_path = path.child("volumeMounts").index(i);
        if !volume_names.contains(mount.name.as_str()) {
            errors.push(FieldError::not_found(
                &mount_path.child("name"),
                &mount.name,
            ));
        }
        errors.extend(validate_mount_path(
            &mount.mount_path,
            &mount_path.child("mountPath"),
            &mut mount_paths,
        ));
    }
    errors
}

/// A volume's place in a container: required, absolute, without `..` (it must stay inside the
/// container's file system), and not shared with another mount of the same container.
fn validate_mount_path<'a>(
    mount_path: &'a str,
    path: &FieldPath,
    seen: &mut BTreeSet<&'a str>,
) -> Vec<FieldError> {
    if mount_path.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errors = Vec::new();
    if !mount_path.starts_with('/') {
        errors.push(FieldError::invalid(
            path,
            mount_path,
            "must be an absolute path",
        ));
    }
    if mount_path.split('/').any(|part| part == "..") {
        errors.push(FieldError::invalid(
            path,
            mount_path,
            "must not contain '..'",
        ));
    }
    if !seen.insert(mount_path.trim_end_matches('/')) {
        errors.push(FieldError::invalid(path, mount_path, "must be unique"));
    }
    errors
}

fn validate_container_port(port: &ContainerPort, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(name) = port.name.as_deref() {
        invalid_each(&mut errors, &path.child("name"), name, port_name(name));
    }
    let number = port.container_port;
    invalid_each(
        &mut errors,
        &path.child("containerPort"),
        &number,
        port_number(number),
    );
    if let Some(host_port) = port.host_port {
        invalid_each(
            &mut errors,
            &path.child("hostPort"),
            &host_port,
            port_number(host_port),
        );
    }
    one_of(
        &mut errors,
        &path.child("protocol"),
        port.protocol.as_deref(),
        PROTOCOLS,
    );
    errors
}

// ANCHOR: validate_resources
/// Requests and limits must be non-negative, and a request may not exceed its limit: the
/// scheduler would reserve more than the runtime lets the container use.
fn validate_resources(resources: &ResourceRequirements, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (field, amounts) in [
        ("requests", &resources.requests),
        ("limits", &resources.limits),
    ] {
        for (name, quantity) in amounts {
            let entry = path.child(field).key(name);
            invalid_each(&mut errors, &entry, name, qualified_name(name));
            if quantity.is_negative() {
                errors.push(FieldError::invalid(
                    &entry,
                    quantity.as_str(),
                    "must be greater than or equal to 0",
                ));
            }
        }
    }
    for (name, request) in &resources.requests {
        if let Some(limit) = resources.limits.get(name)
            && request > limit
        {
            let detail = format!("must be less than or equal to {name} limit of {limit}");
            errors.push(FieldError::invalid(
                &path.child("requests").key(name),
                request.as_str(),
                &detail,
            ));
        }
    }
    errors
}
// ANCHOR_END: validate_resources

fn validate_probe(probe: &Probe, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let handlers = [
        probe.exec.is_some(),
        probe.http_get.is_some(),
        probe.tcp_socket.is_some(),
    ];
    match handlers.iter().filter(|set| **set).count() {
        0 => errors.push(FieldError::required(path, "must specify a handler type")),
        1 => {}
        _ => errors.push(FieldError::forbidden(
            path,
            "may not specify more than 1 handler type",
        )),
    }
    non_negative(
        &mut errors,
        &path.child("initialDelaySeconds"),
        probe.initial_delay_seconds.map(i64::from),
    );
    let at_least_one = [
        ("periodSeconds", probe.period_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("successThreshold", probe.success_threshold),
        ("failureThreshold", probe.failure_threshold),
    ];
    for (field, value) in at_least_one {
        if let Some(value) = value
            && value < 1
        {
            errors.push(FieldError::invalid(
                &path.child(field),
                &value,
                "must be greater than or equal to 1",
            ));
        }
    }
    errors
}

fn validate_toleration(toleration: &Toleration, path: &FieldPath) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if let Some(key) = toleration.key.as_deref().filter(|k| !k.is_empty()) {
        invalid_each(&mut errors, &path.child("key"), key, qualified_name(key));
    }
    let operator = toleration.operator.as_deref();
    one_of(
        &mut errors,
        &path.child("operator"),
        operator,
        TOLERATION_OPERATORS,
    );
    if operator == Some("Exists") && toleration.value.as_deref().is_some_and(|v| !v.is_empty()) {
        let value = toleration.value.as_deref().unwrap_or_default();
        errors.push(FieldError::invalid(
            &path.child("operator"),
            value,
            "value must be empty when `operator` is 'Exists'",
        ));
    }
    one_of(
        &mut errors,
        &path.child("effect"),
        toleration.effect.as_deref(),
        TAINT_EFFECTS,
    );
    errors
}
