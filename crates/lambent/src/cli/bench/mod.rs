//! `lambent bench`: a load generator for the Invoke API and the S3 API. It signs its
//! requests like any AWS tool, so it measures lambent or any other endpoint that speaks them,
//! and it measures the machine's own loopback floor (the health endpoint, same client, same
//! run) so every figure can be read as a ratio.

mod authz;
mod delivery;
mod memory;
mod s3;

use super::client::{segment, Call, Client, Reply};
use super::table::{Align, Table};
use super::ClientArgs;
use crate::archive::zip_entries;
use base64::Engine;
use bytes::Bytes;
use clap::Args;
use lambent_aws::arn::ACCOUNT_ID;
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenarios to run, comma-separated: floor, warm, warm-user, cold, throughput, async,
    /// delivery, memory, s3-put, s3-get, s3-notify (memory reads /proc: a local lambent only;
    /// delivery reads lambent's /_lambent/metrics; the s3 ones use a temporary bucket;
    /// warm-user compares warm invokes signed by an IAM user holding ten policies with root's).
    #[arg(
        long,
        default_value = "memory,floor,warm,warm-user,cold,throughput,async,delivery,s3-put,s3-get,s3-notify"
    )]
    scenarios: String,
    /// Runtimes to measure, comma-separated: python, node, provided.
    #[arg(long, default_value = "python,node,provided")]
    runtimes: String,
    /// Concurrent clients in the throughput, delivery, s3-put and s3-get scenarios.
    #[arg(long, default_value_t = 32)]
    clients: usize,
    /// Seconds the throughput scenario runs, per runtime (and s3-put and s3-get, per size).
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Samples per warm and floor scenario (s3-notify: at most 200 of them).
    #[arg(short = 'n', long, default_value_t = 1000)]
    requests: usize,
    /// Samples per cold scenario.
    #[arg(long, default_value_t = 30)]
    cold_samples: usize,
    /// Milliseconds between cold samples: a cold start every so often, as functions scale
    /// up in practice, rather than a burst (lambent refills its stems in between; 0 measures
    /// a burst, where starts beyond the stems take the slow path).
    #[arg(long, default_value_t = 250)]
    cold_interval: u64,
    /// A few samples of each, to check the tool works (CI runs this).
    #[arg(long)]
    quick: bool,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Latency percentiles of one scenario, in microseconds.
struct Summary {
    scenario: String,
    samples: usize,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
    /// Median `Init Duration` from REPORT lines (cold starts only), in ms.
    init_p50_ms: Option<f64>,
    /// Completed requests per second (throughput scenarios only).
    per_second: Option<f64>,
    /// Megabytes (10^6 bytes) of object data moved per second (s3-put and s3-get only).
    mb_per_second: Option<f64>,
    /// Failed and throttled requests (throughput scenarios only).
    errors: usize,
    throttles: usize,
}

fn summarize(scenario: String, mut micros: Vec<f64>, init: Vec<f64>) -> Summary {
    micros.sort_by(f64::total_cmp);
    let pct = |p: f64| -> f64 {
        if micros.is_empty() {
            return 0.0;
        }
        let i = ((micros.len() as f64 - 1.0) * p).round() as usize;
        micros[i]
    };
    let mut init = init;
    init.sort_by(f64::total_cmp);
    Summary {
        samples: micros.len(),
        p50: pct(0.5),
        p90: pct(0.9),
        p99: pct(0.99),
        max: micros.last().copied().unwrap_or(0.0),
        init_p50_ms: (!init.is_empty()).then(|| init[init.len() / 2]),
        scenario,
        per_second: None,
        mb_per_second: None,
        errors: 0,
        throttles: 0,
    }
}

/// The noop `provided` runtime (`noop-bootstrap.rs`), compiled for lambent's own target by
/// `build.rs`: carried inside the binary, so the bench needs no file beside it.
const NOOP_BOOTSTRAP: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/noop-bootstrap"));

/// A function that does nothing, in one runtime.
struct Noop {
    runtime: &'static str,
    handler: &'static str,
    zip: Vec<u8>,
}

fn noop(runtime: &str) -> anyhow::Result<Noop> {
    let source = |file: &str, text: &str| zip_entries([(file, text.as_bytes(), false)]);
    Ok(match runtime {
        "python" => Noop {
            runtime: "python3.12",
            handler: "app.handler",
            zip: source("app.py", "def handler(event, context):\n    return {}\n")?,
        },
        "node" => Noop {
            runtime: "nodejs20.x",
            handler: "index.handler",
            zip: source("index.js", "exports.handler = async () => ({});\n")?,
        },
        "provided" => Noop {
            runtime: "provided.al2023",
            handler: "bootstrap",
            zip: zip_entries([("bootstrap", NOOP_BOOTSTRAP, true)])?,
        },
        other => anyhow::bail!("unknown runtime {other:?} (python, node, provided)"),
    })
}

pub async fn run(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let client = Client::from_args(&a.client)?;
    let (n, cold_n) = if a.quick {
        (20, 3)
    } else {
        (a.requests, a.cold_samples)
    };
    let load = Load {
        clients: if a.quick { 4 } else { a.clients.max(1) },
        duration: Duration::from_secs(if a.quick { 1 } else { a.duration.max(1) }),
    };
    let scenarios: Vec<&str> = a.scenarios.split(',').map(str::trim).collect();
    let mut results = Vec::new();
    // First, while lambent is as idle as the bench will find it.
    let mut memory = Vec::new();
    if scenarios.contains(&"memory") {
        match memory::measure(&client, &a.client.data_dir).await {
            Ok(figures) => memory = figures,
            Err(e) => eprintln!("memory scenario skipped: {e:#}"),
        }
    }
    if scenarios.contains(&"floor") {
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            let r = client.health().await?;
            anyhow::ensure!(r == 200, "health answered {r}");
            samples.push(t.elapsed().as_secs_f64() * 1e6);
        }
        results.push(summarize(
            "floor (GET /_lambent/health)".into(),
            samples,
            vec![],
        ));
    }
    if scenarios.contains(&"throughput") {
        results.push(throughput(&client, None, load).await?);
    }
    if scenarios.contains(&"async") {
        let samples = if a.quick { 3 } else { cold_n };
        results.push(async_start(&client, samples).await?);
    }
    if scenarios.contains(&"delivery") {
        results.extend(delivery::delivery(&client, load).await?);
    }
    let per_runtime = ["cold", "warm", "warm-user", "throughput"]
        .iter()
        .any(|s| scenarios.contains(s));
    for rt in a.runtimes.split(',').map(str::trim).filter(|_| per_runtime) {
        let fun = noop(rt)?;
        let name = format!(
            "lambent-bench-{rt}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        create(&client, &name, &fun).await?;
        let cold = Cold {
            samples: cold_n,
            interval: Duration::from_millis(if a.quick { 50 } else { a.cold_interval }),
        };
        let outcome = bench_runtime(&client, &name, rt, &scenarios, n, cold, load).await;
        delete(&client, &name).await;
        results.extend(outcome?);
    }
    // Last, so the disk writes of the uploads disturb no other scenario.
    let (put, get) = (scenarios.contains(&"s3-put"), scenarios.contains(&"s3-get"));
    if put || get {
        // Quick: a quarter second per operation and size, four in all.
        let s3_load = Load {
            duration: if a.quick {
                Duration::from_millis(250)
            } else {
                load.duration
            },
            ..load
        };
        results.extend(s3::objects(&client, put, get, s3_load).await?);
    }
    if scenarios.contains(&"s3-notify") {
        let samples = if a.quick { 3 } else { n.min(200) };
        results.push(s3::notify(&client, samples).await?);
    }
    print(&results, &memory, a.json);
    Ok(ExitCode::SUCCESS)
}

async fn bench_runtime(
    client: &Client,
    name: &str,
    rt: &str,
    scenarios: &[&str],
    n: usize,
    cold: Cold,
    load: Load,
) -> anyhow::Result<Vec<Summary>> {
    let mut out = Vec::new();
    if scenarios.contains(&"cold") {
        let mut samples = Vec::with_capacity(cold.samples);
        let mut inits = Vec::with_capacity(cold.samples);
        for i in 0..cold.samples {
            tokio::time::sleep(cold.interval).await;
            // A configuration change retires the warm environments: the next call starts one.
            client
                .lambda(
                    "PUT",
                    &format!("/2015-03-31/functions/{name}/configuration"),
                    "",
                    Some(&json!({"Environment": {"Variables": {"BENCH_SAMPLE": i.to_string()}}})),
                )
                .await?
                .ok()?;
            let t = Instant::now();
            let tail = invoke(client, name, true).await?;
            samples.push(t.elapsed().as_secs_f64() * 1e6);
            if let Some(init) = init_duration(&tail) {
                inits.push(init);
            }
        }
        out.push(summarize(format!("cold {rt} (end to end)"), samples, inits));
    }
    if scenarios.contains(&"warm") {
        invoke(client, name, false).await?;
        let mut samples = Vec::with_capacity(n);
        for _ in 0..n {
            let t = Instant::now();
            invoke(client, name, false).await?;
            samples.push(t.elapsed().as_secs_f64() * 1e6);
        }
        out.push(summarize(format!("warm {rt}"), samples, vec![]));
    }
    if scenarios.contains(&"warm-user") {
        out.extend(authz::warm_user(client, name, rt, n).await?);
    }
    if scenarios.contains(&"throughput") {
        out.push(throughput(client, Some((name, rt)), load).await?);
    }
    Ok(out)
}

/// How the cold scenario samples.
#[derive(Clone, Copy)]
struct Cold {
    samples: usize,
    interval: Duration,
}

/// A Python function of the bench's own (`app.py` holding `source`), created under a unique
/// name for one scenario; [`delete`] removes it.
async fn python_function(client: &Client, scenario: &str, source: &str) -> anyhow::Result<String> {
    let name = format!(
        "lambent-bench-{scenario}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let fun = Noop {
        runtime: "python3.12",
        handler: "app.handler",
        zip: zip_entries([("app.py", source.as_bytes(), false)])?,
    };
    create(client, &name, &fun).await?;
    Ok(name)
}

/// Deletes a function the bench created (best effort: the run's figures matter more).
async fn delete(client: &Client, name: &str) {
    let _ = client
        .lambda("DELETE", &format!("/2015-03-31/functions/{name}"), "", None)
        .await;
}

/// Unix time in nanoseconds: the one clock the bench and a function share.
fn unix_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or(0)
}

/// From sending an `Event` invocation (answered 202) to the function starting: a warm
/// Python function logs when it starts, and the bench reads that line back through the Logs
/// API.
async fn async_start(client: &Client, samples: usize) -> anyhow::Result<Summary> {
    let name = python_function(
        client,
        "async",
        "import time\ndef handler(event, context):\n    print('lambent-bench-start', event.get('id'), time.time_ns())\n",
    )
    .await?;
    let measured = async_samples(client, &name, samples).await;
    delete(client, &name).await;
    Ok(summarize(
        "async python, request to start".into(),
        measured?,
        vec![],
    ))
}

async fn async_samples(client: &Client, name: &str, samples: usize) -> anyhow::Result<Vec<f64>> {
    // Warm the function first: the scenario measures delivery, not a cold start.
    invoke(client, name, false).await?;
    let group = crate::logs::group_name(name);
    let mut out = Vec::with_capacity(samples);
    for i in 0..samples {
        let id = format!("s{i}-{}", uuid::Uuid::new_v4().simple());
        // The clock starts when the request leaves: lambent may start the function before
        // its 202 reaches the client.
        let sent = unix_nanos();
        let reply = client
            .send(Call {
                service: "lambda",
                method: "POST",
                path: &format!("/2015-03-31/functions/{}/invocations", segment(name)),
                query: "",
                headers: &[("x-amz-invocation-type", "Event".to_string())],
                body: Bytes::from(json!({ "id": id }).to_string()),
                progress: None,
            })
            .await?;
        anyhow::ensure!(
            reply.status == 202,
            "Event invoke answered {}",
            reply.status
        );
        let started = logged_start(client, &group, &id, Duration::from_secs(30)).await?;
        out.push(((started - sent) as f64 / 1000.0).max(0.0));
    }
    Ok(out)
}

/// When a bench function logged `lambent-bench-start <id> <unix nanos>`: reads its log group
/// through the Logs API until that line appears, for at most `timeout`.
async fn logged_start(
    client: &Client,
    group: &str,
    id: &str,
    timeout: Duration,
) -> anyhow::Result<i128> {
    let deadline = Instant::now() + timeout;
    loop {
        let page = client
            .logs(
                "FilterLogEvents",
                &json!({"logGroupName": group, "filterPattern": id}),
            )
            .await;
        let found = page.ok().and_then(|p| {
            p["events"].as_array()?.iter().find_map(|e| {
                let msg = e["message"].as_str()?;
                msg.split_whitespace().nth(2)?.parse::<i128>().ok()
            })
        });
        if let Some(ns) = found {
            return Ok(ns);
        }
        anyhow::ensure!(Instant::now() < deadline, "the function never ran for {id}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// How hard the throughput scenario pushes.
#[derive(Clone, Copy)]
struct Load {
    clients: usize,
    duration: Duration,
}

/// `load.clients` concurrent clients calling for `load.duration`: the health endpoint when
/// `function` is `None` (the floor), else invocations of the function.
async fn throughput(
    client: &Client,
    function: Option<(&str, &str)>,
    load: Load,
) -> anyhow::Result<Summary> {
    let deadline = Instant::now() + load.duration;
    let mut tasks = Vec::with_capacity(load.clients);
    for _ in 0..load.clients {
        let client = client.clone();
        let name = function.map(|(n, _)| n.to_string());
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let (mut errors, mut throttles) = (0usize, 0usize);
            while Instant::now() < deadline {
                let t = Instant::now();
                let ok = match &name {
                    None => matches!(client.health().await, Ok(200)),
                    Some(name) => match invoke_raw(&client, name).await {
                        Ok(429) => {
                            throttles += 1;
                            continue;
                        }
                        Ok(status) => status == 200,
                        Err(_) => false,
                    },
                };
                if ok {
                    samples.push(t.elapsed().as_secs_f64() * 1e6);
                } else {
                    errors += 1;
                }
            }
            (samples, errors, throttles)
        }));
    }
    let started = Instant::now();
    let (mut all, mut errors, mut throttles) = (Vec::new(), 0, 0);
    for t in tasks {
        let (s, e, th) = t.await?;
        all.extend(s);
        errors += e;
        throttles += th;
    }
    let elapsed = started.elapsed().max(load.duration).as_secs_f64();
    let label = match function {
        None => format!("throughput floor, {} clients", load.clients),
        Some((_, rt)) => format!("throughput {rt}, {} clients", load.clients),
    };
    let mut summary = summarize(label, all, vec![]);
    summary.per_second = Some(summary.samples as f64 / elapsed);
    summary.errors = errors;
    summary.throttles = throttles;
    Ok(summary)
}

/// One synchronous invoke of the noop function, as sent: the raw reply.
async fn send_invoke(client: &Client, name: &str, tail: bool) -> anyhow::Result<Reply> {
    let headers = if tail {
        vec![("x-amz-log-type", "Tail".to_string())]
    } else {
        vec![]
    };
    client
        .send(Call {
            service: "lambda",
            method: "POST",
            path: &format!("/2015-03-31/functions/{}/invocations", segment(name)),
            query: "",
            headers: &headers,
            body: Bytes::from_static(b"{}"),
            progress: None,
        })
        .await
}

/// The role the bench's functions run as: basic Lambda permissions.
const BENCH_ROLE: &str = "lambent-bench";

/// One synchronous invoke whose status alone matters (a function error counts as 500).
async fn invoke_raw(client: &Client, name: &str) -> anyhow::Result<u16> {
    let reply = send_invoke(client, name, false).await?;
    if reply.header("x-amz-function-error").is_some() {
        return Ok(500);
    }
    Ok(reply.status)
}

async fn create(client: &Client, name: &str, fun: &Noop) -> anyhow::Result<()> {
    // Another endpoint may have no IAM: any role ARN does there.
    let role = client
        .function_role(BENCH_ROLE)
        .await
        .unwrap_or_else(|_| format!("arn:aws:iam::{ACCOUNT_ID}:role/{BENCH_ROLE}"));
    client
        .lambda(
            "POST",
            "/2015-03-31/functions",
            "",
            Some(&json!({
                "FunctionName": name,
                "Runtime": fun.runtime,
                "Handler": fun.handler,
                "Role": role,
                "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(&fun.zip)},
            })),
        )
        .await?
        .ok()?;
    Ok(())
}

/// One synchronous invoke; returns the decoded log tail when asked for.
async fn invoke(client: &Client, name: &str, tail: bool) -> anyhow::Result<String> {
    let reply = send_invoke(client, name, tail).await?.ok()?;
    anyhow::ensure!(
        reply.header("x-amz-function-error").is_none(),
        "the benchmark function failed: {}",
        String::from_utf8_lossy(&reply.body)
    );
    let tail = reply
        .header("x-amz-log-result")
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t).ok())
        .map(|t| String::from_utf8_lossy(&t).into_owned())
        .unwrap_or_default();
    Ok(tail)
}

fn init_duration(tail: &str) -> Option<f64> {
    let rest = tail.split("Init Duration: ").nth(1)?;
    rest.split(" ms").next()?.parse().ok()
}

fn print(results: &[Summary], memory: &[memory::Figure], as_json: bool) {
    if as_json {
        let mut rows: Vec<_> = results
            .iter()
            .map(|r| {
                json!({
                    "scenario": r.scenario, "samples": r.samples,
                    "p50_us": r.p50, "p90_us": r.p90, "p99_us": r.p99, "max_us": r.max,
                    "init_p50_ms": r.init_p50_ms, "per_second": r.per_second,
                    "mb_per_second": r.mb_per_second,
                    "errors": r.errors, "throttles": r.throttles,
                })
            })
            .collect();
        rows.extend(memory::rows(memory));
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return;
    }
    // Latency reads against the sequential floor, throughput against the concurrent one.
    let floor = results
        .iter()
        .find(|r| r.scenario.starts_with("floor"))
        .map(|r| r.p50);
    let floor_rate = results
        .iter()
        .find(|r| r.scenario.starts_with("throughput floor"))
        .and_then(|r| r.per_second);
    let mut table = Table::new(&[
        ("scenario", Align::Left),
        ("samples", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        ("max", Align::Right),
        ("vs floor", Align::Right),
        ("init p50", Align::Right),
        ("req/s", Align::Right),
        ("MB/s", Align::Right),
    ]);
    for r in results {
        let ratio = match r.per_second {
            Some(rate) => floor_rate
                .filter(|f| *f > 0.0)
                .map(|f| format!("{:.0}%", 100.0 * rate / f)),
            None => floor
                .filter(|f| *f > 0.0)
                .map(|f| format!("{:.1}x", r.p50 / f)),
        }
        .unwrap_or_default();
        let rate = r
            .per_second
            .map(|p| {
                let mut s = format!("{p:.0}");
                if r.errors + r.throttles > 0 {
                    s.push_str(&format!(" ({} err, {} thr)", r.errors, r.throttles));
                }
                s
            })
            .unwrap_or_default();
        table.row([
            r.scenario.clone(),
            r.samples.to_string(),
            latency(r.p50),
            latency(r.p90),
            latency(r.p99),
            latency(r.max),
            ratio,
            r.init_p50_ms
                .map(|i| format!("{i:.2} ms"))
                .unwrap_or_default(),
            rate,
            r.mb_per_second
                .map(|m| format!("{m:.1}"))
                .unwrap_or_default(),
        ]);
    }
    table.print();
    memory::print(memory);
}

/// A latency cell; rows that measure a rate only have none.
fn latency(us: f64) -> String {
    if us > 0.0 {
        fmt_us(us)
    } else {
        String::new()
    }
}

fn fmt_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::NOOP_BOOTSTRAP;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::os::unix::fs::PermissionsExt;

    /// Reads one request from the bootstrap: its request line and body.
    fn request(reader: &mut impl BufRead) -> (String, String) {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let request_line = line.trim_end().to_string();
        let mut length = 0;
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some(v) = header.strip_prefix("Content-Length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        (request_line, String::from_utf8(body).unwrap())
    }

    /// The embedded bytes are a program that runs here and speaks the Runtime API: it takes an
    /// event from `next` and answers `{}` for that request id.
    #[test]
    fn embedded_noop_bootstrap_answers_an_invocation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bootstrap");
        std::fs::write(&path, NOOP_BOOTSTRAP).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let api = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut child = std::process::Command::new(&path)
            .env_clear()
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                api.local_addr().unwrap().to_string(),
            )
            .spawn()
            .unwrap();
        let (stream, _) = api.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut writer = stream;
        let (next, _) = request(&mut reader);
        assert_eq!(next, "GET /2018-06-01/runtime/invocation/next HTTP/1.1");
        writer
            .write_all(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: r-1\r\nContent-Length: 13\r\n\r\n{\"name\": \"x\"}")
            .unwrap();
        let (answer, body) = request(&mut reader);
        assert_eq!(
            answer,
            "POST /2018-06-01/runtime/invocation/r-1/response HTTP/1.1"
        );
        assert_eq!(body, "{}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
