//! Label selectors: how a Deployment finds its ReplicaSets, a ReplicaSet its Pods, a Service
//! its endpoints. Objects never point at each other by name; they select by labels.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Selects objects whose labels satisfy every `matchLabels` pair and every expression.
///
/// An empty selector matches everything (Kubernetes' `labels.Everything()`), which is why
/// validation refuses an empty selector on a Deployment: it would adopt every Pod.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LabelSelector {
    /// Each `key: value` must be present exactly (shorthand for `key In (value)`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements, all of which must hold.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One set-based requirement, e.g. `tier In (frontend, cache)`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct LabelSelectorRequirement {
    /// The label key the requirement looks at.
    pub key: String,
    /// How the label's value is compared with `values`.
    pub operator: SelectorOperator,
    /// The set for `In` and `NotIn`; must be empty for `Exists` and `DoesNotExist`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// The operators of a label selector requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum SelectorOperator {
    /// The label is present and its value is in the set.
    #[default]
    In,
    /// The label is absent, or present with a value outside the set.
    NotIn,
    /// The label is present, whatever its value.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

impl LabelSelector {
    /// A selector from `matchLabels` pairs only, e.g. `LabelSelector::from_pairs([("app", "web")])`.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        LabelSelector {
            match_labels: pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            match_expressions: Vec::new(),
        }
    }

    /// True when this selector has no requirement at all (and so matches everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    // ANCHOR: selector_matches
    /// True when `labels` satisfy every `matchLabels` pair and every expression.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let pairs_match = self
            .match_labels
            .iter()
            .all(|(key, value)| labels.get(key) == Some(value));
        pairs_match && self.match_expressions.iter().all(|r| r.matches(labels))
    }
    // ANCHOR_END: selector_matches
}

impl LabelSelectorRequirement {
    // ANCHOR: requirement_matches
    /// True when `labels` satisfy this requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        // EXERCISE(objects-label-selector): look the key up once; In needs it present with a listed value, NotIn is true when it is absent or unlisted, Exists/DoesNotExist only ask whether it is present
        let value = labels.get(&self.key);
        let listed = value.is_some_and(|v| self.values.contains(v));
        match self.operator {
            SelectorOperator::In => listed,
            SelectorOperator::NotIn => !listed,
            SelectorOperator::Exists => value.is_some(),
            SelectorOperator::DoesNotExist => value.is_none(),
        }
        // END EXERCISE
    }
    // ANCHOR_END: requirement_matches
}
