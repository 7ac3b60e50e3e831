//! Provisioned concurrency: for a published version, a number of environments kept started
//! and initialized, never reaped, replaced when one ends. A reconcile pass (run when a target
//! changes and on every reaper tick) starts whatever is missing.

use super::environment::Environment;
use super::Scheduler;
use lambent_aws::lambda::model::FunctionConfiguration;
use std::collections::HashMap;
use std::path::PathBuf;

/// (function name, version).
pub type Key = (String, String);

/// One version's provisioned environments.
pub struct Target {
    config: FunctionConfiguration,
    code_dir: PathBuf,
    wanted: u32,
    /// Initialized environments alive (idle or busy).
    ready: u32,
    /// Environments being started.
    starting: u32,
}

/// The provisioned targets; a std mutex, held for a few map operations only.
pub type Targets = std::sync::Mutex<HashMap<Key, Target>>;

impl Scheduler {
    /// Keeps `wanted` initialized environments of `config`'s version (0 stops provisioning;
    /// the environments then age out like any other).
    pub fn provision(&self, config: &FunctionConfiguration, code_dir: PathBuf, wanted: u32) {
        let key = (config.function_name.clone(), config.version.clone());
        {
            let mut targets = self
                .shared
                .provisioned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if wanted == 0 {
                targets.remove(&key);
            } else {
                let t = targets.entry(key).or_insert_with(|| Target {
                    config: config.clone(),
                    code_dir: code_dir.clone(),
                    wanted,
                    ready: 0,
                    starting: 0,
                });
                t.wanted = wanted;
            }
        }
        self.reconcile();
    }

    /// Stops provisioning one version.
    pub fn unprovision(&self, function: &str, version: &str) {
        let mut targets = self
            .shared
            .provisioned
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        targets.remove(&(function.to_string(), version.to_string()));
    }

    /// Stops provisioning every version of `function` (it was deleted).
    pub fn unprovision_function(&self, function: &str) {
        let mut targets = self
            .shared
            .provisioned
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        targets.retain(|(f, _), _| f != function);
    }

    /// Initialized provisioned environments of a version.
    pub fn provisioned_ready(&self, function: &str, version: &str) -> u32 {
        let targets = self
            .shared
            .provisioned
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        targets
            .get(&(function.to_string(), version.to_string()))
            .map(|t| t.ready.min(t.wanted))
            .unwrap_or(0)
    }

    /// Whether idle environments of this version are pinned (not reaped).
    pub(super) fn is_provisioned(&self, key: &Key) -> bool {
        let targets = self
            .shared
            .provisioned
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        targets.contains_key(key)
    }

    /// Starts the environments the targets are missing.
    pub(super) fn reconcile(&self) {
        let mut jobs = Vec::new();
        {
            let mut targets = self
                .shared
                .provisioned
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            for (key, t) in targets.iter_mut() {
                while t.ready + t.starting < t.wanted {
                    t.starting += 1;
                    jobs.push((key.clone(), t.config.clone(), t.code_dir.clone()));
                }
            }
        }
        for (key, config, code_dir) in jobs {
            let scheduler = self.clone();
            tokio::spawn(async move {
                let started = match Environment::start(&scheduler.shared, &config, &code_dir, true)
                    .await
                {
                    Ok(mut env) => env.initialize().await.then_some(env),
                    Err(e) => {
                        tracing::warn!(function = %key.0, version = %key.1, error = %e.message, "provisioned environment failed to start");
                        None
                    }
                };
                let keep = {
                    let mut targets = scheduler
                        .shared
                        .provisioned
                        .lock()
                        .unwrap_or_else(|e| e.into_inner());
                    match targets.get_mut(&key) {
                        Some(t) => {
                            t.starting = t.starting.saturating_sub(1);
                            if started.is_some() {
                                t.ready += 1;
                            }
                            true
                        }
                        None => false,
                    }
                };
                if let (true, Some(mut env)) = (keep, started) {
                    env.pin(key.clone());
                    scheduler.park(key, &config.revision_id, env, true);
                }
            });
        }
    }

    /// An environment of a provisioned version ended: it no longer counts.
    pub(super) fn provisioned_gone(shared: &super::SchedulerShared, key: &Key) {
        let mut targets = shared.provisioned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = targets.get_mut(key) {
            t.ready = t.ready.saturating_sub(1);
        }
    }
}
