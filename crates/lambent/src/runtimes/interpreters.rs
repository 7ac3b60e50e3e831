//! The interpreters this host has, found once at start: for each `python3.X` and `nodejsNN.x`
//! runtime an interpreter of that version when there is one, else the nearest one.
//!
//! Each candidate is asked once, in one process call, who it really is (`sys.executable`,
//! `process.execPath`): a pyenv shim answers with the interpreter it dispatches to, so that
//! environments start the interpreter itself and no shim sits on the cold path. The same
//! Python call compiles lambent's bootstrap into its cache for that interpreter.

use super::Family;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The Python minors of AWS's Python runtimes lambent serves (`python3.9` ... `python3.14`).
pub const PYTHON_MINORS: std::ops::RangeInclusive<u32> = 9..=14;

/// A candidate that has not answered in this long is not an interpreter lambent can use.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);

/// What an interpreter prints about itself: its real path, version, bytecode tag and
/// prefixes. Printed before the bootstrap is compiled, so a failed compile costs nothing.
const PYTHON_PROBE: &str = r#"import sys
print(sys.executable)
print('%d.%d.%d' % sys.version_info[:3])
print(sys.implementation.cache_tag or '')
print(sys.prefix)
print(sys.base_prefix)
sys.stdout.flush()
if len(sys.argv) > 1:
    try:
        import runpy
        runpy.run_path(sys.argv[1], run_name='lambent_precompile')
    except Exception:
        pass
"#;

const NODE_PROBE: &str =
    "process.stdout.write(process.execPath + '\\n' + process.versions.node + '\\n')";

/// An interpreter's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().split('.').map(|p| p.parse::<u32>().ok());
        Some(Version {
            major: parts.next()??,
            minor: parts.next()??,
            patch: parts.next().flatten().unwrap_or(0),
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// One interpreter of the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    pub family: Family,
    /// The path it names itself by. A virtualenv's interpreter keeps its own path (not the
    /// base interpreter's), since that is how Python finds the virtualenv.
    pub exe: PathBuf,
    pub version: Version,
    /// Python's `sys.implementation.cache_tag` (`cpython-312`), which names its bytecode.
    pub cache_tag: Option<String>,
    /// Directories outside the system directories that it needs (its prefix, a
    /// virtualenv's and its base installation's), which an environment's view must show.
    pub prefixes: Vec<PathBuf>,
}

impl Interpreter {
    /// The number a runtime name carries: Python's minor (`python3.12`), Node's major
    /// (`nodejs20.x`).
    pub fn line(&self) -> u32 {
        match self.family {
            Family::Node => self.version.major,
            _ => self.version.minor,
        }
    }

    /// "Python 3.13.0 (/root/.pyenv/versions/3.13.0/bin/python3.13)".
    pub fn describe(&self) -> String {
        format!(
            "{} {} ({})",
            language(self.family),
            self.version,
            self.exe.display()
        )
    }
}

/// "Python" or "Node.js".
pub fn language(family: Family) -> &'static str {
    match family {
        Family::Python => "Python",
        Family::Node => "Node.js",
        Family::Provided => "provided",
    }
}

/// The family and line a managed runtime asks for: `python3.12` is (Python, 12),
/// `nodejs20.x` is (Node, 20).
pub fn wanted(runtime: &str) -> Option<(Family, u32)> {
    if let Some(minor) = runtime.strip_prefix("python3.") {
        return minor.parse().ok().map(|m| (Family::Python, m));
    }
    let major = runtime.strip_prefix("nodejs")?.strip_suffix(".x")?;
    major.parse().ok().map(|m| (Family::Node, m))
}

/// Which of `interpreters` serves `runtime`, and whether it is of the version asked for:
/// one of that version (the first, in order of preference), else the nearest version, the
/// newer of two equally near.
pub fn serving(interpreters: &[Interpreter], runtime: &str) -> Option<(usize, bool)> {
    let (family, want) = wanted(runtime)?;
    let mut best: Option<(usize, u32)> = None;
    for (i, interp) in interpreters.iter().enumerate() {
        if interp.family != family {
            continue;
        }
        let line = interp.line();
        let better = match best {
            None => true,
            Some((b, _)) => {
                let (d, bd) = (line.abs_diff(want), interpreters[b].line().abs_diff(want));
                d < bd || (d == bd && line > interpreters[b].line())
            }
        };
        if better {
            best = Some((i, line));
        }
    }
    best.map(|(i, line)| (i, line == want))
}

/// Where lambent looks: the environment it was started with.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub path: Option<OsString>,
    pub home: Option<PathBuf>,
    pub pyenv_root: Option<PathBuf>,
    pub nvm_dir: Option<PathBuf>,
}

impl Host {
    pub fn current() -> Host {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        Host {
            path: var("PATH"),
            home: var("HOME").map(PathBuf::from),
            pyenv_root: var("PYENV_ROOT").map(PathBuf::from),
            nvm_dir: var("NVM_DIR").map(PathBuf::from),
        }
    }

    /// Every `name` on PATH, in PATH order.
    fn on_path(&self, name: &str) -> Vec<PathBuf> {
        let Some(path) = &self.path else {
            return Vec::new();
        };
        std::env::split_paths(path)
            .map(|dir| dir.join(name))
            .filter(|p| p.is_file())
            .collect()
    }

    /// `$PYENV_ROOT` or `~/.pyenv`.
    fn pyenv(&self) -> Option<PathBuf> {
        self.pyenv_root
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".pyenv")))
    }

    /// `$NVM_DIR` or `~/.nvm`.
    fn nvm(&self) -> Option<PathBuf> {
        self.nvm_dir
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".nvm")))
    }
}

/// The installations under `dir` whose names are versions starting with `prefix`
/// (`3.12.` for pyenv, `v20.` for nvm), newest first.
fn versioned_dirs(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<(Version, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let rest = name.strip_prefix(prefix)?;
            // A full version only: `3.12.1`, not `3.12-dev` or a virtualenv's name.
            let v = Version::parse(&format!("{}{rest}", prefix.trim_start_matches('v')))?;
            rest.chars()
                .all(|c| c.is_ascii_digit() || c == '.')
                .then_some((v, e.path()))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}

/// Where `python3.X` may be, in order of preference: PATH (a shim there is resolved by
/// asking it), pyenv's installations, then the distribution's and the local one.
fn python_candidates(host: &Host, minor: u32) -> Vec<PathBuf> {
    let name = format!("python3.{minor}");
    let mut out = host.on_path(&name);
    if let Some(root) = host.pyenv() {
        out.extend(
            versioned_dirs(&root.join("versions"), &format!("3.{minor}."))
                .into_iter()
                .map(|d| d.join("bin").join(&name)),
        );
    }
    out.push(Path::new("/usr/bin").join(&name));
    out.push(Path::new("/usr/local/bin").join(&name));
    out.retain(|p| p.is_file());
    dedup_keep_order(out)
}

/// Every `node` that may serve a `nodejsNN.x` runtime, in order of preference: PATH, the
/// distribution's, nvm's newest of each major, the local one.
fn node_candidates(host: &Host) -> Vec<PathBuf> {
    let mut out = host.on_path("node");
    out.push("/usr/bin/node".into());
    if let Some(nvm) = host.nvm() {
        let mut majors = std::collections::HashSet::new();
        for dir in versioned_dirs(&nvm.join("versions").join("node"), "v") {
            let major = dir
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| Version::parse(n.trim_start_matches('v')))
                .map(|v| v.major);
            if major.is_some_and(|m| majors.insert(m)) {
                out.push(dir.join("bin").join("node"));
            }
        }
    }
    out.push("/usr/local/bin/node".into());
    out.retain(|p| p.is_file());
    // The same binary reached by two names is asked once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|p| seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())));
    out
}

fn dedup_keep_order(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = std::collections::HashSet::new();
    paths
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// Finds the interpreters for every managed runtime: for each Python minor the first
/// candidate that is that version, and for each Node major the first `node` of it. Python
/// interpreters found also compile `bootstrap` (lambent's Python bootstrap) into its cache.
/// Candidates are asked in parallel, so start-up waits for the slowest, not for all.
pub fn discover(host: &Host, bootstrap: Option<&Path>) -> Vec<Interpreter> {
    let mut python: Vec<Option<Interpreter>> = Vec::new();
    let mut node: Vec<Option<Interpreter>> = Vec::new();
    let node_paths = node_candidates(host);
    std::thread::scope(|scope| {
        let pythons: Vec<_> = PYTHON_MINORS
            .map(|minor| {
                let candidates = python_candidates(host, minor);
                scope.spawn(move || {
                    candidates
                        .iter()
                        .find_map(|c| probe_python(c, bootstrap).filter(|i| i.line() == minor))
                })
            })
            .collect();
        let nodes: Vec<_> = node_paths
            .iter()
            .map(|c| scope.spawn(move || probe_node(c)))
            .collect();
        python = pythons
            .into_iter()
            .map(|h| h.join().ok().flatten())
            .collect();
        node = nodes.into_iter().map(|h| h.join().ok().flatten()).collect();
    });
    let mut found: Vec<Interpreter> = python.into_iter().flatten().collect();
    if found.is_empty() {
        // A host whose only Python is an unversioned `python3` still runs Python functions.
        if let Some(i) = host
            .on_path("python3")
            .first()
            .and_then(|c| probe_python(c, bootstrap))
        {
            found.push(i);
        }
    }
    let mut majors = std::collections::HashSet::new();
    for interp in node.into_iter().flatten() {
        if majors.insert(interp.version.major) {
            found.push(interp);
        }
    }
    found
}

/// Runs `cmd` and returns its standard output if it succeeds within the probe timeout.
fn ask(mut cmd: Command) -> Option<String> {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() < PROBE_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn probe_python(candidate: &Path, bootstrap: Option<&Path>) -> Option<Interpreter> {
    let mut cmd = Command::new(candidate);
    cmd.args(["-B", "-c", PYTHON_PROBE]);
    if let Some(b) = bootstrap {
        cmd.arg(b);
    }
    let text = ask(cmd)?;
    let mut lines = text.lines().map(str::trim);
    let exe = lines.next().map(PathBuf::from).filter(|p| p.is_file())?;
    let version = Version::parse(lines.next()?)?;
    if version.major != 3 {
        return None;
    }
    let cache_tag = lines.next().filter(|t| !t.is_empty()).map(str::to_string);
    let mut prefixes: Vec<PathBuf> = lines.map(PathBuf::from).collect();
    // The interpreter itself may be a link into yet another prefix (a virtualenv's is).
    prefixes.extend(real_prefix(&exe));
    Some(Interpreter {
        family: Family::Python,
        exe,
        version,
        cache_tag,
        prefixes: outside_system_dirs(prefixes),
    })
}

fn probe_node(candidate: &Path) -> Option<Interpreter> {
    let mut cmd = Command::new(candidate);
    cmd.args(["-e", NODE_PROBE]);
    let text = ask(cmd)?;
    let mut lines = text.lines().map(str::trim);
    let exe = lines.next().map(PathBuf::from).filter(|p| p.is_file())?;
    let version = Version::parse(lines.next()?)?;
    Some(Interpreter {
        family: Family::Node,
        prefixes: outside_system_dirs(real_prefix(&exe).into_iter().collect()),
        exe,
        version,
        cache_tag: None,
    })
}

/// `<prefix>` of the real file behind `<prefix>/bin/<exe>`.
fn real_prefix(exe: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(exe)
        .ok()
        .and_then(|r| r.parent().and_then(Path::parent).map(Path::to_path_buf))
}

fn outside_system_dirs(mut dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    dirs.retain(|d| {
        d.is_dir()
            && !lambent_sandbox::SYSTEM_DIRS
                .iter()
                .any(|s| d.starts_with(s))
    });
    dirs.sort();
    dirs.dedup();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interp(family: Family, major: u32, minor: u32) -> Interpreter {
        Interpreter {
            family,
            exe: format!("/x/{major}.{minor}").into(),
            version: Version {
                major,
                minor,
                patch: 0,
            },
            cache_tag: None,
            prefixes: vec![],
        }
    }

    #[test]
    fn runtimes_name_their_version() {
        assert_eq!(wanted("python3.12"), Some((Family::Python, 12)));
        assert_eq!(wanted("python3.9"), Some((Family::Python, 9)));
        assert_eq!(wanted("nodejs20.x"), Some((Family::Node, 20)));
        assert_eq!(wanted("provided.al2023"), None);
        assert_eq!(wanted("nodejs20"), None);
    }

    #[test]
    fn the_exact_version_serves_else_the_nearest_newer_on_a_tie() {
        let all = vec![
            interp(Family::Python, 3, 11),
            interp(Family::Python, 3, 13),
            interp(Family::Python, 3, 11),
            interp(Family::Node, 20, 1),
        ];
        assert_eq!(serving(&all, "python3.11"), Some((0, true)));
        assert_eq!(serving(&all, "python3.13"), Some((1, true)));
        assert_eq!(serving(&all, "python3.14"), Some((1, false)));
        assert_eq!(serving(&all, "python3.12"), Some((1, false)));
        assert_eq!(serving(&all, "python3.9"), Some((0, false)));
        assert_eq!(serving(&all, "nodejs18.x"), Some((3, false)));
        assert_eq!(serving(&all, "nodejs20.x"), Some((3, true)));
        assert_eq!(serving(&all[..3], "nodejs20.x"), None);
        assert_eq!(serving(&all, "provided"), None);
    }

    #[test]
    fn versioned_installations_are_listed_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["3.12.1", "3.12.10", "3.12-dev", "3.13.0", "myenv", "3.12.2"] {
            std::fs::create_dir(dir.path().join(name)).unwrap();
        }
        let names: Vec<String> = versioned_dirs(dir.path(), "3.12.")
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["3.12.10", "3.12.2", "3.12.1"]);
    }
}
