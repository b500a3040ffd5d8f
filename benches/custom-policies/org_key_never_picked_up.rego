# METADATA
# title: Access key never used after it was issued
# description: >-
#   An active access key that has never been used, `params.key_pickup_days` (default 14) days or
#   more after it was created. A key that was requested is put to work within days; one that
#   never is was created by mistake, forgotten in a rotation, or is waiting for someone else.
#   Stricter than CW101, which waits `unused_days` (default 90).
# custom:
#   id: ORG019
#   slug: access-key-never-picked-up
#   severity: medium
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["AC-2(3)", "IA-5"]
#     acme-iam-standard: ["IAM-3.3"]
#   remediation: >-
#     Deactivate the key; delete it a week later if nobody asks for it.
package org.rules.key_never_picked_up

import rego.v1

import data.credwarden.lib

pickup_days := d if {
	d := lib.field(data.credwarden.config.params, "key_pickup_days", 14)
	is_number(d)
} else := 14

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_active(key)
	lib.never_used(key)
	age := lib.days_since(key.created_at)
	age >= pickup_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s of user %s was created %d days ago and has never been used",
			[lib.key_label(key), user.user_name, age],
		),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {"created_at": key.created_at, "age_days": age, "pickup_days": pickup_days},
	}
}
