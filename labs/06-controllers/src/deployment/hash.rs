//! The pod-template hash: a short, stable name for one version of a Deployment's template.

use api::PodTemplateSpec;

use crate::rng::NAME_ALPHABET;

/// The label (on ReplicaSets, their selectors and their pods) that tells the ReplicaSets of
/// one Deployment apart.
pub const POD_TEMPLATE_HASH: &str = "pod-template-hash";

/// FNV-1a, 32 bits: the hash Kubernetes uses for pod templates.
pub fn fnv1a_32(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in bytes {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

// ANCHOR: pod_template_hash
/// The hash of `template` (and of `collision_count`, bumped when a ReplicaSet of that name
/// already exists with another template): FNV-1a over the template's canonical JSON, written
/// in decimal, each digit mapped into [`NAME_ALPHABET`] like Kubernetes' `SafeEncodeString`,
/// so the result is a valid label value without vowels (`7d4b9c8f5`-like).
pub fn pod_template_hash(template: &PodTemplateSpec, collision_count: Option<i32>) -> String {
    // EXERCISE(controllers-pod-template-hash): hash the JSON of the template (then the collision count's bytes), print the number in decimal, map each digit byte to NAME_ALPHABET[byte % len]
    // Struct fields serialize in declaration order and maps are sorted: the JSON is canonical.
    let mut bytes = serde_json::to_vec(template).unwrap_or_default();
    if let Some(count) = collision_count {
        bytes.extend_from_slice(&count.to_le_bytes());
    }
    fnv1a_32(&bytes)
        .to_string()
        .bytes()
        .map(|b| NAME_ALPHABET[b as usize % NAME_ALPHABET.len()] as char)
        .collect()
    // END EXERCISE
}
// ANCHOR_END: pod_template_hash

/// `template` without the pod-template-hash label: how a ReplicaSet's template is compared
/// with its Deployment's (Kubernetes' `EqualIgnoreHash`).
pub fn without_hash(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut template = template.clone();
    template.metadata.labels.remove(POD_TEMPLATE_HASH);
    template
}
