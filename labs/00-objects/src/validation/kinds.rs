//! Validation of the remaining kinds: Service, Endpoints, ConfigMap, Secret, Node, Namespace,
//! Event and Lease.

use std::collections::BTreeSet;

use super::meta::{DNS1035, LABEL, SUBDOMAIN, validate_labels, validate_object_meta};
use super::names::{
    config_map_key, dns1123_label, label_value, port_name, port_number, qualified_name,
};
use super::{FieldError, FieldPath, Validate, invalid_each, one_of};
use crate::config::{ConfigMap, Secret};
use crate::events::{Event, Lease};
use crate::int_or_string::IntOrString;
use crate::meta::Resource;
use crate::node::{Namespace, Node};
use crate::service::{Endpoints, Service, ServicePort};

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];
const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];
const TAINT_EFFECTS: &[&str] = &["NoExecute", "NoSchedule", "PreferNoSchedule"];
/// The most data a ConfigMap or Secret may hold, as in Kubernetes (1 MiB): it must fit in
/// one etcd value.
const DATA_MAX_BYTES: usize = 1024 * 1024;

impl Validate for Service {
    fn field_errors(&self) -> Vec<FieldError> {
        let spec = FieldPath::root("spec");
        let mut errors = validate_object_meta(&self.metadata, Service::NAMESPACED, DNS1035);
        let service_type = self.spec.service_type.as_deref();
        one_of(
            &mut errors,
            &spec.child("type"),
            service_type,
            SERVICE_TYPES,
        );
        let headless = self.spec.cluster_ip.as_deref() == Some("None");
        if self.spec.ports.is_empty() && service_type != Some("ExternalName") && !headless {
            errors.push(FieldError::required(&spec.child("ports"), ""));
        }
        let mut port_names = BTreeSet::new();
        for (i, port) in self.spec.ports.iter().enumerate() {
            let path = spec.child("ports").index(i);
            errors.extend(validate_service_port(
                port,
                &path,
                self.spec.ports.len() > 1,
            ));
            if let Some(name) = port.name.as_deref()
                && !port_names.insert(name)
            {
                errors.push(FieldError::duplicate(&path.child("name"), name));
            }
        }
        errors.extend(validate_labels(
            &self.spec.selector,
            &spec.child("selector"),
        ));
        let affinity = self.spec.session_affinity.as_deref();
        one_of(
            &mut errors,
            &spec.child("sessionAffinity"),
            affinity,
            &["ClientIP", "None"],
        );
        errors
    }
}

fn validate_service_port(port: &ServicePort, path: &FieldPath, several: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    match port.name.as_deref() {
        // With several ports, Endpoints match Service ports by name, so each needs one.
        None | Some("") if several => errors.push(FieldError::required(&path.child("name"), "")),
        None | Some("") => {}
        Some(name) => invalid_each(&mut errors, &path.child("name"), name, dns1123_label(name)),
    }
    invalid_each(
        &mut errors,
        &path.child("port"),
        &port.port,
        port_number(port.port),
    );
    match &port.target_port {
        Some(IntOrString::Int(n)) => {
            invalid_each(&mut errors, &path.child("targetPort"), n, port_number(*n));
        }
        Some(IntOrString::String(name)) => {
            invalid_each(
                &mut errors,
                &path.child("targetPort"),
                name,
                port_name(name),
            );
        }
        None => {}
    }
    one_of(
        &mut errors,
        &path.child("protocol"),
        port.protocol.as_deref(),
        PROTOCOLS,
    );
    errors
}

impl Validate for Endpoints {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, Endpoints::NAMESPACED, SUBDOMAIN);
        for (i, subset) in self.subsets.iter().enumerate() {
            let path = FieldPath::root("subsets").index(i);
            let all = [
                ("addresses", &subset.addresses),
                ("notReadyAddresses", &subset.not_ready_addresses),
            ];
            for (field, addresses) in all {
                for (j, address) in addresses.iter().enumerate() {
                    if address.ip.parse::<std::net::IpAddr>().is_err() {
                        let ip_path = path.child(field).index(j).child("ip");
                        errors.push(FieldError::invalid(
                            &ip_path,
                            &address.ip,
                            "must be a valid IP address",
                        ));
                    }
                }
            }
            for (j, port) in subset.ports.iter().enumerate() {
                let port_path = path.child("ports").index(j).child("port");
                invalid_each(&mut errors, &port_path, &port.port, port_number(port.port));
            }
        }
        errors
    }
}

impl Validate for ConfigMap {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, ConfigMap::NAMESPACED, SUBDOMAIN);
        let mut total_bytes = 0;
        for (key, value) in &self.data {
            let path = FieldPath::root("data").key(key);
            invalid_each(&mut errors, &path, key, config_map_key(key));
            total_bytes += value.len();
        }
        for (key, value) in &self.binary_data {
            let path = FieldPath::root("binaryData").key(key);
            invalid_each(&mut errors, &path, key, config_map_key(key));
            if self.data.contains_key(key) {
                errors.push(FieldError::invalid(
                    &path,
                    key,
                    "duplicate of key present in data",
                ));
            }
            total_bytes += value.0.len();
        }
        check_data_size(&mut errors, total_bytes);
        errors
    }
}

impl Validate for Secret {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, Secret::NAMESPACED, SUBDOMAIN);
        let mut total_bytes = 0;
        for (key, value) in &self.data {
            invalid_each(
                &mut errors,
                &FieldPath::root("data").key(key),
                key,
                config_map_key(key),
            );
            total_bytes += value.0.len();
        }
        for (key, value) in &self.string_data {
            invalid_each(
                &mut errors,
                &FieldPath::root("stringData").key(key),
                key,
                config_map_key(key),
            );
            total_bytes += value.len();
        }
        check_data_size(&mut errors, total_bytes);
        // Typed secrets promise their consumers certain keys.
        if self.secret_type.as_deref() == Some("kubernetes.io/tls") {
            for key in ["tls.crt", "tls.key"] {
                if !self.data.contains_key(key) && !self.string_data.contains_key(key) {
                    errors.push(FieldError::required(&FieldPath::root("data").key(key), ""));
                }
            }
        }
        errors
    }
}

fn check_data_size(errors: &mut Vec<FieldError>, total_bytes: usize) {
    if total_bytes > DATA_MAX_BYTES {
        let detail = format!("must have at most {DATA_MAX_BYTES} bytes");
        errors.push(FieldError::too_long(&FieldPath::root("data"), &detail));
    }
}

impl Validate for Node {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, Node::NAMESPACED, SUBDOMAIN);
        for (i, taint) in self.spec.taints.iter().enumerate() {
            let path = FieldPath::root("spec").child("taints").index(i);
            invalid_each(
                &mut errors,
                &path.child("key"),
                &taint.key,
                qualified_name(&taint.key),
            );
            if let Some(value) = taint.value.as_deref() {
                invalid_each(&mut errors, &path.child("value"), value, label_value(value));
            }
            if taint.effect.is_empty() {
                errors.push(FieldError::required(&path.child("effect"), ""));
            } else {
                one_of(
                    &mut errors,
                    &path.child("effect"),
                    Some(&taint.effect),
                    TAINT_EFFECTS,
                );
            }
        }
        errors
    }
}

impl Validate for Namespace {
    fn field_errors(&self) -> Vec<FieldError> {
        validate_object_meta(&self.metadata, Namespace::NAMESPACED, LABEL)
    }
}

impl Validate for Event {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, Event::NAMESPACED, SUBDOMAIN);
        one_of(
            &mut errors,
            &FieldPath::root("type"),
            self.event_type.as_deref(),
            &["Normal", "Warning"],
        );
        if self
            .involved_object
            .name
            .as_deref()
            .unwrap_or_default()
            .is_empty()
        {
            errors.push(FieldError::required(
                &FieldPath::root("involvedObject").child("name"),
                "",
            ));
        }
        errors
    }
}

impl Validate for Lease {
    fn field_errors(&self) -> Vec<FieldError> {
        let mut errors = validate_object_meta(&self.metadata, Lease::NAMESPACED, SUBDOMAIN);
        if let Some(seconds) = self.spec.lease_duration_seconds
            && seconds <= 0
        {
            let path = FieldPath::root("spec").child("leaseDurationSeconds");
            errors.push(FieldError::invalid(
                &path,
                &seconds,
                "must be greater than 0",
            ));
        }
        errors
    }
}
