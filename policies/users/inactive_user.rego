# METADATA
# title: Inactive IAM user
# description: >-
#   An IAM user with no console sign-in and no access key use for `inactive_user_days`
#   (default 90) days or more. Its last activity is the latest of its password's last use and
#   every access key's last use; a user that never signed in nor used a key counts from its
#   creation. Break-glass users are reported too, with a manual remediation only: an idle
#   break-glass user is expected, so review it and record an exception deliberately.
# custom:
#   id: CW301
#   slug: inactive-user
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     cis-aws-1.2: ["1.3"]
#     cis-aws-1.4: ["1.12"]
#     cis-aws-1.5: ["1.12"]
#     cis-aws-2.0: ["1.12"]
#     cis-aws-3.0: ["1.12"]
#     cis-aws-5.0: ["1.11"]
#     nist-800-53-r5: ["AC-2(3)"]
#     iso-27001-2022: ["A.5.18"]
#   remediation: >-
#     Confirm with the owner that the user is no longer needed, remove its console password and
#     access keys, then delete the user.
package credwarden.rules.inactive_user

import rego.v1

import data.credwarden.lib

# The user's last sign-in or key use, or null when it never signed in nor used a key.
last_use(user) := ts if {
	password_use := [lib.field(lib.field(user, "password", {}), "last_used", null)]
	key_uses := [object.get(key, "last_used_at", null) | some key in object.get(user, "access_keys", [])]
	ts := lib.latest(array.concat(password_use, key_uses))
} else := null

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	used := last_use(user)
	last := activity(used, user.created_at)
	days := lib.days_since(last)
	days >= data.credwarden.config.thresholds.inactive_user_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": message(user.user_name, used, days),
		"remediation": remediation(user),
		"details": {
			"days_inactive": days,
			"last_used_at": used,
			"created_at": user.created_at,
			"password_enabled": lib.password_enabled(user),
			"break_glass": lib.break_glass_flag(user),
		},
	}
}

activity(used, created) := created if {
	used == null
} else := used

message(name, used, days) := sprintf(
	"IAM user %s has never signed in nor used an access key since it was created %d days ago",
	[name, days],
) if {
	used == null
} else := sprintf("IAM user %s has been inactive for %d days (last activity %s)", [name, days, used])

remediation(user) := lib.user_remediation(user, "delete_login_profile", {}) if {
	lib.password_enabled(user)
} else := lib.manual(
	{"user_name": user.user_name, "break_glass": lib.break_glass_flag(user)},
	"remove the inactive user's access keys, then the user",
)
