#!/usr/bin/env python3
"""credwarden's AWS emulator: moto's server app, extended for the live-collection tests.

Serves moto (pinned in requirements.txt) over HTTP on 127.0.0.1 and adds what stock moto lacks,
without changing moto's files: a controllable clock for IAM, paging where moto ignores
MaxItems/Marker or MaxResults/NextToken, a credential report that looks like AWS's (a
`<root_account>` row, real last-used data, a generation time from the clock, STARTED before
COMPLETE), account-summary flags that follow the root user, injected throttling and server
errors, and a log of the AWS calls received. Everything is driven through JSON endpoints under
/_credwarden/; README.md in this folder documents them.

    python server.py [--port 0] [--port-file FILE] [--exit-with-parent] [--verbose]

The first line on stdout is `LISTENING <port>`.
"""

from __future__ import annotations

import argparse
import base64
import collections
import functools
import hashlib
import io
import json
import os
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

from werkzeug.serving import make_server

import moto
import moto.iam.models as iam_models
from moto.core import DEFAULT_ACCOUNT_ID
from moto.iam.exceptions import IAMException
from moto.iam.models import AccessKeyLastUsed, IAMBackend, iam_backends
from moto.iam.responses import IamResponse
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.organizations.exceptions import InvalidInputException
from moto.organizations.models import organizations_backends
from moto.organizations.responses import OrganizationsResponse

CONTROL_PREFIX = "/_credwarden/"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
ACCOUNT_ID_RE = re.compile(r"^\d{12}$")

# The credential report's columns, exactly as AWS writes them.
REPORT_COLUMNS = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
]
REPORT_HEADER = ",".join(REPORT_COLUMNS)

IAM_XMLNS = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}


class ControlError(Exception):
    """A bad control request: answered with HTTP 400 (or the given status) and a JSON message."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# Time
# ---------------------------------------------------------------------------------------------


def parse_ts(value, field="timestamp"):
    """An ISO 8601 / RFC 3339 string (or a datetime) as a naive UTC datetime, like moto's."""
    if value is None:
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith("Z") or text.endswith("z"):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise ControlError(f"field `{field}`: expected an RFC 3339 timestamp, found {value!r}")
    else:
        raise ControlError(f"field `{field}`: expected an RFC 3339 timestamp, found {value!r}")
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def fmt_ts(dt):
    """RFC 3339 with a Z, for JSON answers."""
    if dt is None:
        return None
    return dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def fmt_report_ts(dt):
    """The credential report's date format: 2026-11-21T09:30:00+00:00."""
    return dt.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def real_utcnow():
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Clock:
    """IAM's idea of "now": the real time, the real time shifted, or frozen at one instant."""

    def __init__(self):
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen = None

    def now(self):
        with self._lock:
            if self._frozen is not None:
                return self._frozen
            return real_utcnow() + self._offset

    def set(self, now, frozen):
        with self._lock:
            if frozen:
                self._frozen = now
                self._offset = timedelta(0)
            else:
                self._frozen = None
                self._offset = now - real_utcnow()

    def advance(self, seconds):
        with self._lock:
            if self._frozen is not None:
                self._frozen += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)

    def reset(self):
        with self._lock:
            self._offset = timedelta(0)
            self._frozen = None

    def describe(self):
        with self._lock:
            frozen = self._frozen is not None
            offset = self._offset.total_seconds()
        now = self.now()
        return {
            "now": now.replace(microsecond=0).isoformat() + "Z",
            "now_precise": now.isoformat() + "Z",
            "frozen": frozen,
            "offset_seconds": offset,
            "real": not frozen and offset == 0,
        }


CLOCK = Clock()

# moto's IAM reads the time only through this module-level name: creation dates of users, keys,
# MFA devices, and the "last used" stamp moto puts on a key that signs a request.
iam_models.utcnow = CLOCK.now


# ---------------------------------------------------------------------------------------------
# Per-account extension state, kept on moto's own IAM backend object so that moto's reset
# (which builds new backends) drops it too.
# ---------------------------------------------------------------------------------------------

STATE_LOCK = threading.RLock()
DEFAULTS = {"report_delay_polls": 1}


def check_account_id(account_id):
    account_id = account_id or DEFAULT_ACCOUNT_ID
    if not isinstance(account_id, str) or not ACCOUNT_ID_RE.match(account_id):
        raise ControlError(f"field `account_id`: expected 12 digits, found {account_id!r}")
    return account_id


def iam_backend(account_id) -> IAMBackend:
    return iam_backends[check_account_id(account_id)]["global"]


def default_root():
    return {
        "user_creation_time": None,  # null: the first time the account's root was looked at
        "password_enabled": "not_supported",  # AWS writes not_supported for the root user
        "password_last_used": None,  # null: no_information
        "password_last_changed": "not_supported",
        "password_next_rotation": "not_supported",
        "mfa_active": False,
        "keys": {
            1: {"active": False, "last_rotated": None, "last_used_date": None, "last_used_region": None,
                "last_used_service": None},
            2: {"active": False, "last_rotated": None, "last_used_date": None, "last_used_region": None,
                "last_used_service": None},
        },
        "cert_1_active": False,
        "cert_2_active": False,
        # Explicit account-summary values; null: derived from the root user above.
        "account_access_keys_present": None,
        "account_mfa_enabled": None,
    }


def ext(backend: IAMBackend):
    """The extension state of one account's IAM backend."""
    with STATE_LOCK:
        state = backend.__dict__.get("_credwarden")
        if state is None:
            state = {
                "root": default_root(),
                "report": None,  # {"generated_at", "content"} of the last completed report
                "job": None,  # {"started_at", "polls_left"} while a report is being generated
                "report_config": {
                    "delay_polls": DEFAULTS["report_delay_polls"],
                    "regenerate_after_seconds": 4 * 3600,
                    "expire_after_seconds": None,
                },
            }
            state["root"]["user_creation_time"] = CLOCK.now()
            backend.__dict__["_credwarden"] = state
        return state


# ---------------------------------------------------------------------------------------------
# The credential report
# ---------------------------------------------------------------------------------------------


def _ts_or(dt, fallback):
    return fmt_report_ts(dt) if dt is not None else fallback


def _last_used_parts(key):
    """(date, region, service) of a moto access key's last use, or None."""
    last = key.last_used
    if last is None:
        return None
    if isinstance(last, AccessKeyLastUsed):
        return last.timestamp, last.region, last.service
    if isinstance(last, datetime):  # moto lets callers assign a bare datetime
        return last, None, None
    return None


def sorted_keys(user):
    return sorted(user.access_keys, key=lambda k: k.create_date)


def user_report_row(backend: IAMBackend, user):
    has_password = bool(user.password)
    password_used = user.password_last_used
    changed = user.__dict__.get("_cw_password_last_changed") or user.create_date
    next_rotation = "N/A"
    policy = backend.account_password_policy
    if has_password and policy is not None and getattr(policy, "max_password_age", None):
        next_rotation = fmt_report_ts(changed + timedelta(days=int(policy.max_password_age)))
    row = [
        user.name,
        user.arn,
        fmt_report_ts(user.create_date),
        "true" if has_password else "false",
        _ts_or(password_used, "no_information" if has_password else "N/A"),
        fmt_report_ts(changed) if has_password else "N/A",
        next_rotation,
        "true" if user.mfa_devices else "false",
    ]
    keys = sorted_keys(user)
    for slot in (0, 1):
        if slot < len(keys):
            key = keys[slot]
            used = _last_used_parts(key)
            row += [
                "true" if key.status == "Active" else "false",
                fmt_report_ts(key.create_date),
                fmt_report_ts(used[0]) if used else "N/A",
                (used[1] or "N/A") if used else "N/A",
                (used[2] or "N/A") if used else "N/A",
            ]
        else:
            row += ["false", "N/A", "N/A", "N/A", "N/A"]
    certs = list(user.signing_certificates.values())
    for slot in (0, 1):
        if slot < len(certs):
            cert = certs[slot]
            row += ["true" if cert.status == "Active" else "false", fmt_report_ts(cert.upload_date)]
        else:
            row += ["false", "N/A"]
    return row


def root_report_row(backend: IAMBackend):
    root = ext(backend)["root"]
    pw_enabled = root["password_enabled"]
    if isinstance(pw_enabled, bool):
        pw_enabled = "true" if pw_enabled else "false"
    pw_used = root["password_last_used"]
    row = [
        "<root_account>",
        f"arn:aws:iam::{backend.account_id}:root",
        fmt_report_ts(root["user_creation_time"]),
        pw_enabled,
        pw_used if isinstance(pw_used, str) else _ts_or(pw_used, "no_information"),
        root["password_last_changed"],
        root["password_next_rotation"],
        "true" if root["mfa_active"] else "false",
    ]
    for slot in (1, 2):
        key = root["keys"][slot]
        row += [
            "true" if key["active"] else "false",
            _ts_or(key["last_rotated"], "N/A"),
            _ts_or(key["last_used_date"], "N/A"),
            key["last_used_region"] or "N/A",
            key["last_used_service"] or "N/A",
        ]
    row += ["true" if root["cert_1_active"] else "false", "N/A",
            "true" if root["cert_2_active"] else "false", "N/A"]
    return row


def build_report(backend: IAMBackend):
    rows = [REPORT_HEADER, ",".join(root_report_row(backend))]
    for user in list(backend.users.values()):
        rows.append(",".join(user_report_row(backend, user)))
    return "\n".join(rows) + "\n"


def root_keys_present(root):
    return any(k["active"] or k["last_rotated"] is not None for k in root["keys"].values())


def _complete_job(backend, state):
    job = state["job"]
    state["report"] = {"generated_at": job["started_at"], "content": build_report(backend)}
    state["job"] = None


def _poll_job(backend, state):
    """One poll of an in-progress report: True once it is complete."""
    job = state["job"]
    if job is None:
        return True
    if job["polls_left"] <= 0:
        _complete_job(backend, state)
        return True
    job["polls_left"] -= 1
    return False


def generate_credential_report(self: IamResponse):
    backend = self.backend
    with STATE_LOCK:
        state = ext(backend)
        if state["job"] is not None:
            if _poll_job(backend, state):
                return _action_result({"State": "COMPLETE"})
            return _action_result({"State": "INPROGRESS", "Description": "Report generation in progress"})
        report = state["report"]
        fresh_for = state["report_config"]["regenerate_after_seconds"]
        if report is not None and (CLOCK.now() - report["generated_at"]).total_seconds() < fresh_for:
            return _action_result({"State": "COMPLETE"})
        state["job"] = {"started_at": CLOCK.now(), "polls_left": int(state["report_config"]["delay_polls"])}
        if state["job"]["polls_left"] <= 0:
            _complete_job(backend, state)
        return _action_result(
            {"State": "STARTED", "Description": "No report exists. Starting a new report generation task"}
        )


def get_credential_report(self: IamResponse):
    backend = self.backend
    with STATE_LOCK:
        state = ext(backend)
        if state["job"] is not None and not _poll_job(backend, state):
            raise IAMException("ReportInProgress", "Report generation in progress. Try again later.")
        report = state["report"]
        if report is None:
            raise IAMException(
                "ReportNotPresent",
                "Credential report not present. Use GenerateCredentialReport to generate a report.",
            )
        expire = state["report_config"]["expire_after_seconds"]
        if expire is not None and (CLOCK.now() - report["generated_at"]).total_seconds() > float(expire):
            raise IAMException("ReportExpired", "The credential report has expired. Generate a new one.")
        return _action_result(
            {"Content": report["content"], "ReportFormat": "text/csv", "GeneratedTime": report["generated_at"]}
        )


def _action_result(result):
    from moto.core.responses import ActionResult

    return ActionResult(result)


IamResponse.generate_credential_report = generate_credential_report
IamResponse.get_credential_report = get_credential_report


# ---------------------------------------------------------------------------------------------
# Account summary, login profiles
# ---------------------------------------------------------------------------------------------


def wraps_method(cls, name):
    original = getattr(cls, name)

    def decorator(fn):
        @functools.wraps(original)
        def wrapper(self, *args, **kwargs):
            return fn(self, original, *args, **kwargs)

        setattr(cls, name, wrapper)
        return wrapper

    return decorator


@wraps_method(IamResponse, "get_account_summary")
def _get_account_summary(self, original):
    result = original(self)
    summary = result.result["SummaryMap"]
    with STATE_LOCK:
        root = ext(self.backend)["root"]
        keys = root["account_access_keys_present"]
        mfa = root["account_mfa_enabled"]
        summary["AccountAccessKeysPresent"] = int(root_keys_present(root) if keys is None else bool(keys))
        summary["AccountMFAEnabled"] = int(bool(root["mfa_active"]) if mfa is None else bool(mfa))
    return result


_USER_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@wraps_method(IAMBackend, "create_user")
def _create_user(self, original, *args, **kwargs):
    """moto's user ids are 20 lower-case characters; AWS's are AIDA and 17 more, upper case."""
    from moto.moto_api._internal import mock_random

    user = original(self, *args, **kwargs)
    user.id = "AIDA" + "".join(mock_random.choice(_USER_ID_ALPHABET) for _ in range(17))
    return user


@wraps_method(IAMBackend, "create_login_profile")
def _create_login_profile(self, original, user_name, password):
    user = original(self, user_name, password)
    now = CLOCK.now()
    user.__dict__["_cw_password_created"] = now
    user.__dict__["_cw_password_last_changed"] = now
    return user


@wraps_method(IAMBackend, "update_login_profile")
def _update_login_profile(self, original, user_name, password, password_reset_required):
    user = original(self, user_name, password, password_reset_required)
    if password:
        self.get_user(user_name).__dict__["_cw_password_last_changed"] = CLOCK.now()
    return user


@wraps_method(IAMBackend, "delete_login_profile")
def _delete_login_profile(self, original, user_name):
    original(self, user_name)
    user = self.get_user(user_name)
    user.__dict__.pop("_cw_password_created", None)
    user.__dict__.pop("_cw_password_last_changed", None)


def _login_profile_date(self, original):
    result = original(self)
    user = self.backend.get_user(self._get_param("UserName"))
    created = user.__dict__.get("_cw_password_created")
    if created is not None:
        result.result["LoginProfile"]["CreateDate"] = created
    return result


wraps_method(IamResponse, "get_login_profile")(_login_profile_date)
wraps_method(IamResponse, "create_login_profile")(_login_profile_date)


# ---------------------------------------------------------------------------------------------
# Paging where moto ignores it
# ---------------------------------------------------------------------------------------------


def encode_token(offset, kind):
    return base64.urlsafe_b64encode(f"credwarden:{kind}:{offset}".encode()).decode().rstrip("=")


def decode_token(token, kind, error):
    if not token:
        return 0
    try:
        padded = token + "=" * (-len(token) % 4)
        prefix, token_kind, offset = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if prefix != "credwarden" or token_kind != kind:
            raise ValueError(token)
        return int(offset)
    except Exception:
        raise error(f"Invalid pagination token {token!r}")


def _iam_error(code):
    def make(message):
        return IAMException(code, message)

    return make


def iam_page(self, items, kind):
    """(page, marker or None) of a full list, per the request's MaxItems and Marker."""
    max_items = self._get_param("MaxItems")
    limit = 100 if max_items in (None, "") else int(max_items)
    if not 1 <= limit <= 1000:
        raise IAMException("ValidationError", f"1 validation error detected: Value '{limit}' at 'maxItems' "
                                              "failed to satisfy constraint: Member must have value "
                                              "between 1 and 1000")
    start = decode_token(self._get_param("Marker"), kind, _iam_error("InvalidInput"))
    page = items[start:start + limit]
    end = start + len(page)
    return page, (encode_token(end, kind) if end < len(items) else None)


def paged_iam_list(name, result_key):
    @wraps_method(IamResponse, name)
    def wrapper(self, original):
        result = original(self)
        body = result.result
        if not isinstance(body, dict) or result_key not in body:
            return result
        items = list(body.get(result_key) or [])
        page, marker = iam_page(self, items, name)
        body[result_key] = page
        body["IsTruncated"] = marker is not None
        if marker is not None:
            body["Marker"] = marker
        else:
            body.pop("Marker", None)
        return result

    return wrapper


# Operations whose moto implementation always answers everything with IsTruncated=false.
IAM_PAGED = {
    "list_users": "Users",
    "list_access_keys": "AccessKeyMetadata",
    "list_mfa_devices": "MFADevices",
    "list_user_tags": "Tags",
    "list_user_policies": "PolicyNames",
    "list_groups": "Groups",
    "list_groups_for_user": "Groups",
    "list_role_policies": "PolicyNames",
    "list_group_policies": "PolicyNames",
    "list_signing_certificates": "Certificates",
    "list_ssh_public_keys": "SSHPublicKeys",
    "list_server_certificates": "ServerCertificateMetadataList",
    "list_instance_profiles": "InstanceProfiles",
    "list_account_aliases": "AccountAliases",
}
for _name, _key in IAM_PAGED.items():
    if hasattr(IamResponse, _name):
        paged_iam_list(_name, _key)

GAAD_KEYS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


@wraps_method(IamResponse, "get_account_authorization_details")
def _gaad(self, original):
    """One sequence over users, groups, roles and policies, paged like AWS pages it."""
    result = original(self)
    body = result.result
    flat = [(key, item) for key in GAAD_KEYS for item in list(body.get(key) or [])]
    page, marker = iam_page(self, flat, "gaad")
    for key in GAAD_KEYS:
        body[key] = [item for k, item in page if k == key]
    body["IsTruncated"] = marker is not None
    if marker is not None:
        body["Marker"] = marker
    else:
        body.pop("Marker", None)
    return result


def paged_org_list(name, result_key, default_limit=20):
    @wraps_method(OrganizationsResponse, name)
    def wrapper(self, original):
        max_results = self._get_param("MaxResults")
        limit = default_limit if max_results in (None, "") else int(max_results)
        if not 1 <= limit <= 20:
            raise InvalidInputException("You specified an invalid value.")
        start = decode_token(self._get_param("NextToken"), name, lambda m: InvalidInputException(
            "You specified an invalid value for nextToken. You must get the value from the response to a "
            "previous call to the API."))
        body = json.loads(original(self))
        items = list(body.get(result_key) or [])
        page = items[start:start + limit]
        end = start + len(page)
        body[result_key] = page
        if end < len(items):
            body["NextToken"] = encode_token(end, name)
        else:
            body.pop("NextToken", None)
        return json.dumps(body)

    return wrapper


# Operations moto answers in full whatever MaxResults says (the others moto pages itself).
for _name, _key in {
    "list_roots": "Roots",
    "list_children": "Children",
    "list_parents": "Parents",
    "list_targets_for_policy": "Targets",
    "list_create_account_status": "CreateAccountStatuses",
    "list_delegated_administrators": "DelegatedAdministrators",
    "list_aws_service_access_for_organization": "EnabledServicePrincipals",
}.items():
    if hasattr(OrganizationsResponse, _name):
        paged_org_list(_name, _key)


# ---------------------------------------------------------------------------------------------
# Faults and the call log
# ---------------------------------------------------------------------------------------------


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.clear()

    def clear(self):
        with getattr(self, "lock", threading.Lock()):
            self.config = None
            self.rng = None
            self.streak = {}
            self.eligible = 0
            self.injected = collections.Counter()
            self.aws_requests = 0

    def configure(self, body):
        throttle = float(body.get("throttle_ratio", 0.0) or 0.0)
        error = float(body.get("error_ratio", 0.0) or 0.0)
        if throttle < 0 or error < 0 or throttle + error > 1:
            raise ControlError("throttle_ratio and error_ratio must be >= 0 and add up to at most 1")
        ops = body.get("operations")
        if ops is not None and (not isinstance(ops, list) or not all(isinstance(o, str) for o in ops)):
            raise ControlError("field `operations`: expected a list of operation names")
        max_consecutive = body.get("max_consecutive")
        die_after = body.get("die_after_requests")
        config = {
            "throttle_ratio": throttle,
            "error_ratio": error,
            "seed": int(body.get("seed", 1)),
            "operations": ops,
            "accounts": body.get("accounts"),
            "max_consecutive": None if max_consecutive is None else int(max_consecutive),
            "delay_ms": int(body.get("delay_ms", 0) or 0),
            "die_after_requests": None if die_after is None else int(die_after),
        }
        with self.lock:
            self.config = config
            self.rng = random.Random(config["seed"])
            self.streak = {}
            self.eligible = 0
            self.injected = collections.Counter()
            self.aws_requests = 0
        return self.describe()

    def describe(self):
        with self.lock:
            return {
                "config": self.config,
                "eligible_requests": self.eligible,
                "injected": dict(self.injected),
                "aws_requests_since_configured": self.aws_requests,
            }

    def _matches(self, config, service, operation, account):
        ops = config["operations"]
        if ops is not None and operation not in ops and f"{service}:{operation}" not in ops:
            return False
        accounts = config["accounts"]
        if accounts is not None and account not in accounts:
            return False
        return True

    def decide(self, service, operation, account, identity):
        """None, "throttle" or "error" for one AWS request; also the delay and the death switch."""
        with self.lock:
            config = self.config
            if config is None:
                return None, 0, False
            self.aws_requests += 1
            die = config["die_after_requests"] is not None and self.aws_requests > config["die_after_requests"]
            if not self._matches(config, service, operation, account):
                return None, config["delay_ms"], die
            self.eligible += 1
            draw = self.rng.random()
            if draw < config["throttle_ratio"]:
                fault = "throttle"
            elif draw < config["throttle_ratio"] + config["error_ratio"]:
                fault = "error"
            else:
                fault = None
            limit = config["max_consecutive"]
            if fault is not None and limit is not None:
                if self.streak.get(identity, 0) >= limit:
                    fault = None
            if fault is None:
                self.streak.pop(identity, None)
            else:
                self.streak[identity] = self.streak.get(identity, 0) + 1
                self.injected[fault] += 1
            return fault, config["delay_ms"], die


FAULTS = Faults()


class CallLog:
    def __init__(self, max_entries=200_000):
        self.lock = threading.Lock()
        self.max_entries = max_entries
        self.clear()

    def clear(self):
        with getattr(self, "lock", threading.Lock()):
            self.seq = 0
            self.calls = {}
            self.by_account = collections.defaultdict(collections.Counter)
            self.log = collections.deque(maxlen=self.max_entries)

    def record(self, service, operation, account, status, fault):
        action = f"{service}:{operation}"
        with self.lock:
            self.seq += 1
            entry = self.calls.setdefault(
                action, {"service": service, "operation": operation, "count": 0, "throttled": 0,
                         "server_errors": 0, "error_responses": 0}
            )
            entry["count"] += 1
            if fault == "throttle":
                entry["throttled"] += 1
            elif fault == "error":
                entry["server_errors"] += 1
            elif status >= 400:
                entry["error_responses"] += 1
            self.by_account[account or "unknown"][action] += 1
            self.log.append({"seq": self.seq, "action": action, "account": account, "status": status,
                             "fault": fault})

    def describe(self, with_log=False):
        with self.lock:
            calls = {k: dict(v) for k, v in sorted(self.calls.items())}
            answer = {
                "total": sum(v["count"] for v in calls.values()),
                "faulted": sum(v["throttled"] + v["server_errors"] for v in calls.values()),
                "calls": calls,
                "by_account": {a: dict(sorted(c.items())) for a, c in sorted(self.by_account.items())},
                "actions": sorted(calls),
            }
            if with_log:
                answer["log"] = list(self.log)
            return answer


CALLS = CallLog()

_CREDENTIAL_RE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


def read_body(environ):
    """The request body, leaving an equivalent wsgi.input in place for moto."""
    length = environ.get("CONTENT_LENGTH")
    stream = environ["wsgi.input"]
    if length:
        body = stream.read(int(length))
    elif environ.get("wsgi.input_terminated") or environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def classify(environ, body):
    """(service, operation, access_key, protocol) of an AWS request."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _CREDENTIAL_RE.search(auth)
    access_key = service = None
    if match:
        access_key, _region, service = match.groups()
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        operation = target.split(".")[-1]
        protocol = "json"
        if service is None:
            prefix = target.split(".")[0].lower()
            service = "organizations" if prefix.startswith("awsorganizations") else prefix
    else:
        protocol = "query"
        params = {}
        ctype = environ.get("CONTENT_TYPE", "")
        if body and "x-www-form-urlencoded" in ctype:
            try:
                params = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                params = {}
        if "Action" not in params:
            params = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation = (params.get("Action") or ["unknown"])[0]
        if access_key is None and params.get("AWSAccessKeyId"):
            access_key = params["AWSAccessKeyId"][0]
    return (service or "unknown").lower(), operation, access_key, protocol


def account_of(environ, access_key):
    header = environ.get("HTTP_X_MOTO_ACCOUNT_ID")
    if header:
        return header
    if access_key:
        try:
            return iam_models.get_account_id_from(access_key)
        except Exception:
            return None
    return DEFAULT_ACCOUNT_ID


def fault_response(service, protocol, fault, start_response):
    request_id = str(uuid.uuid4())
    if fault == "throttle":
        status, code, kind, message = "400 Bad Request", "Throttling", "Sender", "Rate exceeded"
        json_code = "TooManyRequestsException"
    else:
        status, code, kind, message = "500 Internal Server Error", "InternalFailure", "Receiver", (
            "We encountered an internal error. Please try again.")
        json_code = "InternalFailure"
    if protocol == "json":
        body = json.dumps({"__type": json_code, "Type": "CLIENT" if fault == "throttle" else "SERVER",
                           "Message": message}).encode()
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", json_code),
                   ("x-amzn-RequestId", request_id)]
    else:
        xmlns = IAM_XMLNS.get(service, IAM_XMLNS["iam"])
        body = (
            f'<ErrorResponse xmlns="{xmlns}"><Error><Type>{kind}</Type><Code>{code}</Code>'
            f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
    headers.append(("Content-Length", str(len(body))))
    start_response(status, headers)
    return [body]


# ---------------------------------------------------------------------------------------------
# The control API
# ---------------------------------------------------------------------------------------------


def _bool(value, field):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ControlError(f"field `{field}`: expected true or false, found {value!r}")


def _find_user(backend, user_name):
    user = backend.users.get(user_name)
    if user is None:
        raise ControlError(f"no user {user_name!r} in account {backend.account_id}", 404)
    return user


def _find_key(backend, access_key_id, user_name=None):
    users = [_find_user(backend, user_name)] if user_name else list(backend.users.values())
    for user in users:
        for key in user.access_keys:
            if key.access_key_id == access_key_id:
                return user, key
    raise ControlError(f"no access key {access_key_id!r} in account {backend.account_id}", 404)


def _set_mfa(backend, user, active, enabled_at=None):
    if active:
        if not user.mfa_devices:
            serial = f"arn:aws:iam::{backend.account_id}:mfa/{user.name}"
            user.enable_mfa_device(serial, "123456", "654321")
        if enabled_at is not None:
            for device in user.mfa_devices.values():
                device.enable_date = enabled_at
    else:
        user.mfa_devices.clear()


def backdate_user(backend, body):
    user = _find_user(backend, body.get("user_name"))
    if "created_at" in body:
        user.create_date = parse_ts(body["created_at"], "created_at")
    if "password_created_at" in body or "password_last_changed" in body:
        if not user.password:
            raise ControlError(f"user {user.name!r} has no password (login profile)")
    if "password_created_at" in body:
        user.__dict__["_cw_password_created"] = parse_ts(body["password_created_at"], "password_created_at")
        if "password_last_changed" not in body:  # a password set then and not changed since
            user.__dict__["_cw_password_last_changed"] = user.__dict__["_cw_password_created"]
    if "password_last_changed" in body:
        user.__dict__["_cw_password_last_changed"] = parse_ts(body["password_last_changed"], "password_last_changed")
    if "password_last_used" in body:
        user.password_last_used = parse_ts(body["password_last_used"], "password_last_used")
    if "mfa_active" in body:
        _set_mfa(backend, user, _bool(body["mfa_active"], "mfa_active"),
                 parse_ts(body.get("mfa_enabled_at"), "mfa_enabled_at"))
    elif "mfa_enabled_at" in body:
        for device in user.mfa_devices.values():
            device.enable_date = parse_ts(body["mfa_enabled_at"], "mfa_enabled_at")
    return describe_user(backend, user)


def backdate_key(backend, body):
    user, key = _find_key(backend, body["access_key_id"], body.get("user_name"))
    if "created_at" in body:
        key.create_date = parse_ts(body["created_at"], "created_at")
    if "status" in body:
        if body["status"] not in ("Active", "Inactive"):
            raise ControlError("field `status`: expected Active or Inactive")
        key.status = body["status"]
    if "last_used_at" in body:
        when = parse_ts(body["last_used_at"], "last_used_at")
        if when is None:
            key.last_used = None
        else:
            key.last_used = AccessKeyLastUsed(
                timestamp=when,
                service=body.get("last_used_service") or "iam",
                region=body.get("last_used_region") or "us-east-1",
            )
    elif "last_used_service" in body or "last_used_region" in body:
        used = _last_used_parts(key)
        if used is None:
            raise ControlError("last_used_service/last_used_region need last_used_at (the key was never used)")
        key.last_used = AccessKeyLastUsed(
            timestamp=used[0],
            service=body.get("last_used_service") or used[2],
            region=body.get("last_used_region") or used[1],
        )
    # Keep the key list in creation order: the credential report's slots follow it.
    user.access_keys.sort(key=lambda k: k.create_date)
    return describe_key(key)


def describe_key(key):
    used = _last_used_parts(key)
    return {
        "access_key_id": key.access_key_id,
        "user_name": key.user_name,
        "status": key.status,
        "created_at": fmt_ts(key.create_date),
        "last_used_at": fmt_ts(used[0]) if used else None,
        "last_used_service": used[2] if used else None,
        "last_used_region": used[1] if used else None,
    }


def describe_user(backend, user):
    tags = {t["Key"]: t["Value"] for t in (backend.tagger.list_tags_for_resource(user.arn)["Tags"] or [])}
    return {
        "user_name": user.name,
        "user_id": user.id,
        "arn": user.arn,
        "path": user.path,
        "created_at": fmt_ts(user.create_date),
        "tags": tags,
        "password": {
            "enabled": bool(user.password),
            "created_at": fmt_ts(user.__dict__.get("_cw_password_created")) if user.password else None,
            "last_changed": fmt_ts(user.__dict__.get("_cw_password_last_changed") or user.create_date)
            if user.password else None,
            "last_used": fmt_ts(user.password_last_used),
        },
        "mfa_active": bool(user.mfa_devices),
        "access_keys": [describe_key(k) for k in sorted_keys(user)],
    }


def bulk_users(backend, body):
    """Create many users at once, straight in moto's backend (the large scenario)."""
    specs = body.get("users")
    if not isinstance(specs, list):
        raise ControlError("field `users`: expected a list")
    created = []
    for spec in specs:
        name = spec.get("user_name")
        if not name:
            raise ControlError("every user needs a `user_name`")
        tags = [{"Key": k, "Value": v} for k, v in (spec.get("tags") or {}).items()]
        user = backend.create_user("us-east-1", name, spec.get("path") or "/", tags)
        if spec.get("created_at"):
            user.create_date = parse_ts(spec["created_at"], "created_at")
        password = spec.get("password")
        if password:
            backend.create_login_profile(name, "Credwarden-Test-Passw0rd!")
            when = parse_ts(password.get("created_at"), "password.created_at") or user.create_date
            user.__dict__["_cw_password_created"] = when
            user.__dict__["_cw_password_last_changed"] = parse_ts(
                password.get("last_changed"), "password.last_changed") or when
            user.password_last_used = parse_ts(password.get("last_used"), "password.last_used")
        if spec.get("mfa_active"):
            _set_mfa(backend, user, True, parse_ts(spec.get("mfa_enabled_at"), "mfa_enabled_at") or user.create_date)
        for key_spec in spec.get("access_keys") or []:
            key = backend.create_access_key(name, status=key_spec.get("status", "Active"))
            backdate_key(backend, dict(key_spec, access_key_id=key.access_key_id, user_name=name))
        created.append(describe_user(backend, user))
    return {"account_id": backend.account_id, "created": len(created), "users": created}


ROOT_SLOT_FIELDS = ("active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")


def set_root(backend, body):
    root = ext(backend)["root"]
    for field in ("user_creation_time", "password_last_used"):
        if field in body:
            value = body[field]
            if field == "password_last_used" and value in ("no_information", "N/A", "not_supported"):
                root[field] = value
            else:
                root[field] = parse_ts(value, field)
    if "password_enabled" in body:
        value = body["password_enabled"]
        if isinstance(value, bool):
            value = "true" if value else "false"
        if value not in ("true", "false", "not_supported"):
            raise ControlError("field `password_enabled`: expected true, false or \"not_supported\"")
        root["password_enabled"] = value
    for field in ("password_last_changed", "password_next_rotation"):
        if field in body:
            value = body[field]
            root[field] = value if value in ("not_supported", "N/A") else fmt_report_ts(parse_ts(value, field))
    for field in ("mfa_active", "cert_1_active", "cert_2_active"):
        if field in body:
            root[field] = _bool(body[field], field)
    for field in ("account_access_keys_present", "account_mfa_enabled"):
        if field in body:
            root[field] = None if body[field] is None else _bool(body[field], field)
    for slot in (1, 2):
        for name in ROOT_SLOT_FIELDS:
            field = f"access_key_{slot}_{name}"
            if field not in body:
                continue
            value = body[field]
            if name == "active":
                value = _bool(value, field)
            elif name in ("last_rotated", "last_used_date"):
                value = parse_ts(value, field)
            root["keys"][slot][name] = value
    return describe_root(backend)


def describe_root(backend):
    root = ext(backend)["root"]
    row = root_report_row(backend)
    summary_keys = root["account_access_keys_present"]
    summary_mfa = root["account_mfa_enabled"]
    return {
        "account_id": backend.account_id,
        "report_row": dict(zip(REPORT_COLUMNS, row)),
        "account_summary": {
            "AccountAccessKeysPresent": int(root_keys_present(root) if summary_keys is None else summary_keys),
            "AccountMFAEnabled": int(root["mfa_active"] if summary_mfa is None else summary_mfa),
        },
    }


def report_control(backend, method, body):
    state = ext(backend)
    if method == "DELETE":
        state["report"] = None
        state["job"] = None
    elif method == "POST":
        config = state["report_config"]
        for field in ("delay_polls", "regenerate_after_seconds", "expire_after_seconds"):
            if field in body:
                value = body[field]
                config[field] = None if value is None else (int(value) if field == "delay_polls" else float(value))
        if body.get("generated_at"):
            state["job"] = None
            state["report"] = {"generated_at": parse_ts(body["generated_at"], "generated_at"),
                               "content": build_report(backend)}
    report = state["report"]
    job = state["job"]
    return {
        "account_id": backend.account_id,
        "config": dict(state["report_config"]),
        "state": "INPROGRESS" if job else ("COMPLETE" if report else "NONE"),
        "job": {"started_at": fmt_ts(job["started_at"]), "polls_left": job["polls_left"]} if job else None,
        "generated_at": fmt_ts(report["generated_at"]) if report else None,
        "content": report["content"] if report else None,
        "preview": build_report(backend),
    }


def reset_all(body):
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    organizations_backends.master_accounts.clear()
    if body.get("seed") is not None:
        # moto draws ids (accounts, keys, users) from this generator: a seed makes them repeatable.
        # Build the default account's backends first, as the first request would: building them
        # draws from the generator too, so seeding before would not repeat.
        from moto.moto_api._internal import mock_random

        iam_models.get_account_id_from("AKIAIOSFODNN7EXAMPLE")
        organizations_backends[DEFAULT_ACCOUNT_ID]["aws"]

        mock_random.seed(int(body["seed"]))
    FAULTS.clear()
    CALLS.clear()
    if not body.get("keep_clock"):
        CLOCK.reset()
    DEFAULTS["report_delay_polls"] = SERVER_DEFAULTS["report_delay_polls"]
    return {"reset": True, "clock": CLOCK.describe()}


SERVER_DEFAULTS = dict(DEFAULTS)


class Control:
    def __init__(self, server_ref):
        self.server_ref = server_ref

    def handle(self, method, path, query, body):
        route = path[len(CONTROL_PREFIX):].strip("/")
        account = body.get("account_id") or (query.get("account_id") or [None])[0]
        if route == "health":
            return {"ok": True, "moto": moto.__version__, "clock": CLOCK.describe()}
        if route == "clock":
            if method == "POST":
                if body.get("real"):
                    CLOCK.reset()
                if "now" in body:
                    CLOCK.set(parse_ts(body["now"], "now"), bool(body.get("frozen", False)))
                if "advance_seconds" in body:
                    CLOCK.advance(float(body["advance_seconds"]))
            elif method == "DELETE":
                CLOCK.reset()
            return CLOCK.describe()
        if route == "reset":
            self._require(method, "POST")
            with STATE_LOCK:
                return reset_all(body)
        if route == "faults":
            if method == "POST":
                return FAULTS.configure(body)
            if method == "DELETE":
                FAULTS.clear()
            return FAULTS.describe()
        if route == "calls":
            if method == "DELETE":
                CALLS.clear()
            return CALLS.describe(with_log=(query.get("log") or ["0"])[0] in ("1", "true"))
        if route == "defaults":
            if method == "POST" and "report_delay_polls" in body:
                DEFAULTS["report_delay_polls"] = int(body["report_delay_polls"])
            return dict(DEFAULTS)
        if route == "shutdown":
            self._require(method, "POST")
            threading.Thread(target=self.server_ref["server"].shutdown, daemon=True).start()
            return {"shutting_down": True}
        with STATE_LOCK:
            backend = iam_backend(account)
            if route == "iam/backdate":
                self._require(method, "POST")
                items = body.get("items") if isinstance(body.get("items"), list) else [body]
                out = []
                for item in items:
                    if item.get("access_key_id"):
                        out.append(backdate_key(backend, item))
                    elif item.get("user_name"):
                        out.append(backdate_user(backend, item))
                    else:
                        raise ControlError("each item needs `user_name` or `access_key_id`")
                return {"account_id": backend.account_id, "items": out}
            if route == "iam/users":
                if method == "POST":
                    return bulk_users(backend, body)
                return {"account_id": backend.account_id,
                        "users": [describe_user(backend, u) for u in list(backend.users.values())]}
            if route == "iam/root":
                if method == "POST":
                    return set_root(backend, body)
                if method == "DELETE":
                    ext(backend)["root"] = default_root()
                    ext(backend)["root"]["user_creation_time"] = CLOCK.now()
                return describe_root(backend)
            if route == "iam/credential-report":
                return report_control(backend, method, body)
        raise ControlError(f"no control endpoint {method} {path}", 404)

    @staticmethod
    def _require(method, wanted):
        if method != wanted:
            raise ControlError(f"use {wanted}", 405)


# ---------------------------------------------------------------------------------------------
# The WSGI application
# ---------------------------------------------------------------------------------------------


class EmulatorApp:
    def __init__(self, server_ref, verbose=False):
        self.moto_app = DomainDispatcherApplication(create_backend_app)
        self.control = Control(server_ref)
        self.verbose = verbose
        self.last_request = time.monotonic()

    def __call__(self, environ, start_response):
        self.last_request = time.monotonic()
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX) or path.rstrip("/") == CONTROL_PREFIX.rstrip("/"):
            return self.handle_control(environ, start_response)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            return self.moto_app(environ, start_response)
        return self.handle_aws(environ, start_response)

    def handle_control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            raw = read_body(environ)
            body = json.loads(raw.decode("utf-8")) if raw.strip() else {}
            if not isinstance(body, dict):
                raise ControlError("the request body must be a JSON object")
            answer = self.control.handle(method, environ.get("PATH_INFO", ""), query, body)
            status = "200 OK"
        except ControlError as e:
            answer, status = {"error": str(e)}, f"{e.status} Error"
        except json.JSONDecodeError as e:
            answer, status = {"error": f"the request body is not JSON: {e}"}, "400 Bad Request"
        except Exception as e:  # a bug or a moto error: say what it was
            answer = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
            status = "500 Internal Server Error"
        data = json.dumps(answer, indent=None, default=str).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    def handle_aws(self, environ, start_response):
        body = read_body(environ)
        service, operation, access_key, protocol = classify(environ, body)
        account = account_of(environ, access_key)
        identity = hashlib.sha256(
            f"{access_key}|{service}|{operation}|".encode() + body
        ).hexdigest()
        fault, delay_ms, die = FAULTS.decide(service, operation, account, identity)
        if die:
            sys.stderr.write("credwarden emulator: die_after_requests reached, exiting now\n")
            sys.stderr.flush()
            os._exit(70)
        if delay_ms:
            time.sleep(delay_ms / 1000.0)
        if fault is not None:
            status = 400 if fault == "throttle" else 500
            CALLS.record(service, operation, account, status, fault)
            if self.verbose:
                sys.stderr.write(f"{service}:{operation} [{account}] -> injected {fault}\n")
            return fault_response(service, protocol, fault, start_response)

        seen = {}

        def recording_start_response(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            result = self.moto_app(environ, recording_start_response)
        except Exception:
            CALLS.record(service, operation, account, 500, None)
            raise
        CALLS.record(service, operation, account, seen.get("status", 200), None)
        if self.verbose:
            sys.stderr.write(f"{service}:{operation} [{account}] -> {seen.get('status')}\n")
        return result


class QuietHandler(MotoRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--port-file", help="also write the port to this file (atomically)")
    parser.add_argument("--report-delay-polls", type=int, default=1,
                        help="polls a new credential report stays in progress after STARTED (default 1)")
    parser.add_argument("--exit-with-parent", action="store_true",
                        help="exit when the process that started the server goes away")
    parser.add_argument("--idle-timeout", type=float, default=0,
                        help="exit after this many seconds without a request (0: never)")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)

    if args.host not in LOOPBACK_HOSTS:
        parser.error(f"--host must be a loopback address ({', '.join(sorted(LOOPBACK_HOSTS))})")
    DEFAULTS["report_delay_polls"] = args.report_delay_polls
    SERVER_DEFAULTS["report_delay_polls"] = args.report_delay_polls

    server_ref = {}
    app = EmulatorApp(server_ref, verbose=args.verbose)
    handler = MotoRequestHandler if args.verbose else QuietHandler
    server = make_server(args.host, args.port, app, threaded=True, request_handler=handler)
    server_ref["server"] = server
    port = server.server_address[1]

    if args.port_file:
        tmp = f"{args.port_file}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    sys.stdout.write(f"LISTENING {port}\n")
    sys.stdout.flush()

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    if args.exit_with_parent or args.idle_timeout:
        parent = os.getppid()

        def watch():
            while True:
                time.sleep(0.5)
                if args.exit_with_parent and os.getppid() != parent:
                    sys.stderr.write("credwarden emulator: parent process gone, exiting\n")
                    stop()
                    return
                if args.idle_timeout and time.monotonic() - app.last_request > args.idle_timeout:
                    sys.stderr.write("credwarden emulator: idle timeout, exiting\n")
                    stop()
                    return

        threading.Thread(target=watch, daemon=True).start()

    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
