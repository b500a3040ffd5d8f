# METADATA
# title: Access key unused for too long
# description: >-
#   An active access key that has not been used for `unused_days` (default 90) days or more.
#   A key that was never used counts from its creation. Unused long-lived keys are pure risk:
#   nothing depends on them, yet anyone who finds them can use them.
# custom:
#   id: CW101
#   slug: unused-access-key
#   severity: high
#   resource_type: aws_iam_access_key
#   controls:
#     cis-aws-1.2: ["1.3"]
#     cis-aws-1.4: ["1.12"]
#     cis-aws-1.5: ["1.12"]
#     cis-aws-2.0: ["1.12"]
#     cis-aws-3.0: ["1.12"]
#     cis-aws-5.0: ["1.11"]
#     nist-800-53-r5: ["AC-2(3)", "IA-5"]
#     iso-27001-2022: ["A.5.17", "A.5.18"]
#   remediation: >-
#     Deactivate the key (aws iam update-access-key --status Inactive), confirm nothing breaks,
#     then delete it. Move the workload to an IAM role.
package credwarden.rules.unused_access_key

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_active(key)
	last := lib.last_activity(key)
	days := lib.days_since(last)
	days >= data.credwarden.config.thresholds.unused_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": message(user, key, days),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {
			"days_unused": days,
			"never_used": lib.never_used(key),
			"last_used_at": object.get(key, "last_used_at", null),
			"created_at": key.created_at,
			"last_used_service": object.get(key, "last_used_service", null),
		},
	}
}

message(user, key, days) := sprintf(
	"Active access key %s of user %s was never used and was created %d days ago",
	[lib.key_label(key), user.user_name, days],
) if {
	lib.never_used(key)
} else := sprintf(
	"Active access key %s of user %s has not been used for %d days (last used %s)",
	[lib.key_label(key), user.user_name, days, key.last_used_at],
)
