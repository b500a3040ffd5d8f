#!/usr/bin/env python3
"""Seeded scenarios with known truth, for credwarden's live-collection tests.

Each scenario resets the emulator, freezes its clock at NOW (2026-11-21T00:00:00Z), seeds IAM
(and the Organization) through boto3 plus the emulator's control API, clears the call counters,
and returns a JSON "truth" document: what was seeded, shaped like credwarden's snapshot, and the
findings a scan must report with the default thresholds (docs/policy-contract.md) and the config
in the document's `config` (break-glass user `breakglass-admin`).

    python scenarios.py --endpoint http://127.0.0.1:PORT seed single-account [--out truth.json]
    python scenarios.py --endpoint http://127.0.0.1:PORT seed organization
    python scenarios.py --endpoint http://127.0.0.1:PORT seed organization-ten
    python scenarios.py --endpoint http://127.0.0.1:PORT seed large
    python scenarios.py list

Importable: `seed(endpoint, name)` returns the truth as a dict.

The expected findings come from a small re-statement of the bundled rules in Python (`expected_
findings`), checked at seed time against the rules each seeded user was designed to trigger
(`expect` below): the two must agree, or seeding fails.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
from botocore.config import Config

NOW = datetime(2026, 11, 21, 0, 0, 0)
NOW_TEXT = "2026-11-21T00:00:00Z"
DEFAULT_ACCOUNT = "123456789012"
# Dummy credentials: moto accepts any signature. An unknown key id routes to DEFAULT_ACCOUNT.
ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
BREAK_GLASS_TAG = "credwarden:break-glass"

THRESHOLDS = {
    "unused_days": 90,
    "rotation_days": 90,
    "inactive_user_days": 90,
    "root_use_days": 90,
    "inactive_key_grace_days": 30,
    "break_glass_use_days": 30,
    "stale_report_hours": 4,
}
CONFIG = {"break_glass": {"users": ["breakglass-admin"], "tag_key": BREAK_GLASS_TAG, "tag_value": "true"}}
CONFIG_YAML = "break_glass:\n  users:\n    - breakglass-admin\n"

RULES = {
    "CW101": "unused-access-key",
    "CW102": "access-key-not-rotated",
    "CW103": "multiple-active-access-keys",
    "CW104": "inactive-access-key-not-deleted",
    "CW105": "access-key-created-at-user-setup",
    "CW201": "root-access-key-present",
    "CW202": "root-user-recently-used",
    "CW203": "root-mfa-disabled",
    "CW301": "inactive-user",
    "CW302": "user-without-credentials",
    "CW303": "console-user-without-mfa",
    "CW304": "non-break-glass-user",
    "CW305": "break-glass-user-misconfigured",
    "CW401": "no-scp-deny-create-access-key",
    "CW402": "no-scp-deny-create-user",
    "CW901": "stale-credential-report",
}


def ago(days=0, hours=0):
    return NOW - timedelta(days=days, hours=hours)


def ts(dt):
    return None if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(text):
    if text is None:
        return None
    if isinstance(text, datetime):
        return text
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo else dt


# ---------------------------------------------------------------------------------------------
# Talking to the emulator
# ---------------------------------------------------------------------------------------------


class Emulator:
    def __init__(self, endpoint):
        self.endpoint = endpoint.rstrip("/")

    def control(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        method = method or ("GET" if body is None else "POST")
        req = urllib.request.Request(f"{self.endpoint}/_credwarden/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=300) as resp:
                return json.load(resp)
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} /_credwarden/{path}: {e.code} {e.read().decode(errors='replace')}")

    def client(self, service, account_id=None, retries=3):
        client = boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            config=Config(retries={"max_attempts": retries, "mode": "standard"}),
        )
        if account_id and account_id != DEFAULT_ACCOUNT:
            # moto routes a request carrying this header to that account's state.
            def add_header(request, **_):
                request.headers["x-moto-account-id"] = account_id

            client.meta.events.register("before-sign.*.*", add_header)
        return client


# ---------------------------------------------------------------------------------------------
# What a scenario seeds
# ---------------------------------------------------------------------------------------------


def key(created, used=None, service="s3", region="us-east-1", status="Active"):
    """An access key created `created` days before NOW, last used `used` days before (or never)."""
    return {"created": created, "used": used, "service": service, "region": region, "status": status}


def user(name, created, expect, path="/", tags=None, password=None, mfa=False, keys=(), note=""):
    """A user created `created` days before NOW. password: (created_days, last_used_days or None)."""
    return {"name": name, "created": created, "path": path, "tags": dict(tags or {}), "password": password,
            "mfa": mfa, "keys": list(keys), "expect": set(expect), "note": note}


SINGLE_ACCOUNT_USERS = [
    user("key-never-used-old", 200, {"CW101", "CW102", "CW301", "CW304"}, keys=[key(200)],
         note="active key created 200 days ago, never used"),
    user("key-never-used-new", 10, {"CW304"}, keys=[key(10)], note="active key created 10 days ago, never used"),
    user("key-used-long-ago", 400, {"CW101", "CW102", "CW301", "CW304"},
         keys=[key(400, used=150, service="s3", region="us-east-1")], note="key last used 150 days ago"),
    user("key-used-recently", 60, {"CW304"}, keys=[key(60, used=2, service="sts", region="eu-west-1")],
         note="key used 2 days ago, 60 days old"),
    user("key-old-used-recently", 500, {"CW102", "CW304"},
         keys=[key(300, used=1, service="ec2", region="us-west-2")], note="key used yesterday but 300 days old"),
    user("key-inactive-old", 120, {"CW104", "CW301", "CW302", "CW304"},
         keys=[key(120, used=100, status="Inactive")], note="deactivated key, last used 100 days ago"),
    user("key-inactive-recent", 40, {"CW302", "CW304"}, keys=[key(40, used=10, status="Inactive")],
         note="deactivated key, last used 10 days ago (within the 30-day grace)"),
    user("two-active-keys", 30, {"CW103", "CW304"},
         keys=[key(30, used=1, service="lambda"), key(5, used=3, service="s3", region="eu-west-1")],
         note="two active keys, both in use"),
    user("console-mfa", 200, {"CW304"}, path="/engineering/", tags={"team": "platform"}, password=(200, 3),
         mfa=True, note="console user with MFA, signed in 3 days ago"),
    user("console-no-mfa", 100, {"CW303", "CW304"}, password=(100, 20), note="console user without MFA"),
    user("console-setup-key", 5, {"CW105", "CW304"}, password=(5, 1), mfa=True, keys=[key(5)],
         note="console user with a key created at setup and never used"),
    user("console-never-signed-in", 150, {"CW301", "CW303", "CW304"}, password=(150, None),
         note="password set 150 days ago, never used, no MFA"),
    user("orphan-user", 10, {"CW302", "CW304"}, note="no password, no key"),
    user("emergency-access", 700, set(), tags={BREAK_GLASS_TAG: "true"}, password=(700, 40), mfa=True,
         note="break-glass by tag, MFA, last signed in 40 days ago: no finding at all"),
    user("breakglass-admin", 365, {"CW303", "CW305"}, password=(365, 10),
         keys=[key(10, used=5, service="iam")],
         note="break-glass by config: has a key, no MFA, used 10 days ago"),
    user("breakglass-tag-upper", 300, {"CW104", "CW305"}, tags={BREAK_GLASS_TAG: "TRUE"}, password=(300, 45),
         mfa=True, keys=[key(200, status="Inactive")],
         note="break-glass by tag (value compared ignoring case) with an old deactivated key"),
    user("tag-false-user", 20, {"CW304"}, tags={BREAK_GLASS_TAG: "false"}, password=(20, 1), mfa=True,
         note="tagged break-glass=false: an ordinary user"),
]

SINGLE_ACCOUNT_ROOT = {
    "user_creation_time": ts(ago(2000)),
    "password_enabled": "not_supported",
    "password_last_used": ts(ago(10)),
    "mfa_active": False,
    "access_key_1_active": True,
    "access_key_1_last_rotated": ts(ago(700)),
    "access_key_1_last_used_date": ts(ago(200)),
    "access_key_1_last_used_region": "us-east-1",
    "access_key_1_last_used_service": "iam",
}
SINGLE_ACCOUNT_ROOT_EXPECT = {"CW201", "CW202", "CW203"}

QUIET_ROOT = {"user_creation_time": ts(ago(1500)), "mfa_active": True, "password_enabled": "not_supported"}

# The organization: OUs by name -> parent name ("root" is the root).
ORG_OUS = [("Security", "root"), ("Workloads", "root"), ("Prod", "Workloads"), ("Dev", "Workloads"),
           ("Sandbox", "root")]

ORG_ACCOUNTS = [
    # name, parent, status, users, root state, expected root rules
    ("security", "Security", "ACTIVE", [
        user("sec-auditor", 90, {"CW304"}, password=(90, 2), mfa=True),
        user("breakglass-security", 400, set(), tags={BREAK_GLASS_TAG: "true"}, password=(400, 45), mfa=True),
    ], QUIET_ROOT, set()),
    ("prod-app", "Prod", "ACTIVE", [
        user("app-deployer", 400, {"CW102", "CW304"}, keys=[key(200, used=1, service="ecr", region="eu-west-1")]),
        user("app-old-key", 100, {"CW101", "CW102", "CW301", "CW304"}, keys=[key(100)]),
    ], QUIET_ROOT, set()),
    ("prod-data", "Prod", "ACTIVE", [
        user("etl", 50, {"CW103", "CW304"}, keys=[key(50, used=1, service="glue"), key(20, used=2)]),
    ], QUIET_ROOT, set()),
    ("dev", "Dev", "ACTIVE", [
        user("dev-alice", 60, {"CW303", "CW304"}, password=(60, 3)),
        user("dev-inactive-key", 90, {"CW104", "CW302", "CW304"}, keys=[key(90, used=60, status="Inactive")]),
    ], QUIET_ROOT, set()),
    ("sandbox", "Sandbox", "ACTIVE", [
        user("sandbox-user", 5, {"CW302", "CW304"}),
    ], {"user_creation_time": ts(ago(800)), "mfa_active": False, "access_key_1_active": False,
        "access_key_1_last_rotated": ts(ago(400))}, {"CW201", "CW203"}),
    ("legacy", "root", "ACTIVE", [
        user("legacy-svc", 900, {"CW101", "CW102", "CW301", "CW304"},
             keys=[key(800, used=400, service="s3")]),
    ], QUIET_ROOT, set()),
    ("closed", "Dev", "SUSPENDED", [
        user("ghost", 30, set(), note="in a SUSPENDED account: never collected"),
    ], QUIET_ROOT, set()),
]

# Three more ACTIVE member accounts: the organization-ten scenario (ten accounts collected).
ORG_EXTRA_ACCOUNTS = [
    ("security-logging", "Security", "ACTIVE", [
        user("log-shipper", 200, {"CW304"}, keys=[key(80, used=1, service="logs", region="eu-west-1")]),
        user("sec-analyst", 45, {"CW303", "CW304"}, password=(45, 5)),
    ], QUIET_ROOT, set()),
    ("prod-api", "Prod", "ACTIVE", [
        user("api-ci", 120, {"CW103", "CW304"}, keys=[key(60, used=1, service="ecs"), key(15, used=1, service="ecr")]),
        user("api-readonly", 365, {"CW101", "CW102", "CW301", "CW304"}, keys=[key(365, used=120, service="s3")]),
    ], QUIET_ROOT, set()),
    ("dev-ml", "Dev", "ACTIVE", [
        user("ml-bob", 30, {"CW105", "CW304"}, password=(30, 2), mfa=True, keys=[key(30)],
             note="console user with a key created at setup and never used"),
        user("ml-notebook", 100, {"CW104", "CW301", "CW302", "CW304"},
             keys=[key(100, used=95, service="sagemaker", status="Inactive")]),
    ], QUIET_ROOT, set()),
]

# The member accounts that no SCP denies iam:CreateAccessKey (CW401): those in Dev and Sandbox.
ORG_NO_KEY_DENY = ("dev", "sandbox", "dev-ml")

MANAGEMENT_USERS = [
    user("mgmt-admin", 300, {"CW304"}, password=(300, 1), mfa=True),
    user("mgmt-ci", 30, {"CW304"}, keys=[key(30, used=1, service="cloudformation")]),
]


def statement(effect, action=None, not_action=None, resource="*", not_resource=None, condition=None, sid=None):
    s = {"Effect": effect}
    if sid:
        s["Sid"] = sid
    if action is not None:
        s["Action"] = action
    if not_action is not None:
        s["NotAction"] = not_action
    if not_resource is not None:
        s["NotResource"] = not_resource
    elif resource is not None:
        s["Resource"] = resource
    if condition is not None:
        s["Condition"] = condition
    return s


BREAK_GLASS_EXEMPTION = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/breakglass-*"}}

# name -> (description, statements, targets by name: "root", an OU name or an account name)
ORG_SCPS = {
    "DenyCreateUserExceptBreakGlass": (
        "A deny at the root, with a break-glass exemption condition",
        [statement("Deny", action="iam:CreateUser", condition=BREAK_GLASS_EXEMPTION, sid="NoNewUsers")],
        ["root"]),
    "DenyLeaveOrganization": (
        "A deny at the root that covers neither iam:CreateAccessKey nor iam:CreateUser",
        [statement("Deny", action="organizations:LeaveOrganization")], ["root"]),
    "SecurityDenyIamCreate": (
        "A deny at an OU via the wildcard iam:Create*",
        [statement("Deny", action=["iam:Create*"], sid="NoIamCreate")], ["Security"]),
    "WorkloadsRegionGuard": (
        "A conditional deny at an OU of unrelated actions",
        [statement("Deny", action="ec2:*", condition={"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}})],
        ["Workloads"]),
    "ProdGuardrails": (
        "A deny via NotAction at a nested OU: everything but the listed actions is denied",
        [statement("Deny", not_action=["s3:*", "ec2:*", "sts:*", "cloudwatch:*", "logs:*", "iam:Get*",
                                       "iam:List*"], sid="OnlyTheseServices")],
        ["Prod"]),
    "SandboxAllowList": (
        "An Allow-only SCP: it must not count as a deny",
        [statement("Allow", action=["iam:*", "s3:*"])], ["Sandbox"]),
    "SandboxDenyOpsUserKeys": (
        "A deny that covers only some users (Resource user/ops/*): not a deny for the account",
        [statement("Deny", action="iam:CreateAccessKey", resource="arn:aws:iam::*:user/ops/*")], ["Sandbox"]),
    "LegacyDenyAccessKeys": (
        "A deny attached to one account",
        [statement("Deny", action="iam:CreateAccessKey", sid="NoKeys")], ["legacy"]),
}


# ---------------------------------------------------------------------------------------------
# Seeding
# ---------------------------------------------------------------------------------------------


def start(emu, seed_value):
    emu.control("reset", {"seed": seed_value})
    emu.control("clock", {"now": NOW_TEXT, "frozen": True})


# Every secret the seeding created or used (secret access keys, the login password, the
# harness's own credentials): the test suite checks that credwarden never prints or stores one.
SEEDED_PASSWORD = "Credwarden-Test-Passw0rd!"
SEEDED_SECRETS = [SECRET_ACCESS_KEY, SEEDED_PASSWORD]


def seed_iam_users(emu, account_id, specs):
    """Create users through boto3 (as an operator would), then backdate them with the control API."""
    iam = emu.client("iam", account_id)
    backdates = []
    for spec in specs:
        kwargs = {"UserName": spec["name"], "Path": spec["path"]}
        if spec["tags"]:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in spec["tags"].items()]
        iam.create_user(**kwargs)
        item = {"user_name": spec["name"], "created_at": ts(ago(spec["created"]))}
        if spec["password"] is not None:
            iam.create_login_profile(UserName=spec["name"], Password=SEEDED_PASSWORD)
            pw_created, pw_used = spec["password"]
            item["password_created_at"] = ts(ago(pw_created))
            item["password_last_changed"] = ts(ago(pw_created))
            item["password_last_used"] = ts(ago(pw_used)) if pw_used is not None else None
        if spec["mfa"]:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=spec["name"])["VirtualMFADevice"]
            iam.enable_mfa_device(UserName=spec["name"], SerialNumber=device["SerialNumber"],
                                  AuthenticationCode1="123456", AuthenticationCode2="654321")
            item["mfa_enabled_at"] = ts(ago(spec["password"][0] if spec["password"] else spec["created"]))
        backdates.append(item)
        for k in spec["keys"]:
            created = iam.create_access_key(UserName=spec["name"])["AccessKey"]
            SEEDED_SECRETS.append(created["SecretAccessKey"])
            if k["status"] != "Active":
                iam.update_access_key(UserName=spec["name"], AccessKeyId=created["AccessKeyId"], Status=k["status"])
            backdates.append({
                "user_name": spec["name"],
                "access_key_id": created["AccessKeyId"],
                "created_at": ts(ago(k["created"])),
                "last_used_at": ts(ago(k["used"])) if k["used"] is not None else None,
                "last_used_service": k["service"],
                "last_used_region": k["region"],
            })
    if backdates:
        emu.control("iam/backdate", {"account_id": account_id, "items": backdates})


def account_truth(emu, account_id, alias, specs=None):
    """The account as the emulator now holds it, shaped like a snapshot account."""
    users = emu.control(f"iam/users?account_id={account_id}")["users"]
    root = emu.control(f"iam/root?account_id={account_id}")
    notes = {s["name"]: s["note"] for s in (specs or []) if s.get("note")}
    return {
        "account_id": account_id,
        "alias": alias,
        "credential_report": {"generated_at": NOW_TEXT},
        "root": root_snapshot(root),
        "root_report_row": root["report_row"],
        "users": [user_snapshot(u, notes.get(u["user_name"])) for u in users],
        "error": None,
    }


def user_snapshot(u, note=None):
    snap = {
        "user_name": u["user_name"],
        "user_id": u["user_id"],
        "arn": u["arn"],
        "path": u["path"],
        "created_at": u["created_at"],
        "tags": u["tags"],
        "password": {"enabled": u["password"]["enabled"], "last_used": u["password"]["last_used"],
                     "last_changed": u["password"]["last_changed"]},
        "mfa_active": u["mfa_active"],
        "access_keys": [
            {"access_key_id": k["access_key_id"], "slot": i + 1, "status": k["status"], "created_at": k["created_at"],
             "last_used_at": k["last_used_at"],
             "last_used_service": k["last_used_service"] if k["last_used_at"] else None,
             "last_used_region": k["last_used_region"] if k["last_used_at"] else None}
            for i, k in enumerate(u["access_keys"])
        ],
    }
    if note:
        snap["note"] = note
    return snap


def _report_ts(value):
    if value in (None, "N/A", "no_information", "not_supported", ""):
        return None
    return ts(parse(value))


def root_snapshot(root):
    row = root["report_row"]
    enabled = {"true": True, "false": False}.get(row["password_enabled"])
    return {
        "arn": row["arn"],
        "password_enabled": enabled,
        "password_last_used": _report_ts(row["password_last_used"]),
        "mfa_active": row["mfa_active"] == "true",
        "access_keys": [
            {"slot": slot, "active": row[f"access_key_{slot}_active"] == "true",
             "last_rotated": _report_ts(row[f"access_key_{slot}_last_rotated"]),
             "last_used_at": _report_ts(row[f"access_key_{slot}_last_used_date"]),
             "last_used_service": None if row[f"access_key_{slot}_last_used_service"] == "N/A"
             else row[f"access_key_{slot}_last_used_service"],
             "last_used_region": None if row[f"access_key_{slot}_last_used_region"] == "N/A"
             else row[f"access_key_{slot}_last_used_region"]}
            for slot in (1, 2)
        ],
        "account_access_keys_present": bool(root["account_summary"]["AccountAccessKeysPresent"]),
        "account_mfa_enabled": bool(root["account_summary"]["AccountMFAEnabled"]),
    }


def seed_single_account(emu, seed_value=1):
    """One account: every kind of key, console users with and without MFA, a root key, break-glass."""
    start(emu, seed_value)
    emu.client("iam").create_account_alias(AccountAlias="credwarden-single")
    emu.control("iam/root", dict(SINGLE_ACCOUNT_ROOT, account_id=DEFAULT_ACCOUNT))
    seed_iam_users(emu, DEFAULT_ACCOUNT, SINGLE_ACCOUNT_USERS)
    account = account_truth(emu, DEFAULT_ACCOUNT, "credwarden-single", SINGLE_ACCOUNT_USERS)
    intent = intended_findings(DEFAULT_ACCOUNT, account, SINGLE_ACCOUNT_USERS, SINGLE_ACCOUNT_ROOT_EXPECT)
    truth = finish(emu, "single-account", [account], None, intent, extra={
        "organization_expected": "none: the account belongs to no Organization (collector records "
                                 "organization_error AWSOrganizationsNotInUseException)",
    })
    return truth


def seed_organization(emu, seed_value=2, extra_accounts=(), scenario="organization"):
    """An Organization: OUs, SCPs of every shape, a management account and six member accounts."""
    org_accounts = ORG_ACCOUNTS + list(extra_accounts)
    start(emu, seed_value)
    org = emu.client("organizations")
    organization = org.create_organization(FeatureSet="ALL")["Organization"]
    root_id = org.list_roots()["Roots"][0]["Id"]
    org.enable_policy_type(RootId=root_id, PolicyType="SERVICE_CONTROL_POLICY")
    ids = {"root": root_id}
    for name, parent in ORG_OUS:
        ou = org.create_organizational_unit(ParentId=ids[parent], Name=name)["OrganizationalUnit"]
        ids[name] = ou["Id"]
    accounts = {}
    for name, parent, status, _users, _root, _expect in org_accounts:
        created = org.create_account(AccountName=name, Email=f"{name}@credwarden.example")["CreateAccountStatus"]
        account_id = created["AccountId"]
        accounts[name] = account_id
        ids[name] = account_id
        if parent != "root":
            org.move_account(AccountId=account_id, SourceParentId=root_id, DestinationParentId=ids[parent])
        if status == "SUSPENDED":
            org.close_account(AccountId=account_id)
    policies = {}
    for name, (description, statements, targets) in ORG_SCPS.items():
        content = json.dumps({"Version": "2012-10-17", "Statement": statements})
        policy = org.create_policy(Name=name, Description=description, Type="SERVICE_CONTROL_POLICY",
                                   Content=content)["Policy"]["PolicySummary"]
        policies[name] = policy["Id"]
        for target in targets:
            org.attach_policy(PolicyId=policy["Id"], TargetId=ids[target])

    # IAM in every account: the management account through the dummy credentials, members
    # through moto's account header.
    management = organization["MasterAccountId"]
    emu.client("iam").create_account_alias(AccountAlias="credwarden-mgmt")
    emu.control("iam/root", dict(QUIET_ROOT, account_id=management))
    seed_iam_users(emu, management, MANAGEMENT_USERS)
    account_docs = [account_truth(emu, management, "credwarden-mgmt", MANAGEMENT_USERS)]
    intent = intended_findings(management, account_docs[0], MANAGEMENT_USERS, set())
    intent |= {("CW401", management, "aws_account", management), ("CW402", management, "aws_account", management)}
    skipped = []
    for name, _parent, status, users, root, root_expect in org_accounts:
        account_id = accounts[name]
        emu.client("iam", account_id).create_account_alias(AccountAlias=f"credwarden-{name}")
        emu.control("iam/root", dict(root, account_id=account_id))
        seed_iam_users(emu, account_id, users)
        doc = account_truth(emu, account_id, f"credwarden-{name}", users)
        if status != "ACTIVE":
            skipped.append({"account_id": account_id, "name": name, "status": status,
                            "why": "not ACTIVE: --org must not collect it", "seeded_users": doc["users"]})
            continue
        account_docs.append(doc)
        intent |= intended_findings(account_id, doc, users, root_expect)
    for name in ORG_NO_KEY_DENY:
        if name in accounts:
            intent.add(("CW401", accounts[name], "aws_account", accounts[name]))

    org_doc = organization_truth(org, organization, ids, accounts, policies)
    return finish(emu, scenario, account_docs, org_doc, intent, extra={
        "management_account_id": management,
        "member_accounts": {name: accounts[name] for name, *_ in org_accounts},
        "accounts_not_collected": skipped,
        "ids": ids,
        "policy_ids": policies,
        "role_name": "OrganizationAccountAccessRole",
        "scp_coverage": scp_coverage(org_doc),
    })


def seed_organization_ten(emu, seed_value=2):
    """The organization plus three ACTIVE member accounts (Security, Prod, Dev): ten collected."""
    return seed_organization(emu, seed_value, extra_accounts=ORG_EXTRA_ACCOUNTS, scenario="organization-ten")


def organization_truth(org, organization, ids, accounts, policies):
    root_id = ids["root"]
    roots = org.list_roots()["Roots"]
    ous = [{"id": ids[name], "name": name, "parent_id": ids[parent]} for name, parent in ORG_OUS]
    account_list = []
    for page in org.get_paginator("list_accounts").paginate():
        for a in page["Accounts"]:
            parent = org.list_parents(ChildId=a["Id"])["Parents"][0]["Id"]
            account_list.append({"id": a["Id"], "name": a["Name"], "email": a["Email"], "status": a["Status"],
                                 "parent_id": parent})
    scps = []
    for page in org.get_paginator("list_policies").paginate(Filter="SERVICE_CONTROL_POLICY"):
        for p in page["Policies"]:
            described = org.describe_policy(PolicyId=p["Id"])["Policy"]
            targets = [t["TargetId"] for pg in org.get_paginator("list_targets_for_policy").paginate(PolicyId=p["Id"])
                       for t in pg["Targets"]]
            scps.append({"id": p["Id"], "name": p["Name"], "arn": p["Arn"], "aws_managed": p["AwsManaged"],
                         "document": json.loads(described["Content"]), "targets": sorted(targets)})
    return {
        "id": organization["Id"],
        "management_account_id": organization["MasterAccountId"],
        "roots": [{"id": r["Id"], "name": r["Name"], "policy_types": [t["Type"] for t in r["PolicyTypes"]
                                                                       if t["Status"] == "ENABLED"]}
                  for r in roots],
        "organizational_units": ous,
        "accounts": account_list,
        "policies": sorted(scps, key=lambda p: p["name"]),
    }


LARGE_USERS = 2500


def large_pattern(i):
    """User i of the large scenario: (spec for the bulk endpoint, expected rules)."""
    name = f"user-{i:04d}"
    kind = i % 10
    spec = {"user_name": name, "path": f"/team-{i % 5}/"}
    created = 30
    keys = []
    expect = {"CW304"}
    if kind == 0:
        expect |= {"CW302"}
    elif kind == 1:
        created = 60
        keys = [key(60, used=1, service="sts")]
    elif kind == 2:
        created = 200
        keys = [key(200)]
        expect |= {"CW101", "CW102", "CW301"}
    elif kind == 3:
        created = 100
        spec["password"] = {"created_at": ts(ago(100)), "last_used": ts(ago(2))}
        spec["mfa_active"] = True
    elif kind == 4:
        created = 50
        spec["password"] = {"created_at": ts(ago(50)), "last_used": ts(ago(10))}
        expect |= {"CW303"}
    elif kind == 5:
        created = 40
        keys = [key(40, used=1, service="s3"), key(10, used=2, service="sqs")]
        expect |= {"CW103"}
    elif kind == 6:
        created = 150
        keys = [key(150, used=100, status="Inactive")]
        expect |= {"CW104", "CW301", "CW302"}
    elif kind == 7:
        created = 300
        keys = [key(300, used=120, service="dynamodb")]
        expect |= {"CW101", "CW102", "CW301"}
    elif kind == 8:
        created = 20
        spec["password"] = {"created_at": ts(ago(20)), "last_used": ts(ago(1))}
        spec["mfa_active"] = True
        keys = [key(20, used=1, service="ec2")]
    else:
        created = 95
        keys = [key(95, used=3, service="lambda")]
        expect |= {"CW102"}
    if i % 500 == 9:
        spec["tags"] = {BREAK_GLASS_TAG: "true", "owner": "security"}
        expect = (expect - {"CW304"}) | {"CW305"}
    elif i % 7 == 0:
        spec["tags"] = {"team": f"team-{i % 5}"}
    spec["created_at"] = ts(ago(created))
    spec["access_keys"] = [
        {"created_at": ts(ago(k["created"])), "last_used_at": ts(ago(k["used"])) if k["used"] is not None else None,
         "last_used_service": k["service"], "last_used_region": k["region"], "status": k["status"]}
        for k in keys
    ]
    return spec, expect


def seed_large(emu, seed_value=3, users=LARGE_USERS):
    """One account with 2,500 users (bulk-created in moto's backend; read back over HTTP)."""
    start(emu, seed_value)
    started = time.monotonic()
    emu.client("iam").create_account_alias(AccountAlias="credwarden-large")
    emu.control("iam/root", dict(QUIET_ROOT, account_id=DEFAULT_ACCOUNT))
    specs, expects = zip(*(large_pattern(i) for i in range(users)))
    for chunk in range(0, users, 500):
        emu.control("iam/users", {"account_id": DEFAULT_ACCOUNT, "users": list(specs[chunk:chunk + 500])})
    account = account_truth(emu, DEFAULT_ACCOUNT, "credwarden-large")
    seconds = time.monotonic() - started
    intent = set()
    for spec, expect in zip(specs, expects):
        intent |= user_findings(DEFAULT_ACCOUNT, by_name(account, spec["user_name"]), expect)
    with_keys = sum(1 for u in account["users"] if u["access_keys"])
    budget = {
        "users": users,
        "users_with_keys": with_keys,
        "rule": "at most one call per user who has keys, plus pagination, plus 25 per account",
        "pages_of_users_at_100": math.ceil(users / 100),
        "pages_of_users_at_1000": math.ceil(users / 1000),
        "max_calls_with_one_listing_at_100": with_keys + math.ceil(users / 100) + 25,
        "max_calls_with_one_listing_at_1000": with_keys + math.ceil(users / 1000) + 25,
    }
    return finish(emu, "large", [account], None, intent, extra={"api_call_budget": budget,
                                                               "seed_seconds": round(seconds, 2)})


_BY_NAME = {}


def by_name(account, name):
    index = _BY_NAME.get(id(account))
    if index is None:
        index = {u["user_name"]: u for u in account["users"]}
        _BY_NAME[id(account)] = index
    return index[name]


def intended_findings(account_id, account, specs, root_expect):
    found = set()
    for spec in specs:
        found |= user_findings(account_id, by_name(account, spec["name"]), spec["expect"])
    for rule in root_expect:
        found.add((rule, account_id, "aws_root_user", "root"))
    return found


def user_findings(account_id, u, rules):
    """The findings a user was designed to trigger: key rules name every key of the right status."""
    out = set()
    for rule in rules:
        if rule in ("CW101", "CW102", "CW105"):
            out |= {(rule, account_id, "aws_iam_access_key", k["access_key_id"])
                    for k in u["access_keys"] if k["status"] == "Active"}
        elif rule == "CW104":
            out |= {(rule, account_id, "aws_iam_access_key", k["access_key_id"])
                    for k in u["access_keys"] if k["status"] == "Inactive"}
        else:
            out.add((rule, account_id, "aws_iam_user", u["user_name"]))
    return out


def finish(emu, name, accounts, organization, intent, extra):
    computed = expected_findings(accounts, organization)
    computed_set = {(f["rule_id"], f["account_id"], f["resource_type"], f["resource_id"]) for f in computed}
    if computed_set != intent:
        missing = sorted(intent - computed_set)
        unexpected = sorted(computed_set - intent)
        raise RuntimeError(f"scenario {name}: the rules' re-statement and the seeded intent disagree; "
                           f"intended but not computed: {missing[:20]}; computed but not intended: {unexpected[:20]}")
    counts = {}
    for f in computed:
        counts[f["rule_id"]] = counts.get(f["rule_id"], 0) + 1
    emu.control("calls", method="DELETE")
    truth = {
        "scenario": name,
        "now": NOW_TEXT,
        "endpoint": emu.endpoint,
        "clock": emu.control("clock"),
        "credentials": {"aws_access_key_id": ACCESS_KEY_ID, "aws_secret_access_key": SECRET_ACCESS_KEY,
                        "region": REGION},
        "config": CONFIG,
        "config_yaml": CONFIG_YAML,
        "thresholds": THRESHOLDS,
        "organization": organization,
        "accounts": accounts,
        "expected_findings": computed,
        "expected_counts": dict(sorted(counts.items())),
        "expected_total": len(computed),
    }
    truth.update(extra)
    return truth


# ---------------------------------------------------------------------------------------------
# The bundled rules, re-stated (docs/policy-contract.md, policies/**.rego)
# ---------------------------------------------------------------------------------------------


def days_since(text):
    return math.floor((NOW - parse(text)).total_seconds() / 86400)


def hours_since(text):
    return math.floor((NOW - parse(text)).total_seconds() / 3600)


def is_break_glass(u):
    names = {n.lower() for n in CONFIG["break_glass"]["users"]}
    if u["user_name"].lower() in names or u["arn"].lower() in names:
        return True
    value = u["tags"].get(CONFIG["break_glass"]["tag_key"])
    return isinstance(value, str) and value.lower() == CONFIG["break_glass"]["tag_value"].lower()


def _latest(values):
    known = [v for v in values if v]
    return max(known, key=parse) if known else None


def _user_key_findings(u):
    t = THRESHOLDS
    out = []
    pw = u["password"]["enabled"]
    for k in u["access_keys"]:
        active = k["status"] == "Active"
        if active:
            last = k["last_used_at"] or k["created_at"]
            if days_since(last) >= t["unused_days"]:
                out.append(("CW101", k))
            if days_since(k["created_at"]) > t["rotation_days"]:
                out.append(("CW102", k))
            if pw and k["last_used_at"] is None:
                out.append(("CW105", k))
        else:
            last = _latest([k["last_used_at"], k["created_at"]])
            if days_since(last) > t["inactive_key_grace_days"]:
                out.append(("CW104", k))
    return [(rule, None, None, k["access_key_id"]) for rule, k in out]


def _user_rules(u):
    t = THRESHOLDS
    rules = set()
    active = [k for k in u["access_keys"] if k["status"] == "Active"]
    pw = u["password"]["enabled"]
    if len(active) >= 2:
        rules.add("CW103")
    used = _latest([u["password"]["last_used"]] + [k["last_used_at"] for k in u["access_keys"]])
    if days_since(used or u["created_at"]) >= t["inactive_user_days"]:
        rules.add("CW301")
    if not pw and not active:
        rules.add("CW302")
    if pw and not u["mfa_active"]:
        rules.add("CW303")
    if not is_break_glass(u):
        rules.add("CW304")
    else:
        uses = [x for x in [u["password"]["last_used"]] + [k["last_used_at"] for k in u["access_keys"]] if x]
        recent = any(days_since(x) <= t["break_glass_use_days"] for x in uses)
        if u["access_keys"] or not u["mfa_active"] or recent:
            rules.add("CW305")
    return rules


def _root_rules(root):
    t = THRESHOLDS
    rules = set()
    slots = [s for s in root["access_keys"] if s["active"] or s["last_rotated"]]
    if slots or root.get("account_access_keys_present") is True:
        rules.add("CW201")
    uses = [root["password_last_used"]] + [s["last_used_at"] for s in root["access_keys"]]
    if any(x and days_since(x) <= t["root_use_days"] for x in uses):
        rules.add("CW202")
    # AWS reports the root's password_enabled as not_supported: MFA is required regardless.
    if root["mfa_active"] is False or root.get("account_mfa_enabled") is False:
        rules.add("CW203")
    return rules


def _action_matches(pattern, action):
    regex = "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()) + "$"
    return re.match(regex, action.lower()) is not None


def _as_list(x):
    return x if isinstance(x, list) else [x] if isinstance(x, str) else []


def _statement_denies(s, action):
    if s.get("Effect") != "Deny":
        return False
    if s.get("Action") is not None:
        return any(_action_matches(p, action) for p in _as_list(s["Action"]))
    if s.get("NotAction") is not None:
        return not any(_action_matches(p, action) for p in _as_list(s["NotAction"]))
    return False


def _covers_users(s, account_id):
    all_users = f"arn:aws:iam::{account_id}:user/*"
    resource, not_resource = s.get("Resource"), s.get("NotResource")
    if resource is None and not_resource is None:
        return True
    if resource is not None:
        return any(_wildcard(p, all_users) for p in _as_list(resource))
    return not any(_wildcard(p, all_users) for p in _as_list(not_resource))


def _wildcard(pattern, value):
    regex = "^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern) + "$"
    return re.match(regex, value) is not None


def _ancestry(org, account_id):
    parents = {a["id"]: a["parent_id"] for a in org["accounts"]}
    parents.update({ou["id"]: ou["parent_id"] for ou in org["organizational_units"]})
    chain = [account_id]
    while chain[-1] in parents:
        chain.append(parents[chain[-1]])
    return chain


def scp_coverage(org):
    """For each ACTIVE member account and action: the deny statements that cover it (AWS semantics)."""
    out = {}
    for account in org["accounts"]:
        if account["status"] != "ACTIVE" or account["id"] == org["management_account_id"]:
            continue
        ancestry = set(_ancestry(org, account["id"]))
        verdict = {}
        for action in ("iam:CreateAccessKey", "iam:CreateUser"):
            covering = []
            for p in org["policies"]:
                if not ancestry & set(p["targets"]):
                    continue
                statements = p["document"]["Statement"]
                for i, s in enumerate(statements if isinstance(statements, list) else [statements]):
                    if _statement_denies(s, action) and _covers_users(s, account["id"]):
                        covering.append({"policy": p["name"], "statement": s.get("Sid", f"#{i}"),
                                         "conditional": "Condition" in s})
            verdict[action] = {"covered": bool(covering), "by": covering}
        out[account["id"]] = {"name": account["name"], **verdict}
    return out


def expected_findings(accounts, organization):
    """Every finding of the bundled rules, as (rule_id, slug, account_id, resource type and id)."""
    found = set()
    for account in accounts:
        if account.get("error"):
            continue
        aid = account["account_id"]
        for u in account["users"]:
            for rule, _, _, key_id in _user_key_findings(u):
                found.add((rule, aid, "aws_iam_access_key", key_id))
            for rule in _user_rules(u):
                found.add((rule, aid, "aws_iam_user", u["user_name"]))
        if account.get("root"):
            for rule in _root_rules(account["root"]):
                found.add((rule, aid, "aws_root_user", "root"))
        generated = (account.get("credential_report") or {}).get("generated_at")
        if generated and hours_since(generated) > THRESHOLDS["stale_report_hours"]:
            found.add(("CW901", aid, "aws_credential_report", "credential-report"))
    if organization:
        coverage = scp_coverage(organization)
        for aid, verdict in coverage.items():
            if not verdict["iam:CreateAccessKey"]["covered"]:
                found.add(("CW401", aid, "aws_account", aid))
            if not verdict["iam:CreateUser"]["covered"]:
                found.add(("CW402", aid, "aws_account", aid))
        mgmt = organization["management_account_id"]
        for account in accounts:
            if account["account_id"] == mgmt and not account.get("error") and account["users"]:
                found.add(("CW401", mgmt, "aws_account", mgmt))
                found.add(("CW402", mgmt, "aws_account", mgmt))
    return [{"rule_id": r, "slug": RULES[r], "account_id": a, "resource_type": t, "resource_id": i}
            for r, a, t, i in sorted(found)]


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------

SCENARIOS = {
    "single-account": seed_single_account,
    "organization": seed_organization,
    "organization-ten": seed_organization_ten,
    "large": seed_large,
}


def seed(endpoint, name, **kwargs):
    if name not in SCENARIOS:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    del SEEDED_SECRETS[2:]
    truth = SCENARIOS[name](Emulator(endpoint), **kwargs)
    truth["secrets"] = list(SEEDED_SECRETS)
    return truth


def main(argv=None):
    parser = argparse.ArgumentParser(description="Seed a credwarden emulator scenario and print its truth.")
    parser.add_argument("--endpoint", help="the emulator's URL, e.g. http://127.0.0.1:45678")
    sub = parser.add_subparsers(dest="command", required=True)
    seed_cmd = sub.add_parser("seed", help="reset the emulator and seed a scenario")
    seed_cmd.add_argument("name", choices=sorted(SCENARIOS))
    seed_cmd.add_argument("--out", help="write the truth here instead of stdout")
    sub.add_parser("list", help="list the scenarios")
    args = parser.parse_args(argv)
    if args.command == "list":
        for name, fn in SCENARIOS.items():
            print(f"{name}\t{(fn.__doc__ or '').strip()}")
        return 0
    if not args.endpoint:
        parser.error("--endpoint is required to seed")
    started = time.monotonic()
    truth = seed(args.endpoint, args.name)
    truth["seed_wall_seconds"] = round(time.monotonic() - started, 2)
    text = json.dumps(truth, indent=2, sort_keys=False)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
        print(f"{args.name}: {truth['expected_total']} expected findings, seeded in "
              f"{truth['seed_wall_seconds']} s; truth in {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
