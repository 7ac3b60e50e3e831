//! The runtimes lambent can start: Python and Node.js through lambent's own bootstraps
//! (embedded in the binary, written to the data directory at start-up), and `provided*`
//! through the archive's own executable `bootstrap`.
//!
//! Each `python3.X` and `nodejsNN.x` runtime runs on an interpreter of its own version when
//! the host has one, else on the nearest one (and the environment's log says so); the
//! interpreters are found once, at start, and resolved to their real paths, so that no shell
//! shim (pyenv and friends) sits on the cold-start path (`interpreters.rs`). The AWS SDKs
//! AWS's runtimes include (boto3, the AWS SDK for JavaScript v3) come from a cache shared by
//! every data directory (`sdk.rs`), installed on first start (`install.rs`).

mod install;
mod interpreters;
mod sdk;

pub use install::Missing;
pub use interpreters::Interpreter;
pub use sdk::SdkCache;

use lambent_sandbox::Bind;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const PYTHON_BOOTSTRAP: &str = include_str!("python/bootstrap.py");
const NODE_BOOTSTRAP: &str = include_str!("node/bootstrap.js");

/// Where a view shows the Python SDK's tree. The bootstrap puts it on `sys.path` after the
/// function's code, its layers and the standard library, before the interpreter's own
/// site-packages.
pub const PYTHON_SDK_DIR: &str = "/var/lang/lib/sdk/python";
/// Where a view shows the Node.js SDK, as on AWS (`NODE_PATH` names it).
pub const NODE_MODULES_DIR: &str = "/var/runtime/node_modules";
/// The same SDK again for ES modules, which ignore `NODE_PATH` but look in the
/// `node_modules` of every parent directory of the importing file: `/var/task/node_modules`
/// (the function's own) first, then this one.
pub const ESM_NODE_MODULES_DIR: &str = "/var/node_modules";

/// Every runtime lambent serves, as AWS names them.
pub const SUPPORTED: &[&str] = &[
    "python3.9",
    "python3.10",
    "python3.11",
    "python3.12",
    "python3.13",
    "python3.14",
    "nodejs18.x",
    "nodejs20.x",
    "nodejs22.x",
    "nodejs24.x",
    "provided",
    "provided.al2",
    "provided.al2023",
];

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

/// One of the host's interpreters, by its place in [`Runtimes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterpreterId(usize);

/// The interpreters, their SDKs and the written bootstraps.
#[derive(Debug, Clone)]
pub struct Runtimes {
    interpreters: Vec<Interpreter>,
    /// Per interpreter (same index): the Python SDK tree it imports, when installed.
    python_sdk: Vec<Option<PathBuf>>,
    node_modules: Option<PathBuf>,
    cache: SdkCache,
    runtime_dir: PathBuf,
}

/// Where an environment finds its code and lambent's bootstraps: the host paths, or `/var/task`
/// and `/var/runtime` inside a view.
#[derive(Debug, Clone)]
pub struct Layout {
    pub task_root: PathBuf,
    pub runtime_dir: PathBuf,
    /// Inside a view: the SDKs are at the fixed paths above, not the cache's.
    pub viewed: bool,
}

/// How to start one runtime.
#[derive(Debug, Clone)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// The interpreter it runs on (`None` for `provided*`).
    pub interpreter: Option<InterpreterId>,
    /// `NODE_PATH`, which Node.js reads once, at start.
    pub node_path: Option<String>,
}

/// Why an environment cannot be started: AWS's error type and message.
#[derive(Debug, Clone)]
pub struct LaunchError {
    pub error_type: &'static str,
    pub message: String,
}

impl Runtimes {
    /// Writes the bootstraps under `<data-dir>/runtime/`, finds the interpreters, and
    /// installs the SDKs they need into `runtimes_dir` unless they are there already. An SDK
    /// that cannot be installed is reported, not fatal.
    pub fn prepare(data_dir: &Path, runtimes_dir: &Path) -> std::io::Result<Runtimes> {
        let dir = data_dir.join("runtime");
        std::fs::create_dir_all(&dir)?;
        write_if_changed(&dir.join("bootstrap.py"), PYTHON_BOOTSTRAP)?;
        write_if_changed(&dir.join("bootstrap.js"), NODE_BOOTSTRAP)?;
        // The mount point of the Node.js SDK inside `/var/runtime`, which is read-only.
        std::fs::create_dir_all(dir.join("node_modules"))?;
        let interpreters = interpreters::discover(
            &interpreters::Host::current(),
            Some(&dir.join("bootstrap.py")),
        );
        let cache = SdkCache::new(runtimes_dir);
        let missing = install::ensure(&cache, &interpreters);
        for m in &missing {
            tracing::warn!("{m}");
        }
        let runtimes = Runtimes::with(interpreters, cache, dir);
        runtimes.link_esm_modules(data_dir);
        for family in [Family::Python, Family::Node] {
            if !runtimes.interpreters.iter().any(|i| i.family == family) {
                tracing::warn!(
                    "no {} interpreter on this host: its runtimes cannot run",
                    interpreters::language(family)
                );
            }
        }
        Ok(runtimes)
    }

    /// What this host has, without writing anything (`lambent doctor`).
    pub fn inspect(runtimes_dir: &Path) -> Runtimes {
        let interpreters = interpreters::discover(&interpreters::Host::current(), None);
        Runtimes::with(interpreters, SdkCache::new(runtimes_dir), PathBuf::new())
    }

    /// Installs the SDKs the host's interpreters need (`lambent runtimes install`); returns
    /// what could not be installed.
    pub fn install(runtimes_dir: &Path) -> Vec<Missing> {
        let interpreters = interpreters::discover(&interpreters::Host::current(), None);
        install::ensure(&SdkCache::new(runtimes_dir), &interpreters)
    }

    fn with(interpreters: Vec<Interpreter>, cache: SdkCache, runtime_dir: PathBuf) -> Runtimes {
        let python_sdk = interpreters
            .iter()
            .map(|i| match i.family {
                Family::Python => cache.installed_python(i.version.minor),
                _ => None,
            })
            .collect();
        Runtimes {
            python_sdk,
            node_modules: cache.installed_node(),
            interpreters,
            cache,
            runtime_dir,
        }
    }

    /// Without a view, ES modules under `<data-dir>/code/` find the SDK in the
    /// `node_modules` of a parent directory, as they do `/var/node_modules` in a view.
    fn link_esm_modules(&self, data_dir: &Path) {
        let link = data_dir.join("node_modules");
        let current = std::fs::read_link(&link).ok();
        if current == self.node_modules {
            return;
        }
        if current.is_some() {
            let _ = std::fs::remove_file(&link);
        }
        if let Some(modules) = &self.node_modules {
            if let Err(e) = std::os::unix::fs::symlink(modules, &link) {
                tracing::debug!(error = %e, "cannot link the Node.js SDK into the data directory");
            }
        }
    }

    /// Where lambent's bootstraps live on the host.
    pub fn runtime_dir(&self) -> &Path {
        &self.runtime_dir
    }

    pub fn interpreter(&self, id: InterpreterId) -> &Interpreter {
        &self.interpreters[id.0]
    }

    /// The interpreter that serves `runtime`, and whether it is of the version asked for.
    pub fn serving(&self, runtime: &str) -> Option<(InterpreterId, bool)> {
        interpreters::serving(&self.interpreters, runtime)
            .map(|(i, exact)| (InterpreterId(i), exact))
    }

    /// "python3.14 → Python 3.13.0 (/path), nearest", or "python3.14 → not available".
    pub fn serving_line(&self, runtime: &str) -> String {
        if Family::of(runtime) == Some(Family::Provided) {
            return format!("{runtime} → the function's own bootstrap");
        }
        match self.serving(runtime) {
            Some((id, exact)) => format!(
                "{runtime} → {}, {}",
                self.interpreter(id).describe(),
                if exact { "exact" } else { "nearest" }
            ),
            None => format!("{runtime} → not available"),
        }
    }

    /// The line an environment's log stream starts with when `runtime` runs on another
    /// version than it names.
    pub fn notice(&self, runtime: &str) -> Option<String> {
        let (id, exact) = self.serving(runtime)?;
        if exact {
            return None;
        }
        let interp = self.interpreter(id);
        let (family, want) = interpreters::wanted(runtime)?;
        let asked = match family {
            Family::Node => format!("Node.js {want}"),
            _ => format!("python3.{want}"),
        };
        Some(format!(
            "lambent: runtime {runtime} is served by {}: the host has no {asked}",
            interp.describe()
        ))
    }

    /// The SDKs, in words, for the start-up banner and `lambent doctor`.
    pub fn sdk_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for sdk in sdk::PYTHON_SDKS {
            let users: Vec<&Interpreter> = self
                .interpreters
                .iter()
                .filter(|i| {
                    i.family == Family::Python
                        && sdk::python_sdk_for(i.version.minor)
                            .is_some_and(|s| std::ptr::eq(s, sdk))
                })
                .collect();
            if users.is_empty() {
                continue;
            }
            let tree = self.cache.python_tree(sdk);
            let state = if tree.join("boto3").is_dir() {
                let uncompiled: Vec<String> = users
                    .iter()
                    .filter(|i| {
                        i.cache_tag
                            .as_ref()
                            .is_some_and(|t| !SdkCache::compiled_marker(&tree, t).exists())
                    })
                    .map(|i| format!("Python {}", i.version))
                    .collect();
                if uncompiled.is_empty() {
                    format!("installed at {}", tree.display())
                } else {
                    format!(
                        "installed at {}, not compiled for {}",
                        tree.display(),
                        uncompiled.join(", ")
                    )
                }
            } else {
                "NOT installed (lambent runtimes install)".into()
            };
            lines.push(format!("Python SDK: {}: {state}", sdk.describe()));
        }
        if self.interpreters.iter().any(|i| i.family == Family::Node) {
            let state = match &self.node_modules {
                Some(m) => format!("installed at {}", m.display()),
                None => "NOT installed (lambent runtimes install)".into(),
            };
            lines.push(format!(
                "Node.js SDK: {}: {state}",
                sdk::NODE_SDK.describe()
            ));
        }
        lines
    }

    /// Which runtimes this host can run and on what, for the start-up banner.
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = SUPPORTED
            .iter()
            .filter(|r| Family::of(r) != Some(Family::Provided))
            .map(|r| self.serving_line(r))
            .collect();
        parts.extend(self.sdk_lines());
        parts.join("; ")
    }

    /// `NODE_PATH` as AWS sets it, for a Node.js interpreter of `major`.
    fn node_path(&self, major: u32, layout: &Layout) -> String {
        if layout.viewed {
            return format!(
                "/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:{NODE_MODULES_DIR}:{}:{}",
                layout.runtime_dir.display(),
                layout.task_root.display()
            );
        }
        let mut dirs: Vec<String> = self
            .node_modules
            .iter()
            .map(|m| m.display().to_string())
            .collect();
        dirs.push(layout.runtime_dir.display().to_string());
        dirs.push(layout.task_root.display().to_string());
        dirs.join(":")
    }

    /// How interpreter `id` starts lambent's bootstrap, as `layout` shows it.
    pub fn interpreter_launch(&self, id: InterpreterId, layout: &Layout) -> Launch {
        let interp = self.interpreter(id);
        match interp.family {
            Family::Node => Launch {
                program: interp.exe.clone(),
                args: vec![layout.runtime_dir.join("bootstrap.js").into()],
                interpreter: Some(id),
                node_path: Some(self.node_path(interp.version.major, layout)),
            },
            _ => {
                // -B: never write bytecode into the shared, read-only code directory.
                let mut args: Vec<OsString> = vec!["-B".into()];
                if let Some(tree) = &self.python_sdk[id.0] {
                    let shown = if layout.viewed {
                        Path::new(PYTHON_SDK_DIR)
                    } else {
                        tree.as_path()
                    };
                    // An -X option reaches the bootstrap without showing in the function's
                    // environment or arguments.
                    let mut opt = OsString::from("lambent_sdk=");
                    opt.push(shown);
                    args.extend(["-X".into(), opt]);
                }
                args.push(layout.runtime_dir.join("bootstrap.py").into());
                Launch {
                    program: interp.exe.clone(),
                    args,
                    interpreter: Some(id),
                    node_path: None,
                }
            }
        }
    }

    /// What a view of interpreter `id` shows besides the system directories: its own
    /// directories at their host paths, and its SDK read-only at the fixed paths.
    pub fn binds(&self, id: InterpreterId) -> Vec<Bind> {
        let interp = self.interpreter(id);
        let ro = |source: &Path, target: &Path| Bind {
            source: source.to_path_buf(),
            target: target.to_path_buf(),
            writable: false,
        };
        let mut binds: Vec<Bind> = interp.prefixes.iter().map(|d| ro(d, d)).collect();
        match interp.family {
            Family::Python => {
                if let Some(tree) = &self.python_sdk[id.0] {
                    binds.push(ro(tree, Path::new(PYTHON_SDK_DIR)));
                }
            }
            Family::Node => {
                if let Some(modules) = &self.node_modules {
                    binds.push(ro(modules, Path::new(NODE_MODULES_DIR)));
                    binds.push(ro(modules, Path::new(ESM_NODE_MODULES_DIR)));
                }
            }
            Family::Provided => {}
        }
        binds
    }

    /// How `runtime` starts for code unpacked at `code_dir` (on the host), as the
    /// environment will see it (`layout`).
    pub fn launch(
        &self,
        runtime: &str,
        code_dir: &Path,
        layout: &Layout,
    ) -> Result<Launch, LaunchError> {
        match Family::of(runtime) {
            Some(family @ (Family::Python | Family::Node)) => match self.serving(runtime) {
                Some((id, _)) => Ok(self.interpreter_launch(id, layout)),
                None => Err(LaunchError {
                    error_type: "Runtime.InvalidRuntime",
                    message: format!(
                        "The runtime {runtime} is not available on this host: it has no {} interpreter.",
                        interpreters::language(family)
                    ),
                }),
            },
            Some(Family::Provided) => {
                let bootstrap = code_dir.join("bootstrap");
                match std::fs::metadata(&bootstrap) {
                    Ok(m) if m.is_file() && is_executable(&m) => Ok(Launch {
                        program: layout.task_root.join("bootstrap"),
                        args: vec![],
                        interpreter: None,
                        node_path: None,
                    }),
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
