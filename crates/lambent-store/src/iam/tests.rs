use super::*;

const ACCOUNT: &str = "123456789012";
const DOC: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const BASIC: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

fn open() -> (tempfile::TempDir, IamStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = IamStore::open(dir.path(), ACCOUNT).unwrap();
    (dir, store)
}

fn all() -> Paging {
    Paging::default()
}

fn is_id(id: &str, prefix: &str, len: usize) -> bool {
    id.len() == prefix.len() + len
        && id.starts_with(prefix)
        && id[prefix.len()..]
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn role(name: &str) -> NewRole {
    NewRole {
        name: name.into(),
        trust_policy: TRUST.into(),
        ..NewRole::default()
    }
}

fn policy(name: &str) -> NewPolicy {
    NewPolicy {
        name: name.into(),
        document: DOC.into(),
        ..NewPolicy::default()
    }
}

fn local_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{name}")
}

fn seed(store: &IamStore) {
    let admin =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    store
        .seed_aws_managed(&[
            (BASIC, "AWSLambdaBasicExecutionRole", "/service-role/", DOC),
            (
                "arn:aws:iam::aws:policy/AdministratorAccess",
                "AdministratorAccess",
                "/",
                admin,
            ),
        ])
        .unwrap();
}

#[test]
fn users_round_trip_with_ids_arns_tags_and_case_insensitive_names() {
    let (_dir, store) = open();
    let user = store
        .create_user("Alice", Some("/eng/"), None, &[Tag::new("team", "a")])
        .unwrap();
    assert!(is_id(&user.id, "AIDA", 17), "{}", user.id);
    assert_eq!(user.arn, "arn:aws:iam::123456789012:user/eng/Alice");
    assert_eq!(store.user("alice").unwrap(), user);
    assert_eq!(store.user_by_id(&user.id).unwrap(), user);
    assert!(matches!(
        store.create_user("ALICE", None, None, &[]),
        Err(IamError::AlreadyExists {
            kind: EntityKind::User,
            ..
        })
    ));
    let moved = store
        .update_user("alice", Some("Alicia"), Some("/ops/"))
        .unwrap();
    assert_eq!(moved.arn, "arn:aws:iam::123456789012:user/ops/Alicia");
    assert_eq!(moved.id, user.id);
    assert_eq!(moved.tags, user.tags);
    assert!(matches!(
        store.user("Alice"),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::User,
            ..
        })
    ));
    store.create_user("bob", None, None, &[]).unwrap();
    assert!(matches!(
        store.update_user("bob", Some("ALICIA"), None),
        Err(IamError::AlreadyExists { .. })
    ));
    // A change of case only is a rename of the same user.
    store.update_user("bob", Some("Bob"), None).unwrap();
    store
        .set_user_permissions_boundary("Bob", Some(BASIC))
        .unwrap();
    assert_eq!(
        store.user("bob").unwrap().permissions_boundary.as_deref(),
        Some(BASIC)
    );
    store.delete_user("Alicia").unwrap();
    // A permissions boundary does not stop a delete.
    store.delete_user("bob").unwrap();
    assert!(store.list_users(None, &all()).unwrap().items.is_empty());
}

#[test]
fn listings_page_with_markers_and_path_prefixes() {
    let (_dir, store) = open();
    for name in ["carol", "Bob", "alice", "dave", "Eve"] {
        let path = if name == "dave" { "/x/" } else { "/" };
        store.create_user(name, Some(path), None, &[]).unwrap();
    }
    let mut names = Vec::new();
    let mut paging = Paging::first(2);
    loop {
        let page = store.list_users(None, &paging).unwrap();
        assert!(page.items.len() <= 2);
        names.extend(page.items.into_iter().map(|u| u.name));
        match page.marker {
            Some(m) => paging.marker = Some(m),
            None => break,
        }
    }
    assert_eq!(names, ["alice", "Bob", "carol", "dave", "Eve"]);
    let under_x = store.list_users(Some("/x/"), &all()).unwrap();
    assert_eq!(under_x.items.len(), 1);
    assert_eq!(under_x.marker, None);
    let exact = store.list_users(None, &Paging::first(5)).unwrap();
    assert_eq!((exact.items.len(), exact.marker), (5, None));

    for name in ["r3", "r1", "r2"] {
        store.create_role(&role(name)).unwrap();
    }
    let first = store.list_roles(None, &Paging::first(2)).unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = store
        .list_roles(
            None,
            &Paging {
                marker: first.marker,
                max_items: Some(2),
            },
        )
        .unwrap();
    assert_eq!(rest.items[0].name, "r3");
    assert_eq!(rest.marker, None);
}

#[test]
fn access_keys_limits_status_lookup_and_redacted_debug() {
    let (_dir, store) = open();
    let user = store.create_user("ci", None, None, &[]).unwrap();
    let key = store.create_access_key("CI").unwrap();
    assert!(is_id(&key.id, "AKIA", 16), "{}", key.id);
    assert_eq!(key.secret.len(), 40);
    assert!(key
        .secret
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/'));
    assert_eq!(key.user_arn, user.arn);
    let debug = format!("{key:?}");
    assert!(!debug.contains(&key.secret), "{debug}");
    assert!(debug.contains(&key.id));

    let second = store.create_access_key("ci").unwrap();
    assert_eq!(store.access_key_count("ci").unwrap(), 2);
    assert!(matches!(
        store.create_access_key("ci"),
        Err(IamError::LimitExceeded { limit: 2, .. })
    ));
    assert_eq!(store.access_key(&key.id).unwrap(), Some(key.clone()));
    assert_eq!(store.access_key("AKIANOTAKEY000000000").unwrap(), None);
    assert_eq!(store.active_access_keys().unwrap().len(), 2);

    store
        .update_access_key_status("ci", &key.id, KeyStatus::Inactive)
        .unwrap();
    let listed = store.list_access_keys("ci").unwrap();
    assert_eq!(listed.len(), 2);
    let inactive = listed.iter().find(|k| k.id == key.id).unwrap();
    assert_eq!(inactive.status, KeyStatus::Inactive);
    let active = store.active_access_keys().unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].id, second.id);

    // Someone else's key is not found under this user.
    store.create_user("other", None, None, &[]).unwrap();
    assert!(matches!(
        store.delete_access_key("other", &key.id),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::AccessKey,
            ..
        })
    ));
    assert!(matches!(
        store.delete_user("ci"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::AccessKeys,
            ..
        })
    ));
    store.delete_access_key("ci", &key.id).unwrap();
    store.delete_access_key("ci", &second.id).unwrap();
    store.delete_user("ci").unwrap();
}

#[test]
fn last_used_is_kept_in_memory_and_flushed_without_a_generation_bump() {
    let dir = tempfile::tempdir().unwrap();
    let (key_id, role_id) = {
        let store = IamStore::open(dir.path(), ACCOUNT).unwrap();
        store.create_user("u", None, None, &[]).unwrap();
        let key = store.create_access_key("u").unwrap();
        let role = store.create_role(&role("r")).unwrap();
        assert_eq!(store.access_key_last_used(&key.id).unwrap().1, None);
        let before = store.generation();
        store.record_key_used(&key.id, "s3", "eu-west-1");
        store.record_role_used(&role.id, "us-east-1");
        let (owner, used) = store.access_key_last_used(&key.id).unwrap();
        assert_eq!(owner, "u");
        assert_eq!(used.unwrap().service, "s3");
        store.flush_last_used().unwrap();
        assert_eq!(store.generation(), before);
        store.record_key_used(&key.id, "lambda", "eu-west-1");
        // Dropping the store flushes what is pending.
        (key.id, role.id)
    };
    let store = IamStore::open(dir.path(), ACCOUNT).unwrap();
    let used = store.access_key_last_used(&key_id).unwrap().1.unwrap();
    assert_eq!(
        (used.service.as_str(), used.region.as_str()),
        ("lambda", "eu-west-1")
    );
    let role = store.role("r").unwrap();
    assert_eq!(role.id, role_id);
    assert_eq!(role.last_used.unwrap().region, "us-east-1");
}

#[test]
fn groups_and_memberships() {
    let (_dir, store) = open();
    let group = store.create_group("Devs", None).unwrap();
    assert!(is_id(&group.id, "AGPA", 17));
    assert_eq!(group.arn, "arn:aws:iam::123456789012:group/Devs");
    assert!(matches!(
        store.create_group("devs", None),
        Err(IamError::AlreadyExists { .. })
    ));
    store.create_user("u1", None, None, &[]).unwrap();
    store.create_user("u2", None, None, &[]).unwrap();
    store.add_user_to_group("devs", "u2").unwrap();
    store.add_user_to_group("devs", "u1").unwrap();
    store.add_user_to_group("devs", "u1").unwrap();
    let (g, users) = store.group_users("devs", &all()).unwrap();
    assert_eq!(g, group);
    let names: Vec<_> = users.items.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["u1", "u2"]);
    let paged = store.group_users("devs", &Paging::first(1)).unwrap().1;
    assert_eq!(paged.items.len(), 1);
    assert!(paged.marker.is_some());
    assert_eq!(
        store.list_groups_for_user("u1", &all()).unwrap().items,
        vec![group.clone()]
    );
    assert!(matches!(
        store.delete_group("devs"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::GroupMembers,
            ..
        })
    ));
    assert!(matches!(
        store.delete_user("u1"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::GroupMemberships,
            ..
        })
    ));
    let renamed = store
        .update_group("devs", Some("Builders"), Some("/b/"))
        .unwrap();
    assert_eq!(renamed.arn, "arn:aws:iam::123456789012:group/b/Builders");
    assert_eq!(
        store.list_groups_for_user("u2", &all()).unwrap().items[0].name,
        "Builders"
    );
    store.remove_user_from_group("builders", "u1").unwrap();
    store.remove_user_from_group("builders", "u2").unwrap();
    store.delete_group("builders").unwrap();
    assert!(store.list_groups(None, &all()).unwrap().items.is_empty());

    for i in 0..10 {
        store.create_group(&format!("g{i}"), None).unwrap();
        store.add_user_to_group(&format!("g{i}"), "u1").unwrap();
    }
    store.create_group("g10", None).unwrap();
    assert!(matches!(
        store.add_user_to_group("g10", "u1"),
        Err(IamError::LimitExceeded { limit: 10, .. })
    ));
    assert_eq!(
        store
            .list_groups_for_user("u1", &all())
            .unwrap()
            .items
            .len(),
        10
    );
}

#[test]
fn roles_round_trip_and_update() {
    let (_dir, store) = open();
    let created = store
        .create_role(&NewRole {
            name: "App".into(),
            path: Some("/service-role/".into()),
            trust_policy: TRUST.into(),
            description: Some("the app".into()),
            max_session_duration: Some(7200),
            permissions_boundary: None,
            tags: vec![Tag::new("env", "prod")],
        })
        .unwrap();
    assert!(is_id(&created.id, "AROA", 17));
    assert_eq!(
        created.arn,
        "arn:aws:iam::123456789012:role/service-role/App"
    );
    assert_eq!(store.role("app").unwrap(), created);
    assert_eq!(
        store.create_role(&role("d")).unwrap().max_session_duration,
        3600
    );
    assert!(matches!(
        store.create_role(&role("APP")),
        Err(IamError::AlreadyExists { .. })
    ));
    assert!(matches!(
        store.create_role(&NewRole {
            max_session_duration: Some(100),
            ..role("short")
        }),
        Err(IamError::InvalidInput { .. })
    ));
    let updated = store
        .update_role(
            "app",
            &RoleUpdate {
                description: Some("new".into()),
                max_session_duration: Some(43200),
            },
        )
        .unwrap();
    assert_eq!(updated.description.as_deref(), Some("new"));
    assert_eq!(updated.max_session_duration, 43200);
    store.update_trust_policy("app", "{}").unwrap();
    assert_eq!(store.role("app").unwrap().trust_policy, "{}");
    store
        .set_role_permissions_boundary("app", Some(BASIC))
        .unwrap();
    assert_eq!(
        store.role("app").unwrap().permissions_boundary.as_deref(),
        Some(BASIC)
    );
    store.set_role_permissions_boundary("app", None).unwrap();
    assert_eq!(store.role("app").unwrap().permissions_boundary, None);
    store.delete_role("app").unwrap();
    assert!(matches!(
        store.role("app"),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::Role,
            ..
        })
    ));
}

#[test]
fn tags_upsert_in_order_remove_and_cap_at_fifty() {
    let (_dir, store) = open();
    store.create_role(&role("r")).unwrap();
    store
        .tag(
            EntityKind::Role,
            "r",
            &[Tag::new("b", "1"), Tag::new("a", "2")],
        )
        .unwrap();
    store
        .tag(EntityKind::Role, "r", &[Tag::new("B", "3")])
        .unwrap();
    let tags = store
        .list_tags(EntityKind::Role, "r", &all())
        .unwrap()
        .items;
    assert_eq!(tags, vec![Tag::new("B", "3"), Tag::new("a", "2")]);
    let first = store
        .list_tags(EntityKind::Role, "r", &Paging::first(1))
        .unwrap();
    let second = store
        .list_tags(
            EntityKind::Role,
            "r",
            &Paging {
                marker: first.marker,
                max_items: Some(1),
            },
        )
        .unwrap();
    assert_eq!(second.items, vec![Tag::new("a", "2")]);
    store.untag(EntityKind::Role, "r", &["b".into()]).unwrap();
    assert_eq!(store.role("r").unwrap().tags, vec![Tag::new("a", "2")]);

    let many: Vec<_> = (0..50).map(|i| Tag::new(&format!("k{i}"), "v")).collect();
    assert!(matches!(
        store.tag(EntityKind::Role, "r", &many),
        Err(IamError::LimitExceeded { limit: 50, .. })
    ));
    // Refused whole.
    assert_eq!(store.role("r").unwrap().tags.len(), 1);

    store.create_policy(&policy("p")).unwrap();
    store
        .tag(EntityKind::Policy, &local_arn("p"), &[Tag::new("x", "y")])
        .unwrap();
    assert_eq!(
        store.policy(&local_arn("p")).unwrap().tags,
        vec![Tag::new("x", "y")]
    );
    assert!(matches!(
        store.tag(EntityKind::User, "nobody", &[Tag::new("x", "y")]),
        Err(IamError::NoSuchEntity { .. })
    ));
}

#[test]
fn policy_versions_keep_five_and_never_reuse_a_number() {
    let (_dir, store) = open();
    let arn = local_arn("p");
    let created = store.create_policy(&policy("p")).unwrap();
    assert!(is_id(&created.id, "ANPA", 17));
    assert_eq!(created.arn, arn);
    assert_eq!(created.default_version, "v1");
    assert!(!created.aws_managed);
    assert!(matches!(
        store.create_policy(&NewPolicy {
            path: Some("/other/".into()),
            ..policy("P")
        }),
        Err(IamError::AlreadyExists { .. })
    ));
    for n in 2..=5 {
        let v = store
            .create_policy_version(&arn, &format!("{{\"n\":{n}}}"), n == 3)
            .unwrap();
        assert_eq!(v.version_id, format!("v{n}"));
    }
    assert_eq!(store.policy(&arn).unwrap().default_version, "v3");
    assert!(matches!(
        store.create_policy_version(&arn, "{}", false),
        Err(IamError::LimitExceeded { limit: 5, .. })
    ));
    assert!(matches!(
        store.delete_policy_version(&arn, "v3"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::DefaultVersion,
            ..
        })
    ));
    store.delete_policy_version(&arn, "v5").unwrap();
    let v6 = store.create_policy_version(&arn, "{}", true).unwrap();
    assert_eq!(v6.version_id, "v6");
    let ids: Vec<_> = store
        .list_policy_versions(&arn, &all())
        .unwrap()
        .items
        .into_iter()
        .map(|v| (v.version_id, v.is_default))
        .collect();
    assert_eq!(
        ids,
        [
            ("v6".to_string(), true),
            ("v4".to_string(), false),
            ("v3".to_string(), false),
            ("v2".to_string(), false),
            ("v1".to_string(), false)
        ]
    );
    let page = store.list_policy_versions(&arn, &Paging::first(2)).unwrap();
    let next = store
        .list_policy_versions(
            &arn,
            &Paging {
                marker: page.marker,
                max_items: Some(10),
            },
        )
        .unwrap();
    assert_eq!(next.items[0].version_id, "v3");
    assert_eq!(
        store.policy_version(&arn, "v2").unwrap().document,
        "{\"n\":2}"
    );
    assert!(matches!(
        store.policy_version(&arn, "v5"),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::PolicyVersion,
            ..
        })
    ));
    store.set_default_policy_version(&arn, "v1").unwrap();
    assert_eq!(store.policy_version(&arn, "v1").unwrap().document, DOC);
    assert!(matches!(
        store.delete_policy(&arn),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::NonDefaultVersions,
            ..
        })
    ));
    for v in ["v2", "v3", "v4", "v6"] {
        store.delete_policy_version(&arn, v).unwrap();
    }
    store.delete_policy(&arn).unwrap();
    assert!(matches!(
        store.policy(&arn),
        Err(IamError::NoSuchEntity { .. })
    ));
}

#[test]
fn aws_managed_policies_are_seeded_listed_and_unmodifiable() {
    let (_dir, store) = open();
    seed(&store);
    seed(&store);
    let basic = store.policy(BASIC).unwrap();
    assert!(basic.aws_managed);
    assert_eq!(basic.path, "/service-role/");
    assert_eq!(store.policy_version(BASIC, "v1").unwrap().document, DOC);
    store
        .seed_aws_managed(&[(BASIC, "AWSLambdaBasicExecutionRole", "/service-role/", "{}")])
        .unwrap();
    assert_eq!(store.policy_version(BASIC, "v1").unwrap().document, "{}");
    assert_eq!(store.policy(BASIC).unwrap().id, basic.id);
    assert!(matches!(
        store.delete_policy(BASIC),
        Err(IamError::Unmodifiable { .. })
    ));
    assert!(matches!(
        store.create_policy_version(BASIC, "{}", true),
        Err(IamError::Unmodifiable { .. })
    ));
    // The account may have a policy of the same name as one of AWS's.
    store.create_policy(&policy("AdministratorAccess")).unwrap();
    store.create_policy(&policy("mine")).unwrap();
    let names = |scope, only_attached| -> Vec<(String, bool)> {
        store
            .list_policies(scope, only_attached, None, &all())
            .unwrap()
            .items
            .into_iter()
            .map(|p| (p.name, p.aws_managed))
            .collect()
    };
    assert_eq!(
        names(PolicyScope::All, false),
        [
            ("AdministratorAccess".to_string(), false),
            ("AdministratorAccess".to_string(), true),
            ("AWSLambdaBasicExecutionRole".to_string(), true),
            ("mine".to_string(), false)
        ]
    );
    assert_eq!(names(PolicyScope::Local, false).len(), 2);
    assert_eq!(names(PolicyScope::Aws, false).len(), 2);
    assert!(names(PolicyScope::All, true).is_empty());
    // Paging one at a time walks the same order, including the two of one name.
    let mut walked = Vec::new();
    let mut paging = Paging::first(1);
    loop {
        let page = store
            .list_policies(PolicyScope::All, false, None, &paging)
            .unwrap();
        walked.extend(page.items.into_iter().map(|p| (p.name, p.aws_managed)));
        match page.marker {
            Some(m) => paging.marker = Some(m),
            None => break,
        }
    }
    assert_eq!(walked, names(PolicyScope::All, false));
    let service_role = store
        .list_policies(PolicyScope::All, false, Some("/service-role/"), &all())
        .unwrap();
    assert_eq!(service_role.items.len(), 1);
}

#[test]
fn attachments_inline_policies_and_their_delete_conflicts() {
    let (_dir, store) = open();
    seed(&store);
    store.create_role(&role("r")).unwrap();
    store.create_user("u", None, None, &[]).unwrap();
    store.create_group("g", None).unwrap();
    let arn = local_arn("p");
    store.create_policy(&policy("p")).unwrap();
    store.attach_policy(EntityKind::Role, "r", BASIC).unwrap();
    store.attach_policy(EntityKind::Role, "R", &arn).unwrap();
    store.attach_policy(EntityKind::Role, "r", &arn).unwrap();
    store.attach_policy(EntityKind::User, "u", &arn).unwrap();
    store.attach_policy(EntityKind::Group, "g", &arn).unwrap();
    assert!(matches!(
        store.attach_policy(EntityKind::Role, "r", &local_arn("nope")),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::Policy,
            ..
        })
    ));
    let attached = store
        .list_attached_policies(EntityKind::Role, "r", None, &all())
        .unwrap();
    assert_eq!(
        attached.items,
        vec![
            AttachedPolicy {
                name: "AWSLambdaBasicExecutionRole".into(),
                arn: BASIC.into()
            },
            AttachedPolicy {
                name: "p".into(),
                arn: arn.clone()
            },
        ]
    );
    let first = store
        .list_attached_policies(EntityKind::Role, "r", None, &Paging::first(1))
        .unwrap();
    let rest = store
        .list_attached_policies(
            EntityKind::Role,
            "r",
            None,
            &Paging {
                marker: first.marker,
                max_items: None,
            },
        )
        .unwrap();
    assert_eq!(rest.items[0].arn, arn);
    assert_eq!(store.policy(&arn).unwrap().attachment_count, 3);
    let entities = store
        .list_entities_for_policy(&arn, None, None, &all())
        .unwrap();
    let kinds: Vec<_> = entities
        .items
        .iter()
        .map(|e| (e.kind, e.name.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (EntityKind::Group, "g"),
            (EntityKind::Role, "r"),
            (EntityKind::User, "u")
        ]
    );
    let roles_only = store
        .list_entities_for_policy(&arn, Some(EntityKind::Role), None, &all())
        .unwrap();
    assert_eq!(roles_only.items.len(), 1);
    assert_eq!(
        store
            .list_policies(PolicyScope::All, true, None, &all())
            .unwrap()
            .items
            .len(),
        2
    );

    assert!(matches!(
        store.delete_policy(&arn),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::PolicyAttached,
            ..
        })
    ));
    assert!(matches!(
        store.delete_role("r"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::AttachedPolicies,
            ..
        })
    ));
    assert!(matches!(
        store.delete_user("u"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::AttachedPolicies,
            ..
        })
    ));
    assert!(matches!(
        store.delete_group("g"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::AttachedPolicies,
            ..
        })
    ));
    store.detach_policy(EntityKind::Role, "r", BASIC).unwrap();
    assert!(matches!(
        store.detach_policy(EntityKind::Role, "r", BASIC),
        Err(IamError::NoSuchEntity { .. })
    ));
    store.detach_policy(EntityKind::Role, "r", &arn).unwrap();

    store
        .put_inline_policy(EntityKind::Role, "r", "Logs", "{\"a\":1}")
        .unwrap();
    store
        .put_inline_policy(EntityKind::Role, "r", "logs", "{\"a\":2}")
        .unwrap();
    store
        .put_inline_policy(EntityKind::Role, "r", "Another", "{}")
        .unwrap();
    assert_eq!(
        store.inline_policy(EntityKind::Role, "r", "LOGS").unwrap(),
        ("logs".to_string(), "{\"a\":2}".to_string())
    );
    assert_eq!(
        store
            .list_inline_policies(EntityKind::Role, "r", &all())
            .unwrap()
            .items,
        ["Another", "logs"]
    );
    assert!(matches!(
        store.delete_role("r"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::InlinePolicies,
            ..
        })
    ));
    store
        .delete_inline_policy(EntityKind::Role, "r", "another")
        .unwrap();
    store
        .delete_inline_policy(EntityKind::Role, "r", "logs")
        .unwrap();
    assert!(matches!(
        store.inline_policy(EntityKind::Role, "r", "logs"),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::RolePolicy,
            ..
        })
    ));
    store.delete_role("r").unwrap();

    store
        .put_inline_policy(EntityKind::Group, "g", "x", "{}")
        .unwrap();
    store.detach_policy(EntityKind::Group, "g", &arn).unwrap();
    assert!(matches!(
        store.delete_group("g"),
        Err(IamError::DeleteConflict {
            reason: ConflictReason::InlinePolicies,
            ..
        })
    ));

    for i in 0..9 {
        let name = format!("q{i}");
        store.create_policy(&policy(&name)).unwrap();
        store
            .attach_policy(EntityKind::User, "u", &local_arn(&name))
            .unwrap();
    }
    store.create_policy(&policy("q9")).unwrap();
    assert!(matches!(
        store.attach_policy(EntityKind::User, "u", &local_arn("q9")),
        Err(IamError::LimitExceeded {
            quota: "PoliciesPerUser",
            limit: 10
        })
    ));
}

#[test]
fn policies_for_a_user_gather_groups_and_the_boundary() {
    let (_dir, store) = open();
    seed(&store);
    let boundary_arn = local_arn("boundary");
    store
        .create_policy(&NewPolicy {
            document: "{\"boundary\":1}".into(),
            ..policy("boundary")
        })
        .unwrap();
    store
        .create_policy_version(&boundary_arn, "{\"boundary\":2}", true)
        .unwrap();
    let user = store
        .create_user("u", None, Some(&boundary_arn), &[Tag::new("team", "x")])
        .unwrap();
    store.create_group("a", None).unwrap();
    store.create_group("b", None).unwrap();
    store.add_user_to_group("b", "u").unwrap();
    store.add_user_to_group("a", "u").unwrap();
    store
        .put_inline_policy(EntityKind::User, "u", "mine", "{\"u\":1}")
        .unwrap();
    store.attach_policy(EntityKind::User, "u", BASIC).unwrap();
    store
        .put_inline_policy(EntityKind::Group, "a", "ga", "{\"g\":\"a\"}")
        .unwrap();
    store
        .put_inline_policy(EntityKind::Group, "b", "gb", "{\"g\":\"b\"}")
        .unwrap();
    let shared = local_arn("p");
    store.create_policy(&policy("p")).unwrap();
    store
        .attach_policy(EntityKind::Group, "a", &shared)
        .unwrap();
    store
        .attach_policy(EntityKind::Group, "b", &shared)
        .unwrap();
    // Attached to the user through two groups and directly: gathered once.
    store.attach_policy(EntityKind::Group, "b", BASIC).unwrap();

    let got = store.policies_for(Principal::User("U")).unwrap();
    assert_eq!(got.arn, user.arn);
    assert_eq!(got.id, user.id);
    assert_eq!(got.tags, vec![Tag::new("team", "x")]);
    assert_eq!(got.generation, store.generation());
    let documents: Vec<_> = got.identity.iter().map(|p| p.document.as_str()).collect();
    assert_eq!(
        documents,
        ["{\"u\":1}", DOC, "{\"g\":\"a\"}", DOC, "{\"g\":\"b\"}"]
    );
    assert_eq!(
        got.identity[2].source,
        PolicySource::Inline {
            owner_kind: EntityKind::Group,
            owner: "a".into(),
            name: "ga".into()
        }
    );
    assert_eq!(
        got.identity[3].source,
        PolicySource::Managed {
            arn: shared.clone(),
            version: "v1".into()
        }
    );
    let boundary = got.boundary.unwrap();
    assert_eq!(boundary.document, "{\"boundary\":2}");

    // A boundary whose policy is gone allows nothing.
    store
        .create_user("orphan", None, Some(&local_arn("gone")), &[])
        .unwrap();
    let orphan = store.policies_for(Principal::User("orphan")).unwrap();
    assert!(orphan.identity.is_empty());
    assert!(matches!(
        orphan.boundary.unwrap().source,
        PolicySource::MissingBoundary { .. }
    ));
    assert!(matches!(
        store.policies_for(Principal::User("nobody")),
        Err(IamError::NoSuchEntity { .. })
    ));
}

#[test]
fn policies_for_a_role() {
    let (_dir, store) = open();
    seed(&store);
    let created = store.create_role(&role("r")).unwrap();
    store.attach_policy(EntityKind::Role, "r", BASIC).unwrap();
    store
        .put_inline_policy(EntityKind::Role, "r", "extra", "{\"x\":1}")
        .unwrap();
    let got = store.policies_for(Principal::Role("r")).unwrap();
    assert_eq!(got.id, created.id);
    assert_eq!(got.arn, created.arn);
    assert_eq!(got.boundary, None);
    let documents: Vec<_> = got.identity.iter().map(|p| p.document.as_str()).collect();
    assert_eq!(documents, ["{\"x\":1}", DOC]);
    assert!(matches!(
        store.policies_for(Principal::Role("nope")),
        Err(IamError::NoSuchEntity {
            kind: EntityKind::Role,
            ..
        })
    ));
}

#[test]
fn every_write_bumps_the_generation_and_failures_and_reads_do_not() {
    let (_dir, store) = open();
    let g0 = store.generation();
    store.create_user("u", None, None, &[]).unwrap();
    let g1 = store.generation();
    assert!(g1 > g0);
    store.user("u").unwrap();
    store.list_users(None, &all()).unwrap();
    assert_eq!(store.generation(), g1);
    assert!(store.create_user("u", None, None, &[]).is_err());
    assert_eq!(store.generation(), g1);
    let key = store.create_access_key("u").unwrap();
    let g2 = store.generation();
    assert!(g2 > g1);
    store
        .update_access_key_status("u", &key.id, KeyStatus::Inactive)
        .unwrap();
    assert!(store.generation() > g2);
}

#[test]
fn the_database_is_private_and_survives_reopening() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    let (user, key) = {
        let store = IamStore::open(dir.path(), ACCOUNT).unwrap();
        let user = store.create_user("u", None, None, &[]).unwrap();
        let key = store.create_access_key("u").unwrap();
        store.create_role(&role("r")).unwrap();
        store.create_policy(&policy("p")).unwrap();
        store
            .create_policy_version(&local_arn("p"), "{}", true)
            .unwrap();
        store
            .attach_policy(EntityKind::Role, "r", &local_arn("p"))
            .unwrap();
        assert_eq!(mode("iam.db"), 0o600);
        assert_eq!(mode("iam.db-wal"), 0o600);
        (user, key)
    };
    // Someone loosened it; opening tightens it again.
    std::fs::set_permissions(
        dir.path().join("iam.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let store = IamStore::open(dir.path(), ACCOUNT).unwrap();
    assert_eq!(mode("iam.db"), 0o600);
    assert_eq!(store.user("u").unwrap(), user);
    assert_eq!(store.access_key(&key.id).unwrap(), Some(key));
    assert_eq!(store.policy(&local_arn("p")).unwrap().default_version, "v2");
    let got = store.policies_for(Principal::Role("r")).unwrap();
    assert_eq!(got.identity[0].document, "{}");
}
