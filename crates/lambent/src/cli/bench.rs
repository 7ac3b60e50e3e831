//! `lambent bench`: a load generator for the Invoke API. It signs its requests like any AWS
//! tool, so it measures lambent or any other endpoint that speaks Invoke, and it measures the
//! machine's own loopback floor (the health endpoint, same client, same run) so every figure
//! can be read as a ratio.

use super::archive::zip_entries;
use super::client::{segment, Call, Client};
use super::ClientArgs;
use base64::Engine;
use bytes::Bytes;
use clap::Args;
use serde_json::json;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Scenarios to run, comma-separated: floor, warm, cold.
    #[arg(long, default_value = "floor,warm,cold")]
    scenarios: String,
    /// Runtimes to measure, comma-separated: python, node.
    #[arg(long, default_value = "python,node")]
    runtimes: String,
    /// Samples per warm and floor scenario.
    #[arg(short = 'n', long, default_value_t = 1000)]
    requests: usize,
    /// Samples per cold scenario.
    #[arg(long, default_value_t = 30)]
    cold_samples: usize,
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
    }
}

struct Noop {
    runtime: &'static str,
    handler: &'static str,
    file: &'static str,
    source: &'static str,
}

fn noop(runtime: &str) -> anyhow::Result<Noop> {
    Ok(match runtime {
        "python" => Noop {
            runtime: "python3.12",
            handler: "app.handler",
            file: "app.py",
            source: "def handler(event, context):\n    return {}\n",
        },
        "node" => Noop {
            runtime: "nodejs20.x",
            handler: "index.handler",
            file: "index.js",
            source: "exports.handler = async () => ({});\n",
        },
        other => anyhow::bail!("unknown runtime {other:?} (python, node)"),
    })
}

pub async fn run(a: BenchArgs) -> anyhow::Result<ExitCode> {
    let client = Client::from_args(&a.client)?;
    let (n, cold_n) = if a.quick {
        (20, 3)
    } else {
        (a.requests, a.cold_samples)
    };
    let scenarios: Vec<&str> = a.scenarios.split(',').map(str::trim).collect();
    let mut results = Vec::new();
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
    for rt in a.runtimes.split(',').map(str::trim) {
        let fun = noop(rt)?;
        let name = format!(
            "lambent-bench-{rt}-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        create(&client, &name, &fun).await?;
        let outcome = bench_runtime(&client, &name, rt, &scenarios, n, cold_n).await;
        let _ = client
            .lambda("DELETE", &format!("/2015-03-31/functions/{name}"), "", None)
            .await;
        results.extend(outcome?);
    }
    print(&results, a.json);
    Ok(ExitCode::SUCCESS)
}

async fn bench_runtime(
    client: &Client,
    name: &str,
    rt: &str,
    scenarios: &[&str],
    n: usize,
    cold_n: usize,
) -> anyhow::Result<Vec<Summary>> {
    let mut out = Vec::new();
    if scenarios.contains(&"cold") {
        let mut samples = Vec::with_capacity(cold_n);
        let mut inits = Vec::with_capacity(cold_n);
        for i in 0..cold_n {
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
    Ok(out)
}

async fn create(client: &Client, name: &str, fun: &Noop) -> anyhow::Result<()> {
    let zip = zip_entries([(fun.file, fun.source.as_bytes(), false)])?;
    client
        .lambda(
            "POST",
            "/2015-03-31/functions",
            "",
            Some(&json!({
                "FunctionName": name,
                "Runtime": fun.runtime,
                "Handler": fun.handler,
                "Role": "arn:aws:iam::000000000000:role/lambent-bench",
                "Code": {"ZipFile": base64::engine::general_purpose::STANDARD.encode(zip)},
            })),
        )
        .await?
        .ok()?;
    Ok(())
}

/// One synchronous invoke; returns the decoded log tail when asked for.
async fn invoke(client: &Client, name: &str, tail: bool) -> anyhow::Result<String> {
    let mut headers = vec![];
    if tail {
        headers.push(("x-amz-log-type", "Tail".to_string()));
    }
    let reply = client
        .send(Call {
            service: "lambda",
            method: "POST",
            path: &format!("/2015-03-31/functions/{}/invocations", segment(name)),
            query: "",
            headers: &headers,
            body: Bytes::from_static(b"{}"),
            progress: None,
        })
        .await?
        .ok()?;
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

fn print(results: &[Summary], as_json: bool) {
    if as_json {
        let rows: Vec<_> = results
            .iter()
            .map(|r| {
                json!({
                    "scenario": r.scenario, "samples": r.samples,
                    "p50_us": r.p50, "p90_us": r.p90, "p99_us": r.p99, "max_us": r.max,
                    "init_p50_ms": r.init_p50_ms,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).unwrap_or_default()
        );
        return;
    }
    let floor = results
        .iter()
        .find(|r| r.scenario.starts_with("floor"))
        .map(|r| r.p50);
    println!(
        "{:<32} {:>7} {:>10} {:>10} {:>10} {:>10} {:>9} {:>10}",
        "scenario", "samples", "p50", "p90", "p99", "max", "x floor", "init p50"
    );
    for r in results {
        let ratio = floor
            .filter(|f| *f > 0.0)
            .map(|f| format!("{:.1}x", r.p50 / f))
            .unwrap_or_default();
        println!(
            "{:<32} {:>7} {:>10} {:>10} {:>10} {:>10} {:>9} {:>10}",
            r.scenario,
            r.samples,
            fmt_us(r.p50),
            fmt_us(r.p90),
            fmt_us(r.p99),
            fmt_us(r.max),
            ratio,
            r.init_p50_ms
                .map(|i| format!("{i:.2} ms"))
                .unwrap_or_default()
        );
    }
}

fn fmt_us(us: f64) -> String {
    if us >= 1000.0 {
        format!("{:.2} ms", us / 1000.0)
    } else {
        format!("{us:.0} µs")
    }
}
