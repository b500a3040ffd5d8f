# METADATA
# title: Contractor access key too old
# description: >-
#   An active access key of an IAM user whose path is /contractors/ (or below it, e.g.
#   /contractors/northwind/) that is `params.contractor_key_days` (default 30) days old or
#   older. Contractor keys must be younger than that; the age is counted from the key's creation.
# custom:
#   id: ORG001
#   slug: contractor-key-too-old
#   severity: high
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["IA-5(1)"]
#     acme-security-standard: ["AC-7"]
#   remediation: >-
#     Deactivate the key and, if the contract still runs, issue the contractor a new one (better:
#     give the contractor access through IAM Identity Center, which issues no long-lived keys).
package org.rules.contractor_key_age

import rego.v1

import data.credwarden.lib

# The IAM path of contractors; users in sub-paths (/contractors/<vendor>/) count too.
contractor_path := "/contractors/"

# credwarden.yaml: `params: {contractor_key_days: 14}` overrides the default of 30 days.
max_days := lib.field(data.credwarden.config.params, "contractor_key_days", 30)

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	path := lib.field(user, "path", "/")
	is_string(path)
	startswith(path, contractor_path)
	some key in user.access_keys
	lib.is_active(key)
	age := lib.days_since(key.created_at)
	age >= max_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s of contractor %s is %d days old (created %s); contractor keys must be younger than %d days",
			[lib.key_label(key), user.user_name, age, key.created_at, max_days],
		),
		"remediation": lib.key_remediation(user, key, "deactivate_access_key"),
		"details": {"age_days": age, "created_at": key.created_at, "max_days": max_days, "path": path},
	}
}
