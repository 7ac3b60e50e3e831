//! OpenID Connect identity providers: the issuers whose tokens AssumeRoleWithWebIdentity
//! accepts, each with the audiences (client ids) it may be used for. Named by their URL
//! without the scheme (`arn:aws:iam::A:oidc-provider/HOST/PATH`), one per URL.

use super::{now_ms, EntityKind, IamError, IamStore};
use rusqlite::OptionalExtension;

/// At most this many client ids per provider, and thumbprints (AWS's quotas).
pub const MAX_CLIENT_IDS: usize = 100;
pub const MAX_THUMBPRINTS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    pub arn: String,
    /// As created, with its scheme (`https://issuer.example.com/path`).
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created: i64,
}

/// The provider ARN's last part: the URL without its scheme and trailing slash.
pub fn provider_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.trim_end_matches('/')
}

fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(OidcProvider, String, String)> {
    Ok((
        OidcProvider {
            arn: r.get(0)?,
            url: r.get(1)?,
            client_ids: Vec::new(),
            thumbprints: Vec::new(),
            created: r.get(4)?,
        },
        r.get(2)?,
        r.get(3)?,
    ))
}

fn decode(row: (OidcProvider, String, String)) -> Result<OidcProvider, IamError> {
    let (mut p, ids, prints) = row;
    let list = |text: &str| {
        serde_json::from_str::<Vec<String>>(text).map_err(|e| IamError::Corrupt {
            what: format!("OIDC provider {}: {e}", p.arn),
        })
    };
    p.client_ids = list(&ids)?;
    p.thumbprints = list(&prints)?;
    Ok(p)
}

fn encode(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".into())
}

fn limits(client_ids: &[String], thumbprints: &[String]) -> Result<(), IamError> {
    if client_ids.len() > MAX_CLIENT_IDS || thumbprints.len() > MAX_THUMBPRINTS {
        return Err(if client_ids.len() > MAX_CLIENT_IDS {
            IamError::LimitExceeded {
                quota: "client IDs per OpenID Connect provider",
                limit: MAX_CLIENT_IDS as u32,
            }
        } else {
            IamError::LimitExceeded {
                quota: "thumbprints per OpenID Connect provider",
                limit: MAX_THUMBPRINTS as u32,
            }
        });
    }
    Ok(())
}

const COLUMNS: &str = "arn, url, client_ids, thumbprints, created";

/// The provider `arn`, or `NoSuchEntity`.
fn find(tx: &rusqlite::Transaction<'_>, arn: &str) -> Result<OidcProvider, IamError> {
    let row = tx
        .query_row(
            &format!("SELECT {COLUMNS} FROM oidc_providers WHERE arn = ?1"),
            [arn],
            from_row,
        )
        .optional()?;
    match row {
        Some(row) => decode(row),
        None => Err(IamError::NoSuchEntity {
            kind: EntityKind::OidcProvider,
            name: arn.to_string(),
        }),
    }
}

impl IamStore {
    /// The ARN a provider for `url` has in this account.
    pub fn oidc_provider_arn(&self, url: &str) -> String {
        format!(
            "arn:aws:iam::{}:oidc-provider/{}",
            self.account,
            provider_host(url)
        )
    }

    pub fn create_oidc_provider(
        &self,
        url: &str,
        client_ids: &[String],
        thumbprints: &[String],
    ) -> Result<OidcProvider, IamError> {
        limits(client_ids, thumbprints)?;
        let mut ids: Vec<String> = Vec::new();
        for id in client_ids {
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        let provider = OidcProvider {
            arn: self.oidc_provider_arn(url),
            url: url.to_string(),
            client_ids: ids,
            thumbprints: thumbprints.to_vec(),
            created: now_ms(),
        };
        self.write("creating an OIDC provider", |tx| {
            let exists: Option<String> = tx
                .query_row(
                    "SELECT arn FROM oidc_providers WHERE arn = ?1",
                    [&provider.arn],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(IamError::AlreadyExists {
                    kind: EntityKind::OidcProvider,
                    name: url.to_string(),
                });
            }
            tx.execute(
                "INSERT INTO oidc_providers (arn, account, url, client_ids, thumbprints, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                (
                    &provider.arn,
                    &self.account,
                    &provider.url,
                    encode(&provider.client_ids),
                    encode(&provider.thumbprints),
                    provider.created,
                ),
            )?;
            Ok(())
        })?;
        Ok(provider)
    }

    pub fn oidc_provider(&self, arn: &str) -> Result<OidcProvider, IamError> {
        self.read("reading an OIDC provider", |tx| find(tx, arn))
    }

    /// Every provider of the account, by ARN (AWS does not page this listing).
    pub fn list_oidc_providers(&self) -> Result<Vec<OidcProvider>, IamError> {
        self.read("listing OIDC providers", |tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM oidc_providers WHERE account = ?1 ORDER BY arn"
            ))?;
            let rows = stmt.query_map([&self.account], from_row)?;
            rows.map(|r| decode(r?)).collect()
        })
    }

    pub fn delete_oidc_provider(&self, arn: &str) -> Result<(), IamError> {
        self.write("deleting an OIDC provider", |tx| {
            let n = tx.execute("DELETE FROM oidc_providers WHERE arn = ?1", [arn])?;
            if n == 0 {
                return Err(IamError::NoSuchEntity {
                    kind: EntityKind::OidcProvider,
                    name: arn.to_string(),
                });
            }
            Ok(())
        })
    }

    /// Changes a provider's client ids or thumbprints with `change`, within one transaction.
    pub fn update_oidc_provider(
        &self,
        arn: &str,
        change: impl FnOnce(&mut OidcProvider),
    ) -> Result<(), IamError> {
        self.write("updating an OIDC provider", |tx| {
            let mut provider = find(tx, arn)?;
            change(&mut provider);
            limits(&provider.client_ids, &provider.thumbprints)?;
            tx.execute(
                "UPDATE oidc_providers SET client_ids = ?2, thumbprints = ?3 WHERE arn = ?1",
                (
                    arn,
                    encode(&provider.client_ids),
                    encode(&provider.thumbprints),
                ),
            )?;
            Ok(())
        })
    }
}
