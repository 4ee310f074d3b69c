//! Which objects a list or watch wants: `labelSelector` and `fieldSelector` (and, for the
//! old-style watch of one object, its name).

use std::collections::BTreeMap;

use serde_json::Value;

use super::route::Query;
use crate::fieldselector::FieldSelector;
use crate::labelselector::parse_label_selector;
use crate::resources::ResourceInfo;
use crate::status::StatusError;

/// The selectors of a list or watch; an empty filter matches every object.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    labels: Option<api::LabelSelector>,
    fields: Option<FieldSelector>,
    name: Option<String>,
}

impl Filter {
    /// Reads `labelSelector` and `fieldSelector`; a 400 naming the selector when one does
    /// not parse (`field label not supported: spec.foo`).
    pub fn from_query(resource: &ResourceInfo, query: &Query) -> Result<Filter, StatusError> {
        let labels = match query.non_empty("labelSelector") {
            Some(text) => Some(parse_label_selector(text).map_err(|e| {
                StatusError::bad_request(format!("labelSelector: Invalid value: {text:?}: {e}"))
            })?),
            None => None,
        };
        let fields = match query.non_empty("fieldSelector") {
            Some(text) => Some(
                FieldSelector::parse(resource.plural, text).map_err(StatusError::bad_request)?,
            ),
            None => None,
        };
        Ok(Filter {
            labels,
            fields,
            name: None,
        })
    }

    /// The same filter, restricted to the object called `name`.
    pub fn named(self, name: Option<&str>) -> Filter {
        Filter {
            name: name.map(str::to_string),
            ..self
        }
    }

    /// True when the object passes every selector.
    pub fn matches(&self, object: &Value) -> bool {
        let meta = &object["metadata"];
        if let Some(name) = &self.name
            && meta["name"].as_str() != Some(name)
        {
            return false;
        }
        if let Some(fields) = &self.fields
            && !fields.matches(object)
        {
            return false;
        }
        let Some(selector) = &self.labels else {
            return true;
        };
        let labels: BTreeMap<String, String> = meta["labels"]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        selector.matches(&labels)
    }
}
