# The shared library's functions (package credwarden.lib, with credwarden.rego).
#
# This file is the reference. On its fast path credwarden does not load it: the same functions
# run as native code (src/evaluate/native/library.rs), tested equal to these on thousands of
# generated arguments. `--engine rego`, `policy test`, `query` and OPA use this file.
package credwarden.lib

import rego.v1

# A threshold from config.thresholds, e.g. threshold("unused_days").
threshold(name) := config.thresholds[name]

# object.get that tolerates a null (or non-object) container: regorus raises an error for
# object.get(null, ...), which would abort the whole evaluation.
field(obj, key, fallback) := object.get(obj, key, fallback) if {
	is_object(obj)
} else := fallback

# Nanoseconds since the epoch of an RFC 3339 timestamp; undefined for null.
ts_ns(ts) := time.parse_rfc3339_ns(ts) if is_string(ts)

# Whole days elapsed from ts to now (floor). Negative for a timestamp in the future.
days_since(ts) := floor((now_ns - ts_ns(ts)) / ns_per_day)

# Whole hours elapsed from ts to now (floor).
hours_since(ts) := floor((now_ns - ts_ns(ts)) / ns_per_hour)

# The latest of a collection of timestamps (nulls ignored); undefined when there is none.
latest(timestamps) := ts if {
	known := {[ts_ns(t), t] | some t in timestamps; is_string(t)}
	count(known) > 0
	ts := max(known)[1]
}

# A key's most recent sign of life: when it was last used, else when it was created.
last_activity(key) := key.last_used_at if {
	is_string(object.get(key, "last_used_at", null))
} else := key.created_at

# true / false (never undefined), so it can be a finding's detail as well as a condition.
never_used(key) := true if {
	object.get(key, "last_used_at", null) == null
} else := false

is_active(key) if key.status == "Active"

is_inactive(key) if key.status == "Inactive"

# true / false (never undefined).
password_enabled(user) := true if {
	field(field(user, "password", {}), "enabled", false) == true
} else := false

# true / false (never undefined): is_break_glass as a value for details.
break_glass_flag(user) := true if {
	is_break_glass(user)
} else := false

active_keys(user) := [key | some key in object.get(user, "access_keys", []); is_active(key)]

# A root key slot holds a key when it is active or has ever been rotated (created).
key_present(slot) if slot.active == true

key_present(slot) if is_string(object.get(slot, "last_rotated", null))

# The slots of the root user that hold a key, e.g. [1, 2].
root_key_slots(root) := sort([slot.slot | some slot in object.get(root, "access_keys", []); key_present(slot)])

# An access key's id, or "<user>/key-<slot>" when the id is unknown (credential report input).
key_id(user, key) := id if {
	id := object.get(key, "access_key_id", null)
	is_string(id)
} else := sprintf("%s/key-%v", [user.user_name, key.slot]) if {
	object.get(key, "slot", null) != null
} else := sprintf("%s/key", [user.user_name])

# How a message names a key: its id, else its credential-report slot.
key_label(key) := id if {
	id := object.get(key, "access_key_id", null)
	is_string(id)
} else := sprintf("in slot %v", [key.slot]) if {
	object.get(key, "slot", null) != null
} else := "(id unknown)"

# IAM user names are case-insensitive in AWS, so names and ARNs compare ignoring case.
is_break_glass(user) if lower(user.user_name) in break_glass_names

is_break_glass(user) if lower(user.arn) in break_glass_names

is_break_glass(user) if {
	value := field(field(user, "tags", {}), break_glass_tag_key, null)
	is_string(value)
	is_string(break_glass_tag_value)
	lower(value) == lower(break_glass_tag_value)
}

user_resource(user) := {"type": "aws_iam_user", "id": user.user_name, "arn": user.arn}

key_resource(user, key) := {
	"type": "aws_iam_access_key",
	"id": key_id(user, key),
	"arn": user.arn,
	"user": user.user_name,
}

root_resource(root) := {"type": "aws_root_user", "id": "root", "arn": root.arn}

account_resource(account_id) := resource if {
	org := object.get(input, "organization", null)
	is_object(org)
	resource := {
		"type": "aws_account",
		"id": account_id,
		"arn": sprintf("arn:aws:organizations::%s:account/%s/%s", [org.management_account_id, org.id, account_id]),
	}
} else := {"type": "aws_account", "id": account_id, "arn": sprintf("arn:aws:iam::%s:root", [account_id])}

credential_report_resource(account_id) := {
	"type": "aws_credential_report",
	"id": "credential-report",
	"arn": sprintf("arn:aws:iam::%s:root", [account_id]),
}

# The remediation of a finding about one user. credwarden never acts on a break-glass user,
# so for one the action is always `manual`.
user_remediation(user, action, params) := {
	"action": "manual",
	"params": object.union(params, {"user_name": user.user_name, "break_glass": true, "intended_action": action}),
} if {
	is_break_glass(user)
} else := {"action": action, "params": object.union(params, {"user_name": user.user_name})}

# Who and which key a manual remediation is about.
key_params(user, key) := {
	"user_name": user.user_name,
	"access_key_id": object.get(key, "access_key_id", null),
	"slot": object.get(key, "slot", null),
}

# A remediation that a person carries out (credwarden has no action for it).
manual(params, task) := {"action": "manual", "params": object.union(params, {"task": task})}

# The remediation of a finding about one access key. A key whose id is unknown (credential
# report input) cannot be acted on by id, so its action becomes `manual`.
key_remediation(user, key, action) := user_remediation(user, action, {"access_key_id": key.access_key_id}) if {
	is_string(object.get(key, "access_key_id", null))
} else := {
	"action": "manual",
	"params": {
		"user_name": user.user_name,
		"slot": object.get(key, "slot", null),
		"break_glass": break_glass_flag(user),
		"intended_action": action,
		"reason": "the access key id is unknown (credential report input)",
	},
}
