//! One-time upgrades of a data directory made by an earlier lambent.
//!
//! Each upgrade has a name; `<data-dir>/upgrades` lists those done, one per line, and
//! [`run`] does the others, in order, once, at start, before the edge serves a request.
//! On a new directory they find nothing to change and are recorded as done, so a user who
//! later undoes what one of them did (removes a permission it added) is not overruled.
//!
//! Invariant: an upgrade keeps what a data directory could do before it; it is recorded
//! only after it succeeded.

use anyhow::Context;
use std::path::Path;

/// The file listing the upgrades done.
pub const UPGRADES_FILE: &str = "upgrades";

/// Notifications configured before S3 asked functions' resource policies (issue 12): each
/// target function gets the permission AWS's console adds for its bucket.
const S3_NOTIFICATION_PERMISSIONS: &str = "s3-notification-permissions";

/// Runs the upgrades `data` has not had.
pub fn run(
    data: &Path,
    notifier: &crate::s3::Notifier,
    objects: &lambent_store::objects::ObjectStore,
) -> anyhow::Result<()> {
    let path = data.join(UPGRADES_FILE);
    let done = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let is_done = |name: &str| done.lines().any(|l| l.trim() == name);
    if !is_done(S3_NOTIFICATION_PERMISSIONS) {
        let granted = notifier
            .grant_configured_targets(objects)
            .context("letting S3 invoke the functions bucket notifications name")?;
        if !granted.is_empty() {
            tracing::warn!(
                functions = %granted.join(", "),
                "upgrade: S3 may now invoke these functions for their buckets' notifications \
                 (lambda:AddPermission, as AWS requires)"
            );
        }
        record(&path, S3_NOTIFICATION_PERMISSIONS)?;
    }
    Ok(())
}

/// Appends `name` to the upgrades file, synced, so a crash never forgets an upgrade done.
fn record(path: &Path, name: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(f, "{name}").with_context(|| format!("writing {}", path.display()))?;
    f.sync_all()
        .with_context(|| format!("syncing {}", path.display()))
}
