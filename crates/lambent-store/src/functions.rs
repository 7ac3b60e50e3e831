//! Function records: everything the control plane knows about one function, stored as one
//! row so that each change is a single atomic write.

use crate::{Store, StoreError};
use lambent_aws::lambda::model::{AliasConfiguration, EventInvokeConfig, FunctionConfiguration};
use lambent_aws::lambda::permission::ResourcePolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One function: `$LATEST`, its published versions, aliases, tags and concurrency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionRecord {
    pub latest: FunctionConfiguration,
    /// Published versions by number.
    #[serde(default)]
    pub versions: BTreeMap<u64, FunctionConfiguration>,
    /// The number the next published version gets; numbers are never reused.
    pub next_version: u64,
    /// The `RevisionId` `$LATEST` had when the newest version was published from it: while
    /// it is unchanged, publishing again returns that version instead of a copy.
    #[serde(default)]
    pub published_revision: Option<String>,
    #[serde(default)]
    pub aliases: BTreeMap<String, AliasConfiguration>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Provisioned concurrency by qualifier (a version number or an alias name).
    #[serde(default)]
    pub provisioned: BTreeMap<String, ProvisionedConfig>,
    /// Asynchronous invocation settings by qualifier (`$LATEST`, a version number or an
    /// alias name).
    #[serde(default)]
    pub event_invoke: BTreeMap<String, EventInvokeConfig>,
    /// Resource-based policies (AddPermission) by qualifier (`$LATEST` for the unqualified
    /// function, a version number or an alias name); publishing a version copies none.
    #[serde(default)]
    pub policies: BTreeMap<String, ResourcePolicy>,
    /// PutFunctionRecursionConfig's `Allow`: recursive loops are not stopped.
    #[serde(default)]
    pub recursion_allowed: bool,
}

/// PutProvisionedConcurrencyConfig's request, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisionedConfig {
    pub requested: u32,
    pub last_modified: String,
}

impl Store {
    /// Every stored function, for loading the control plane at start-up.
    pub fn functions(&self) -> Result<Vec<FunctionRecord>, StoreError> {
        let db = self.db();
        let mut stmt = db
            .prepare("SELECT name, record FROM functions ORDER BY name")
            .map_err(|source| StoreError::Sql {
                step: "listing functions",
                source,
            })?;
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|source| StoreError::Sql {
                step: "listing functions",
                source,
            })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, json) = row.map_err(|source| StoreError::Sql {
                step: "reading a function row",
                source,
            })?;
            let record = serde_json::from_str(&json)
                .map_err(|source| StoreError::Decode { name, source })?;
            out.push(record);
        }
        Ok(out)
    }

    /// Writes (inserts or replaces) a function's record, committed on return.
    pub fn put_function(&self, record: &FunctionRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(record).map_err(|source| StoreError::Decode {
            name: record.latest.function_name.clone(),
            source,
        })?;
        self.db()
            .execute(
                "INSERT INTO functions (name, record) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET record = excluded.record",
                (&record.latest.function_name, &json),
            )
            .map_err(|source| StoreError::Sql {
                step: "writing a function",
                source,
            })?;
        Ok(())
    }

    pub fn delete_function(&self, name: &str) -> Result<(), StoreError> {
        self.db()
            .execute("DELETE FROM functions WHERE name = ?1", [name])
            .map_err(|source| StoreError::Sql {
                step: "deleting a function",
                source,
            })?;
        Ok(())
    }
}

impl FunctionRecord {
    /// The configuration of `$LATEST` or of a published version number.
    pub fn version(&self, version: &str) -> Option<&FunctionConfiguration> {
        if version == "$LATEST" {
            return Some(&self.latest);
        }
        self.versions.get(&version.parse::<u64>().ok()?)
    }
}
