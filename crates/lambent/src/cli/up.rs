//! `lambent up`: lock the data directory, bind the listener, record both, and run.

use super::UpArgs;
use crate::config::RawConfig;
use crate::data_dir::DataDir;
use std::process::ExitCode;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How long the question "is that a lambent?" may take when `--listen` is taken: a local
/// answer comes in microseconds, and the user is waiting for the error.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

pub async fn run(args: UpArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LAMBENT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_target(false)
        // Colours for a person at a terminal, never escape codes in a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
    let config = RawConfig {
        region: args.region,
        max_concurrency: args.max_concurrency,
        keep_alive_secs: args.keep_alive,
        examples: args.examples,
        cpu_limits: args.cpu_limits,
        stems: args.stems,
        async_retry_delay: args.async_retry_delay,
        billing_granularity: args.billing_granularity,
        pricing: crate::config::Pricing {
            per_million_requests: args.price_per_million_requests,
            per_gb_second: args.price_per_gb_second,
            free_requests: args.free_requests,
            free_gb_seconds: args.free_gb_seconds,
        },
        runtimes_dir: args.runtimes.runtimes_dir,
    }
    .validate()?;
    // The lock comes before the port and every file: a second `lambent up` on a directory
    // in use must leave the running server's files, environments and address alone.
    let data_dir = DataDir::lock(&args.data_dir)?;
    let listener = listen(&args.listen).await?;
    let addr = listener.local_addr()?;
    data_dir.record(&format!("http://{addr}"))?;
    // Tests and scripts read this line to learn the port when listening on :0.
    println!("lambent listening on http://{addr}");
    let shutdown = async {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    };
    crate::run(listener, data_dir, config, shutdown).await?;
    Ok(ExitCode::SUCCESS)
}

/// Connections the kernel queues until lambent accepts them (capped by `net.core.somaxconn`).
/// The edge accepts, counts and closes excess connections at once, but a burst from one
/// client while lambent waits for a CPU must not overflow the queue and delay everyone's
/// connection by a SYN retransmission (a second).
const BACKLOG: u32 = 4096;

/// Binds `--listen`; when the address is taken, says whether by a lambent, which is most
/// often the case (a server left running in another terminal).
async fn listen(address: &str) -> anyhow::Result<TcpListener> {
    match bind(address).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let holder = if answers_health(address).await {
                format!("a lambent answers there: http://{address}")
            } else {
                "something else holds it".to_string()
            };
            anyhow::bail!("cannot listen on {address}: address already in use ({holder})")
        }
        Err(e) => Err(anyhow::anyhow!("cannot listen on {address}: {e}")),
    }
}

/// `address`'s first resolution that binds, listening with [`BACKLOG`].
async fn bind(address: &str) -> std::io::Result<TcpListener> {
    let mut last = None;
    for addr in tokio::net::lookup_host(address).await? {
        let socket = match addr {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        // As std's bind does: a restart may bind while the last run's connections linger.
        socket.set_reuseaddr(true)?;
        match socket.bind(addr).and_then(|()| socket.listen(BACKLOG)) {
            Ok(listener) => return Ok(listener),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the address resolves to nothing",
        )
    }))
}

/// Whether `GET /_lambent/health` at `address` answers 200 `ok`.
async fn answers_health(address: &str) -> bool {
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(address).await.ok()?;
        let request = format!(
            "GET /_lambent/health HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.ok()?;
        let mut answer = Vec::new();
        // The health answer is a few dozen bytes; a server that sends more is not lambent.
        (&mut stream)
            .take(4096)
            .read_to_end(&mut answer)
            .await
            .ok()?;
        let text = String::from_utf8_lossy(&answer);
        Some(text.starts_with("HTTP/1.1 200") && text.ends_with("\r\n\r\nok\n"))
    };
    matches!(
        tokio::time::timeout(PROBE_TIMEOUT, ask).await,
        Ok(Some(true))
    )
}
