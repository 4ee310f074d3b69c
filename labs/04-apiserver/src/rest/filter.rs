//! Which objects a list or watch wants: `labelSelector` and `fieldSelector`.

use serde_json::Value;

use super::route::Query;
use crate::resources::ResourceInfo;
use crate::status::StatusError;

/// The selectors of a list or watch; an empty filter matches every object.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    labels: Option<api::LabelSelector>,
}

impl Filter {
    /// Reads `labelSelector` and `fieldSelector`; a 400 naming the selector when one does
    /// not parse.
    pub fn from_query(resource: &ResourceInfo, query: &Query) -> Result<Filter, StatusError> {
        let _ = resource;
        if query.non_empty("labelSelector").is_some() || query.non_empty("fieldSelector").is_some()
        {
            return Err(StatusError::bad_request(
                "labelSelector and fieldSelector are not supported yet",
            ));
        }
        Ok(Filter { labels: None })
    }

    /// True when the object passes every selector.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object["metadata"]["labels"]
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                    .collect()
            })
            .unwrap_or_default();
        self.labels.as_ref().is_none_or(|s| s.matches(&labels))
    }
}
