# METADATA
# title: Console password never used
# description: >-
#   An IAM user whose console password has never been used, `params.console_unclaimed_days`
#   (default 14) days or more after it was set (or after the user was created, when the password
#   was never changed). An unclaimed initial password sits in an e-mail or a ticket, usable by
#   whoever reads it first.
# custom:
#   id: ORG020
#   slug: console-password-never-used
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2(3)", "IA-5(1)"]
#     acme-iam-standard: ["IAM-4.1"]
#   remediation: >-
#     Delete the login profile (aws iam delete-login-profile); create a new one with
#     --password-reset-required when the person is actually ready to sign in.
package org.rules.console_password_never_used

import rego.v1

import data.credwarden.lib

unclaimed_days := d if {
	d := lib.field(data.credwarden.config.params, "console_unclaimed_days", 14)
	is_number(d)
} else := 14

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	lib.password_enabled(user)
	lib.field(user.password, "last_used", null) == null
	set_at := password_set_at(user)
	age := lib.days_since(set_at)
	age >= unclaimed_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf(
			"The console password of IAM user %s was set %d days ago (%s) and has never been used",
			[user.user_name, age, set_at],
		),
		"remediation": lib.user_remediation(user, "delete_login_profile", {}),
		"details": {"password_set_at": set_at, "age_days": age, "unclaimed_days": unclaimed_days},
	}
}

password_set_at(user) := changed if {
	changed := lib.field(user.password, "last_changed", null)
	is_string(changed)
} else := user.created_at
