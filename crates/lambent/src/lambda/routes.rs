//! Every route of the Lambda API, in one table.

use super::{
    aliases, concurrency, event_invoke, functions, invoke, provisioned, recursion, tags, versions,
    ApiRequest, ApiResponse, Control,
};
use http::Method;
use lambent_aws::lambda::LambdaError;

/// Dispatches one authenticated Lambda API request.
pub async fn handle(ctl: &Control, req: ApiRequest) -> Result<ApiResponse, LambdaError> {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    let m = &req.method;
    match (m, segs.as_slice()) {
        (&Method::POST, ["2015-03-31", "functions", f, "invocations"]) => {
            invoke::invoke(ctl, f, &req).await
        }
        (&Method::POST, ["2014-11-13", "functions", f, "invoke-async"]) => {
            invoke::invoke_async_legacy(ctl, f, &req).await
        }
        (&Method::POST, ["2015-03-31", "functions"]) => functions::create(ctl, &req).await,
        (&Method::GET, ["2015-03-31", "functions"]) => functions::list(ctl, &req),
        (&Method::GET, ["2015-03-31", "functions", f]) => functions::get(ctl, f, &req),
        (&Method::DELETE, ["2015-03-31", "functions", f]) => functions::delete(ctl, f, &req),
        (&Method::GET, ["2015-03-31", "functions", f, "configuration"]) => {
            functions::get_configuration(ctl, f, &req)
        }
        (&Method::PUT, ["2015-03-31", "functions", f, "configuration"]) => {
            functions::update_configuration(ctl, f, &req)
        }
        (&Method::PUT, ["2015-03-31", "functions", f, "code"]) => {
            functions::update_code(ctl, f, &req).await
        }
        (&Method::POST, ["2015-03-31", "functions", f, "versions"]) => {
            versions::publish(ctl, f, &req)
        }
        (&Method::GET, ["2015-03-31", "functions", f, "versions"]) => versions::list(ctl, f, &req),
        (&Method::POST, ["2015-03-31", "functions", f, "aliases"]) => aliases::create(ctl, f, &req),
        (&Method::GET, ["2015-03-31", "functions", f, "aliases"]) => aliases::list(ctl, f, &req),
        (&Method::GET, ["2015-03-31", "functions", f, "aliases", a]) => aliases::get(ctl, f, a),
        (&Method::PUT, ["2015-03-31", "functions", f, "aliases", a]) => {
            aliases::update(ctl, f, a, &req)
        }
        (&Method::DELETE, ["2015-03-31", "functions", f, "aliases", a]) => {
            aliases::delete(ctl, f, a)
        }
        (&Method::PUT, ["2017-10-31", "functions", f, "concurrency"]) => {
            concurrency::put(ctl, f, &req)
        }
        (&Method::GET, ["2019-09-30", "functions", f, "concurrency"]) => concurrency::get(ctl, f),
        (&Method::DELETE, ["2017-10-31", "functions", f, "concurrency"]) => {
            concurrency::delete(ctl, f)
        }
        (&Method::PUT, ["2024-08-31", "functions", f, "recursion-config"]) => {
            recursion::put(ctl, f, &req)
        }
        (&Method::GET, ["2024-08-31", "functions", f, "recursion-config"]) => {
            recursion::get(ctl, f)
        }
        (&Method::PUT, ["2019-09-30", "functions", f, "provisioned-concurrency"]) => {
            provisioned::put(ctl, f, &req)
        }
        (&Method::GET, ["2019-09-30", "functions", f, "provisioned-concurrency"]) => {
            provisioned::get(ctl, f, &req)
        }
        (&Method::DELETE, ["2019-09-30", "functions", f, "provisioned-concurrency"]) => {
            provisioned::delete(ctl, f, &req)
        }
        (&Method::PUT, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::put(ctl, f, &req)
        }
        (&Method::POST, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::update(ctl, f, &req)
        }
        (&Method::GET, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::get(ctl, f, &req)
        }
        (&Method::DELETE, ["2019-09-25", "functions", f, "event-invoke-config"]) => {
            event_invoke::delete(ctl, f, &req)
        }
        (&Method::GET, ["2019-09-25", "functions", f, "event-invoke-config", "list"]) => {
            event_invoke::list(ctl, f, &req)
        }
        (&Method::GET, ["2016-08-19", "account-settings"]) => concurrency::account_settings(ctl),
        (&Method::GET, ["2017-03-31", "tags", arn]) => tags::list(ctl, arn),
        (&Method::POST, ["2017-03-31", "tags", arn]) => tags::tag(ctl, arn, &req),
        (&Method::DELETE, ["2017-03-31", "tags", arn]) => tags::untag(ctl, arn, &req),
        _ => Err(LambdaError::UnknownOperation(format!(
            "No Lambda operation matches {} /{}",
            req.method,
            req.segments.join("/")
        ))),
    }
}
