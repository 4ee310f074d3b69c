//! `ApiServer`: the core that answers [`ApiRequest`]s, without sockets.
//!
//! The HTTP shell authenticates a request and calls [`Handler::handle`]; the core routes it
//! (discovery, or a resource path), works out the verb, and runs it against [`Storage`].
//! Time comes from an injected clock, so tests drive it deterministically.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::discovery;
use crate::request::{ApiRequest, ApiResponse, Handler, ResponseFuture};
use crate::resources;
use crate::rest::delete::{DeleteOptions, delete, delete_namespace};
use crate::rest::filter::Filter;
use crate::rest::logs::PodLogs;
use crate::rest::object::{encode, parse_body};
use crate::rest::route::{Query, Route, parse_path};
use crate::rest::subresources::{bind, scale_of, write_scale};
use crate::rest::update::{Part, update};
use crate::rest::watch::{Render, watch};
use crate::rest::{Call, Clock, Context, Ids, RestResult, create, list, logs, ok};
use crate::status::StatusError;
use crate::storage::{Storage, StorageError};

/// How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK, by default.
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// The namespaces that exist from the start.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The API server's core: implements [`Handler`].
#[derive(Clone)]
pub struct ApiServer {
    ctx: Context,
    bootstrapped: Arc<OnceCell<()>>,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer").finish_non_exhaustive()
    }
}

impl ApiServer {
    /// A server over `storage`, with the system clock.
    pub fn new(storage: Arc<dyn Storage>) -> ApiServer {
        ApiServer {
            ctx: Context {
                storage,
                clock: Arc::new(SystemTime::now),
                bookmark_interval: DEFAULT_BOOKMARK_INTERVAL,
                pod_logs: None,
                ids: Arc::new(Ids::default()),
            },
            bootstrapped: Arc::new(OnceCell::new()),
        }
    }

    /// Uses `clock` for timestamps (creation, deletion).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.ctx.clock = clock;
        self
    }

    /// Serves `pods/log` through `logs` (the kubelet proxy).
    pub fn with_pod_logs(mut self, logs: Arc<dyn PodLogs>) -> Self {
        self.ctx.pod_logs = Some(logs);
        self
    }

    /// Sends bookmarks every `interval` to watches that ask for them.
    pub fn with_bookmark_interval(mut self, interval: Duration) -> Self {
        self.ctx.bookmark_interval = interval;
        self
    }

    /// The storage the server uses.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.ctx.storage
    }

    /// Creates the initial namespaces if they are missing (once; every request waits for it).
    pub async fn bootstrap(&self) -> Result<(), StatusError> {
        self.bootstrapped
            .get_or_try_init(|| async {
                let namespaces = resources::find("", "v1", "namespaces").expect("served");
                for name in INITIAL_NAMESPACES {
                    let object = json!({
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {
                            "name": name,
                            "uid": self.ctx.ids.uid(),
                            "creationTimestamp": self.ctx.now(),
                            "labels": {"kubernetes.io/metadata.name": name},
                        },
                        "spec": {"finalizers": ["kubernetes"]},
                        "status": {"phase": "Active"},
                    });
                    let key = namespaces.key(None, name);
                    match self.ctx.storage.create(&key, encode(&object)).await {
                        Ok(_) | Err(StorageError::AlreadyExists { .. }) => {}
                        Err(error) => return Err(StatusError::unavailable(error.to_string())),
                    }
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    /// Answers one request.
    pub async fn serve(&self, request: ApiRequest) -> ApiResponse {
        self.try_serve(request)
            .await
            .unwrap_or_else(|error| error.response())
    }

    async fn try_serve(&self, request: ApiRequest) -> RestResult {
        self.bootstrap().await?;
        let path = request.path.trim_end_matches('/');
        let path = if path.is_empty() { "/" } else { path };
        if let Some(document) = discovery::document(path) {
            return ok(200, &document);
        }
        let route = parse_path(path)?.ok_or_else(|| StatusError::path_not_found(path))?;
        let query = Query::parse(&request.query);
        let verb = verb_of(&request.method, &route, &query)?;
        let header = |name: hyper::header::HeaderName| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let call = Call {
            route,
            query,
            content_type: header(hyper::header::CONTENT_TYPE),
            accept: header(hyper::header::ACCEPT),
            body: request.body,
            user: request.user,
        };
        self.dispatch(verb, &call).await
    }

    // ANCHOR: dispatch
    /// Runs the verb on the resource or subresource.
    async fn dispatch(&self, verb: &str, call: &Call) -> RestResult {
        let ctx = &self.ctx;
        let render = self.renderer(call);
        let sub = call.route.subresource.map(|s| s.name);
        match (verb, sub) {
            ("get", None | Some("status")) => ok(200, &render(list::get(ctx, call).await?)),
            ("get", Some("scale")) => ok(200, &scale_of(&list::get(ctx, call).await?)),
            ("get", Some("log")) => logs::logs(ctx, call).await,
            ("list", None) => {
                let filter = self.filter(call)?;
                let mut result = list::list(ctx, call, &filter).await?;
                result.items = result.items.into_iter().map(|o| render(o)).collect();
                ok(200, &list::list_object(call, result))
            }
            ("watch", None) => watch(ctx, call, self.filter(call)?, render).await,
            ("create", None) => ok(201, &render(create::create(ctx, call).await?)),
            ("create", Some("binding")) => ok(201, &bind(ctx, call).await?),
            ("update", None) => ok(200, &render(update(ctx, call, Part::Main).await?)),
            ("update", Some("status")) => ok(200, &render(update(ctx, call, Part::Status).await?)),
            ("update", Some("scale")) => {
                ok(200, &write_scale(ctx, call, parse_body(&call.body)?).await?)
            }
            ("delete", None) if call.route.resource.plural == "namespaces" => {
                ok(200, &render(delete_namespace(ctx, call).await?))
            }
            ("delete", None) => {
                let options = DeleteOptions::from_call(call)?;
                ok(200, &render(delete(ctx, call, &options).await?))
            }
            ("deletecollection", None) => self.delete_collection(call).await,
            _ => Err(StatusError::method_not_allowed(
                verb,
                &describe(&call.route),
            )),
        }
    }
    // ANCHOR_END: dispatch

    /// The filter of a list or watch: its selectors, and the name of a single-object watch.
    fn filter(&self, call: &Call) -> Result<Filter, StatusError> {
        Filter::from_query(call.route.resource, &call.query)
    }

    /// How objects are shown to this caller.
    fn renderer(&self, call: &Call) -> Render {
        let _ = call;
        Arc::new(|object: Value| object)
    }

    /// Deletes every object the list would return, one by one.
    async fn delete_collection(&self, call: &Call) -> RestResult {
        let filter = self.filter(call)?;
        let options = DeleteOptions::from_call(call)?;
        let mut listing = call.clone();
        listing.query = Query::parse("");
        let result = list::list(&self.ctx, &listing, &filter).await?;
        let mut deleted = Vec::new();
        for object in result.items {
            let mut one = call.clone();
            let name = object["metadata"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string();
            one.route.namespace = object["metadata"]["namespace"].as_str().map(str::to_string);
            one.route.name = Some(name);
            match delete(&self.ctx, &one, &options).await {
                Ok(object) => deleted.push(object),
                Err(error) if error.code == 404 => {}
                Err(error) => return Err(error),
            }
        }
        let revision = self.ctx.storage.revision().await.unwrap_or(result.revision);
        let result = list::ListResult {
            items: deleted,
            revision,
            continue_token: None,
        };
        ok(200, &list::list_object(call, result))
    }
}

impl Handler for ApiServer {
    fn handle(&self, request: ApiRequest) -> ResponseFuture<'_> {
        Box::pin(self.serve(request))
    }
}

// ANCHOR: verb_of
/// The Kubernetes verb of a request: from the method, whether the path names an object, and
/// `?watch`. A verb the resource does not serve is a 405.
pub fn verb_of(
    method: &hyper::Method,
    route: &Route,
    query: &Query,
) -> Result<&'static str, StatusError> {
    use hyper::Method;
    let named = route.name.is_some();
    let verb = match (method, named) {
        (&Method::GET, true) => "get",
        (&Method::GET, false) if query.flag("watch") => "watch",
        (&Method::GET, false) => "list",
        (&Method::POST, false) => "create",
        (&Method::POST, true) if route.subresource.is_some() => "create",
        (&Method::PUT, true) => "update",
        (&Method::PATCH, true) => "patch",
        (&Method::DELETE, true) => "delete",
        (&Method::DELETE, false) => "deletecollection",
        _ => {
            return Err(StatusError::method_not_allowed(
                method.as_str(),
                &describe(route),
            ));
        }
    };
    let allowed = match route.subresource {
        Some(sub) => sub.verbs.contains(&verb),
        None => route.resource.allows(verb),
    };
    if allowed {
        Ok(verb)
    } else {
        Err(StatusError::method_not_allowed(verb, &describe(route)))
    }
}
// ANCHOR_END: verb_of

/// `pods/status`, `deployments.apps`: how messages name what a request is about.
fn describe(route: &Route) -> String {
    let resource = route.resource;
    let mut text = resource.plural.to_string();
    if let Some(sub) = route.subresource {
        text = format!("{text}/{}", sub.name);
    }
    if !resource.group.is_empty() {
        text = format!("{text}.{}", resource.group);
    }
    text
}
