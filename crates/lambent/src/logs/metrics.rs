//! Metric filters: their definitions as stored with the group (AWS's `MetricFilter` shape),
//! their compiled form, and the in-memory counters every matching event adds to.
//!
//! Counters live as long as the process (AWS aggregates per minute; lambent exposes running
//! totals for Prometheus) and are not persisted.

use lambent_aws::logs::model::MetricFilter;
use lambent_aws::logs::{FilterPattern, MetricValue, PatternError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// One metric filter's running total, for the Prometheus endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricFilterValue {
    pub log_group: String,
    pub filter_name: String,
    pub metric_namespace: String,
    pub metric_name: String,
    pub value: f64,
}

/// An `f64` that many writers add to without a lock.
#[derive(Debug, Default)]
struct Counter(AtomicU64);

impl Counter {
    fn add(&self, v: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }

    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
}

/// A metric filter ready to count: its pattern and value parsed once.
#[derive(Debug)]
pub(super) struct CompiledFilter {
    name: String,
    namespace: String,
    metric: String,
    pattern: FilterPattern,
    value: MetricValue,
    counter: Arc<Counter>,
}

impl CompiledFilter {
    /// Compiles `def`, continuing `previous`'s counter when it counted the same metric.
    pub fn compile(
        def: &MetricFilter,
        previous: Option<&CompiledFilter>,
    ) -> Result<CompiledFilter, PatternError> {
        let t = def
            .metric_transformations
            .first()
            .ok_or_else(|| PatternError::MetricValue(String::new()))?;
        let counter = previous
            .filter(|p| p.namespace == t.metric_namespace && p.metric == t.metric_name)
            .map(|p| p.counter.clone())
            .unwrap_or_default();
        Ok(CompiledFilter {
            name: def.filter_name.clone(),
            namespace: t.metric_namespace.clone(),
            metric: t.metric_name.clone(),
            pattern: FilterPattern::parse(&def.filter_pattern)?,
            value: MetricValue::parse(&t.metric_value)?,
            counter,
        })
    }

    pub fn value(&self, group: &str) -> MetricFilterValue {
        MetricFilterValue {
            log_group: group.to_string(),
            filter_name: self.name.clone(),
            metric_namespace: self.namespace.clone(),
            metric_name: self.metric.clone(),
            value: self.counter.get(),
        }
    }
}

/// Compiles a group's filters, keeping the counters of those already compiled.
pub(super) fn compile_all(
    group: &str,
    defs: &[MetricFilter],
    previous: &[CompiledFilter],
) -> Vec<CompiledFilter> {
    defs.iter()
        .filter_map(|def| {
            let before = previous.iter().find(|p| p.name == def.filter_name);
            match CompiledFilter::compile(def, before) {
                Ok(c) => Some(c),
                Err(e) => {
                    // PutMetricFilter refuses such filters; one can only come from a hand-edited file.
                    tracing::warn!(group, filter = %def.filter_name, error = %e, "metric filter ignored");
                    None
                }
            }
        })
        .collect()
}

/// Adds one event to every filter of its group that matches it.
pub(super) fn count(filters: &[CompiledFilter], message: &[u8]) {
    if filters.is_empty() {
        return;
    }
    let message = String::from_utf8_lossy(message);
    for f in filters {
        if let Some(v) = f.value.of(&f.pattern, &message) {
            f.counter.add(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambent_aws::logs::model::MetricTransformation;

    fn def(name: &str, pattern: &str, value: &str) -> MetricFilter {
        MetricFilter {
            filter_name: name.into(),
            filter_pattern: pattern.into(),
            metric_transformations: vec![MetricTransformation {
                metric_name: "M".into(),
                metric_namespace: "N".into(),
                metric_value: value.into(),
                default_value: None,
                dimensions: None,
                unit: None,
            }],
            creation_time: 0,
            apply_on_transformed_logs: false,
        }
    }

    #[test]
    fn counts_matching_events_and_keeps_counters_across_recompiles() {
        let defs = [
            def("errors", "ERROR", "1"),
            def("lat", "{ $.ms > 0 }", "$.ms"),
        ];
        let filters = compile_all("g", &defs, &[]);
        for m in [
            "ERROR a",
            "INFO b",
            r#"{"ms": 2.5}"#,
            r#"{"ms": 4}"#,
            "ERROR c",
        ] {
            count(&filters, m.as_bytes());
        }
        let values: Vec<_> = filters.iter().map(|f| f.value("g").value).collect();
        assert_eq!(values, [2.0, 6.5]);
        let again = compile_all("g", &defs[..1], &filters);
        count(&again, b"ERROR d");
        assert_eq!(again[0].value("g").value, 3.0);
    }
}
