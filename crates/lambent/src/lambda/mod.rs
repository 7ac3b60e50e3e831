//! The Lambda control plane: functions, versions, aliases, concurrency, tags and resource
//! policies, behind Lambda's REST API (2015-03-31), plus the Invoke front-end.
//!
//! State has one owner: the in-memory table of [`FunctionEntry`] snapshots, which the hot
//! path reads without touching SQLite. Every mutation is serialised by one mutex, written to
//! the store first, and only then published to the table, so what a client was told exists
//! survives a restart.
//!
//! [`ROUTES`] is the API: every operation on one line, with the IAM action it is authorized
//! as (AWS's Service Authorization Reference names), the resource it authorizes against and
//! the most its body may hold; the edge reads the limit before it reads the body, and
//! [`handle`] dispatches by the route's operation.

mod aliases;
mod concurrency;
mod event_invoke;
mod functions;
mod invoke;
mod permissions;
mod provisioned;
mod recursion;
mod request;
mod tags;
mod versions;

pub use functions::{CodeInput, CreateFunction};
pub use invoke::MAX_SYNC_PAYLOAD;
pub use permissions::PermissionInput;
pub use request::{ApiRequest, ApiResponse};

use crate::invocation::Resolved;
use crate::scheduler::Scheduler;
use http::Method;
use lambent_aws::arn::{FunctionArn, FunctionRef, FunctionRefError};
use lambent_aws::lambda::LambdaError;
use lambent_store::{FunctionRecord, Store};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use Operation::*;
use Resource::{All, Function, NewFunction, PathArn};

/// CreateFunction and UpdateFunctionCode bodies (AWS's limit).
pub const MAX_CODE_BODY: usize = 70_167_211;
/// Bodies of every other API call.
pub const MAX_API_BODY: usize = 1024 * 1024;

/// What an operation authorizes against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The function's ARN, from the path's function name (or ARN) and its qualifier.
    Function,
    /// The function's ARN, from the body's `FunctionName` (CreateFunction).
    NewFunction,
    /// The ARN the path names (tags: any taggable resource).
    PathArn,
    /// `*`: the operation names no resource.
    All,
}

/// How much of a request's body the edge reads before it refuses it (413).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// [`MAX_API_BODY`]; the refusal says "this operation".
    Api,
    /// A limit of the operation's own; the refusal names the operation.
    Own(usize),
}

/// One operation of the Lambda API.
pub struct Route {
    pub method: Method,
    /// The path, one `/` per segment; `{Name}` matches any one (percent-decoded) segment.
    pub path: &'static str,
    pub operation: Operation,
    /// The IAM action a caller needs (`lambda:InvokeFunction`).
    pub action: &'static str,
    pub resource: Resource,
    pub body_limit: BodyLimit,
}

/// The operations lambent serves, named as AWS's API reference names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Invoke,
    InvokeAsync,
    CreateFunction,
    ListFunctions,
    GetFunction,
    DeleteFunction,
    GetFunctionConfiguration,
    UpdateFunctionConfiguration,
    UpdateFunctionCode,
    PublishVersion,
    ListVersionsByFunction,
    CreateAlias,
    ListAliases,
    GetAlias,
    UpdateAlias,
    DeleteAlias,
    PutFunctionConcurrency,
    GetFunctionConcurrency,
    DeleteFunctionConcurrency,
    PutFunctionRecursionConfig,
    GetFunctionRecursionConfig,
    PutProvisionedConcurrencyConfig,
    GetProvisionedConcurrencyConfig,
    DeleteProvisionedConcurrencyConfig,
    PutFunctionEventInvokeConfig,
    UpdateFunctionEventInvokeConfig,
    GetFunctionEventInvokeConfig,
    DeleteFunctionEventInvokeConfig,
    ListFunctionEventInvokeConfigs,
    AddPermission,
    RemovePermission,
    GetPolicy,
    GetAccountSettings,
    ListTags,
    TagResource,
    UntagResource,
}

const fn route(
    method: Method,
    path: &'static str,
    operation: Operation,
    action: &'static str,
    resource: Resource,
    body_limit: BodyLimit,
) -> Route {
    Route {
        method,
        path,
        operation,
        action,
        resource,
        body_limit,
    }
}

const GET: Method = Method::GET;
const PUT: Method = Method::PUT;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;
const API: BodyLimit = BodyLimit::Api;

/// Every operation of the Lambda API. GetProvisionedConcurrencyConfig with `List=ALL` is
/// ListProvisionedConcurrencyConfigs (`lambda:ListProvisionedConcurrencyConfigs`).
#[rustfmt::skip]
pub static ROUTES: &[Route] = &[
    // Every invocation type's payload fits under the synchronous limit; `invoke.rs` applies
    // the asynchronous ones with AWS's message for them.
    route(POST,   "/2015-03-31/functions/{FunctionName}/invocations",            Invoke,                             "lambda:InvokeFunction",                      Function,    BodyLimit::Own(MAX_SYNC_PAYLOAD)),
    route(POST,   "/2014-11-13/functions/{FunctionName}/invoke-async",           InvokeAsync,                        "lambda:InvokeAsync",                         Function,    BodyLimit::Own(MAX_API_BODY)),
    route(POST,   "/2015-03-31/functions",                                       CreateFunction,                     "lambda:CreateFunction",                      NewFunction, BodyLimit::Own(MAX_CODE_BODY)),
    route(GET,    "/2015-03-31/functions",                                       ListFunctions,                      "lambda:ListFunctions",                       All,         API),
    route(GET,    "/2015-03-31/functions/{FunctionName}",                        GetFunction,                        "lambda:GetFunction",                         Function,    API),
    route(DELETE, "/2015-03-31/functions/{FunctionName}",                        DeleteFunction,                     "lambda:DeleteFunction",                      Function,    API),
    route(GET,    "/2015-03-31/functions/{FunctionName}/configuration",          GetFunctionConfiguration,           "lambda:GetFunctionConfiguration",            Function,    API),
    route(PUT,    "/2015-03-31/functions/{FunctionName}/configuration",          UpdateFunctionConfiguration,        "lambda:UpdateFunctionConfiguration",         Function,    API),
    route(PUT,    "/2015-03-31/functions/{FunctionName}/code",                   UpdateFunctionCode,                 "lambda:UpdateFunctionCode",                  Function,    BodyLimit::Own(MAX_CODE_BODY)),
    route(POST,   "/2015-03-31/functions/{FunctionName}/versions",               PublishVersion,                     "lambda:PublishVersion",                      Function,    API),
    route(GET,    "/2015-03-31/functions/{FunctionName}/versions",               ListVersionsByFunction,             "lambda:ListVersionsByFunction",              Function,    API),
    route(POST,   "/2015-03-31/functions/{FunctionName}/aliases",                CreateAlias,                        "lambda:CreateAlias",                         Function,    API),
    route(GET,    "/2015-03-31/functions/{FunctionName}/aliases",                ListAliases,                        "lambda:ListAliases",                         Function,    API),
    route(GET,    "/2015-03-31/functions/{FunctionName}/aliases/{Name}",         GetAlias,                           "lambda:GetAlias",                            Function,    API),
    route(PUT,    "/2015-03-31/functions/{FunctionName}/aliases/{Name}",         UpdateAlias,                        "lambda:UpdateAlias",                         Function,    API),
    route(DELETE, "/2015-03-31/functions/{FunctionName}/aliases/{Name}",         DeleteAlias,                        "lambda:DeleteAlias",                         Function,    API),
    route(PUT,    "/2017-10-31/functions/{FunctionName}/concurrency",            PutFunctionConcurrency,             "lambda:PutFunctionConcurrency",              Function,    API),
    route(GET,    "/2019-09-30/functions/{FunctionName}/concurrency",            GetFunctionConcurrency,             "lambda:GetFunctionConcurrency",              Function,    API),
    route(DELETE, "/2017-10-31/functions/{FunctionName}/concurrency",            DeleteFunctionConcurrency,          "lambda:DeleteFunctionConcurrency",           Function,    API),
    route(PUT,    "/2024-08-31/functions/{FunctionName}/recursion-config",       PutFunctionRecursionConfig,         "lambda:PutFunctionRecursionConfig",          Function,    API),
    route(GET,    "/2024-08-31/functions/{FunctionName}/recursion-config",       GetFunctionRecursionConfig,         "lambda:GetFunctionRecursionConfig",          Function,    API),
    route(PUT,    "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", PutProvisionedConcurrencyConfig,   "lambda:PutProvisionedConcurrencyConfig",     Function,    API),
    route(GET,    "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", GetProvisionedConcurrencyConfig,   "lambda:GetProvisionedConcurrencyConfig",     Function,    API),
    route(DELETE, "/2019-09-30/functions/{FunctionName}/provisioned-concurrency", DeleteProvisionedConcurrencyConfig, "lambda:DeleteProvisionedConcurrencyConfig", Function,    API),
    route(PUT,    "/2019-09-25/functions/{FunctionName}/event-invoke-config",    PutFunctionEventInvokeConfig,       "lambda:PutFunctionEventInvokeConfig",        Function,    API),
    route(POST,   "/2019-09-25/functions/{FunctionName}/event-invoke-config",    UpdateFunctionEventInvokeConfig,    "lambda:UpdateFunctionEventInvokeConfig",     Function,    API),
    route(GET,    "/2019-09-25/functions/{FunctionName}/event-invoke-config",    GetFunctionEventInvokeConfig,       "lambda:GetFunctionEventInvokeConfig",        Function,    API),
    route(DELETE, "/2019-09-25/functions/{FunctionName}/event-invoke-config",    DeleteFunctionEventInvokeConfig,    "lambda:DeleteFunctionEventInvokeConfig",     Function,    API),
    route(GET,    "/2019-09-25/functions/{FunctionName}/event-invoke-config/list", ListFunctionEventInvokeConfigs,   "lambda:ListFunctionEventInvokeConfigs",      Function,    API),
    route(POST,   "/2015-03-31/functions/{FunctionName}/policy",                 AddPermission,                      "lambda:AddPermission",                       Function,    API),
    route(GET,    "/2015-03-31/functions/{FunctionName}/policy",                 GetPolicy,                          "lambda:GetPolicy",                           Function,    API),
    route(DELETE, "/2015-03-31/functions/{FunctionName}/policy/{StatementId}",   RemovePermission,                   "lambda:RemovePermission",                    Function,    API),
    route(GET,    "/2016-08-19/account-settings",                                GetAccountSettings,                 "lambda:GetAccountSettings",                  All,         API),
    route(GET,    "/2017-03-31/tags/{ARN}",                                      ListTags,                           "lambda:ListTags",                            PathArn,     API),
    route(POST,   "/2017-03-31/tags/{ARN}",                                      TagResource,                        "lambda:TagResource",                         PathArn,     API),
    route(DELETE, "/2017-03-31/tags/{ARN}",                                      UntagResource,                      "lambda:UntagResource",                       PathArn,     API),
];

impl Route {
    /// The route `method` and the path's (decoded) `segments` name, if any.
    pub fn find(method: &Method, segments: &[&str]) -> Option<&'static Route> {
        ROUTES.iter().find(|r| {
            r.method == *method && {
                let mut pattern = r.path.split('/').filter(|s| !s.is_empty());
                let mut given = segments.iter();
                loop {
                    match (pattern.next(), given.next()) {
                        (None, None) => break true,
                        (Some(p), Some(s)) if p.starts_with('{') || p == *s => continue,
                        _ => break false,
                    }
                }
            }
        })
    }

    /// The segments that fill the path's `{Name}`s, in order.
    fn names<'a>(&self, segments: &[&'a str]) -> Vec<&'a str> {
        self.path
            .split('/')
            .filter(|s| !s.is_empty())
            .zip(segments)
            .filter(|(p, _)| p.starts_with('{'))
            .map(|(_, s)| *s)
            .collect()
    }

    /// How much of the body the edge reads, and the operation a refusal names.
    pub fn limit(&self) -> (usize, &'static str) {
        match self.body_limit {
            BodyLimit::Api => (MAX_API_BODY, "this"),
            BodyLimit::Own(n) => (n, self.action.trim_start_matches("lambda:")),
        }
    }
}

/// The body limit of a request for `method` on `segments`, and the operation a refusal
/// names: the route's, else the limit of every API call.
pub fn body_limit(method: &Method, segments: &[&str]) -> (usize, &'static str) {
    Route::find(method, segments).map_or((MAX_API_BODY, "this"), Route::limit)
}

/// What a request is authorized as.
#[derive(Debug)]
pub struct Authorization {
    /// The route's IAM action.
    pub action: &'static str,
    /// The resource's ARN.
    pub resource: String,
    /// The function (name and qualifier) whose resource-based policy takes part.
    pub function: Option<(String, Option<String>)>,
    /// The execution role the request gives the function, which the caller must be allowed
    /// to pass (`iam:PassRole`, with `iam:PassedToService` `lambda.amazonaws.com`).
    pub passes_role: Option<String>,
    /// AddPermission's `Principal`: the condition key `lambda:Principal`.
    pub grants_to: Option<String>,
}

/// What a request is authorized as (`None`: no operation matches, and none runs). A function
/// is named by its unqualified ARN, except that a qualified Invoke authorizes the qualified
/// one, as AWS does: a policy on `function:NAME` allows unqualified invokes only;
/// `function:NAME:*` or the qualified ARN is needed for a version or an alias.
pub fn authorization(req: &ApiRequest, region: &str) -> Option<Authorization> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let route = Route::find(&req.method, &segs)?;
    let names = route.names(&segs);
    let mut function = None;
    let mut function_arn = |raw: &str, qualifier: Option<&str>| match FunctionRef::parse(raw) {
        Ok(f) => {
            let qualifier = f.qualifier.as_deref().or(qualifier);
            function = Some((f.name.clone(), qualifier.map(str::to_string)));
            FunctionArn {
                region: f.region.as_deref().unwrap_or(region),
                name: &f.name,
                qualifier: if route.operation == Invoke {
                    qualifier
                } else {
                    None
                },
            }
            .to_string()
        }
        // The operation refuses the name itself; the ARN it is authorized on still names it.
        Err(_) => FunctionArn {
            region,
            name: raw,
            qualifier: None,
        }
        .to_string(),
    };
    // Only these three read the body here, so an Invoke's payload is never parsed.
    let body_field = |k: &str| {
        serde_json::from_slice::<serde_json::Value>(&req.body)
            .ok()
            .and_then(|v| v.get(k)?.as_str().map(str::to_string))
    };
    let (resource, passes_role) = match route.resource {
        All => ("*".to_string(), None),
        PathArn => (names.first().copied().unwrap_or("*").to_string(), None),
        Function => {
            let arn = function_arn(
                names.first().copied().unwrap_or_default(),
                req.query("Qualifier").filter(|q| !q.is_empty()),
            );
            let role = (route.operation == UpdateFunctionConfiguration)
                .then(|| body_field("Role"))
                .flatten();
            (arn, role)
        }
        NewFunction => {
            let body = serde_json::from_slice::<serde_json::Value>(&req.body).ok();
            let field = |k: &str| {
                body.as_ref()
                    .and_then(|v| v.get(k)?.as_str().map(str::to_string))
            };
            let arn = function_arn(&field("FunctionName").unwrap_or_default(), None);
            // CreateFunction's own function has no policy yet.
            function = None;
            (arn, field("Role"))
        }
    };
    let grants_to = (route.operation == AddPermission)
        .then(|| body_field("Principal"))
        .flatten();
    Some(Authorization {
        action: route.action,
        resource,
        function,
        passes_role,
        grants_to,
    })
}

/// Dispatches one authenticated Lambda API request.
pub async fn handle(ctl: &Control, req: ApiRequest) -> Result<ApiResponse, LambdaError> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let Some(route) = Route::find(&req.method, &segs) else {
        return Err(LambdaError::UnknownOperation(format!(
            "No Lambda operation matches {} /{}",
            req.method,
            req.segments.join("/")
        )));
    };
    let names = route.names(&segs);
    // The function name (or the tagged ARN), and an alias's name or a StatementId.
    let f = names.first().copied().unwrap_or_default();
    let a = names.get(1).copied().unwrap_or_default();
    let req = &req;
    match route.operation {
        Invoke => invoke::invoke(ctl, f, req).await,
        InvokeAsync => invoke::invoke_async_legacy(ctl, f, req).await,
        CreateFunction => functions::create(ctl, req).await,
        ListFunctions => functions::list(ctl, req),
        GetFunction => functions::get(ctl, f, req),
        DeleteFunction => functions::delete(ctl, f, req),
        GetFunctionConfiguration => functions::get_configuration(ctl, f, req),
        UpdateFunctionConfiguration => functions::update_configuration(ctl, f, req),
        UpdateFunctionCode => functions::update_code(ctl, f, req).await,
        PublishVersion => versions::publish(ctl, f, req),
        ListVersionsByFunction => versions::list(ctl, f, req),
        CreateAlias => aliases::create(ctl, f, req),
        ListAliases => aliases::list(ctl, f, req),
        GetAlias => aliases::get(ctl, f, a),
        UpdateAlias => aliases::update(ctl, f, a, req),
        DeleteAlias => aliases::delete(ctl, f, a),
        PutFunctionConcurrency => concurrency::put(ctl, f, req),
        GetFunctionConcurrency => concurrency::get(ctl, f),
        DeleteFunctionConcurrency => concurrency::delete(ctl, f),
        PutFunctionRecursionConfig => recursion::put(ctl, f, req),
        GetFunctionRecursionConfig => recursion::get(ctl, f),
        PutProvisionedConcurrencyConfig => provisioned::put(ctl, f, req),
        GetProvisionedConcurrencyConfig => provisioned::get(ctl, f, req),
        DeleteProvisionedConcurrencyConfig => provisioned::delete(ctl, f, req),
        PutFunctionEventInvokeConfig => event_invoke::put(ctl, f, req),
        UpdateFunctionEventInvokeConfig => event_invoke::update(ctl, f, req),
        GetFunctionEventInvokeConfig => event_invoke::get(ctl, f, req),
        DeleteFunctionEventInvokeConfig => event_invoke::delete(ctl, f, req),
        ListFunctionEventInvokeConfigs => event_invoke::list(ctl, f, req),
        AddPermission => permissions::add(ctl, f, req),
        GetPolicy => permissions::get(ctl, f, req),
        RemovePermission => permissions::remove(ctl, f, a, req),
        GetAccountSettings => concurrency::account_settings(ctl),
        ListTags => tags::list(ctl, f),
        TagResource => tags::tag(ctl, f, req),
        UntagResource => tags::untag(ctl, f, req),
    }
}

/// Cheap-clone handle to the control plane.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    /// Snapshots by function name. Readers clone an `Arc` and let go of the lock at once.
    functions: RwLock<BTreeMap<String, Arc<FunctionRecord>>>,
    /// Serialises mutations: read, change, store, publish.
    writes: Mutex<()>,
    scheduler: Scheduler,
    /// The durable queue of asynchronous invocations.
    events: crate::events::Events,
    /// Evaluates functions' permissions and the trust of their execution roles.
    authorizer: crate::auth::Authorizer,
    region: String,
}

impl Control {
    /// Loads every stored function.
    pub fn load(
        store: Arc<Store>,
        scheduler: Scheduler,
        events: crate::events::Events,
        authorizer: crate::auth::Authorizer,
        region: String,
    ) -> anyhow::Result<Control> {
        let mut functions = BTreeMap::new();
        for record in store.functions()? {
            scheduler.set_reserved(&record.latest.function_name, record.reserved_concurrency);
            // Stems of the interpreters these functions run on, as if just created.
            scheduler.expect(&record.latest.runtime);
            for version in record.versions.values() {
                scheduler.expect(&version.runtime);
            }
            functions.insert(record.latest.function_name.clone(), Arc::new(record));
        }
        let control = Control {
            inner: Arc::new(Inner {
                store,
                functions: RwLock::new(functions),
                writes: Mutex::new(()),
                scheduler,
                events,
                authorizer,
                region,
            }),
        };
        control.restore_provisioned();
        Ok(control)
    }

    pub fn events(&self) -> &crate::events::Events {
        &self.inner.events
    }

    pub fn scheduler(&self) -> &Scheduler {
        &self.inner.scheduler
    }

    pub fn region(&self) -> &str {
        &self.inner.region
    }

    /// Every function's name and the roles its `$LATEST` and versions run as.
    pub fn roles(&self) -> Vec<(String, Vec<String>)> {
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner());
        functions
            .iter()
            .map(|(name, f)| {
                let mut roles: Vec<String> = std::iter::once(&f.latest)
                    .chain(f.versions.values())
                    .map(|c| c.role.clone())
                    .collect();
                roles.sort();
                roles.dedup();
                (name.clone(), roles)
            })
            .collect()
    }

    /// Gives every configuration (`$LATEST` and versions) whose role `rewrite` maps the role
    /// it returns, keeping revision ids (a repair of the data, not a user's update), and
    /// retires the changed functions' environments. The names of the functions changed.
    pub fn rewrite_roles(
        &self,
        rewrite: impl Fn(&str) -> Option<String>,
    ) -> Result<Vec<String>, LambdaError> {
        let mut changed = Vec::new();
        for (name, roles) in self.roles() {
            if roles.iter().all(|r| rewrite(r).is_none()) {
                continue;
            }
            self.mutate(&name, |record| {
                for c in std::iter::once(&mut record.latest).chain(record.versions.values_mut()) {
                    if let Some(role) = rewrite(&c.role) {
                        c.role = role;
                    }
                }
                Ok(())
            })?;
            self.inner.scheduler.retire(&name, None);
            changed.push(name);
        }
        Ok(changed)
    }

    /// The function name and qualifier `raw` (a name or ARN) resolves to, if that function
    /// (and version or alias) exists: how S3 notifications check and reach their targets.
    pub fn existing_function(&self, raw: &str) -> Option<(String, Option<String>)> {
        self.resolve_for_invoke(raw, None).ok()?;
        self.resolve_name(raw, None).ok()
    }

    fn arn(&self, name: &str, qualifier: Option<&str>) -> String {
        FunctionArn {
            region: &self.inner.region,
            name,
            qualifier,
        }
        .to_string()
    }

    /// The current snapshot of a function.
    fn get(&self, name: &str) -> Option<Arc<FunctionRecord>> {
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner());
        functions.get(name).cloned()
    }

    fn all(&self) -> Vec<Arc<FunctionRecord>> {
        let functions = self
            .inner
            .functions
            .read()
            .unwrap_or_else(|e| e.into_inner());
        functions.values().cloned().collect()
    }

    /// Applies `change` to a function's record under the write lock, stores and publishes it.
    fn mutate<T>(
        &self,
        name: &str,
        change: impl FnOnce(&mut FunctionRecord) -> Result<T, LambdaError>,
    ) -> Result<T, LambdaError> {
        let _w = self.inner.writes.lock().unwrap_or_else(|e| e.into_inner());
        let current = self
            .get(name)
            .ok_or_else(|| LambdaError::function_not_found(self.arn(name, None)))?;
        let mut record = (*current).clone();
        let out = change(&mut record)?;
        self.publish(record)?;
        Ok(out)
    }

    /// Stores then publishes `record`; the caller holds the write lock.
    fn publish(&self, record: FunctionRecord) -> Result<(), LambdaError> {
        self.inner
            .store
            .put_function(&record)
            .map_err(|e| LambdaError::Service(format!("storing the function failed: {e}")))?;
        // A new function, or a new runtime, starts stems of its interpreter.
        self.inner.scheduler.expect(&record.latest.runtime);
        let mut functions = self
            .inner
            .functions
            .write()
            .unwrap_or_else(|e| e.into_inner());
        functions.insert(record.latest.function_name.clone(), Arc::new(record));
        Ok(())
    }

    /// Where the code with this `CodeSha256` is unpacked.
    fn code_dir(&self, code_sha256_b64: &str) -> PathBuf {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(code_sha256_b64)
            .unwrap_or_default();
        self.inner.store.code_dir(&hex::encode(raw))
    }

    /// Resolves a `FunctionName` path parameter and optional `Qualifier` query parameter.
    fn resolve_name(
        &self,
        raw: &str,
        qualifier: Option<&str>,
    ) -> Result<(String, Option<String>), LambdaError> {
        let r = FunctionRef::parse(raw).map_err(|e| match e {
            // A name too long to exist is simply not found, as on AWS.
            FunctionRefError::NameTooLong => LambdaError::function_not_found(self.arn(raw, None)),
            FunctionRefError::Pattern => LambdaError::Validation(format!(
                "1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {}",
                FunctionRef::pattern()
            )),
        })?;
        if let Some(region) = &r.region {
            if region != &self.inner.region {
                return Err(LambdaError::ResourceNotFound(format!(
                    "Functions from '{region}' are not reachable in this region ('{}')",
                    self.inner.region
                )));
            }
        }
        let qualifier = match (r.qualifier, qualifier) {
            (Some(a), Some(b)) if a != b => {
                return Err(LambdaError::InvalidParameterValue(
                    "The derived qualifier from the function name does not match the specified qualifier.".into(),
                ))
            }
            (a, b) => a.or(b.map(str::to_string)),
        };
        Ok((r.name, qualifier))
    }
}

impl Control {
    /// A function name for operations on the function itself, not a version or alias.
    fn unqualified_name(&self, raw: &str) -> Result<String, LambdaError> {
        let (name, qualifier) = self.resolve_name(raw, None)?;
        if qualifier.is_some() {
            return Err(LambdaError::InvalidParameterValue(
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.".into(),
            ));
        }
        Ok(name)
    }
}

impl crate::events::Invoker for Control {
    fn resolve_for_invoke(
        &self,
        function: &str,
        qualifier: Option<&str>,
    ) -> Result<Resolved, LambdaError> {
        Control::resolve_for_invoke(self, function, qualifier)
    }

    fn scheduler(&self) -> &Scheduler {
        Control::scheduler(self)
    }
}

/// A new RevisionId.
fn revision_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn now_millis() -> i64 {
    crate::logs::now_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_has_a_lambda_action_and_its_own_method_and_path() {
        let mut seen = std::collections::HashSet::new();
        for r in ROUTES {
            let name = r.action.strip_prefix("lambda:").unwrap_or("");
            assert!(
                name.starts_with(|c: char| c.is_ascii_uppercase())
                    && name.chars().all(|c| c.is_ascii_alphanumeric()),
                "{} {}: action {:?}",
                r.method,
                r.path,
                r.action
            );
            assert!(
                seen.insert((r.method.clone(), r.path)),
                "{} {} twice",
                r.method,
                r.path
            );
        }
    }

    #[test]
    fn routes_are_found_by_method_and_segments() {
        let r = Route::find(
            &Method::POST,
            &["2015-03-31", "functions", "f", "invocations"],
        );
        assert_eq!(r.map(|r| r.operation), Some(Invoke));
        assert_eq!(
            r.map(|r| r.names(&["2015-03-31", "functions", "f", "invocations"])),
            Some(vec!["f"])
        );
        let r = Route::find(
            &Method::DELETE,
            &["2015-03-31", "functions", "f", "aliases", "live"],
        );
        assert_eq!(r.map(|r| r.operation), Some(DeleteAlias));
        assert!(Route::find(&Method::PATCH, &["2015-03-31", "functions"]).is_none());
        assert!(Route::find(&Method::GET, &["2015-03-31", "functions", "f", "nope"]).is_none());
        assert_eq!(
            body_limit(&Method::PUT, &["2015-03-31", "functions", "f", "code"]),
            (MAX_CODE_BODY, "UpdateFunctionCode")
        );
        assert_eq!(
            body_limit(
                &Method::POST,
                &["2014-11-13", "functions", "f", "invoke-async"]
            ),
            (MAX_API_BODY, "InvokeAsync")
        );
        assert_eq!(
            body_limit(&Method::GET, &["nothing"]),
            (MAX_API_BODY, "this")
        );
    }
}
