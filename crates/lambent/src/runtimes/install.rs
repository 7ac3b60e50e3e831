//! Installing the SDK cache (`sdk.rs`): pip and npm into a temporary directory renamed into
//! place, then bytecode for each interpreter that will import the Python tree, all under a
//! lock file so that concurrent installers (two `lambent up`, or `lambent runtimes install`)
//! do each step once. Each step shows on a progress bar, or as plain lines when stderr is
//! not a terminal.
//!
//! A step that fails (offline, no pip, no npm) is reported with the command and the end of
//! its stderr, and lambent goes on without that SDK.

use super::interpreters::Interpreter;
use super::sdk::{python_sdk_for, PythonSdk, SdkCache, NODE_SDK, PYTHON_SDKS};
use super::Family;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How many of a failed command's last stderr lines a report keeps.
const STDERR_LINES: usize = 12;
/// How long an installer waits for another one before it gives up.
const LOCK_WAIT: Duration = Duration::from_secs(15 * 60);
/// A lock file without a process id yet is its creator's for this long.
const LOCK_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{step} {path}: {source}")]
    Io {
        step: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is held by another installer (pid {pid}) for more than {waited:?}")]
    LockHeld {
        path: PathBuf,
        pid: String,
        waited: Duration,
    },
    #[error("no {tool} on this host to install it with")]
    NoTool { tool: &'static str },
    #[error("`{command}` could not start: {source}")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); its stderr ends with:\n{stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
}

/// One thing to do.
#[derive(Debug, Clone, Copy)]
pub enum Step<'a> {
    /// pip installs a Python set's tree.
    Pip(&'static PythonSdk),
    /// An interpreter compiles a Python tree's bytecode, so that environments, which see the
    /// tree read-only, do not compile it on every cold start.
    Compile(&'static PythonSdk, &'a Interpreter),
    /// npm installs the Node.js SDK's tree.
    Npm,
}

impl Step<'_> {
    fn label(&self) -> String {
        match self {
            Step::Pip(sdk) => format!("pip: {}", sdk.describe()),
            Step::Compile(sdk, i) => format!(
                "compile: boto3 {} for Python {} ({})",
                sdk.boto3,
                i.version,
                i.exe.display()
            ),
            Step::Npm => format!("npm: {}", NODE_SDK.describe()),
        }
    }

    /// What a failure of this step leaves out.
    fn sdk(&self) -> String {
        match self {
            Step::Pip(sdk) => format!("the Python SDK ({})", sdk.describe()),
            Step::Compile(sdk, i) => format!(
                "the bytecode of the Python SDK (boto3 {}) for Python {}",
                sdk.boto3, i.version
            ),
            Step::Npm => NODE_SDK.describe(),
        }
    }

    /// What that means for functions.
    fn effect(&self) -> &'static str {
        match self {
            Step::Pip(_) => "Python functions that import boto3 fail until `lambent runtimes install` succeeds",
            Step::Compile(..) => "cold starts that import boto3 compile it each time",
            Step::Npm => "Node.js functions that import @aws-sdk/* fail until `lambent runtimes install` succeeds",
        }
    }
}

/// An SDK that could not be installed.
#[derive(Debug, Clone)]
pub struct Missing {
    /// Which SDK, in words.
    pub what: String,
    /// Why: the command that failed and the end of its stderr, or the step that did.
    pub reason: String,
    /// What that means for functions.
    pub effect: &'static str,
}

impl std::fmt::Display for Missing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} is not installed: {}\n{}",
            self.what, self.reason, self.effect
        )
    }
}

/// What is left to do for `interpreters` (the interpreters that serve runtimes).
pub fn plan<'a>(cache: &SdkCache, interpreters: &'a [Interpreter]) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    let pythons: Vec<&Interpreter> = interpreters
        .iter()
        .filter(|i| i.family == Family::Python)
        .collect();
    for sdk in PYTHON_SDKS {
        let users: Vec<&&Interpreter> = pythons
            .iter()
            .filter(|i| python_sdk_for(i.version.minor).is_some_and(|s| std::ptr::eq(s, sdk)))
            .collect();
        if users.is_empty() {
            continue;
        }
        let tree = cache.python_tree(sdk);
        if !tree.join("boto3").is_dir() {
            steps.push(Step::Pip(sdk));
        }
        for i in users {
            let Some(tag) = &i.cache_tag else { continue };
            let done = SdkCache::compiled_marker(&tree, tag).exists();
            // Two interpreters of one tag (a virtualenv and its base) compile once.
            let planned = steps.iter().any(|s| {
                matches!(s, Step::Compile(s2, i2) if std::ptr::eq(*s2, sdk) && i2.cache_tag.as_ref() == Some(tag))
            });
            if !done && !planned {
                steps.push(Step::Compile(sdk, i));
            }
        }
    }
    if interpreters.iter().any(|i| i.family == Family::Node)
        && !cache.node_modules().join("@aws-sdk").is_dir()
    {
        steps.push(Step::Npm);
    }
    steps
}

/// Installs what `plan` says is missing, unless another installer already did it meanwhile;
/// returns what could not be installed.
pub fn ensure(cache: &SdkCache, interpreters: &[Interpreter]) -> Vec<Missing> {
    if plan(cache, interpreters).is_empty() {
        return Vec::new();
    }
    let lock = match InstallLock::take(cache.root()) {
        Ok(lock) => lock,
        Err(e) => {
            return plan(cache, interpreters)
                .iter()
                .map(|step| Missing {
                    what: step.sdk(),
                    reason: e.to_string(),
                    effect: step.effect(),
                })
                .collect();
        }
    };
    // Under the lock: what another installer did while this one waited is not done again.
    let steps = plan(cache, interpreters);
    let mut progress = Progress::stderr(steps.len());
    let mut missing: Vec<Missing> = Vec::new();
    let mut failed_pip: Vec<&'static str> = Vec::new();
    for step in steps {
        // Compiling a tree pip could not install is not worth a second report.
        if let Step::Compile(sdk, _) = step {
            if failed_pip.contains(&sdk.boto3) {
                progress.skip();
                continue;
            }
        }
        progress.begin(&step.label());
        let started = Instant::now();
        let result = match step {
            Step::Pip(sdk) => pip(cache, sdk, interpreters),
            Step::Compile(sdk, i) => compile(cache, sdk, i),
            Step::Npm => npm(cache, interpreters),
        };
        progress.end(&step.label(), result.is_ok(), started.elapsed());
        if let Err(error) = result {
            if let Step::Pip(sdk) = step {
                failed_pip.push(sdk.boto3);
            }
            missing.push(Missing {
                what: step.sdk(),
                reason: error.to_string(),
                effect: step.effect(),
            });
        }
    }
    drop(lock);
    missing
}

/// `program args...` as a user would type it.
fn shown(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs `cmd`, keeping its stderr for a report.
fn run(mut cmd: Command) -> Result<(), InstallError> {
    let command = shown(&cmd);
    let out = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| InstallError::Spawn {
            command: command.clone(),
            source,
        })?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let tail = lines[lines.len().saturating_sub(STDERR_LINES)..].join("\n");
    Err(InstallError::Failed {
        command,
        status: lambent_sandbox::describe_exit(&out.status),
        stderr: tail,
    })
}

fn io<'a>(step: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> InstallError + 'a {
    move |source| InstallError::Io {
        step,
        path: path.to_path_buf(),
        source,
    }
}

/// A fresh temporary directory beside `final_dir`, on the same filesystem so that the
/// rename into place is atomic.
fn temp_beside(final_dir: &Path) -> Result<PathBuf, InstallError> {
    let parent = final_dir.parent().unwrap_or(final_dir);
    std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
    let name = final_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".tmp-{name}-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io("removing", &tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io("creating", &tmp))?;
    Ok(tmp)
}

fn into_place(tmp: &Path, final_dir: &Path) -> Result<(), InstallError> {
    std::fs::rename(tmp, final_dir).map_err(io("renaming into place", final_dir))
}

/// pip, run by the host's Python interpreters (newest first) until one has pip, with the
/// exact pins and no resolution of its own (`--no-deps`), for the set's oldest Python.
fn pip(
    cache: &SdkCache,
    sdk: &'static PythonSdk,
    interpreters: &[Interpreter],
) -> Result<(), InstallError> {
    let mut pythons: Vec<&Interpreter> = interpreters
        .iter()
        .filter(|i| i.family == Family::Python)
        .collect();
    pythons.sort_by_key(|p| std::cmp::Reverse(p.version));
    let final_dir = cache.python_tree(sdk);
    let tmp = temp_beside(&final_dir)?;
    let mut last = InstallError::NoTool { tool: "python3" };
    for python in pythons {
        let mut cmd = Command::new(&python.exe);
        cmd.args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(["--no-input", "--progress-bar", "off", "--retries", "1"])
        .args(["--timeout", "20", "--no-compile", "--no-deps"])
        .args([
            "--only-binary=:all:",
            "--python-version",
            sdk.python_version,
        ])
        .arg("--target")
        .arg(&tmp)
        .args(sdk.requirements());
        match run(cmd) {
            Ok(()) => {
                return into_place(&tmp, &final_dir);
            }
            Err(e @ InstallError::Failed { .. })
                if !e.to_string().contains("No module named pip") =>
            {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
            Err(e) => last = e,
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Err(last)
}

/// `python -m compileall` over the tree, then the marker that says it is done.
fn compile(
    cache: &SdkCache,
    sdk: &'static PythonSdk,
    interpreter: &Interpreter,
) -> Result<(), InstallError> {
    let tree = cache.python_tree(sdk);
    let Some(tag) = &interpreter.cache_tag else {
        return Ok(());
    };
    let mut cmd = Command::new(&interpreter.exe);
    // A clean environment: `PYTHONPYCACHEPREFIX` and friends would put the bytecode
    // somewhere environments never look.
    cmd.env_clear()
        .args(["-m", "compileall", "-q", "-j", "0"])
        .arg(&tree);
    run(cmd)?;
    let marker = SdkCache::compiled_marker(&tree, tag);
    std::fs::write(&marker, format!("{}\n", interpreter.exe.display()))
        .map_err(io("writing", &marker))
}

/// npm installs the pinned clients (exact versions, no install scripts, no lock file).
fn npm(cache: &SdkCache, interpreters: &[Interpreter]) -> Result<(), InstallError> {
    let node = interpreters.iter().find(|i| i.family == Family::Node);
    let beside_node = node.and_then(|n| n.exe.parent()).map(|d| d.join("npm"));
    let npm = super::find_on_path("npm")
        .or_else(|| beside_node.filter(|p| p.is_file()))
        .ok_or(InstallError::NoTool { tool: "npm" })?;
    let final_dir = cache.node_tree();
    let tmp = temp_beside(&final_dir)?;
    let manifest = tmp.join("package.json");
    std::fs::write(&manifest, NODE_SDK.package_json()).map_err(io("writing", &manifest))?;
    let mut cmd = Command::new(&npm);
    cmd.arg("install")
        .arg("--prefix")
        .arg(&tmp)
        .args([
            "--no-audit",
            "--no-fund",
            "--no-package-lock",
            "--ignore-scripts",
        ])
        .args(["--omit=dev", "--loglevel=error", "--fetch-retries=1"]);
    // npm is a script for `node`; the node that serves the runtimes runs it.
    if let (Some(node_dir), Some(path)) =
        (node.and_then(|n| n.exe.parent()), std::env::var_os("PATH"))
    {
        let dirs = std::iter::once(node_dir.to_path_buf()).chain(std::env::split_paths(&path));
        if let Ok(joined) = std::env::join_paths(dirs) {
            cmd.env("PATH", joined);
        }
    }
    match run(cmd) {
        Ok(()) => into_place(&tmp, &final_dir),
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// `<runtimes-dir>/install.lock`, created exclusively and holding its owner's pid; a lock
/// whose owner is gone is taken over. Dropping it releases it.
struct InstallLock {
    path: PathBuf,
}

impl InstallLock {
    fn take(root: &Path) -> Result<InstallLock, InstallError> {
        std::fs::create_dir_all(root).map_err(io("creating", root))?;
        let path = root.join("install.lock");
        let started = Instant::now();
        let mut told = false;
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut f) => {
                    let _ = writeln!(f, "{}", std::process::id());
                    // Whatever a dead installer left half-made goes before this one starts.
                    remove_temporaries(root);
                    return Ok(InstallLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io("creating", &path)(e)),
            }
            let holder = std::fs::read_to_string(&path).unwrap_or_default();
            let pid = holder.trim().to_string();
            let young = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age < LOCK_GRACE);
            let alive = if pid.is_empty() {
                young
            } else {
                Path::new("/proc").join(&pid).exists()
            };
            if !alive {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if started.elapsed() > LOCK_WAIT {
                return Err(InstallError::LockHeld {
                    path,
                    pid,
                    waited: LOCK_WAIT,
                });
            }
            if !told {
                eprintln!("lambent: waiting for another installer (pid {pid}) to finish");
                told = true;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for InstallLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn remove_temporaries(root: &Path) {
    for dir in [
        root.join("sdk").join("python"),
        root.join("sdk").join("node"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Steps as a progress bar on a terminal, else as one line when a step begins and one when
/// it ends (logs and CI keep them).
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    done: usize,
}

impl Progress {
    fn stderr(total: usize) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {msg} {elapsed}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            total,
            done: 0,
        }
    }

    fn begin(&mut self, label: &str) {
        match &self.bar {
            Some(bar) => bar.set_message(label.to_string()),
            None => eprintln!("lambent: [{}/{}] {label} ...", self.done + 1, self.total),
        }
    }

    /// A step that has nothing left to do (what it needed failed).
    fn skip(&mut self) {
        self.total -= 1;
        if let Some(bar) = &self.bar {
            bar.set_length(self.total as u64);
            if self.done == self.total {
                bar.finish_and_clear();
            }
        }
    }

    fn end(&mut self, label: &str, ok: bool, took: Duration) {
        self.done += 1;
        let how = if ok { "done" } else { "FAILED" };
        let line = format!(
            "lambent: [{}/{}] {label}: {how} in {:.1} s",
            self.done,
            self.total,
            took.as_secs_f64()
        );
        match &self.bar {
            Some(bar) => {
                bar.println(line);
                bar.inc(1);
                if self.done == self.total {
                    bar.finish_and_clear();
                }
            }
            None => eprintln!("{line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtimes::interpreters::Version;

    fn python(minor: u32, tag: &str) -> Interpreter {
        Interpreter {
            family: Family::Python,
            exe: format!("/x/python3.{minor}").into(),
            version: Version {
                major: 3,
                minor,
                patch: 0,
            },
            cache_tag: Some(tag.into()),
            prefixes: vec![],
        }
    }

    #[test]
    fn the_plan_is_what_is_missing_for_the_interpreters_in_use() {
        let dir = tempfile::tempdir().unwrap();
        let cache = SdkCache::new(dir.path());
        let node = Interpreter {
            family: Family::Node,
            cache_tag: None,
            ..python(20, "")
        };
        // Two interpreters of one tag (a virtualenv and its base) compile once.
        let all = vec![
            python(12, "cpython-312"),
            python(12, "cpython-312"),
            python(9, "cpython-39"),
            node,
        ];
        let labels = |steps: &[Step]| steps.iter().map(Step::label).collect::<Vec<_>>();
        let steps = plan(&cache, &all);
        assert_eq!(steps.len(), 5, "{:?}", labels(&steps));
        assert!(matches!(steps[0], Step::Pip(s) if s.boto3 == PYTHON_SDKS[0].boto3));
        assert!(matches!(steps[1], Step::Compile(..)));
        assert!(matches!(steps[2], Step::Pip(s) if s.boto3 == PYTHON_SDKS[1].boto3));
        assert!(matches!(steps[4], Step::Npm));

        // Installed and compiled: nothing left, and nothing for an interpreter not in use.
        for sdk in PYTHON_SDKS {
            std::fs::create_dir_all(cache.python_tree(sdk).join("boto3")).unwrap();
        }
        std::fs::create_dir_all(cache.node_modules().join("@aws-sdk")).unwrap();
        let tree = |i: usize| cache.python_tree(&PYTHON_SDKS[i]);
        std::fs::write(SdkCache::compiled_marker(&tree(0), "cpython-312"), "").unwrap();
        assert_eq!(labels(&plan(&cache, &all)).len(), 1);
        std::fs::write(SdkCache::compiled_marker(&tree(1), "cpython-39"), "").unwrap();
        assert!(plan(&cache, &all).is_empty());
        let newer = vec![python(13, "cpython-313")];
        assert!(matches!(plan(&cache, &newer)[..], [Step::Compile(..)]));
    }

    #[test]
    fn the_lock_waits_for_its_holder_and_takes_over_from_a_dead_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("install.lock");
        // A holder that is gone (no such process) does not keep others waiting.
        std::fs::write(&path, "999999999\n").unwrap();
        let first = InstallLock::take(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap().trim(),
            std::process::id().to_string()
        );
        let root = dir.path().to_path_buf();
        let (tx, rx) = std::sync::mpsc::channel();
        let second = std::thread::spawn(move || {
            let lock = InstallLock::take(&root).unwrap();
            tx.send(()).unwrap();
            drop(lock);
        });
        assert!(rx.recv_timeout(Duration::from_millis(500)).is_err());
        drop(first);
        rx.recv_timeout(Duration::from_secs(5)).unwrap();
        second.join().unwrap();
        assert!(!path.exists());
    }
}
