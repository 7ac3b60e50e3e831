//! The example functions (`lambent up --examples`), embedded in the binary so they deploy
//! from anywhere, and the bucket `lambent-examples`, whose uploads under `uploads/` invoke
//! the thumbnails example. A function, bucket or notification configuration that already
//! exists is left as the user has it.

use crate::iam::execution_roles::{self, ExecutionRole};
use crate::lambda::{Control, CreateFunction, PermissionInput};
use anyhow::Context;
use base64::Engine;
use lambent_aws::arn::{FunctionArn, ACCOUNT_ID};
use lambent_aws::lambda::model::Environment;
use lambent_store::iam::IamStore;
use lambent_store::objects::{ObjectError, ObjectStore};

struct Example {
    name: &'static str,
    runtime: &'static str,
    handler: &'static str,
    file: &'static str,
    source: &'static str,
    description: &'static str,
    timeout: i64,
    memory_size: i64,
}

const EXAMPLES: &[Example] = &[
    Example {
        name: "sum-python",
        runtime: "python3.12",
        handler: "app.lambda_handler",
        file: "app.py",
        source: include_str!("../../../examples/sum-python/app.py"),
        description: "Returns value1 + value2",
        timeout: 3,
        memory_size: 128,
    },
    Example {
        name: "sum-node",
        runtime: "nodejs20.x",
        handler: "index.handler",
        file: "index.js",
        source: include_str!("../../../examples/sum-node/index.js"),
        description: "Returns value1 + value2",
        timeout: 3,
        memory_size: 128,
    },
    Example {
        name: "logging-python",
        runtime: "python3.12",
        handler: "app.lambda_handler",
        file: "app.py",
        source: include_str!("../../../examples/logging-python/app.py"),
        description: "Logs its event and context",
        timeout: 3,
        memory_size: 128,
    },
    Example {
        name: "logging-node",
        runtime: "nodejs20.x",
        handler: "index.handler",
        file: "index.js",
        source: include_str!("../../../examples/logging-node/index.js"),
        description: "Logs its event and context",
        timeout: 3,
        memory_size: 128,
    },
    Example {
        name: "thumbnails",
        runtime: "python3.12",
        handler: "app.lambda_handler",
        file: "app.py",
        source: include_str!("../../../examples/thumbnails/app.py"),
        description: "Writes a thumbnail of each PNG uploaded under uploads/",
        timeout: 30,
        memory_size: 256,
    },
];

/// The bucket the thumbnails example watches.
const BUCKET: &str = "lambent-examples";

/// The examples' execution role: logs, and the thumbnails example's reads of uploads and
/// writes of thumbnails in its bucket; nothing else.
const ROLE: ExecutionRole<'static> = ExecutionRole {
    path: "/",
    name: "lambent-examples",
    description: "The execution role of lambent's examples",
    managed: &["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"],
    inline: &[(
        "thumbnails",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::lambent-examples/uploads/*"},{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::lambent-examples/thumbnails/*"}]}"#,
    )],
};

/// Creates the examples' role and each example function that does not exist yet, then the
/// examples' bucket.
pub async fn deploy(
    control: &Control,
    iam: &IamStore,
    objects: &ObjectStore,
) -> anyhow::Result<()> {
    if execution_roles::ensure(iam, &ROLE).context("creating the examples' role")? {
        tracing::info!(role = ROLE.name, "created the examples' execution role");
    }
    let role = format!("arn:aws:iam::{}:role/{}", iam.account(), ROLE.name);
    for ex in EXAMPLES {
        let zip = crate::archive::zip_entries([(ex.file, ex.source.as_bytes(), false)])?;
        let input = CreateFunction {
            function_name: Some(ex.name.into()),
            runtime: Some(ex.runtime.into()),
            role: Some(role.clone()),
            handler: Some(ex.handler.into()),
            description: Some(ex.description.into()),
            timeout: Some(ex.timeout),
            memory_size: Some(ex.memory_size),
            environment: Some(Environment::default()),
            code: Some(crate::lambda::CodeInput {
                zip_file: Some(base64::engine::general_purpose::STANDARD.encode(&zip)),
                ..Default::default()
            }),
            ..Default::default()
        };
        match control.create_function(input).await {
            Ok(_) => tracing::info!(function = ex.name, "deployed example"),
            Err(lambent_aws::lambda::LambdaError::ResourceConflict(_)) => {}
            Err(e) => anyhow::bail!("deploying example {}: {e}", ex.name),
        }
    }
    subscribe_thumbnails(control, objects)
}

/// Creates the examples' bucket if it is missing and, unless the bucket already has a
/// notification configuration, subscribes `thumbnails` to what is created under `uploads/`.
/// The function writes under `thumbnails/`, outside the rule, so it never invokes itself.
fn subscribe_thumbnails(control: &Control, objects: &ObjectStore) -> anyhow::Result<()> {
    match objects.create_bucket(BUCKET, crate::logs::now_millis()) {
        Ok(()) => tracing::info!(bucket = BUCKET, "created the examples' bucket"),
        Err(ObjectError::BucketExists(_)) => {}
        Err(e) => return Err(e).context("creating the examples' bucket"),
    }
    if objects
        .notifications(BUCKET)
        .context("reading the examples' bucket notifications")?
        .is_some()
    {
        return Ok(());
    }
    let arn = FunctionArn {
        region: control.region(),
        name: "thumbnails",
        qualifier: None,
    }
    .to_string();
    // As on AWS, S3 invokes a function only where the function's policy lets it.
    let granted = control.add_permission(
        "thumbnails",
        None,
        PermissionInput {
            statement_id: Some("lambent-examples-s3".into()),
            action: Some("lambda:InvokeFunction".into()),
            principal: Some("s3.amazonaws.com".into()),
            source_arn: Some(format!("arn:aws:s3:::{BUCKET}")),
            source_account: Some(ACCOUNT_ID.into()),
            ..PermissionInput::default()
        },
    );
    match granted {
        Ok(_) | Err(lambent_aws::lambda::LambdaError::ResourceConflict(_)) => {}
        Err(e) => anyhow::bail!("letting S3 invoke thumbnails: {e}"),
    }
    let config =
        crate::s3::single_lambda_rule("thumbnails", &arn, "s3:ObjectCreated:*", "uploads/")
            .context("building the thumbnails notification rule")?;
    objects
        .put_notifications(BUCKET, &config)
        .context("subscribing thumbnails to the examples' bucket")
}
