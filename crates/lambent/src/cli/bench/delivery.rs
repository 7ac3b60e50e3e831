//! The delivery scenario: asynchronous invocations at load. N clients send `Event`
//! invocations of a noop Python function for the scenario's duration (each answered `202`
//! once the durable queue has committed it), then the bench waits until lambent has run them
//! all, reading lambent's own `/_lambent/metrics`. It reports the accept rate with its
//! latency, and the sustained delivery rate: events run per second, from the first accept to
//! the last run.

use super::{delete, invoke, python_function, summarize, Load, Summary};
use crate::cli::client::{segment, Call, Client};
use bytes::Bytes;
use std::time::{Duration, Instant};

/// How long the bench waits for the backlog to drain.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);

pub async fn delivery(client: &Client, load: Load) -> anyhow::Result<Vec<Summary>> {
    let name = python_function(
        client,
        "delivery",
        "def handler(event, context):\n    return None\n",
    )
    .await?;
    let measured = run(client, &name, load).await;
    delete(client, &name).await;
    measured
}

/// Successful runs of `name` so far, from lambent's metrics.
async fn delivered(client: &Client, name: &str) -> anyhow::Result<u64> {
    let (status, text) = client.get_public("/_lambent/metrics").await?;
    anyhow::ensure!(status == 200, "/_lambent/metrics answered {status}");
    let key = format!("lambent_invocations_total{{function=\"{name}\",outcome=\"ok\"}} ");
    Ok(text
        .lines()
        .find_map(|l| l.strip_prefix(&key))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(0.0) as u64)
}

async fn run(client: &Client, name: &str, load: Load) -> anyhow::Result<Vec<Summary>> {
    // One warm environment first: the scenario measures delivery, not cold starts alone.
    invoke(client, name, false).await?;
    let before = delivered(client, name).await?;
    let started = Instant::now();
    let deadline = started + load.duration;
    let mut tasks = Vec::with_capacity(load.clients);
    for _ in 0..load.clients {
        let (client, name) = (client.clone(), name.to_string());
        tasks.push(tokio::spawn(async move {
            let path = format!("/2015-03-31/functions/{}/invocations", segment(&name));
            let headers = [("x-amz-invocation-type", "Event".to_string())];
            let (mut samples, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                let reply = client
                    .send(Call {
                        service: "lambda",
                        method: "POST",
                        path: &path,
                        query: "",
                        headers: &headers,
                        body: Bytes::from_static(b"{}"),
                        progress: None,
                    })
                    .await;
                match reply {
                    Ok(r) if r.status == 202 => samples.push(t.elapsed().as_secs_f64() * 1e6),
                    _ => errors += 1,
                }
            }
            (samples, errors)
        }));
    }
    let (mut accepted, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (s, e) = t.await?;
        accepted.extend(s);
        errors += e;
    }
    let accept_secs = started.elapsed().as_secs_f64();
    let count = accepted.len() as u64;
    let waited = Instant::now();
    loop {
        let done = delivered(client, name).await?.saturating_sub(before);
        if done >= count {
            break;
        }
        anyhow::ensure!(
            waited.elapsed() < DRAIN_TIMEOUT,
            "only {done} of {count} accepted events ran within {DRAIN_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let drained_secs = started.elapsed().as_secs_f64();
    let mut accept = summarize(
        format!("async accept (Event to 202), {} clients", load.clients),
        accepted,
        vec![],
    );
    accept.per_second = Some(count as f64 / accept_secs);
    accept.errors = errors;
    let mut delivery = summarize("async delivery, sustained".into(), vec![], vec![]);
    delivery.samples = count as usize;
    delivery.per_second = Some(count as f64 / drained_secs);
    Ok(vec![accept, delivery])
}
