//! One-time upgrades of a data directory made by an earlier lambent.
//!
//! Each upgrade has a name; `<data-dir>/upgrades` lists those done, one per line, and
//! [`run`] does the others, in order, once, at start, before the edge serves a request.
//! On a new directory they find nothing to change and are recorded as done, so a user who
//! later undoes what one of them did (removes a permission it added) is not overruled.
//!
//! Invariant: an upgrade keeps what a data directory could do before it; it is recorded
//! only after it succeeded.

use crate::iam::execution_roles::{self, ExecutionRole};
use crate::lambda::Control;
use anyhow::Context;
use lambent_store::iam::IamStore;
use std::path::Path;

/// The file listing the upgrades done.
pub const UPGRADES_FILE: &str = "upgrades";

/// Notifications configured before S3 asked functions' resource policies (issue 12): each
/// target function gets the permission AWS's console adds for its bucket.
const S3_NOTIFICATION_PERMISSIONS: &str = "s3-notification-permissions";

/// Functions made before Lambda checked execution roles (issue 12) may run as a role IAM
/// never held, or one of another account, and were allowed everything: such a role is
/// moved into this account and created, trusting Lambda, with [`UPGRADE_POLICY`].
const FUNCTION_ROLES: &str = "function-roles";

/// The inline policy an upgraded role gets: everything, as its functions could do before.
/// `lambent doctor` names the roles holding it; the user narrows or deletes it.
pub const UPGRADE_POLICY: &str = "lambent-upgrade";
const EVERYTHING: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// Runs the upgrades `data` has not had.
pub fn run(
    data: &Path,
    control: &Control,
    iam: &IamStore,
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
    if !is_done(FUNCTION_ROLES) {
        function_roles(control, iam)?;
        record(&path, FUNCTION_ROLES)?;
    }
    Ok(())
}

/// The roles an upgrade created that still hold [`UPGRADE_POLICY`], by ARN.
pub fn upgraded_roles(iam: &IamStore) -> Result<Vec<String>, lambent_store::iam::IamError> {
    use lambent_store::iam::{EntityKind, Paging};
    let mut out = Vec::new();
    let mut paging = Paging::first(1000);
    loop {
        let page = iam.list_roles(None, &paging)?;
        for role in page.items {
            let inline =
                iam.list_inline_policies(EntityKind::Role, &role.name, &Paging::first(1000))?;
            if inline.items.iter().any(|p| p == UPGRADE_POLICY) {
                out.push(role.arn);
            }
        }
        match page.marker {
            Some(m) => paging.marker = Some(m),
            None => return Ok(out),
        }
    }
}

fn function_roles(control: &Control, iam: &IamStore) -> anyhow::Result<()> {
    let account = iam.account();
    let own = |role: &str| -> String {
        let mut fields: Vec<&str> = role.splitn(6, ':').collect();
        if fields.len() == 6 {
            fields[4] = account;
        }
        fields.join(":")
    };
    let moved = control
        .rewrite_roles(|role| (role.split(':').nth(4) != Some(account)).then(|| own(role)))
        .context("moving functions' roles into this account")?;
    if !moved.is_empty() {
        tracing::warn!(
            functions = %moved.join(", "),
            "upgrade: these functions named roles of another account; they now run as \
             this account's role of the same name"
        );
    }
    let mut upgraded = Vec::new();
    let mut roles: Vec<String> = control.roles().into_iter().flat_map(|(_, r)| r).collect();
    roles.sort();
    roles.dedup();
    for arn in &roles {
        let (path, name) = execution_roles::path_and_name(arn);
        let created = execution_roles::ensure(
            iam,
            &ExecutionRole {
                path: &path,
                name,
                description: "Created by lambent's upgrade: allowed everything, as before IAM",
                managed: &[],
                inline: &[(UPGRADE_POLICY, EVERYTHING)],
            },
        )
        .with_context(|| format!("creating the role {arn}"))?;
        if created {
            upgraded.push(arn.as_str());
        }
    }
    if !upgraded.is_empty() {
        tracing::warn!(
            roles = %upgraded.join(", "),
            "upgrade: functions ran as these roles before IAM held them; they are created \
             allowing everything (inline policy {UPGRADE_POLICY}): narrow them \
             (`lambent doctor` lists them)"
        );
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
