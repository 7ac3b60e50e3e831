//! The runtimes lambent can start: Python and Node.js through lambent's own bootstraps
//! (embedded in the binary, written to the data directory at start-up), and `provided*`
//! through the archive's own executable `bootstrap`.
//!
//! Interpreters are resolved once, to their real paths, so that no shell shim (pyenv and
//! friends) sits on the cold-start path. The AWS SDKs AWS's runtimes include (boto3, the AWS
//! SDK for JavaScript v3) are pinned in `sdk.rs` and installed into a cache shared by every
//! data directory by `install.rs`.

mod install;
mod interpreters;
mod sdk;

pub use install::Missing;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

const PYTHON_BOOTSTRAP: &str = include_str!("python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("node/bootstrap.js");

/// How a runtime family starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Python,
    Node,
    Provided,
}

impl Family {
    pub fn of(runtime: &str) -> Option<Family> {
        if runtime.starts_with("python3") {
            Some(Family::Python)
        } else if runtime.starts_with("nodejs") {
            Some(Family::Node)
        } else if runtime.starts_with("provided") {
            Some(Family::Provided)
        } else {
            None
        }
    }
}

/// The resolved interpreters and the written bootstraps.
#[derive(Debug, Clone)]
pub struct Runtimes {
    python: Option<PathBuf>,
    /// Whether that `python3` can import boto3.
    python_boto3: bool,
    node: Option<PathBuf>,
    /// Directories the interpreters need that an environment's view must show at the same
    /// path (an interpreter's prefix outside the system directories, a virtualenv).
    host_dirs: Vec<PathBuf>,
    runtime_dir: PathBuf,
}

/// Where an environment finds its code and lambent's bootstraps: the host paths, or `/var/task`
/// and `/var/runtime` inside a view.
#[derive(Debug, Clone)]
pub struct Layout {
    pub task_root: PathBuf,
    pub runtime_dir: PathBuf,
}

/// Why an environment cannot be started: AWS's error type and message.
#[derive(Debug, Clone)]
pub struct LaunchError {
    pub error_type: &'static str,
    pub message: String,
}

impl Runtimes {
    /// Finds the interpreters and writes the bootstraps under `<data-dir>/runtime/`.
    pub fn prepare(data_dir: &Path) -> std::io::Result<Runtimes> {
        let dir = data_dir.join("runtime");
        std::fs::create_dir_all(&dir)?;
        write_if_changed(&dir.join("bootstrap.py"), PYTHON_BOOTSTRAP)?;
        write_if_changed(&dir.join("bootstrap.js"), NODE_BOOTSTRAP)?;
        let python = resolve_python();
        let node = find_on_path("node").and_then(|p| std::fs::canonicalize(p).ok());
        let mut host_dirs: Vec<PathBuf> = Vec::new();
        if let Some(found) = &python {
            host_dirs.extend(found.prefixes.iter().cloned());
        }
        if let Some(node) = &node {
            // <prefix>/bin/node
            host_dirs.extend(node.parent().and_then(Path::parent).map(Path::to_path_buf));
        }
        if let Some(found) = &python {
            precompile(&found.exe, &dir.join("bootstrap.py"));
            if !found.boto3 {
                tracing::warn!(
                    python = %found.exe.display(),
                    "python3 cannot import boto3: Python functions that use the AWS SDK will fail (AWS's Python runtime includes it; pip install boto3)"
                );
            }
        }
        host_dirs.retain(|d| !in_system_dirs(d));
        host_dirs.sort();
        host_dirs.dedup();
        Ok(Runtimes {
            python_boto3: python.as_ref().is_some_and(|f| f.boto3),
            python: python.map(|f| f.exe),
            node,
            host_dirs,
            runtime_dir: dir,
        })
    }

    /// Installs the SDKs the host's interpreters need into `runtimes_dir` (`lambent runtimes
    /// install`); returns what could not be installed.
    pub fn install(runtimes_dir: &Path) -> Vec<Missing> {
        let interpreters = interpreters::discover(&interpreters::Host::current(), None);
        install::ensure(&sdk::SdkCache::new(runtimes_dir), &interpreters)
    }

    /// Host directories an environment's view must show at their own paths.
    pub fn host_dirs(&self) -> &[PathBuf] {
        &self.host_dirs
    }

    /// Where lambent's bootstraps live on the host.
    pub fn runtime_dir(&self) -> &Path {
        &self.runtime_dir
    }

    /// Which runtimes this host can run, for the start-up banner.
    pub fn describe(&self) -> String {
        let show = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "not found".into())
        };
        let boto3 = match (&self.python, self.python_boto3) {
            (Some(_), true) => " (with boto3)",
            (Some(_), false) => " (without boto3)",
            (None, _) => "",
        };
        format!(
            "python: {}{boto3}, node: {}",
            show(&self.python),
            show(&self.node)
        )
    }

    /// The interpreter and arguments a stem of `family` starts before its function is known
    /// (lambent's bootstrap, which then waits for its assignment), as a view shows them;
    /// `None` for a family whose program comes with the function (`provided`), or whose
    /// interpreter this host lacks.
    pub fn stem_command(
        &self,
        family: Family,
        runtime_dir: &Path,
    ) -> Option<(PathBuf, Vec<OsString>)> {
        match family {
            Family::Python => Some((
                self.python.clone()?,
                vec!["-B".into(), runtime_dir.join("bootstrap.py").into()],
            )),
            Family::Node => Some((
                self.node.clone()?,
                vec![runtime_dir.join("bootstrap.js").into()],
            )),
            Family::Provided => None,
        }
    }

    /// Whether this host can run `family` at all.
    pub fn has(&self, family: Family) -> bool {
        match family {
            Family::Python => self.python.is_some(),
            Family::Node => self.node.is_some(),
            Family::Provided => true,
        }
    }

    /// The program and arguments that start `runtime` for code unpacked at `code_dir` (on
    /// the host), as the environment will see them (`layout`).
    pub fn command(
        &self,
        runtime: &str,
        code_dir: &Path,
        layout: &Layout,
    ) -> Result<(PathBuf, Vec<OsString>), LaunchError> {
        let missing = |what: &str| LaunchError {
            error_type: "Runtime.InvalidRuntime",
            message: format!(
                "The runtime {runtime} is not available on this host: {what} was not found on PATH."
            ),
        };
        match Family::of(runtime) {
            Some(Family::Python) => {
                let python = self.python.clone().ok_or_else(|| missing("python3"))?;
                // -B: never write bytecode into the shared, read-only code directory.
                Ok((
                    python,
                    vec!["-B".into(), layout.runtime_dir.join("bootstrap.py").into()],
                ))
            }
            Some(Family::Node) => {
                let node = self.node.clone().ok_or_else(|| missing("node"))?;
                Ok((node, vec![layout.runtime_dir.join("bootstrap.js").into()]))
            }
            Some(Family::Provided) => {
                let bootstrap = code_dir.join("bootstrap");
                match std::fs::metadata(&bootstrap) {
                    Ok(m) if m.is_file() && is_executable(&m) => {
                        Ok((layout.task_root.join("bootstrap"), vec![]))
                    }
                    Ok(_) => Err(LaunchError {
                        error_type: "Runtime.InvalidEntrypoint",
                        message: "fork/exec /var/task/bootstrap: permission denied".into(),
                    }),
                    Err(_) => Err(LaunchError {
                        error_type: "Runtime.InvalidEntrypoint",
                        message:
                            "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]"
                                .into(),
                    }),
                }
            }
            None => Err(LaunchError {
                error_type: "Runtime.InvalidRuntime",
                message: format!("The runtime {runtime} is not supported by lambent yet."),
            }),
        }
    }
}

/// `AWS_EXECUTION_ENV` as AWS sets it (absent for custom runtimes).
pub fn execution_env(runtime: &str) -> Option<String> {
    match Family::of(runtime) {
        Some(Family::Python) | Some(Family::Node) => Some(format!("AWS_Lambda_{runtime}")),
        _ => None,
    }
}

fn is_executable(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    m.permissions().mode() & 0o111 != 0
}

fn write_if_changed(path: &Path, content: &str) -> std::io::Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() == Some(content) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, content)?;
    std::fs::rename(tmp, path)
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// What asking `python3` once tells: the interpreter behind it (a shim answers with the
/// path of the interpreter it dispatches to), the prefixes it needs (a virtualenv's and its
/// base installation's), and whether it can import boto3, which AWS's Python runtime
/// includes and functions expect.
struct PythonFound {
    exe: PathBuf,
    prefixes: Vec<PathBuf>,
    boto3: bool,
}

fn resolve_python() -> Option<PythonFound> {
    let python = find_on_path("python3")?;
    let out = std::process::Command::new(&python)
        .args([
            "-c",
            "import sys, importlib.util; print(sys.executable); \
             print(importlib.util.find_spec('boto3') is not None); \
             print(sys.prefix); print(sys.base_prefix)",
        ])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines().map(str::trim);
    let exe = lines.next().map(PathBuf::from).filter(|p| p.is_file())?;
    let boto3 = lines.next() == Some("True");
    let mut prefixes: Vec<PathBuf> = lines.map(PathBuf::from).filter(|p| p.is_dir()).collect();
    // The interpreter itself may be a link into yet another prefix.
    if let Some(real_prefix) = std::fs::canonicalize(&exe)
        .ok()
        .and_then(|r| r.parent().and_then(Path::parent).map(Path::to_path_buf))
    {
        prefixes.push(real_prefix);
    }
    Some(PythonFound {
        exe,
        prefixes,
        boto3,
    })
}

/// Has the Python bootstrap compile itself into its cache beside it now, while lambent may
/// still write there: environments see that directory read-only and would otherwise compile
/// it on every cold start. Loading it under another name than `__main__` skips its main loop.
fn precompile(python: &Path, bootstrap: &Path) {
    let status = std::process::Command::new(python)
        .args([
            "-B",
            "-c",
            "import runpy, sys; runpy.run_path(sys.argv[1], run_name='lambent_precompile')",
        ])
        .arg(bootstrap)
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        tracing::warn!("could not precompile the Python bootstrap; cold starts compile it");
    }
}

fn in_system_dirs(p: &Path) -> bool {
    lambent_sandbox::SYSTEM_DIRS
        .iter()
        .any(|d| p.starts_with(d))
}
