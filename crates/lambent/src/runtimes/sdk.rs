//! The AWS SDKs AWS's managed runtimes ship, as lambent provides them: pinned here, installed
//! once per machine into a cache every data directory shares (`--runtimes-dir`), and shown
//! read-only inside environments, after the function's own code so that a function's own
//! copy wins.
//!
//! Layout of the cache:
//!
//! ```text
//! <runtimes-dir>/sdk/python/<boto3 version>/   pip install --target, compiled per interpreter
//! <runtimes-dir>/sdk/node/<sdk version>/node_modules/
//! <runtimes-dir>/install.lock                  held by whoever installs
//! ```
//!
//! Invariant: a tree is complete once it has its final name (it is built under a temporary
//! name and renamed); what lambent shows environments is never written while they run,
//! except for bytecode of an interpreter that had none yet.

use std::path::{Path, PathBuf};

/// One pinned set of the Python SDK (boto3 and what it imports), for the Python minors
/// its packages support. Every package is a pure-Python wheel, so one tree serves all of
/// those minors; each interpreter compiles its own bytecode beside the sources.
#[derive(Debug)]
pub struct PythonSdk {
    /// boto3's version, which names the tree.
    pub boto3: &'static str,
    /// The Python minors (3.X) it serves.
    pub minors: std::ops::RangeInclusive<u32>,
    /// pip's `--python-version`: the oldest Python it serves, so that pip picks the same
    /// wheels whichever interpreter runs it.
    pub python_version: &'static str,
    pub packages: &'static [(&'static str, &'static str)],
}

/// The Python SDK sets, newest first. boto3 1.44 needs Python 3.10; Python 3.9 gets the
/// last boto3 that supports it, with the urllib3 1.26 botocore asks for there.
pub static PYTHON_SDKS: &[PythonSdk] = &[
    PythonSdk {
        boto3: "1.44.8",
        minors: 10..=u32::MAX,
        python_version: "3.10",
        packages: &[
            ("boto3", "1.44.8"),
            ("botocore", "1.44.8"),
            ("s3transfer", "0.19.3"),
            ("jmespath", "1.1.0"),
            ("python-dateutil", "2.9.0.post0"),
            ("urllib3", "2.8.0"),
            ("six", "1.17.0"),
        ],
    },
    PythonSdk {
        boto3: "1.42.97",
        minors: 9..=9,
        python_version: "3.9",
        packages: &[
            ("boto3", "1.42.97"),
            ("botocore", "1.42.97"),
            ("s3transfer", "0.16.1"),
            ("jmespath", "1.1.0"),
            ("python-dateutil", "2.9.0.post0"),
            ("urllib3", "1.26.20"),
            ("six", "1.17.0"),
        ],
    },
];

/// The AWS SDK for JavaScript v3 clients AWS's Node.js runtimes include (the ones functions
/// import most), pinned. `version` names the tree: change it whenever a pin changes.
#[derive(Debug)]
pub struct NodeSdk {
    pub version: &'static str,
    pub packages: &'static [(&'static str, &'static str)],
}

pub static NODE_SDK: NodeSdk = NodeSdk {
    version: "3.1178.0",
    packages: &[
        ("@aws-sdk/client-s3", "3.1178.0"),
        ("@aws-sdk/client-dynamodb", "3.1178.0"),
        ("@aws-sdk/lib-dynamodb", "3.1178.0"),
        ("@aws-sdk/client-lambda", "3.1178.0"),
        ("@aws-sdk/client-sts", "3.1178.0"),
        ("@aws-sdk/client-iam", "3.1178.0"),
        ("@aws-sdk/client-cognito-identity", "3.1178.0"),
        ("@aws-sdk/client-cognito-identity-provider", "3.1178.0"),
        ("@aws-sdk/client-cloudwatch-logs", "3.1178.0"),
        // Released less often than the others: its latest version is older.
        ("@aws-sdk/client-api-gateway", "3.1142.0"),
        ("@aws-sdk/client-apigatewaymanagementapi", "3.1178.0"),
        ("@aws-sdk/client-sqs", "3.1178.0"),
        ("@aws-sdk/client-sns", "3.1178.0"),
        ("@aws-sdk/credential-providers", "3.1178.0"),
        ("@aws-sdk/s3-request-presigner", "3.1178.0"),
        ("@aws-sdk/lib-storage", "3.1178.0"),
    ],
};

/// The Python SDK set for Python 3.`minor`.
pub fn python_sdk_for(minor: u32) -> Option<&'static PythonSdk> {
    PYTHON_SDKS.iter().find(|s| s.minors.contains(&minor))
}

impl PythonSdk {
    /// "boto3 1.44.8 for Python 3.10+".
    pub fn describe(&self) -> String {
        if *self.minors.end() == u32::MAX {
            format!("boto3 {} for Python {}+", self.boto3, self.python_version)
        } else {
            format!("boto3 {} for Python {}", self.boto3, self.python_version)
        }
    }

    /// `pkg==version ...`, as pip takes them.
    pub fn requirements(&self) -> Vec<String> {
        self.packages
            .iter()
            .map(|(p, v)| format!("{p}=={v}"))
            .collect()
    }
}

impl NodeSdk {
    /// "the AWS SDK for JavaScript v3 (3.1178.0)".
    pub fn describe(&self) -> String {
        format!("the AWS SDK for JavaScript v3 ({})", self.version)
    }

    /// The `package.json` the tree is installed from: exact versions only.
    pub fn package_json(&self) -> String {
        let deps: serde_json::Map<String, serde_json::Value> = self
            .packages
            .iter()
            .map(|(p, v)| (p.to_string(), serde_json::Value::from(*v)))
            .collect();
        serde_json::json!({
            "name": "lambent-aws-sdk",
            "private": true,
            "description": "The AWS SDK lambent shows Node.js functions, as AWS's runtime includes it.",
            "dependencies": deps,
        })
        .to_string()
    }
}

/// The SDK cache in a runtimes directory.
#[derive(Debug, Clone)]
pub struct SdkCache {
    root: PathBuf,
}

impl SdkCache {
    pub fn new(root: &Path) -> SdkCache {
        SdkCache {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a Python set's packages are (importable from this directory).
    pub fn python_tree(&self, sdk: &PythonSdk) -> PathBuf {
        self.root.join("sdk").join("python").join(sdk.boto3)
    }

    /// Where the Node.js SDK is installed (its `package.json` and `node_modules`).
    pub fn node_tree(&self) -> PathBuf {
        self.root.join("sdk").join("node").join(NODE_SDK.version)
    }

    /// The Node.js SDK's `node_modules`, which `NODE_PATH` names.
    pub fn node_modules(&self) -> PathBuf {
        self.node_tree().join("node_modules")
    }

    /// The file that says the interpreter with `cache_tag` has compiled `tree`.
    pub fn compiled_marker(tree: &Path, cache_tag: &str) -> PathBuf {
        tree.join(format!(".lambent-compiled-{cache_tag}"))
    }

    /// The installed Python tree for Python 3.`minor`, if it is installed.
    pub fn installed_python(&self, minor: u32) -> Option<PathBuf> {
        let tree = self.python_tree(python_sdk_for(minor)?);
        tree.join("boto3").is_dir().then_some(tree)
    }

    /// The installed Node.js `node_modules`, if it is installed.
    pub fn installed_node(&self) -> Option<PathBuf> {
        let modules = self.node_modules();
        modules.join("@aws-sdk").is_dir().then_some(modules)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_python_minor_has_one_set() {
        for minor in super::super::interpreters::PYTHON_MINORS {
            let sets = PYTHON_SDKS
                .iter()
                .filter(|s| s.minors.contains(&minor))
                .count();
            assert_eq!(sets, 1, "python3.{minor}");
        }
        assert_eq!(python_sdk_for(9).map(|s| s.python_version), Some("3.9"));
        assert_eq!(python_sdk_for(14).map(|s| s.python_version), Some("3.10"));
    }

    #[test]
    fn sets_pin_boto3_and_botocore_together() {
        for sdk in PYTHON_SDKS {
            let pin = |name: &str| sdk.packages.iter().find(|(p, _)| *p == name).map(|p| p.1);
            assert_eq!(pin("boto3"), Some(sdk.boto3));
            assert_eq!(pin("botocore"), Some(sdk.boto3));
            for p in [
                "s3transfer",
                "jmespath",
                "python-dateutil",
                "urllib3",
                "six",
            ] {
                assert!(pin(p).is_some(), "{} lacks {p}", sdk.boto3);
            }
        }
    }

    #[test]
    fn the_node_set_has_the_clients_functions_import() {
        let names: Vec<&str> = NODE_SDK.packages.iter().map(|p| p.0).collect();
        for p in [
            "@aws-sdk/client-s3",
            "@aws-sdk/lib-dynamodb",
            "@aws-sdk/lib-storage",
        ] {
            assert!(names.contains(&p), "{p}");
        }
        let json: serde_json::Value = serde_json::from_str(&NODE_SDK.package_json()).unwrap();
        assert_eq!(json["dependencies"]["@aws-sdk/client-s3"], "3.1178.0");
    }
}
