//! When access keys and roles were last used: stamped in memory on the request path and
//! written by [`IamStore::flush_last_used`] on a connection of its own with
//! `synchronous=NORMAL`, so a signed request never waits for an `fsync`.

use super::{now_ms, IamError, IamStore};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;

/// When a key or role was last used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastUsed {
    /// Unix milliseconds.
    pub at: i64,
    /// The service signed for (`s3`, `lambda`); empty for a role.
    pub service: String,
    pub region: String,
}

/// Stamps not yet flushed, by access key id and by role id.
#[derive(Default)]
pub(super) struct Stamps {
    pub(super) keys: HashMap<String, LastUsed>,
    pub(super) roles: HashMap<String, LastUsed>,
}

impl IamStore {
    /// Notes that an access key signed a request; no disk write (see
    /// [`IamStore::flush_last_used`]).
    pub fn record_key_used(&self, key_id: &str, service: &str, region: &str) {
        let stamp = LastUsed {
            at: now_ms(),
            service: service.to_string(),
            region: region.to_string(),
        };
        self.stamps().keys.insert(key_id.to_string(), stamp);
    }

    /// Notes that a role was assumed (or its session used) in `region`; no disk write.
    pub fn record_role_used(&self, role_id: &str, region: &str) {
        let stamp = LastUsed {
            at: now_ms(),
            service: String::new(),
            region: region.to_string(),
        };
        self.stamps().roles.insert(role_id.to_string(), stamp);
    }

    pub(super) fn stamps(&self) -> std::sync::MutexGuard<'_, Stamps> {
        self.stamps.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes the pending last-used stamps in one transaction without an `fsync`
    /// (`synchronous=NORMAL`: a crash of lambent keeps them, a power cut may lose the last
    /// flush). The caller calls it on a timer, about once a minute.
    pub fn flush_last_used(&self) -> Result<(), IamError> {
        let pending = std::mem::take(&mut *self.stamps());
        if pending.keys.is_empty() && pending.roles.is_empty() {
            return Ok(());
        }
        let mut db = self.stamps_db.lock().unwrap_or_else(|e| e.into_inner());
        let mut run = || -> Result<(), IamError> {
            let tx = db.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO last_used (id, at, service, region) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (id) DO UPDATE SET
                         at = excluded.at, service = excluded.service, region = excluded.region",
                )?;
                for (id, s) in pending.keys.iter().chain(pending.roles.iter()) {
                    stmt.execute((id, s.at, &s.service, &s.region))?;
                }
            }
            tx.commit()?;
            Ok(())
        };
        run().map_err(|e| e.at("recording when keys and roles were last used"))
    }

    /// The last-used stamp of a key or role id: the pending one, else the stored one.
    pub(super) fn last_used(
        &self,
        tx: &Connection,
        id: &str,
    ) -> Result<Option<LastUsed>, IamError> {
        {
            let stamps = self.stamps();
            if let Some(s) = stamps.keys.get(id).or_else(|| stamps.roles.get(id)) {
                return Ok(Some(s.clone()));
            }
        }
        Ok(tx
            .query_row(
                "SELECT at, service, region FROM last_used WHERE id = ?1",
                [id],
                |r| {
                    Ok(LastUsed {
                        at: r.get(0)?,
                        service: r.get(1)?,
                        region: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }
}

impl Drop for IamStore {
    fn drop(&mut self) {
        // Best effort: a stamp is a convenience, not state anyone relies on.
        let _ = self.flush_last_used();
    }
}
