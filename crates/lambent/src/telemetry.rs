//! Metrics and metering: what every invocation did, counted for `GET /_lambent/metrics`
//! (Prometheus text format), and what it is billed, summed per minute into the usage store
//! for `GET /_lambent/usage` and `lambent usage`.
//!
//! The invocation path pays one uncontended mutex and a few map updates (no allocation once
//! a function has been seen); the usage store is written by a flusher task once a second.
//! Invariant: the usage reported is exactly the sum of the REPORT lines' billed durations
//! times their memory sizes (integers all the way; GB-seconds only at the end).

use crate::config::Pricing;
use crate::invocation::{Completed, Outcome};
use lambent_store::usage::{UsageDelta, UsageRow};
use lambent_store::UsageStore;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Histogram bucket bounds, in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const OUTCOMES: [(Outcome, &str); 7] = [
    (Outcome::Ok, "ok"),
    (Outcome::FunctionError, "function_error"),
    (Outcome::Timeout, "timeout"),
    (Outcome::ResponseTooLarge, "response_too_large"),
    (Outcome::RuntimeExit, "runtime_exit"),
    (Outcome::OutOfMemory, "out_of_memory"),
    (Outcome::InitError, "init_error"),
];

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, d: Duration) {
        let secs = d.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }
}

#[derive(Default)]
struct Stats {
    outcomes: [u64; OUTCOMES.len()],
    throttles: u64,
    cold_starts: u64,
    duration: Histogram,
    init: Histogram,
    retries: u64,
    failed_events: u64,
    recursion_dropped: u64,
}

/// (minute, memory MB) → (requests, billed ms).
type Buckets = HashMap<(i64, u32), (u64, u64)>;

#[derive(Default)]
struct State {
    functions: HashMap<String, Stats>,
    /// Usage not yet flushed, per function.
    pending: HashMap<String, Buckets>,
}

/// Cheap-clone handle; the state sits behind a std mutex held for a few map operations,
/// never across an await.
#[derive(Clone)]
pub struct Telemetry {
    state: Arc<Mutex<State>>,
    usage: Arc<UsageStore>,
    pricing: Pricing,
}

/// What the scheduler and the queue know at the moment of a scrape.
pub struct Gauges {
    pub concurrent: Vec<(String, u32)>,
    /// Stems waiting: runtime family, interpreter version (empty for `provided`), count.
    pub stems: Vec<(&'static str, String, usize)>,
    pub queue_depth: u64,
    pub oldest_event_age: Option<Duration>,
    pub metric_filters: Vec<FilterValue>,
}

/// One log metric filter's counted value.
pub struct FilterValue {
    pub log_group: String,
    pub filter_name: String,
    pub metric_namespace: String,
    pub metric_name: String,
    pub value: f64,
}

impl Telemetry {
    pub fn open(data_dir: &std::path::Path, pricing: Pricing) -> anyhow::Result<Telemetry> {
        Ok(Telemetry {
            state: Arc::default(),
            usage: Arc::new(UsageStore::open(&data_dir.join("usage.db"))?),
            pricing,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with_stats(&self, function: &str, f: impl FnOnce(&mut Stats)) {
        let mut state = self.state();
        match state.functions.get_mut(function) {
            Some(stats) => f(stats),
            None => {
                let mut stats = Stats::default();
                f(&mut stats);
                state.functions.insert(function.to_string(), stats);
            }
        }
    }

    /// Counts a finished invocation and meters it.
    pub fn record(&self, function: &str, completed: &Completed) {
        let outcome = OUTCOMES
            .iter()
            .position(|(o, _)| *o == completed.outcome)
            .unwrap_or(0);
        let mut state = self.state();
        let stats = match state.functions.get_mut(function) {
            Some(s) => s,
            None => state.functions.entry(function.to_string()).or_default(),
        };
        stats.outcomes[outcome] += 1;
        let Some(usage) = completed.usage else { return };
        stats.duration.observe(usage.duration);
        if let Some(init) = usage.init {
            stats.cold_starts += 1;
            stats.init.observe(init);
        }
        let minute = crate::logs::now_millis() / 60_000 * 60_000;
        let per_function = match state.pending.get_mut(function) {
            Some(p) => p,
            None => state.pending.entry(function.to_string()).or_default(),
        };
        let bucket = per_function.entry((minute, usage.memory_mb)).or_default();
        bucket.0 += 1;
        bucket.1 += usage.billed_ms;
    }

    pub fn record_throttle(&self, function: &str) {
        self.with_stats(function, |s| s.throttles += 1);
    }

    pub fn record_retry(&self, function: &str) {
        self.with_stats(function, |s| s.retries += 1);
    }

    pub fn record_failed_event(&self, function: &str) {
        self.with_stats(function, |s| s.failed_events += 1);
    }

    /// An event stopped by recursive loop detection (also a failed event).
    pub fn record_recursion_dropped(&self, function: &str) {
        self.with_stats(function, |s| {
            s.recursion_dropped += 1;
            s.failed_events += 1;
        });
    }

    /// Writes the pending usage to the store. Blocking (one SQLite transaction).
    pub fn flush(&self) {
        let pending = std::mem::take(&mut self.state().pending);
        let deltas: Vec<UsageDelta> =
            pending
                .into_iter()
                .flat_map(|(function, buckets)| {
                    buckets.into_iter().map(
                        move |((minute_ms, memory_mb), (requests, billed_ms))| UsageDelta {
                            function: function.clone(),
                            minute_ms,
                            memory_mb,
                            requests,
                            billed_ms,
                        },
                    )
                })
                .collect();
        if deltas.is_empty() {
            return;
        }
        if let Err(e) = self.usage.add(&deltas) {
            tracing::warn!(error = %e, "recording usage failed; these invocations are not metered");
        }
    }

    /// Flushes usage every second until the returned task is aborted.
    pub fn spawn_flusher(&self) -> tokio::task::JoinHandle<()> {
        let telemetry = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                let t = telemetry.clone();
                let _ = tokio::task::spawn_blocking(move || t.flush()).await;
            }
        })
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self, gauges: &Gauges) -> String {
        let mut out = String::with_capacity(4096);
        let state = self.state();
        let mut names: Vec<&String> = state.functions.keys().collect();
        names.sort();
        let counter = |out: &mut String, name: &str, help: &str, value: &dyn Fn(&Stats) -> u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            for f in &names {
                let _ = writeln!(
                    out,
                    "{name}{{function=\"{}\"}} {}",
                    label(f),
                    value(&state.functions[*f])
                );
            }
        };
        let _ = writeln!(
            out,
            "# HELP lambent_invocations_total Invocations by function and outcome.\n# TYPE lambent_invocations_total counter"
        );
        for f in &names {
            for (i, (_, outcome)) in OUTCOMES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "lambent_invocations_total{{function=\"{}\",outcome=\"{outcome}\"}} {}",
                    label(f),
                    state.functions[*f].outcomes[i]
                );
            }
        }
        counter(
            &mut out,
            "lambent_errors_total",
            "Invocations that did not end Ok (function errors, timeouts, crashes, init errors).",
            &|s| s.outcomes[1..].iter().sum(),
        );
        counter(
            &mut out,
            "lambent_throttles_total",
            "Invocations refused for concurrency (429, or an event made to wait).",
            &|s| s.throttles,
        );
        counter(
            &mut out,
            "lambent_cold_starts_total",
            "Invocations that started their environment.",
            &|s| s.cold_starts,
        );
        counter(
            &mut out,
            "lambent_async_retries_total",
            "Asynchronous events retried after a failed attempt.",
            &|s| s.retries,
        );
        counter(
            &mut out,
            "lambent_async_failed_events_total",
            "Asynchronous events that will not be delivered.",
            &|s| s.failed_events,
        );
        counter(
            &mut out,
            "lambent_recursive_invocations_dropped_total",
            "Events not run because their function looped more than 16 times in one chain.",
            &|s| s.recursion_dropped,
        );
        for (metric, help, pick) in [
            (
                "lambent_invocation_duration_seconds",
                "Invocation duration, as the REPORT line says.",
                (|s: &Stats| s.duration.clone()) as fn(&Stats) -> Histogram,
            ),
            (
                "lambent_init_duration_seconds",
                "Init duration of cold starts.",
                |s: &Stats| s.init.clone(),
            ),
        ] {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} histogram");
            for f in &names {
                let h = pick(&state.functions[*f]);
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "{metric}_bucket{{function=\"{}\",le=\"{bound}\"}} {}",
                        label(f),
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "{metric}_bucket{{function=\"{}\",le=\"+Inf\"}} {}",
                    label(f),
                    h.count
                );
                let _ = writeln!(out, "{metric}_sum{{function=\"{}\"}} {}", label(f), h.sum);
                let _ = writeln!(
                    out,
                    "{metric}_count{{function=\"{}\"}} {}",
                    label(f),
                    h.count
                );
            }
        }
        drop(state);
        let total: u32 = gauges.concurrent.iter().map(|(_, n)| n).sum();
        let _ = writeln!(out, "# HELP lambent_concurrent_executions Invocations running now.\n# TYPE lambent_concurrent_executions gauge\nlambent_concurrent_executions {total}");
        let _ = writeln!(out, "# HELP lambent_function_concurrent_executions Invocations running now, by function.\n# TYPE lambent_function_concurrent_executions gauge");
        for (f, n) in &gauges.concurrent {
            let _ = writeln!(
                out,
                "lambent_function_concurrent_executions{{function=\"{}\"}} {n}",
                label(f)
            );
        }
        let _ = writeln!(out, "# HELP lambent_stems_ready Environments started ahead and waiting for a function, by runtime family and interpreter version.\n# TYPE lambent_stems_ready gauge");
        for (family, version, n) in &gauges.stems {
            if version.is_empty() {
                let _ = writeln!(out, "lambent_stems_ready{{runtime=\"{family}\"}} {n}");
            } else {
                let _ = writeln!(
                    out,
                    "lambent_stems_ready{{runtime=\"{family}\",version=\"{}\"}} {n}",
                    label(version)
                );
            }
        }
        let _ = writeln!(out, "# HELP lambent_async_queue_depth Asynchronous events accepted and not yet delivered.\n# TYPE lambent_async_queue_depth gauge\nlambent_async_queue_depth {}", gauges.queue_depth);
        let _ = writeln!(
            out,
            "# HELP lambent_async_oldest_event_age_seconds Age of the oldest pending asynchronous event.\n# TYPE lambent_async_oldest_event_age_seconds gauge\nlambent_async_oldest_event_age_seconds {}",
            gauges.oldest_event_age.map(|d| d.as_secs_f64()).unwrap_or(0.0)
        );
        let _ = writeln!(out, "# HELP lambent_log_metric_filter_value The value a log metric filter has counted.\n# TYPE lambent_log_metric_filter_value counter");
        for m in &gauges.metric_filters {
            let _ = writeln!(
                out,
                "lambent_log_metric_filter_value{{log_group=\"{}\",filter=\"{}\",namespace=\"{}\",metric=\"{}\"}} {}",
                label(&m.log_group),
                label(&m.filter_name),
                label(&m.metric_namespace),
                label(&m.metric_name),
                m.value
            );
        }
        out
    }

    /// The usage report: requests, GB-seconds and cost per function and in total, with the
    /// free tier applied per calendar month to the total.
    pub fn usage_report(
        &self,
        function: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> anyhow::Result<serde_json::Value> {
        // What is still pending counts too: the report agrees with every REPORT line so far.
        self.flush();
        let rows = self.usage.query(function, from_ms, to_ms)?;
        Ok(report(&rows, &self.pricing, from_ms, to_ms))
    }
}

/// `billed_ms × memory_mb` over a set of rows, as exact integers.
fn mb_ms(rows: &[&UsageRow]) -> u128 {
    rows.iter()
        .map(|r| u128::from(r.billed_ms) * u128::from(r.memory_mb))
        .sum()
}

fn gb_seconds(mb_ms: u128) -> f64 {
    mb_ms as f64 / 1024.0 / 1000.0
}

fn report(rows: &[UsageRow], p: &Pricing, from_ms: i64, to_ms: i64) -> serde_json::Value {
    let cost = |requests: f64, gbs: f64| {
        requests * p.per_million_requests / 1_000_000.0 + gbs * p.per_gb_second
    };
    let mut by_function: BTreeMap<&str, Vec<&UsageRow>> = BTreeMap::new();
    let mut by_month: BTreeMap<&str, Vec<&UsageRow>> = BTreeMap::new();
    for r in rows {
        by_function.entry(&r.function).or_default().push(r);
        by_month.entry(&r.month).or_default().push(r);
    }
    let functions: Vec<serde_json::Value> = by_function
        .iter()
        .map(|(name, rows)| {
            let requests: u64 = rows.iter().map(|r| r.requests).sum();
            let billed: u64 = rows.iter().map(|r| r.billed_ms).sum();
            let gbs = gb_seconds(mb_ms(rows));
            serde_json::json!({
                "FunctionName": name,
                "Requests": requests,
                "BilledMilliseconds": billed,
                "GbSeconds": gbs,
                "CostBeforeFreeTier": cost(requests as f64, gbs),
            })
        })
        .collect();
    let (mut requests, mut total_mb_ms, mut free_requests, mut free_gbs, mut net) =
        (0u64, 0u128, 0u64, 0f64, 0f64);
    for rows in by_month.values() {
        let month_requests: u64 = rows.iter().map(|r| r.requests).sum();
        let month_mb_ms = mb_ms(rows);
        let month_gbs = gb_seconds(month_mb_ms);
        let free_r = month_requests.min(p.free_requests);
        let free_g = month_gbs.min(p.free_gb_seconds);
        requests += month_requests;
        total_mb_ms += month_mb_ms;
        free_requests += free_r;
        free_gbs += free_g;
        net += cost((month_requests - free_r) as f64, month_gbs - free_g);
    }
    let gbs = gb_seconds(total_mb_ms);
    serde_json::json!({
        "From": from_ms,
        "To": to_ms,
        "Functions": functions,
        "Total": {
            "Requests": requests,
            "GbSeconds": gbs,
            "CostBeforeFreeTier": cost(requests as f64, gbs),
            "FreeTierRequests": free_requests,
            "FreeTierGbSeconds": free_gbs,
            "Cost": net,
        },
        "PriceSheet": {
            "PerMillionRequests": p.per_million_requests,
            "PerGbSecond": p.per_gb_second,
            "FreeRequestsPerMonth": p.free_requests,
            "FreeGbSecondsPerMonth": p.free_gb_seconds,
        },
    })
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(function: &str, memory_mb: u32, month: &str, requests: u64, billed_ms: u64) -> UsageRow {
        UsageRow {
            function: function.into(),
            memory_mb,
            month: month.into(),
            requests,
            billed_ms,
        }
    }

    #[test]
    fn costs_apply_the_free_tier_per_month() {
        let p = Pricing {
            per_million_requests: 0.20,
            per_gb_second: 0.000_016_666_7,
            free_requests: 10,
            free_gb_seconds: 1.0,
        };
        // 1024 MB for 3,000 ms = 3 GB-s; 512 MB for 2,000 ms = 1 GB-s.
        let rows = vec![
            row("a", 1024, "2026-11", 12, 3_000),
            row("b", 512, "2026-11", 3, 2_000),
            row("a", 1024, "2026-12", 5, 1_000),
        ];
        let r = report(&rows, &p, 0, 1);
        assert_eq!(r["Functions"][0]["FunctionName"], "a");
        assert_eq!(r["Functions"][0]["Requests"], 17);
        assert_eq!(r["Functions"][0]["GbSeconds"], 4.0);
        assert_eq!(r["Functions"][1]["GbSeconds"], 1.0);
        assert_eq!(r["Total"]["Requests"], 20);
        assert_eq!(r["Total"]["GbSeconds"], 5.0);
        // November: 15 requests (5 billed), 4 GB-s (3 billed); December: 5 requests (none
        // billed), 1 GB-s (none billed).
        assert_eq!(r["Total"]["FreeTierRequests"], 15);
        assert_eq!(r["Total"]["FreeTierGbSeconds"], 2.0);
        let expected = 5.0 * 0.20 / 1e6 + 3.0 * 0.000_016_666_7;
        assert!((r["Total"]["Cost"].as_f64().unwrap() - expected).abs() < 1e-12);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
