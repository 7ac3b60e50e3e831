//! The example functions (`lambent up --examples`), embedded in the binary so they deploy
//! from anywhere. A function that already exists is left as the user has it.

use crate::control::{Control, CreateFunction};
use base64::Engine;
use lambent_aws::lambda::model::Environment;

struct Example {
    name: &'static str,
    runtime: &'static str,
    handler: &'static str,
    file: &'static str,
    source: &'static str,
    description: &'static str,
}

const EXAMPLES: &[Example] = &[
    Example {
        name: "sum-python",
        runtime: "python3.12",
        handler: "app.lambda_handler",
        file: "app.py",
        source: include_str!("../../../examples/sum-python/app.py"),
        description: "Returns value1 + value2",
    },
    Example {
        name: "sum-node",
        runtime: "nodejs20.x",
        handler: "index.handler",
        file: "index.js",
        source: include_str!("../../../examples/sum-node/index.js"),
        description: "Returns value1 + value2",
    },
    Example {
        name: "logging-python",
        runtime: "python3.12",
        handler: "app.lambda_handler",
        file: "app.py",
        source: include_str!("../../../examples/logging-python/app.py"),
        description: "Logs its event and context",
    },
    Example {
        name: "logging-node",
        runtime: "nodejs20.x",
        handler: "index.handler",
        file: "index.js",
        source: include_str!("../../../examples/logging-node/index.js"),
        description: "Logs its event and context",
    },
];

/// Creates each example function that does not exist yet.
pub async fn deploy(control: &Control) -> anyhow::Result<()> {
    for ex in EXAMPLES {
        let zip = crate::cli::zip_entries([(ex.file, ex.source.as_bytes(), false)])?;
        let input = CreateFunction {
            function_name: Some(ex.name.into()),
            runtime: Some(ex.runtime.into()),
            role: Some("arn:aws:iam::000000000000:role/lambent-examples".into()),
            handler: Some(ex.handler.into()),
            description: Some(ex.description.into()),
            environment: Some(Environment::default()),
            code: Some(crate::control::CodeInput {
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
    Ok(())
}
