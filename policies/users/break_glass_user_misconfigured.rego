# METADATA
# title: Break-glass user misconfigured
# description: >-
#   A break-glass (emergency) user that has an access key (active or not), has no MFA device, or
#   was used (console sign-in or key use) within `break_glass_use_days` (default 30) days.
#   A break-glass user signs in to the console only, with MFA, only in an emergency. Every
#   problem found is listed in one finding per user.
# custom:
#   id: CW305
#   slug: break-glass-user-misconfigured
#   severity: high
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2", "AC-6(2)", "IA-2(1)"]
#     iso-27001-2022: ["A.8.2", "A.8.5"]
#   remediation: >-
#     Delete the break-glass user's access keys, register a hardware MFA device kept in a safe,
#     and investigate any recent use: an emergency user that is used routinely is not one.
package credwarden.rules.break_glass_user_misconfigured

import rego.v1

import data.credwarden.lib

problems(user) := [p | some p in [key_problem(user), mfa_problem(user), use_problem(user)]; p != null]

key_problem(user) := {"code": "access_keys", "text": sprintf("has %d access key(s) (%s)", [count(keys), concat(", ", labels)])} if {
	keys := object.get(user, "access_keys", [])
	count(keys) > 0
	labels := [sprintf("%s %s", [lib.key_label(key), lower(key.status)]) | some key in keys]
} else := null

mfa_problem(user) := {"code": "no_mfa", "text": "has no MFA device"} if {
	user.mfa_active == false
} else := null

use_problem(user) := {"code": "recent_use", "text": sprintf("was used %d days ago (%s, %s)", [max([days, 0]), how, ts])} if {
	recent := {[d, t, h] |
		some [t, h] in uses(user)
		d := lib.days_since(t)
		d <= data.credwarden.config.thresholds.break_glass_use_days
	}
	count(recent) > 0
	[days, ts, how] := min(recent)
} else := null

uses(user) := {[ts, "console sign-in"] |
	ts := lib.field(lib.field(user, "password", {}), "last_used", null)
	is_string(ts)
} | {[ts, sprintf("access key %s", [lib.key_label(key)])] |
	some key in object.get(user, "access_keys", [])
	ts := object.get(key, "last_used_at", null)
	is_string(ts)
}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	lib.is_break_glass(user)
	found := problems(user)
	count(found) > 0
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("Break-glass user %s %s", [user.user_name, concat("; ", [p.text | some p in found])]),
		"remediation": lib.manual({"user_name": user.user_name, "break_glass": true}, "fix the break-glass user by hand"),
		"details": {
			"problems": [p.code | some p in found],
			"access_keys": count(object.get(user, "access_keys", [])),
			"mfa_active": user.mfa_active,
		},
	}
}
