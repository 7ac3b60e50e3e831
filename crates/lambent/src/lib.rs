//! lambent: AWS Lambda, and the services Lambda applications lean on, as one program.
//!
//! [`run`] wires the parts together: the store, the key ring, the log store, the runtimes,
//! the scheduler, the control plane, and the edge that serves them all on one listener.
//! It takes a locked [`data_dir::DataDir`], so no two servers share one directory.
//! `main.rs` only parses flags and calls it; tests call it on `127.0.0.1:0`.

pub mod archive;
pub mod auth;
pub mod cli;
pub mod config;
pub mod data_dir;
pub mod edge;
pub mod events;
mod examples;
pub mod iam;
pub mod invocation;
pub mod lambda;
pub mod lineage;
pub mod logs;
pub mod runtime_api;
pub mod runtimes;
pub mod s3;
pub mod scheduler;
pub mod sts;
pub mod telemetry;
mod upgrade;

use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Runs lambent on `listener` and `data_dir` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    data_dir: data_dir::DataDir,
    config: config::Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let endpoint_url = format!("http://{addr}");
    let data = data_dir.path();
    let open_files = raise_open_file_limit();
    let connections = config.connections.fitted_to(open_files);
    if connections != config.connections {
        tracing::warn!(
            open_files,
            connections = connections.total,
            "few open files allowed (RLIMIT_NOFILE): the edge holds fewer connections"
        );
    }
    let store = Arc::new(lambent_store::Store::open(data).context("opening the store")?);
    let root = auth::load_or_create_root(data).context("loading root credentials")?;
    let iam_store = Arc::new(
        lambent_store::iam::IamStore::open(&data.join("iam"), lambent_aws::arn::ACCOUNT_ID)
            .context("opening the IAM store")?,
    );
    // IAM users' keys sign requests too; the authorizer decides what each may do.
    let keyring = auth::KeyRing::new(&root).with_users(iam_store.clone());
    let authorizer = auth::Authorizer::new(iam_store.clone());
    let iam = iam::Iam::new(iam_store.clone()).context("seeding AWS-managed policies")?;
    let logs = logs::LogStore::open(&data.join("logs")).context("opening logs")?;
    let _retention = logs.spawn_retention_sweeper();
    // Finding interpreters and, on a first start, installing the SDKs runs processes.
    let runtimes = {
        let (data, runtimes_dir) = (data.to_path_buf(), config.runtimes_dir.clone());
        tokio::task::spawn_blocking(move || runtimes::Runtimes::prepare(&data, &runtimes_dir))
            .await
            .context("preparing runtimes")?
            .context("preparing runtimes")?
    };
    tracing::info!(runtimes = %runtimes.describe(), "runtimes");
    let telemetry =
        telemetry::Telemetry::open(data, config.pricing).context("opening the usage store")?;
    let flusher = telemetry.spawn_flusher();
    let scheduler = scheduler::Scheduler::new(
        scheduler::SchedulerConfig {
            data_dir: data.to_path_buf(),
            endpoint_url: endpoint_url.clone(),
            region: config.region.clone(),
            max_concurrency: config.max_concurrency,
            keep_alive: config.keep_alive,
            cpu_limits: config.cpu_limits,
            stems: config.stems,
            billing_granularity_ms: config.billing_granularity_ms,
        },
        runtimes,
        keyring.clone(),
        logs.clone(),
        telemetry.clone(),
    )
    .context("starting the scheduler")?;
    let reaper = scheduler.spawn_reaper();
    let events =
        events::Events::open(data, config.async_retry_delay).context("opening the event queue")?;
    let control = lambda::Control::load(
        store,
        scheduler.clone(),
        events.clone(),
        authorizer.clone(),
        config.region.clone(),
    )?;
    let objects = Arc::new(
        lambent_store::objects::ObjectStore::open(&data.join("objects"))
            .context("opening the object store")?,
    );
    if config.examples {
        examples::deploy(&control, &iam_store, &objects).await?;
    }
    let notifier = s3::Notifier::new(events.clone(), control.clone(), authorizer.clone());
    upgrade::run(data, &control, &iam_store, &notifier, &objects)
        .context("upgrading the data directory")?;
    // Events accepted before a restart (or a kill) are delivered from here on, once the
    // upgrades have given their functions what they need.
    let dispatcher = events.spawn_dispatcher(Arc::new(control.clone()));
    let s3 = s3::service(objects, keyring.clone(), authorizer.clone(), notifier);
    // One IAM store, shared: STS reads the roles the IAM API writes.
    let sts = sts::Sts::new(keyring.clone(), iam_store);
    let app = Arc::new(edge::App {
        control,
        keyring,
        authorizer,
        logs,
        iam,
        s3,
        sts,
    });
    tracing::info!(%endpoint_url, data_dir = %data.display(), "lambent is ready");
    edge::serve(listener, app, connections, shutdown).await;
    reaper.abort();
    dispatcher.abort();
    flusher.abort();
    scheduler.shutdown();
    telemetry.flush();
    Ok(())
}

/// Raises this process's soft limit on open files to its hard limit, and returns the limit
/// now in effect. Each client connection, environment (its pipe, Runtime API listener and
/// connections) and store holds descriptors, and the usual soft limit of 1,024 would cap
/// lambent far below its connection limits. Sandboxes set their own limit of 1,024.
fn raise_open_file_limit() -> u64 {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    // No hard limit: the kernel still refuses more than `fs.nr_open`, 1,048,576 by default.
    let wanted = limit.maximum.unwrap_or(1 << 20);
    let current = limit.current.unwrap_or(u64::MAX);
    if current >= wanted {
        return current;
    }
    let raised = Rlimit {
        current: Some(wanted),
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => wanted,
        Err(e) => {
            tracing::warn!(error = %e, soft = current, "cannot raise the open files limit");
            current
        }
    }
}
