//! lambent: AWS Lambda, and the services Lambda applications lean on, as one program.
//!
//! [`run`] wires the parts together: the store, the key ring, the log store, the runtimes,
//! the scheduler, the control plane, and the edge that serves them all on one listener.
//! `main.rs` only parses flags and calls it; tests call it on `127.0.0.1:0`.

pub mod auth;
pub mod cli;
pub mod config;
pub mod control;
pub mod edge;
pub mod events;
mod examples;
pub mod lineage;
pub mod logs;
pub mod runtime_api;
pub mod runtimes;
pub mod s3;
pub mod scheduler;
pub mod telemetry;

use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Runs lambent on `listener` until `shutdown` resolves.
pub async fn run(
    listener: TcpListener,
    config: config::Config,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let addr = listener.local_addr()?;
    let endpoint_url = format!("http://{addr}");
    let store =
        Arc::new(lambent_store::Store::open(&config.data_dir).context("opening the store")?);
    let root = auth::load_or_create_root(&config.data_dir).context("loading root credentials")?;
    let keyring = auth::KeyRing::new(&root);
    let logs = logs::LogStore::open(&config.data_dir.join("logs")).context("opening logs")?;
    let _retention = logs.spawn_retention_sweeper();
    // Finding interpreters and, on a first start, installing the SDKs runs processes.
    let runtimes = {
        let (data_dir, runtimes_dir) = (config.data_dir.clone(), config.runtimes_dir.clone());
        tokio::task::spawn_blocking(move || runtimes::Runtimes::prepare(&data_dir, &runtimes_dir))
            .await
            .context("preparing runtimes")?
            .context("preparing runtimes")?
    };
    tracing::info!(runtimes = %runtimes.describe(), "runtimes");
    let telemetry = telemetry::Telemetry::open(&config.data_dir, config.pricing)
        .context("opening the usage store")?;
    let flusher = telemetry.spawn_flusher();
    let scheduler = scheduler::Scheduler::new(
        scheduler::SchedulerConfig {
            data_dir: config.data_dir.clone(),
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
    let events = events::Events::open(&config.data_dir, config.async_retry_delay)
        .context("opening the event queue")?;
    let control = control::Control::load(
        store,
        scheduler.clone(),
        events.clone(),
        config.region.clone(),
    )?;
    // Events accepted before a restart (or a kill) are delivered from here on.
    let dispatcher = events.spawn_dispatcher(control.clone());
    let objects = Arc::new(
        lambent_store::objects::ObjectStore::open(&config.data_dir.join("objects"))
            .context("opening the object store")?,
    );
    if config.examples {
        examples::deploy(&control, &objects).await?;
    }
    let notifier = s3::Notifier::new(events.clone(), control.clone());
    let s3 = s3::service(objects, keyring.clone(), notifier);
    let app = Arc::new(edge::App {
        control,
        keyring,
        logs,
        s3,
    });
    tracing::info!(%endpoint_url, data_dir = %config.data_dir.display(), "lambent is ready");
    edge::serve(listener, app, shutdown).await;
    reaper.abort();
    dispatcher.abort();
    flusher.abort();
    scheduler.shutdown();
    telemetry.flush();
    Ok(())
}
