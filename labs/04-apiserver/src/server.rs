//! `ApiServer`: the core that answers [`ApiRequest`]s, without sockets.
//!
//! The HTTP shell authenticates a request and calls [`Handler::handle`]; the core routes it
//! (discovery, or a resource path), works out the verb, and runs it against [`Storage`].
//! Time comes from an injected clock, so tests drive it deterministically.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tokio::sync::OnceCell;

use crate::audit::{AuditEntry, AuditLog, is_audited};
use crate::auth::{
    Attributes, Decision, Rbac, access_review, node_restriction, redact_secret_data,
};
use crate::discovery;
use crate::request::{ApiRequest, ApiResponse, Handler, ResponseFuture, User};
use crate::resources;
use crate::rest::delete::{DeleteOptions, delete, delete_namespace};
use crate::rest::filter::Filter;
use crate::rest::list::ListResult;
use crate::rest::logs::PodLogs;
use crate::rest::object::{encode, parse_body};
use crate::rest::patch::{patch, patch_scale};
use crate::rest::protobuf;
use crate::rest::route::{Query, Route, parse_path};
use crate::rest::subresources::{bind, scale_of, write_scale};
use crate::rest::update::{Part, update};
use crate::rest::watch::watch;
use crate::rest::{Admission, Call, Clock, Context, Ids, RestResult, create, list, logs, ok};
use crate::status::StatusError;
use crate::storage::{Storage, StorageError};
use crate::table::{IncludeObject, table, wants_table};

/// How often a watch with `allowWatchBookmarks=true` gets a BOOKMARK, by default.
pub const DEFAULT_BOOKMARK_INTERVAL: Duration = Duration::from_secs(60);

/// Where `kubectl auth can-i` asks.
pub const SELF_SUBJECT_ACCESS_REVIEWS: &str =
    "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";

/// The namespaces that exist from the start.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

/// The API server's core: implements [`Handler`].
#[derive(Clone)]
pub struct ApiServer {
    ctx: Context,
    rbac: Arc<Rbac>,
    audit: Option<Arc<AuditLog>>,
    bootstrapped: Arc<OnceCell<()>>,
}

impl std::fmt::Debug for ApiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiServer").finish_non_exhaustive()
    }
}

impl ApiServer {
    /// A server over `storage`, with the system clock, the built-in RBAC roles and bindings,
    /// node restriction, and no audit log.
    pub fn new(storage: Arc<dyn Storage>) -> ApiServer {
        ApiServer {
            ctx: Context {
                storage,
                clock: Arc::new(SystemTime::now),
                bookmark_interval: DEFAULT_BOOKMARK_INTERVAL,
                pod_logs: None,
                ids: Arc::new(Ids::default()),
                admission: Some(Arc::new(NodeRestriction)),
                mutations: Vec::new(),
            },
            rbac: Arc::new(Rbac::builtin()),
            audit: None,
            bootstrapped: Arc::new(OnceCell::new()),
        }
    }

    /// Authorizes with `rbac` instead of the built-in roles.
    pub fn with_rbac(mut self, rbac: Rbac) -> Self {
        self.rbac = Arc::new(rbac);
        self
    }

    /// Adds a mutating admission hook (e.g. lab 08's ClusterIP allocator for `services`).
    pub fn with_admission(mut self, hook: Arc<dyn crate::rest::MutatingAdmission>) -> Self {
        self.ctx.mutations.push(hook);
        self
    }

    /// Records every mutating request in `audit`.
    pub fn with_audit(mut self, audit: AuditLog) -> Self {
        self.audit = Some(Arc::new(audit));
        self
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

    /// The audit log, if one was configured.
    pub fn audit_log(&self) -> Option<&AuditLog> {
        self.audit.as_deref()
    }

    /// The storage the server uses.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.ctx.storage
    }

    /// Creates the initial namespaces if they are missing (once; every request waits for it).
    pub async fn bootstrap(&self) -> Result<(), StatusError> {
        self.bootstrapped
            .get_or_try_init(|| async {
                let namespaces = resources::namespaces();
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
        if matches!(path, "/healthz" | "/readyz" | "/livez") {
            // Reaching this line means the bootstrap above succeeded: the storage answers.
            // (A storage failure there is a 503, which is what a readiness probe should see.)
            return Ok(ApiResponse::Full {
                status: 200,
                content_type: "text/plain".to_string(),
                body: bytes::Bytes::from_static(b"ok"),
            });
        }
        if let Some(document) = discovery::document(path) {
            return ok(200, &document);
        }
        if path == "/openapi/v2" {
            // An empty protobuf message: a valid OpenAPI v2 document with no schemas.
            return Ok(ApiResponse::Full {
                status: 200,
                content_type: discovery::OPENAPI_V2_PROTOBUF.to_string(),
                body: bytes::Bytes::new(),
            });
        }
        if path == SELF_SUBJECT_ACCESS_REVIEWS {
            return self.review(&request);
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
        let mut call = Call {
            verb,
            route,
            query,
            content_type: header(hyper::header::CONTENT_TYPE),
            accept: header(hyper::header::ACCEPT),
            body: request.body,
            user: request.user,
        };
        if matches!(verb, "create" | "update") && !is_json(&call.content_type) {
            call.body = json_body(&call.content_type, &call.body)?;
        }
        let attributes = attributes(&call);
        let result = match self.rbac.authorize(&attributes) {
            Decision::Allow => self.dispatch(verb, &call).await,
            Decision::Deny { reason } => {
                tracing::debug!(user = %call.user.name, %reason, "forbidden");
                Err(forbidden(&attributes, attributes.forbidden_message()))
            }
        };
        if let Some(audit) = &self.audit
            && is_audited(verb)
        {
            let code = match &result {
                Ok(response) => response.status(),
                Err(error) => error.code,
            };
            let micros = (self.ctx.clock)()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_micros() as i64;
            // A create names its object only in the body: take the name from the answer.
            let created = match (&result, verb, attributes.name) {
                (Ok(ApiResponse::Full { body, .. }), "create", "") => {
                    serde_json::from_slice::<Value>(body)
                        .ok()
                        .and_then(|object| object["metadata"]["name"].as_str().map(str::to_string))
                }
                _ => None,
            };
            let attributes = Attributes {
                name: created.as_deref().unwrap_or(attributes.name),
                ..attributes
            };
            audit.record(AuditEntry::new(&attributes, code, api::MicroTime(micros)));
        }
        result
    }

    // ANCHOR: dispatch
    /// Runs the verb on the resource or subresource.
    async fn dispatch(&self, verb: &str, call: &Call) -> RestResult {
        let ctx = &self.ctx;
        let view = self.view(call)?;
        let sub = call.route.subresource.map(|s| s.name);
        match (verb, sub) {
            ("get", None | Some("status")) => ok(200, &view.read(list::get(ctx, call).await?)),
            ("get", Some("scale")) => ok(200, &scale_of(&list::get(ctx, call).await?)),
            ("get", Some("log")) => logs::logs(ctx, call).await,
            ("list", None) => {
                let result = list::list(ctx, call, &self.filter(call)?).await?;
                ok(200, &view.list(call, result))
            }
            ("watch", None) => {
                let render = Arc::new(move |object| view.read(object));
                watch(ctx, call, self.filter(call)?, render).await
            }
            ("create", None) => ok(201, &view.write(create::create(ctx, call).await?)),
            ("create", Some("binding")) => ok(201, &bind(ctx, call).await?),
            ("update", None) => ok(200, &view.write(update(ctx, call, Part::Main).await?)),
            ("update", Some("status")) => {
                ok(200, &view.write(update(ctx, call, Part::Status).await?))
            }
            ("update", Some("scale")) => {
                ok(200, &write_scale(ctx, call, parse_body(&call.body)?).await?)
            }
            ("patch", None) => ok(200, &view.write(patch(ctx, call, Part::Main).await?)),
            ("patch", Some("status")) => {
                ok(200, &view.write(patch(ctx, call, Part::Status).await?))
            }
            ("patch", Some("scale")) => ok(200, &patch_scale(ctx, call).await?),
            ("delete", None) if call.route.resource.plural == "namespaces" => {
                ok(200, &view.write(delete_namespace(ctx, call).await?))
            }
            ("delete", None) => {
                let options = DeleteOptions::from_call(call)?;
                ok(200, &view.write(delete(ctx, call, &options).await?))
            }
            ("deletecollection", None) => self.delete_collection(call).await,
            _ => Err(StatusError::method_not_allowed(
                verb,
                &describe(&call.route),
            )),
        }
    }
    // ANCHOR_END: dispatch

    /// `kubectl auth can-i`: any authenticated user may ask what it may do (Kubernetes'
    /// `system:basic-user` role); nothing is stored.
    fn review(&self, request: &ApiRequest) -> RestResult {
        if request.method != hyper::Method::POST {
            return Err(StatusError::method_not_allowed(
                request.method.as_str(),
                "selfsubjectaccessreviews.authorization.k8s.io",
            ));
        }
        if request.user.in_group("system:unauthenticated") {
            let message = "selfsubjectaccessreviews.authorization.k8s.io is forbidden: User \"system:anonymous\" cannot create resource \"selfsubjectaccessreviews\" in API group \"authorization.k8s.io\" at the cluster scope";
            return Err(StatusError::forbidden(
                message,
                "authorization.k8s.io",
                "selfsubjectaccessreviews",
                "",
            ));
        }
        let content_type = request
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let body = if is_json(content_type) {
            parse_body(&request.body)?
        } else {
            parse_body(&json_body(content_type, &request.body)?)?
        };
        let answer =
            access_review(&self.rbac, &request.user, &body).map_err(StatusError::bad_request)?;
        ok(201, &answer)
    }

    /// The filter of a list or watch: its selectors, and the name of a single-object watch.
    fn filter(&self, call: &Call) -> Result<Filter, StatusError> {
        Ok(Filter::from_query(call.route.resource, &call.query)?.named(call.route.name.as_deref()))
    }

    /// How objects are shown to this caller: as a Table when asked, Secrets without their
    /// values when the caller may not read them.
    fn view(&self, call: &Call) -> Result<View, StatusError> {
        let table = if wants_table(&call.accept) {
            let include = call.query.get("includeObject");
            Some(IncludeObject::from_query(include).map_err(StatusError::bad_request)?)
        } else {
            None
        };
        Ok(View {
            plural: call.route.resource.plural,
            table,
            redact: (call.route.resource.plural == "secrets")
                .then(|| (self.rbac.clone(), call.user.clone())),
            clock: self.ctx.clock.clone(),
        })
    }

    /// Deletes every object the list would return, one by one.
    async fn delete_collection(&self, call: &Call) -> RestResult {
        let filter = self.filter(call)?;
        let options = DeleteOptions::from_call(call)?;
        let mut listing = call.clone();
        listing.query = Query::default();
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

/// True for a JSON body (or one without a `Content-Type`, which is read as JSON).
fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or("").trim();
    matches!(media, "" | "application/json" | "*/*")
}

/// A non-JSON body as JSON: kubectl's protobuf for the kinds [`protobuf`] reads, otherwise
/// a 415 saying what the server accepts.
fn json_body(content_type: &str, body: &[u8]) -> Result<bytes::Bytes, StatusError> {
    let accepted = "application/json, application/vnd.kubernetes.protobuf (Namespace, ConfigMap, Secret, SelfSubjectAccessReview)";
    if !protobuf::is_protobuf(content_type) {
        return Err(StatusError::unsupported_body(content_type, accepted));
    }
    let value = protobuf::to_json(body).map_err(|why| {
        let mut error = StatusError::unsupported_body(content_type, accepted);
        error.message = format!("{}: {why}", error.message);
        error
    })?;
    Ok(bytes::Bytes::from(value.to_string()))
}

/// The RBAC attributes of a routed request.
fn attributes(call: &Call) -> Attributes<'_> {
    let route = &call.route;
    Attributes {
        user: &call.user,
        verb: call.verb,
        api_group: route.resource.group,
        resource: route.resource.plural,
        subresource: route.subresource.map(|s| s.name).unwrap_or(""),
        // As in Kubernetes, a namespace's own namespace is itself: a RoleBinding in `team`
        // may grant access to the Namespace `team`.
        namespace: match (&route.namespace, route.resource.plural) {
            (Some(ns), _) => ns,
            (None, "namespaces") => route.name.as_deref().unwrap_or(""),
            (None, _) => "",
        },
        name: route.name.as_deref().unwrap_or(""),
    }
}

/// A 403 for `attributes`, with `message`.
fn forbidden(attributes: &Attributes, message: String) -> StatusError {
    StatusError::forbidden(
        message,
        attributes.api_group,
        attributes.resource,
        attributes.name,
    )
}

/// Kubernetes' NodeRestriction admission: a kubelet writes only its own node, lease and pods.
struct NodeRestriction;

impl Admission for NodeRestriction {
    fn admit(
        &self,
        call: &Call,
        existing: Option<&Value>,
        incoming: Option<&Value>,
    ) -> Result<(), StatusError> {
        let attributes = attributes(call);
        let object_name = incoming
            .or(existing)
            .and_then(|o| o["metadata"]["name"].as_str())
            .unwrap_or(attributes.name);
        let attributes = Attributes {
            name: object_name,
            ..attributes
        };
        node_restriction(&attributes, existing, incoming).map_err(|reason| {
            let resource = &call.route.resource;
            let message = format!("{} {object_name:?} is forbidden: {reason}", resource.plural);
            forbidden(&attributes, message)
        })
    }
}

/// How one request's objects are shown.
struct View {
    plural: &'static str,
    table: Option<IncludeObject>,
    redact: Option<(Arc<Rbac>, User)>,
    clock: Clock,
}

impl View {
    /// Blanks a Secret's values for a caller who may not read them.
    fn write(&self, mut object: Value) -> Value {
        if let Some((rbac, user)) = &self.redact {
            let namespace = object["metadata"]["namespace"].as_str().unwrap_or("");
            if !rbac.can_read_secret_data(user, namespace) {
                redact_secret_data(&mut object);
            }
        }
        object
    }

    /// An object that was read: redacted, and a one-row Table when asked.
    fn read(&self, object: Value) -> Value {
        let object = self.write(object);
        match self.table {
            Some(include) => {
                let mut rows = table(
                    self.plural,
                    std::slice::from_ref(&object),
                    include,
                    (self.clock)(),
                );
                rows["metadata"]["resourceVersion"] = object["metadata"]["resourceVersion"].clone();
                rows
            }
            None => object,
        }
    }

    /// A list: a `<Kind>List`, or a Table with the list's resourceVersion and continue.
    fn list(&self, call: &Call, mut result: ListResult) -> Value {
        result.items = result.items.into_iter().map(|o| self.write(o)).collect();
        let Some(include) = self.table else {
            return list::list_object(call, result);
        };
        let mut rows = table(self.plural, &result.items, include, (self.clock)());
        rows["metadata"]["resourceVersion"] = Value::String(result.revision.to_string());
        if let Some(token) = result.continue_token {
            rows["metadata"]["continue"] = Value::String(token);
        }
        rows
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
