"""The IAM API (query protocol) driven by boto3 and the aws CLI, with root credentials."""

import json
import uuid

import botocore.exceptions
import pytest

from conftest import error_code, status, unique

TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def doc(action="s3:GetObject", resource="*", effect="Allow", sid=None):
    stmt = {"Effect": effect, "Action": action, "Resource": resource}
    if sid:
        stmt["Sid"] = sid
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


@pytest.fixture(scope="module")
def iam(server):
    return server.client("iam")


def fails(code, fn, *args, **kwargs):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(*args, **kwargs)
    assert error_code(e) == code, e.value.response["Error"]
    return e


def test_user_lifecycle_with_tags(iam):
    name = unique("user")
    u = iam.create_user(UserName=name, Path="/team/", Tags=[{"Key": "team", "Value": "a b"}])["User"]
    assert u["UserName"] == name
    assert u["Path"] == "/team/"
    assert u["UserId"].startswith("AIDA") and len(u["UserId"]) == 21
    assert u["Arn"] == f"arn:aws:iam::000000000000:user/team/{name}"
    assert u["Tags"] == [{"Key": "team", "Value": "a b"}]
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == u["UserId"] and got["CreateDate"] == u["CreateDate"]
    fails("EntityAlreadyExists", iam.create_user, UserName=name)
    iam.tag_user(UserName=name, Tags=[{"Key": "env", "Value": "dev"}])
    tags = iam.list_user_tags(UserName=name)["Tags"]
    assert sorted(t["Key"] for t in tags) == ["env", "team"]
    iam.untag_user(UserName=name, TagKeys=["team"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "env", "Value": "dev"}]
    iam.update_user(UserName=name, NewUserName=name + "-2", NewPath="/ops/")
    moved = iam.get_user(UserName=name + "-2")["User"]
    assert moved["Arn"].endswith(f":user/ops/{name}-2")
    e = fails("NoSuchEntity", iam.get_user, UserName=name)
    assert e.value.response["Error"]["Message"] == f"The user with name {name} cannot be found."
    assert status(e) == 404
    assert e.value.response["Error"]["Type"] == "Sender"
    iam.delete_user(UserName=name + "-2")
    fails("NoSuchEntity", iam.delete_user, UserName=name + "-2")


def test_user_validation(iam):
    fails("ValidationError", iam.create_user, UserName="bad name")
    fails("ValidationError", iam.create_user, UserName="x" * 65)
    fails("ValidationError", iam.create_user, UserName=unique("u"), Path="no-slash")


def test_get_user_as_root(iam):
    u = iam.get_user()["User"]
    assert u["Arn"] == "arn:aws:iam::000000000000:root"
    assert u["UserId"] == "000000000000"


def test_list_users_pages(iam):
    prefix = "/" + unique("page") + "/"
    names = sorted(unique("pu") for _ in range(5))
    for n in names:
        iam.create_user(UserName=n, Path=prefix)
    first = iam.list_users(PathPrefix=prefix, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    pages = iam.get_paginator("list_users").paginate(
        PathPrefix=prefix, PaginationConfig={"PageSize": 2}
    )
    seen = [u["UserName"] for p in pages for u in p["Users"]]
    assert seen == names
    for n in names:
        iam.delete_user(UserName=n)


def test_access_keys(iam):
    name = unique("keys")
    iam.create_user(UserName=name)
    k1 = iam.create_access_key(UserName=name)["AccessKey"]
    assert k1["AccessKeyId"].startswith("AKIA") and len(k1["AccessKeyId"]) == 20
    assert len(k1["SecretAccessKey"]) == 40 and k1["Status"] == "Active"
    k2 = iam.create_access_key(UserName=name)["AccessKey"]
    e = fails("LimitExceeded", iam.create_access_key, UserName=name)
    assert e.value.response["Error"]["Message"] == "Cannot exceed quota for AccessKeysPerUser: 2"
    listed = iam.list_access_keys(UserName=name)["AccessKeyMetadata"]
    assert sorted(k["AccessKeyId"] for k in listed) == sorted([k1["AccessKeyId"], k2["AccessKeyId"]])
    assert all("SecretAccessKey" not in k for k in listed)
    iam.update_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"], Status="Inactive")
    statuses = {k["AccessKeyId"]: k["Status"] for k in iam.list_access_keys(UserName=name)["AccessKeyMetadata"]}
    assert statuses[k1["AccessKeyId"]] == "Inactive"
    used = iam.get_access_key_last_used(AccessKeyId=k1["AccessKeyId"])
    assert used["UserName"] == name
    assert used["AccessKeyLastUsed"]["ServiceName"] == "N/A"
    e = fails("DeleteConflict", iam.delete_user, UserName=name)
    assert e.value.response["Error"]["Message"] == "Cannot delete entity, must delete access keys first."
    assert status(e) == 409
    iam.delete_access_key(UserName=name, AccessKeyId=k1["AccessKeyId"])
    iam.delete_access_key(UserName=name, AccessKeyId=k2["AccessKeyId"])
    iam.delete_user(UserName=name)


def test_a_new_users_key_signs_but_is_allowed_nothing(server, iam):
    # A user's key authenticates at once; with no policy, every IAM call is denied.
    name = unique("nosign")
    iam.create_user(UserName=name)
    k = iam.create_access_key(UserName=name)["AccessKey"]
    other = server.client(
        "iam", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"]
    )
    e = fails("AccessDenied", other.list_users)
    assert status(e) == 403
    iam.delete_access_key(UserName=name, AccessKeyId=k["AccessKeyId"])
    e = fails("InvalidClientTokenId", other.list_users)
    iam.delete_user(UserName=name)


def test_any_region_is_accepted(server):
    import boto3

    key, secret = server.credentials()
    eu = boto3.client(
        "iam",
        endpoint_url=server.endpoint,
        region_name="eu-west-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )
    assert "Users" in eu.list_users()


def test_unknown_action(server, iam):
    import urllib.request

    req = urllib.request.Request(server.endpoint + "/", data=b"Action=ListUsers", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    # Unsigned: not IAM's, and never served.
    assert e.value.code in (400, 403)


def test_cli_list_users(server, iam):
    name = unique("cli")
    iam.create_user(UserName=name)
    out = server.aws("iam", "list-users")
    assert name in [u["UserName"] for u in json.loads(out.stdout)["Users"]]
    out = server.aws("iam", "get-user", "--user-name", name)
    assert json.loads(out.stdout)["User"]["UserName"] == name
    iam.delete_user(UserName=name)


def test_groups_and_membership(iam):
    group, user = unique("grp"), unique("member")
    g = iam.create_group(GroupName=group, Path="/g/")["Group"]
    assert g["GroupId"].startswith("AGPA") and g["Arn"].endswith(f":group/g/{group}")
    fails("EntityAlreadyExists", iam.create_group, GroupName=group)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert got["IsTruncated"] is False
    assert [x["GroupName"] for x in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [x["GroupName"] for x in iam.list_groups(PathPrefix="/g/")["Groups"]]
    e = fails("DeleteConflict", iam.delete_group, GroupName=group)
    assert e.value.response["Error"]["Message"] == "Cannot delete entity, must remove users from group first."
    fails("DeleteConflict", iam.delete_user, UserName=user)
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.update_group(GroupName=group, NewGroupName=group + "-x")
    iam.delete_group(GroupName=group + "-x")
    iam.delete_user(UserName=user)
    e = fails("NoSuchEntity", iam.get_group, GroupName=group)
    assert e.value.response["Error"]["Message"] == f"The group with name {group} cannot be found."


def test_roles_with_trust_policies(iam):
    name = unique("role")
    r = iam.create_role(
        RoleName=name,
        Path="/svc/",
        AssumeRolePolicyDocument=json.dumps(TRUST),
        Description="runs <things> & more",
        Tags=[{"Key": "k", "Value": "v"}],
    )["Role"]
    assert r["RoleId"].startswith("AROA")
    assert r["Arn"] == f"arn:aws:iam::000000000000:role/svc/{name}"
    # botocore decodes the URL-encoded document into a dict.
    assert r["AssumeRolePolicyDocument"] == TRUST
    got = iam.get_role(RoleName=name)["Role"]
    assert got["AssumeRolePolicyDocument"] == TRUST
    assert got["MaxSessionDuration"] == 3600
    assert got["Description"] == "runs <things> & more"
    assert got["RoleLastUsed"] == {}
    assert got["Tags"] == [{"Key": "k", "Value": "v"}]
    listed = [x for x in iam.list_roles(PathPrefix="/svc/")["Roles"] if x["RoleName"] == name]
    assert listed[0]["AssumeRolePolicyDocument"] == TRUST
    iam.update_role(RoleName=name, MaxSessionDuration=7200, Description="d")
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 7200
    fails("ValidationError", iam.update_role, RoleName=name, MaxSessionDuration=43201)
    trust2 = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Principal={"Service": "ec2.amazonaws.com"})])
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust2))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust2
    iam.tag_role(RoleName=name, Tags=[{"Key": "k2", "Value": "v2"}])
    iam.untag_role(RoleName=name, TagKeys=["k"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "k2", "Value": "v2"}]
    e = fails("MalformedPolicyDocument", iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument="{nope")
    assert e.value.response["Error"]["Message"] == "This policy contains invalid Json"
    bad = dict(TRUST, Statement=[dict(TRUST["Statement"][0], Resource="*")])
    e = fails("MalformedPolicyDocument", iam.create_role, RoleName=unique("r"), AssumeRolePolicyDocument=json.dumps(bad))
    assert "Resource" in e.value.response["Error"]["Message"]
    iam.delete_role(RoleName=name)
    e = fails("NoSuchEntity", iam.get_role, RoleName=name)
    assert e.value.response["Error"]["Message"] == f"The role with name {name} cannot be found."


def test_managed_policies_and_versions(iam):
    name = unique("pol")
    p = iam.create_policy(PolicyName=name, PolicyDocument=doc(), Description="x")["Policy"]
    arn = p["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/{name}"
    assert p["DefaultVersionId"] == "v1" and p["AttachmentCount"] == 0 and p["IsAttachable"] is True
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Description"] == "x"
    fails("EntityAlreadyExists", iam.create_policy, PolicyName=name, PolicyDocument=doc())
    for i in range(2, 6):
        v = iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc(f"s3:Put{i}"), SetAsDefault=(i == 3))
        assert v["PolicyVersion"]["VersionId"] == f"v{i}"
    e = fails("LimitExceeded", iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc())
    assert "VersionsPerPolicy: 5" in e.value.response["Error"]["Message"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    v3 = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert v3["IsDefaultVersion"] is True
    assert v3["Document"] == json.loads(doc("s3:Put3"))
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    fails("DeleteConflict", iam.delete_policy_version, PolicyArn=arn, VersionId="v3")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    fails("NoSuchEntity", iam.get_policy_version, PolicyArn=arn, VersionId="v3")
    fails("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    for v in ["v1", "v2", "v4"]:
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    local = [x["PolicyName"] for x in iam.list_policies(Scope="Local")["Policies"]]
    assert name in local
    aws = [x["PolicyName"] for x in iam.list_policies(Scope="AWS", MaxItems=1000)["Policies"]]
    assert "AdministratorAccess" in aws and "AWSLambdaBasicExecutionRole" in aws and name not in aws
    iam.delete_policy(PolicyArn=arn)
    e = fails("NoSuchEntity", iam.get_policy, PolicyArn=arn)
    assert e.value.response["Error"]["Message"] == f"Policy {arn} was not found."


def test_malformed_policy_documents(iam):
    e = fails("MalformedPolicyDocument", iam.create_policy, PolicyName=unique("p"), PolicyDocument="{")
    assert e.value.response["Error"]["Message"] == "This policy contains invalid Json"
    with_principal = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}
    )
    e = fails("MalformedPolicyDocument", iam.create_policy, PolicyName=unique("p"), PolicyDocument=with_principal)
    assert e.value.response["Error"]["Message"] == "Policy document should not specify a principal."
    assert status(e) == 400


def test_aws_managed_basic_execution_role(iam):
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    p = iam.get_policy(PolicyArn=arn)["Policy"]
    v = iam.get_policy_version(PolicyArn=arn, VersionId=p["DefaultVersionId"])["PolicyVersion"]
    assert v["Document"]["Statement"][0]["Action"] == [
        "logs:CreateLogGroup",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    ]


def test_attachments_and_entities_for_policy(iam):
    user, group, role, pol = unique("au"), unique("ag"), unique("ar"), unique("ap")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    arn = iam.create_policy(PolicyName=pol, PolicyDocument=doc())["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    attached = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert sorted(a["PolicyName"] for a in attached) == sorted([pol, "ReadOnlyAccess"])
    assert iam.list_attached_user_policies(UserName=user)["AttachedPolicies"] == [{"PolicyName": pol, "PolicyArn": arn}]
    assert iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"][0]["PolicyArn"] == arn
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in ents["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in ents["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in ents["PolicyRoles"]] == [role]
    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert only_roles["PolicyUsers"] == [] and len(only_roles["PolicyRoles"]) == 1
    assert pol in [p["PolicyName"] for p in iam.list_policies(Scope="Local", OnlyAttached=True)["Policies"]]
    missing = arn + "123"
    e = fails("NoSuchEntity", iam.attach_role_policy, RoleName=role, PolicyArn=missing)
    assert e.value.response["Error"]["Message"] == f"Policy {missing} does not exist or is not attachable."
    e = fails("ValidationError", iam.attach_role_policy, RoleName=role, PolicyArn=pol + "-not-an-arn-x")
    assert e.value.response["Error"]["Message"] == "Invalid ARN:  Could not be parsed!"
    e = fails("DeleteConflict", iam.delete_policy, PolicyArn=arn)
    assert e.value.response["Error"]["Message"] == "Cannot delete a policy attached to entities."
    e = fails("DeleteConflict", iam.delete_role, RoleName=role)
    assert e.value.response["Error"]["Message"] == "Cannot delete entity, must detach all policies first."
    fails("DeleteConflict", iam.delete_user, UserName=user)
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    iam.detach_group_policy(GroupName=group, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    iam.detach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    fails("NoSuchEntity", iam.detach_role_policy, RoleName=role, PolicyArn=arn)
    iam.delete_policy(PolicyArn=arn)
    iam.delete_role(RoleName=role)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


def test_inline_policies(iam):
    user, group, role = unique("iu"), unique("ig"), unique("ir")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    d = doc("logs:PutLogEvents", "arn:aws:logs:*:*:log-group:a b")
    iam.put_user_policy(UserName=user, PolicyName="p1", PolicyDocument=d)
    iam.put_group_policy(GroupName=group, PolicyName="p1", PolicyDocument=d)
    iam.put_role_policy(RoleName=role, PolicyName="p1", PolicyDocument=d)
    iam.put_role_policy(RoleName=role, PolicyName="p2", PolicyDocument=d)
    got = iam.get_role_policy(RoleName=role, PolicyName="p1")
    assert got["RoleName"] == role and got["PolicyName"] == "p1"
    assert got["PolicyDocument"] == json.loads(d)
    assert iam.get_user_policy(UserName=user, PolicyName="p1")["PolicyDocument"] == json.loads(d)
    assert iam.get_group_policy(GroupName=group, PolicyName="p1")["GroupName"] == group
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["p1", "p2"]
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == ["p1"]
    assert iam.list_group_policies(GroupName=group)["PolicyNames"] == ["p1"]
    e = fails("NoSuchEntity", iam.get_role_policy, RoleName=role, PolicyName="nope")
    assert e.value.response["Error"]["Message"] == "The role policy with name nope cannot be found."
    e = fails("DeleteConflict", iam.delete_role, RoleName=role)
    assert e.value.response["Error"]["Message"] == "Cannot delete entity, must delete policies first."
    fails("MalformedPolicyDocument", iam.put_user_policy, UserName=user, PolicyName="bad", PolicyDocument="[]")
    iam.delete_role_policy(RoleName=role, PolicyName="p1")
    iam.delete_role_policy(RoleName=role, PolicyName="p2")
    iam.delete_user_policy(UserName=user, PolicyName="p1")
    iam.delete_group_policy(GroupName=group, PolicyName="p1")
    iam.delete_role(RoleName=role)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


def test_shapes_match_aws_recordings(iam):
    # Keys of AWS's recorded CreatePolicy and GetRole answers (localstack's parity tests,
    # recorded against AWS; see tests/data/aws-recorded/README.md).
    import os

    path = os.path.join(os.path.dirname(__file__), "..", "data", "aws-recorded", "iam_test_iam.snapshot.json")
    with open(path) as f:
        recorded = json.load(f)
    attach = next(v for k, v in recorded.items() if k.endswith("test_role_attach_policy"))["recorded-content"]
    describe = next(v for k, v in recorded.items() if k.endswith("test_create_describe_role"))["recorded-content"]
    arn = iam.create_policy(PolicyName=unique("shape"), PolicyDocument=doc())
    assert set(arn["Policy"]) == set(attach["create_policy_response"]["Policy"])
    role = unique("shape")
    created = iam.create_role(RoleName=role, Path="/p/", AssumeRolePolicyDocument=json.dumps(TRUST))
    assert set(created["Role"]) == set(describe["create_role_result"]["Role"])
    got = iam.get_role(RoleName=role)
    assert set(got["Role"]) == set(describe["get_role_result"]["Role"])
    listed = [r for r in iam.list_roles(PathPrefix="/p/")["Roles"] if r["RoleName"] == role]
    assert set(listed[0]) == set(describe["list_roles_result"]["Roles"][0])
    iam.delete_role(RoleName=role)
    iam.delete_policy(PolicyArn=arn["Policy"]["Arn"])


def test_simulate_custom_policy(iam):
    allow = doc("s3:GetObject", "arn:aws:s3:::bucket/*", sid="ReadBucket")
    deny = doc("s3:GetObject", "arn:aws:s3:::bucket/secret/*", effect="Deny", sid="NoSecrets")
    r = iam.simulate_custom_policy(
        PolicyInputList=[allow, deny],
        ActionNames=["s3:GetObject", "s3:PutObject"],
        ResourceArns=["arn:aws:s3:::bucket/a", "arn:aws:s3:::bucket/secret/b"],
    )
    got = {(e["EvalActionName"], e["EvalResourceName"]): e for e in r["EvaluationResults"]}
    assert len(got) == 4
    ok = got[("s3:GetObject", "arn:aws:s3:::bucket/a")]
    assert ok["EvalDecision"] == "allowed"
    assert ok["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.1"
    denied = got[("s3:GetObject", "arn:aws:s3:::bucket/secret/b")]
    assert denied["EvalDecision"] == "explicitDeny"
    assert denied["MatchedStatements"][0]["SourcePolicyId"] == "PolicyInputList.2"
    assert got[("s3:PutObject", "arn:aws:s3:::bucket/a")]["EvalDecision"] == "implicitDeny"
    assert got[("s3:PutObject", "arn:aws:s3:::bucket/a")]["MatchedStatements"] == []
    fails("MalformedPolicyDocument", iam.simulate_custom_policy, PolicyInputList=["{"], ActionNames=["s3:GetObject"])


def test_simulate_principal_policy(iam):
    user, group = unique("su"), unique("sg")
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.put_user_policy(
        UserName=user, PolicyName="deny-logs", PolicyDocument=doc("logs:*", effect="Deny")
    )
    r = iam.simulate_principal_policy(
        PolicySourceArn=arn, ActionNames=["s3:GetObject", "s3:PutObject", "logs:GetLogEvents"]
    )
    got = {e["EvalActionName"]: e for e in r["EvaluationResults"]}
    assert got["s3:GetObject"]["EvalDecision"] == "allowed"
    assert got["s3:GetObject"]["MatchedStatements"][0]["SourcePolicyType"] == "aws-managed"
    assert got["s3:PutObject"]["EvalDecision"] == "implicitDeny"
    assert got["logs:GetLogEvents"]["EvalDecision"] == "explicitDeny"
    assert got["logs:GetLogEvents"]["MatchedStatements"][0]["SourcePolicyId"] == "deny-logs"
    g = iam.simulate_principal_policy(
        PolicySourceArn=iam.get_group(GroupName=group)["Group"]["Arn"], ActionNames=["s3:ListBucket"]
    )
    assert g["EvaluationResults"][0]["EvalDecision"] == "allowed"
    e = fails("NoSuchEntity", iam.simulate_principal_policy, PolicySourceArn=arn + "x", ActionNames=["s3:GetObject"])
    assert status(e) == 404
    iam.delete_user_policy(UserName=user, PolicyName="deny-logs")
    iam.detach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    iam.remove_user_from_group(GroupName=group, UserName=user)
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)


def test_cli_roles_and_simulate(server, iam):
    name = unique("clirole")
    server.aws("iam", "create-role", "--role-name", name, "--assume-role-policy-document", json.dumps(TRUST))
    out = json.loads(server.aws("iam", "get-role", "--role-name", name).stdout)
    assert out["Role"]["AssumeRolePolicyDocument"] == TRUST
    out = json.loads(
        server.aws(
            "iam", "simulate-custom-policy", "--policy-input-list", doc("s3:*"), "--action-names", "s3:GetObject"
        ).stdout
    )
    assert out["EvaluationResults"][0]["EvalDecision"] == "allowed"
    missing = server.aws("iam", "get-role", "--role-name", name + "-nope", check=False)
    assert missing.returncode != 0 and b"NoSuchEntity" in missing.stderr
    server.aws("iam", "delete-role", "--role-name", name)


def test_openid_connect_providers(iam):
    host = f"{uuid.uuid4().hex[:8]}.idp.example.com/realm"
    url = f"https://{host}"
    arn = iam.create_open_id_connect_provider(
        Url=url, ClientIDList=["app-1"], ThumbprintList=["a" * 40]
    )["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::000000000000:oidc-provider/{host}"
    e = fails("EntityAlreadyExists", iam.create_open_id_connect_provider, Url=url,
              ClientIDList=["x"])
    assert e.value.response["Error"]["Message"] == f"Provider with url {url} already exists."
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app-2")
    iam.remove_client_id_from_open_id_connect_provider(OpenIDConnectProviderArn=arn,
                                                        ClientID="app-1")
    iam.update_open_id_connect_provider_thumbprint(OpenIDConnectProviderArn=arn,
                                                  ThumbprintList=["b" * 40, "c" * 40])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["Url"] == host
    assert got["ClientIDList"] == ["app-2"]
    assert got["ThumbprintList"] == ["b" * 40, "c" * 40]
    assert got["CreateDate"].year >= 2026
    listed = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    assert arn in listed
    fails("ValidationError", iam.create_open_id_connect_provider, Url="http://idp.example.com",
          ClientIDList=["x"])
    fails("ValidationError", iam.update_open_id_connect_provider_thumbprint,
          OpenIDConnectProviderArn=arn, ThumbprintList=["g" * 40])
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    e = fails("NoSuchEntity", iam.get_open_id_connect_provider, OpenIDConnectProviderArn=arn)
    assert e.value.response["Error"]["Message"] == (
        f"OpenIDConnect provider not found for arn {arn}"
    )


def test_permissions_boundaries_cap_a_user_and_a_role(server, iam):
    boundary = iam.create_policy(PolicyName=unique("boundary"),
                                 PolicyDocument=doc("lambda:ListFunctions"))["Policy"]["Arn"]
    user = unique("bounded")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="all", PolicyDocument=doc("*"))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    lam = server.client("lambda", aws_access_key_id=key["AccessKeyId"],
                        aws_secret_access_key=key["SecretAccessKey"])
    lam.get_account_settings()
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=boundary)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    lam.list_functions()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        lam.get_account_settings()
    assert error_code(e) == "AccessDeniedException"
    assert "because no permissions boundary allows" in e.value.response["Error"]["Message"]
    iam.delete_user_permissions_boundary(UserName=user)
    lam.get_account_settings()
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]

    role = unique("bounded")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
    fails("NoSuchEntity", iam.put_role_permissions_boundary, RoleName=role,
          PermissionsBoundary="arn:aws:iam::000000000000:policy/absent")
    iam.put_role_permissions_boundary(RoleName=role, PermissionsBoundary=boundary)
    got = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]
    assert got["PermissionsBoundaryArn"] == boundary
    iam.delete_role_permissions_boundary(RoleName=role)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=role)["Role"]


def test_a_trust_policy_must_name_users_and_roles_that_exist(iam):
    user = unique("truster")
    missing = f"arn:aws:iam::000000000000:user/{unique('nobody')}"

    def trust(arn):
        return json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "sts:AssumeRole"}]})

    e = fails("MalformedPolicyDocument", iam.create_role, RoleName=unique("r"),
              AssumeRolePolicyDocument=trust(missing))
    assert e.value.response["Error"]["Message"] == f'Invalid principal in policy: "AWS":"{missing}"'
    arn = iam.create_user(UserName=user)["User"]["Arn"]
    role = unique("r")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust(arn))
    fails("MalformedPolicyDocument", iam.update_assume_role_policy, RoleName=role,
          PolicyDocument=trust(missing))
    # Accounts, other accounts' principals and services are not looked up.
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=trust("arn:aws:iam::123456789012:user/x"))
