#!/usr/bin/env python3
"""Smoke test of the emulator harness: start it through scripts/emulator, exercise every extension
with boto3, seed every scenario, stop it. No test framework needed:

    scripts/emulator smoke          (or: target/emulator-venv/bin/python tests/emulator/smoke_test.py)

Prints one line per check and `N passed, M failed` last; exits 1 when anything failed.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone

import boto3
import botocore.exceptions
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import scenarios  # noqa: E402

ACCOUNT = "123456789012"
REPORT_HEADER = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,"
    "cert_2_active,cert_2_last_rotated"
)


class Server:
    """An emulator started through scripts/emulator, stopped by pid."""

    def __init__(self, *args):
        self.proc = subprocess.Popen(
            [os.path.join(ROOT, "scripts", "emulator"), "serve", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        if not line.startswith("LISTENING "):
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.split()[1])
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def run(self, name, fn):
        started = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure and go on
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
            traceback.print_exc(file=sys.stdout)
        else:
            self.passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.2f} s)")
        sys.stdout.flush()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def equal(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


class Harness:
    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.emu = scenarios.Emulator(endpoint)

    def ctl(self, path, body=None, method=None):
        return self.emu.control(path, body, method)

    def raw(self, path, body=None, method="POST"):
        req = urllib.request.Request(f"{self.endpoint}{path}", data=json.dumps(body or {}).encode(), method=method)
        try:
            with urllib.request.urlopen(req) as resp:
                return resp.status, json.load(resp)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def client(self, service, retries=0, key_id=scenarios.ACCESS_KEY_ID, secret=scenarios.SECRET_ACCESS_KEY,
               account=None):
        client = boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1", aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=Config(retries={"total_max_attempts": retries + 1, "mode": "standard"}),
        )
        if account:
            client.meta.events.register(
                "before-sign.*.*", lambda request, **_: request.headers.__setitem__("x-moto-account-id", account))
        return client

    def fresh(self, now="2026-11-21T00:00:00Z"):
        self.ctl("reset", {"seed": 7})
        self.ctl("clock", {"now": now, "frozen": True})


def error_code(fn):
    try:
        fn()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    return None, 200


def utc(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def report(iam):
    """Generate (polling) and fetch the credential report: (states seen, GeneratedTime, rows)."""
    states = []
    for _ in range(20):
        states.append(iam.generate_credential_report()["State"])
        if states[-1] == "COMPLETE":
            break
    got = iam.get_credential_report()
    lines = got["Content"].decode().splitlines()
    rows = [dict(zip(lines[0].split(","), line.split(","))) for line in lines[1:]]
    return states, got["GeneratedTime"], lines[0], {r["user"]: r for r in rows}


# ---------------------------------------------------------------------------------------------


def test_clock(h):
    h.ctl("reset", {})
    real = h.ctl("clock")
    check(real["real"] and not real["frozen"], f"after reset the clock is real: {real}")
    h.ctl("clock", {"now": "2025-01-01T00:00:00Z", "frozen": True})
    iam = h.client("iam")
    created = iam.create_user(UserName="then")["User"]["CreateDate"]
    equal(created, datetime(2025, 1, 1, tzinfo=created.tzinfo), "CreateDate under a frozen clock")
    h.ctl("clock", {"advance_seconds": 3600})
    key = iam.create_access_key(UserName="then")["AccessKey"]
    equal(key["CreateDate"].astimezone(timezone.utc), datetime(2025, 1, 1, 1, tzinfo=timezone.utc),
          "key CreateDate after advancing an hour")
    moving = h.ctl("clock", {"now": "2030-06-01T12:00:00Z"})
    check(not moving["frozen"] and abs(moving["offset_seconds"]) > 1e6, f"an advancing clock: {moving}")
    time.sleep(1.1)
    later = utc(h.ctl("clock")["now_precise"])
    check(later > datetime(2030, 6, 1, 12, 0, 1, tzinfo=timezone.utc), f"the shifted clock advances: {later}")


def test_list_users_paging(h):
    h.fresh()
    iam = h.client("iam")
    for i in range(7):
        iam.create_user(UserName=f"pager-{i}", Path="/p/" if i % 2 else "/")
    names, marker, pages = [], None, 0
    while True:
        kwargs = {"MaxItems": 3}
        if marker:
            kwargs["Marker"] = marker
        page = iam.list_users(**kwargs)
        pages += 1
        names += [u["UserName"] for u in page["Users"]]
        check(len(page["Users"]) <= 3, "a page never holds more than MaxItems")
        if not page["IsTruncated"]:
            check("Marker" not in page, "the last page has no Marker")
            break
        marker = page["Marker"]
    equal(pages, 3, "pages of 7 users at MaxItems=3")
    equal(names, [f"pager-{i}" for i in range(7)], "every user once, in order")
    equal(len(iam.list_users()["Users"]), 7, "default page size (100)")
    equal(len(iam.list_users(PathPrefix="/p/")["Users"]), 3, "PathPrefix still filters")
    all_users = [u for p in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
                 for u in p["Users"]]
    equal(len(all_users), 7, "boto3's paginator at PageSize=2")
    equal(error_code(lambda: iam.list_users(MaxItems=1001))[0], "ValidationError", "MaxItems over 1000")
    equal(error_code(lambda: iam.list_users(Marker="bogus"))[0], "InvalidInput", "a made-up Marker")


def test_other_iam_paging(h):
    h.fresh()
    iam = h.client("iam")
    iam.create_user(UserName="u", Tags=[{"Key": f"k{i}", "Value": str(i)} for i in range(5)])
    k1 = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    k2 = iam.create_access_key(UserName="u")["AccessKey"]["AccessKeyId"]
    page = iam.list_access_keys(UserName="u", MaxItems=1)
    check(page["IsTruncated"] and len(page["AccessKeyMetadata"]) == 1, f"ListAccessKeys page 1: {page}")
    page2 = iam.list_access_keys(UserName="u", MaxItems=1, Marker=page["Marker"])
    equal([k["AccessKeyId"] for k in page["AccessKeyMetadata"] + page2["AccessKeyMetadata"]], [k1, k2],
          "ListAccessKeys over two pages")
    check(not page2["IsTruncated"], "ListAccessKeys last page")
    tags = [t for p in iam.get_paginator("list_user_tags").paginate(UserName="u", PaginationConfig={"PageSize": 2})
            for t in p["Tags"]]
    equal(len(tags), 5, "ListUserTags through pages of 2")
    for i in range(3):
        serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=f"d{i}")["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(UserName="u", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321")
    mfa = iam.list_mfa_devices(UserName="u", MaxItems=2)
    check(mfa["IsTruncated"] and len(mfa["MFADevices"]) == 2, "ListMFADevices is paged")
    for i in range(4):
        iam.create_user(UserName=f"g{i}")
    for i in range(2):
        iam.create_group(GroupName=f"grp{i}")
    seen = {"UserDetailList": [], "GroupDetailList": []}
    pages = 0
    for p in iam.get_paginator("get_account_authorization_details").paginate(PaginationConfig={"PageSize": 2}):
        pages += 1
        check(sum(len(p[k]) for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")) <= 2,
              "a GetAccountAuthorizationDetails page holds at most MaxItems entries in all")
        for k in seen:
            seen[k] += [x.get("UserName") or x.get("GroupName") for x in p[k]]
    equal(len(seen["UserDetailList"]), 5, "users over GetAccountAuthorizationDetails pages")
    equal(len(seen["GroupDetailList"]), 2, "groups over GetAccountAuthorizationDetails pages")
    equal(pages, 4, "pages of GetAccountAuthorizationDetails at 2")
    detail = iam.get_account_authorization_details(Filter=["User"])["UserDetailList"]
    check(any(d["UserName"] == "u" and len(d.get("Tags", [])) == 5 for d in detail), "UserDetailList carries tags")


def test_backdating(h):
    h.fresh()
    iam = h.client("iam")
    iam.create_user(UserName="old")
    key = iam.create_access_key(UserName="old")["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName="old", Password="Secret-Passw0rd!")
    h.ctl("iam/backdate", {"items": [
        {"user_name": "old", "created_at": "2024-02-03T04:05:06Z", "password_created_at": "2024-02-04T00:00:00Z",
         "password_last_used": "2026-10-01T08:00:00Z", "mfa_active": True},
        {"access_key_id": key, "created_at": "2024-02-03T05:00:00Z", "last_used_at": "2025-07-08T09:10:11Z",
         "last_used_service": "s3", "last_used_region": "eu-west-1"},
    ]})
    user = iam.get_user(UserName="old")["User"]
    equal(user["CreateDate"].astimezone(timezone.utc), datetime(2024, 2, 3, 4, 5, 6, tzinfo=timezone.utc),
          "GetUser CreateDate")
    equal(user["PasswordLastUsed"].astimezone(timezone.utc), datetime(2026, 10, 1, 8, tzinfo=timezone.utc),
          "GetUser PasswordLastUsed")
    profile = iam.get_login_profile(UserName="old")["LoginProfile"]
    equal(profile["CreateDate"].astimezone(timezone.utc), datetime(2024, 2, 4, tzinfo=timezone.utc),
          "LoginProfile CreateDate")
    meta = iam.list_access_keys(UserName="old")["AccessKeyMetadata"][0]
    equal(meta["CreateDate"].astimezone(timezone.utc), datetime(2024, 2, 3, 5, tzinfo=timezone.utc),
          "ListAccessKeys CreateDate")
    last = iam.get_access_key_last_used(AccessKeyId=key)["AccessKeyLastUsed"]
    equal((last["LastUsedDate"].astimezone(timezone.utc), last["ServiceName"], last["Region"]),
          (datetime(2025, 7, 8, 9, 10, 11, tzinfo=timezone.utc), "s3", "eu-west-1"), "GetAccessKeyLastUsed")
    equal(len(iam.list_mfa_devices(UserName="old")["MFADevices"]), 1, "MFA attached by the control API")
    _, _, _, rows = report(iam)
    row = rows["old"]
    equal((row["user_creation_time"], row["password_enabled"], row["password_last_used"],
           row["password_last_changed"], row["mfa_active"]),
          ("2024-02-03T04:05:06+00:00", "true", "2026-10-01T08:00:00+00:00", "2024-02-04T00:00:00+00:00", "true"),
          "the user's report row")
    equal((row["access_key_1_active"], row["access_key_1_last_rotated"], row["access_key_1_last_used_date"],
           row["access_key_1_last_used_region"], row["access_key_1_last_used_service"]),
          ("true", "2024-02-03T05:00:00+00:00", "2025-07-08T09:10:11+00:00", "eu-west-1", "s3"),
          "the key's report columns")
    # Signing with a seeded user's key marks it used now (the clock's now) in moto.
    secret = "irrelevant-moto-does-not-check-signatures"
    h.client("iam", key_id=key, secret=secret).list_users()
    last = iam.get_access_key_last_used(AccessKeyId=key)["AccessKeyLastUsed"]
    equal(last["LastUsedDate"].astimezone(timezone.utc), datetime(2026, 11, 21, tzinfo=timezone.utc),
          "a key that signs a request is used at the clock's now")


def test_credential_report(h):
    h.fresh()
    iam = h.client("iam")
    equal(error_code(iam.get_credential_report), ("ReportNotPresent", 410), "GetCredentialReport before any")
    iam.create_user(UserName="nobody")
    iam.create_user(UserName="console")
    iam.create_login_profile(UserName="console", Password="Secret-Passw0rd!")
    h.ctl("iam/credential-report", {"delay_polls": 2})
    equal(iam.generate_credential_report()["State"], "STARTED", "first GenerateCredentialReport")
    equal(error_code(iam.get_credential_report), ("ReportInProgress", 404), "GetCredentialReport while in progress")
    equal(iam.generate_credential_report()["State"], "INPROGRESS", "a poll while in progress")
    equal(iam.generate_credential_report()["State"], "COMPLETE", "the poll after delay_polls")
    got = iam.get_credential_report()
    equal(got["GeneratedTime"].astimezone(timezone.utc), datetime(2026, 11, 21, tzinfo=timezone.utc),
          "GeneratedTime is the clock's now at GenerateCredentialReport")
    lines = got["Content"].decode().splitlines()
    equal(lines[0], REPORT_HEADER, "the header, exactly as AWS")
    root = dict(zip(lines[0].split(","), lines[1].split(",")))
    equal((root["user"], root["arn"], root["password_enabled"], root["password_last_changed"], root["mfa_active"]),
          ("<root_account>", f"arn:aws:iam::{ACCOUNT}:root", "not_supported", "not_supported", "false"),
          "the default root row")
    rows = {r.split(",")[0]: dict(zip(lines[0].split(","), r.split(","))) for r in lines[1:]}
    equal((rows["nobody"]["password_enabled"], rows["nobody"]["password_last_used"]), ("false", "N/A"),
          "a user without a password")
    equal(rows["console"]["password_last_used"], "no_information", "a password never used")
    equal(iam.generate_credential_report()["State"], "COMPLETE", "a fresh report is not regenerated")
    h.ctl("clock", {"advance_seconds": 5 * 3600})
    equal(iam.generate_credential_report()["State"], "STARTED", "a report older than 4 h is regenerated")
    h.ctl("iam/credential-report", {"delay_polls": 0})
    h.ctl("iam/credential-report", {}, method="DELETE")
    equal(iam.generate_credential_report()["State"], "STARTED", "STARTED even with no delay")
    got = iam.get_credential_report()
    equal(got["GeneratedTime"].astimezone(timezone.utc), datetime(2026, 11, 21, 5, tzinfo=timezone.utc),
          "GeneratedTime follows the clock")
    h.ctl("iam/credential-report", {"generated_at": "2026-11-20T10:00:00Z"})
    equal(iam.get_credential_report()["GeneratedTime"].astimezone(timezone.utc),
          datetime(2026, 11, 20, 10, tzinfo=timezone.utc), "a report planted with an old GeneratedTime")
    # Accounts are separate: another account has no report yet.
    other = h.client("iam", account="210987654321")
    equal(error_code(other.get_credential_report)[0], "ReportNotPresent", "another account's report")


def test_root_and_summary(h):
    h.fresh()
    iam = h.client("iam")
    summary = iam.get_account_summary()["SummaryMap"]
    equal((summary["AccountAccessKeysPresent"], summary["AccountMFAEnabled"]), (0, 0), "default summary flags")
    h.ctl("iam/root", {"mfa_active": True, "password_last_used": "2026-11-01T00:00:00Z",
                       "access_key_2_active": False, "access_key_2_last_rotated": "2019-01-01T00:00:00Z",
                       "access_key_2_last_used_date": "2020-01-01T00:00:00Z",
                       "access_key_2_last_used_service": "s3", "access_key_2_last_used_region": "us-east-1"})
    summary = iam.get_account_summary()["SummaryMap"]
    equal((summary["AccountAccessKeysPresent"], summary["AccountMFAEnabled"]), (1, 1),
          "summary flags follow the root (an inactive key is still present)")
    _, _, _, rows = report(iam)
    root = rows["<root_account>"]
    equal((root["mfa_active"], root["password_last_used"], root["access_key_1_active"],
           root["access_key_1_last_rotated"], root["access_key_2_active"], root["access_key_2_last_rotated"],
           root["access_key_2_last_used_date"], root["access_key_2_last_used_service"]),
          ("true", "2026-11-01T00:00:00+00:00", "false", "N/A", "false", "2019-01-01T00:00:00+00:00",
           "2020-01-01T00:00:00+00:00", "s3"), "the root row")
    h.ctl("iam/root", {"account_access_keys_present": False})
    equal(iam.get_account_summary()["SummaryMap"]["AccountAccessKeysPresent"], 0, "an explicit summary override")
    status, answer = h.raw("/_credwarden/iam/root", {"mfa_active": "perhaps"})
    check(status == 400 and "mfa_active" in answer["error"], f"a bad control value is refused: {status} {answer}")


def test_faults(h):
    h.fresh()
    iam = h.client("iam")
    h.ctl("calls", method="DELETE")

    def run(n):
        outcome = []
        for _ in range(n):
            code, status = error_code(iam.list_users)
            outcome.append(code)
        return outcome

    h.ctl("faults", {"throttle_ratio": 0.2, "seed": 1})
    first = run(500)
    ratio = first.count("Throttling") / len(first)
    check(0.14 <= ratio <= 0.26, f"20% requested, {ratio:.1%} throttled")
    check(set(first) <= {None, "Throttling"}, f"only throttling: {set(first)}")
    h.ctl("faults", {"throttle_ratio": 0.2, "seed": 1})
    equal(run(500), first, "the same seed throttles the same requests")
    status, _ = h.raw("/_credwarden/health", method="GET")
    equal(status, 200, "control requests are never faulted")
    h.ctl("faults", {"error_ratio": 1.0, "seed": 2})
    equal(error_code(iam.list_users), ("InternalFailure", 500), "an injected server error (IAM)")
    org = h.client("organizations")
    equal(error_code(org.list_roots), ("InternalFailure", 500), "an injected server error (Organizations)")
    h.ctl("faults", {"throttle_ratio": 1.0, "seed": 2})
    equal(error_code(org.list_roots), ("TooManyRequestsException", 400), "Organizations throttling")
    equal(error_code(h.client("sts").get_caller_identity), ("Throttling", 400), "STS throttling")
    h.ctl("faults", {"throttle_ratio": 1.0, "operations": ["iam:GetAccountSummary"]})
    equal(error_code(iam.list_users)[0], None, "an operation outside the list is left alone")
    equal(error_code(iam.get_account_summary)[0], "Throttling", "an operation in the list is throttled")
    h.ctl("faults", {"throttle_ratio": 1.0, "max_consecutive": 2})
    retrying = h.client("iam", retries=4)
    retrying.list_users()  # two throttled attempts, then the third goes through
    equal(h.ctl("faults")["injected"], {"throttle": 2}, "max_consecutive bounds the faults of one request")
    h.ctl("faults", {"delay_ms": 300})
    started = time.monotonic()
    iam.list_users()
    check(time.monotonic() - started >= 0.3, "delay_ms slows requests down")
    h.ctl("faults", method="DELETE")
    equal(error_code(iam.list_users)[0], None, "DELETE clears the faults")
    # Throttled SDK calls still succeed with standard retries (which back off: keep it short).
    h.ctl("faults", {"throttle_ratio": 0.2, "seed": 9, "max_consecutive": 3})
    sdk = h.client("iam", retries=4)
    for _ in range(30):
        sdk.list_users()
    h.ctl("faults", method="DELETE")


def test_calls(h):
    h.fresh()
    iam = h.client("iam")
    org = h.client("organizations")
    h.ctl("calls", method="DELETE")
    iam.list_users()
    iam.list_users()
    iam.get_account_summary()
    error_code(org.describe_organization)
    h.client("iam", account="210987654321").list_users()
    h.ctl("faults", {"throttle_ratio": 1.0, "operations": ["GetAccountSummary"]})
    error_code(iam.get_account_summary)
    h.ctl("faults", method="DELETE")
    h.ctl("health")
    calls = h.ctl("calls")
    equal(calls["calls"]["iam:ListUsers"]["count"], 3, "ListUsers counted")
    equal((calls["calls"]["iam:GetAccountSummary"]["count"], calls["calls"]["iam:GetAccountSummary"]["throttled"]),
          (2, 1), "GetAccountSummary counted, the faulted one marked")
    equal(calls["calls"]["organizations:DescribeOrganization"]["error_responses"], 1,
          "a moto error response is marked")
    equal(calls["actions"], ["iam:GetAccountSummary", "iam:ListUsers", "organizations:DescribeOrganization"],
          "actions in IAM policy form")
    equal(calls["by_account"]["210987654321"], {"iam:ListUsers": 1}, "calls by account")
    equal(calls["total"], 6, "control requests are not counted")
    with_log = h.ctl("calls?log=1")
    equal([e["action"] for e in with_log["log"]][:2], ["iam:ListUsers", "iam:ListUsers"], "the ordered log")
    h.ctl("calls", method="DELETE")
    equal(h.ctl("calls")["total"], 0, "DELETE resets the counters")


def test_organizations_paging(h):
    h.fresh()
    org = h.client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots(MaxResults=1)["Roots"][0]["Id"]
    for i in range(5):
        org.create_organizational_unit(ParentId=root, Name=f"ou{i}")
    for i in range(4):
        org.create_account(AccountName=f"a{i}", Email=f"a{i}@credwarden.example")
    page = org.list_children(ParentId=root, ChildType="ORGANIZATIONAL_UNIT", MaxResults=2)
    check(len(page["Children"]) == 2 and page.get("NextToken"), f"ListChildren is paged: {page}")
    children = [c for p in org.get_paginator("list_children").paginate(
        ParentId=root, ChildType="ORGANIZATIONAL_UNIT", PaginationConfig={"PageSize": 2}) for c in p["Children"]]
    equal(len(children), 5, "ListChildren through pages")
    accounts = [a for p in org.get_paginator("list_accounts").paginate(PaginationConfig={"PageSize": 2})
                for a in p["Accounts"]]
    equal(len(accounts), 5, "ListAccounts through pages (moto's own paging)")
    targets = [t for p in org.get_paginator("list_targets_for_policy").paginate(
        PolicyId="p-FullAWSAccess", PaginationConfig={"PageSize": 3}) for t in p["Targets"]]
    equal(len(targets), 1 + 5 + 5, "ListTargetsForPolicy through pages (root, OUs, accounts)")
    equal(error_code(lambda: org.list_children(ParentId=root, ChildType="ACCOUNT", MaxResults=21))[0],
          "InvalidInputException", "MaxResults over 20")


def test_reset(h):
    h.fresh()
    iam = h.client("iam")
    iam.create_user(UserName="gone")
    h.ctl("faults", {"throttle_ratio": 0.5})
    h.ctl("reset", {})
    equal(iam.list_users()["Users"], [], "users are gone after reset")
    equal(h.ctl("faults")["config"], None, "faults are cleared by reset")
    check(h.ctl("clock")["real"], "the clock is real again after reset")


def test_assume_role(h):
    h.fresh()
    org = h.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(AccountName="m", Email="m@credwarden.example")["CreateAccountStatus"]["AccountId"]
    h.client("iam", account=member).create_user(UserName="member-user")
    creds = h.client("sts").assume_role(RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                        RoleSessionName="credwarden")["Credentials"]
    assumed = boto3.client("iam", endpoint_url=h.endpoint, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
    equal([u["UserName"] for u in assumed.list_users()["Users"]], ["member-user"],
          "assumed-role credentials reach the member account")
    equal(h.client("iam").list_users()["Users"], [], "the management account has its own IAM")


def test_scenarios(h, timings):
    single = scenarios.seed(h.endpoint, "single-account")
    equal(single["expected_total"], sum(single["expected_counts"].values()), "single-account truth is consistent")
    check(single["expected_counts"].get("CW201") == 1, "single-account: a root key")
    equal(h.ctl("calls")["total"], 0, "the counters are cleared after seeding")
    iam = h.client("iam")
    equal(len([u for p in iam.get_paginator("list_users").paginate() for u in p["Users"]]),
          len(single["accounts"][0]["users"]), "single-account: users over the API")
    _, generated, _, rows = report(iam)
    equal(rows["<root_account>"]["access_key_1_active"], "true", "single-account: root key in the report")
    equal(generated.astimezone(timezone.utc), datetime(2026, 11, 21, tzinfo=timezone.utc),
          "single-account: report generated at NOW")
    for u in single["accounts"][0]["users"]:
        r = rows[u["user_name"]]
        equal(r["password_last_used"] if u["password"]["enabled"] else "N/A",
              (u["password"]["last_used"] or "no_information").replace("Z", "+00:00")
              if u["password"]["enabled"] else "N/A", f"report password_last_used of {u['user_name']}")
        equal(r["mfa_active"], "true" if u["mfa_active"] else "false", f"report mfa of {u['user_name']}")

    org_truth = scenarios.seed(h.endpoint, "organization")
    members = [a for a in org_truth["organization"]["accounts"]
               if a["id"] != org_truth["management_account_id"] and a["status"] == "ACTIVE"]
    check(len(members) >= 5, f"at least five active member accounts: {len(members)}")
    sts = h.client("sts")
    for account in org_truth["accounts"]:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account['account_id']}:role/OrganizationAccountAccessRole",
                                RoleSessionName="smoke")["Credentials"]
        member_iam = boto3.client("iam", endpoint_url=h.endpoint, region_name="us-east-1",
                                  aws_access_key_id=creds["AccessKeyId"],
                                  aws_secret_access_key=creds["SecretAccessKey"],
                                  aws_session_token=creds["SessionToken"])
        equal(sorted(u["UserName"] for u in member_iam.list_users()["Users"]),
              sorted(u["user_name"] for u in account["users"]), f"users of {account['account_id']}")
    cw401 = {f["account_id"] for f in org_truth["expected_findings"] if f["rule_id"] == "CW401"}
    equal(len(cw401), 3, "organization: CW401 for dev, sandbox and the management account")

    started = time.monotonic()
    large = scenarios.seed(h.endpoint, "large")
    timings["seed large (2,500 users)"] = time.monotonic() - started
    started = time.monotonic()
    users = [u for p in iam.get_paginator("list_users").paginate() for u in p["Users"]]
    timings["list 2,500 users at 100 a page"] = time.monotonic() - started
    equal(len(users), 2500, "large: 2,500 users over paged ListUsers")
    equal(large["api_call_budget"]["users_with_keys"], 1750, "large: users with keys")
    calls = h.ctl("calls")["calls"]
    equal(calls["iam:ListUsers"]["count"], 25, "large: 25 pages of ListUsers")


def test_port_file_and_death(timings):
    with tempfile.TemporaryDirectory() as tmp:
        port_file = os.path.join(tmp, "port")
        started = time.monotonic()
        server = Server("--port-file", port_file)
        timings["emulator start (venv ready)"] = time.monotonic() - started
        try:
            equal(int(open(port_file).read()), server.port, "--port-file holds the port")
            h = Harness(server.endpoint)
            h.ctl("faults", {"die_after_requests": 2})
            iam = h.client("iam")
            iam.list_users()
            iam.list_users()
            code = None
            try:
                iam.list_users()
            except botocore.exceptions.BotoCoreError as e:
                code = type(e).__name__
            check(code is not None, "the request after die_after_requests fails at the connection")
            server.proc.wait(timeout=10)
            check(server.proc.returncode != 0, f"the emulator exited ({server.proc.returncode})")
        finally:
            server.stop()


def main():
    timings = {}
    started = time.monotonic()
    server = Server()
    timings["emulator start"] = time.monotonic() - started
    checks = Checks()
    h = Harness(server.endpoint)
    try:
        for name, fn in [
            ("clock", test_clock),
            ("ListUsers paging", test_list_users_paging),
            ("other IAM paging", test_other_iam_paging),
            ("backdating", test_backdating),
            ("credential report", test_credential_report),
            ("root user and account summary", test_root_and_summary),
            ("faults", test_faults),
            ("call counters", test_calls),
            ("Organizations paging", test_organizations_paging),
            ("assume role into a member account", test_assume_role),
            ("reset", test_reset),
        ]:
            checks.run(name, lambda fn=fn: fn(h))
        checks.run("scenarios", lambda: test_scenarios(h, timings))
    finally:
        server.stop()
    checks.run("port file and die_after_requests", lambda: test_port_file_and_death(timings))
    for what, seconds in timings.items():
        print(f"time {what}: {seconds:.2f} s")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
