# METADATA
# title: Access key not rotated
# description: >-
#   An active access key older than `rotation_days` (default 90) days. The age is counted from
#   the key's creation; a key exactly `rotation_days` old is still within policy.
# custom:
#   id: CW102
#   slug: access-key-not-rotated
#   severity: medium
#   resource_type: aws_iam_access_key
#   controls:
#     cis-aws-1.2: ["1.4"]
#     cis-aws-1.4: ["1.14"]
#     cis-aws-1.5: ["1.14"]
#     cis-aws-2.0: ["1.14"]
#     cis-aws-3.0: ["1.14"]
#     cis-aws-5.0: ["1.13"]
#     nist-800-53-r5: ["IA-5"]
#     iso-27001-2022: ["A.5.17"]
#   remediation: >-
#     Rotate the key: create a second key, move every consumer to it, deactivate the old key,
#     watch for failures, then delete it. Better still, replace the key with an IAM role.
package credwarden.rules.access_key_not_rotated

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_active(key)
	age := lib.days_since(key.created_at)
	age > data.credwarden.config.thresholds.rotation_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s of user %s is %d days old (created %s); rotate it at least every %d days",
			[lib.key_label(key), user.user_name, age, key.created_at, data.credwarden.config.thresholds.rotation_days],
		),
		"remediation": lib.manual(lib.key_params(user, key), "rotate the access key"),
		"details": {
			"age_days": age,
			"created_at": key.created_at,
			"last_used_at": object.get(key, "last_used_at", null),
		},
	}
}
