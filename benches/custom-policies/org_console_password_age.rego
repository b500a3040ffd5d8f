# METADATA
# title: Console password not changed for too long
# description: >-
#   An IAM user with a console password that was last changed `params.password_max_age_days`
#   (default 180) days ago or more. A password that was never changed counts from the user's
#   creation: the initial password handed out at onboarding is still the one in use.
# custom:
#   id: ORG008
#   slug: console-password-too-old
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["IA-5(1)"]
#     iso-27001-2022: ["A.5.17"]
#     acme-iam-standard: ["IAM-4.2"]
#   remediation: >-
#     Have the user change the password (or reset it with aws iam update-login-profile
#     --password-reset-required). If the user does not need the console, delete the login profile.
package org.rules.console_password_age

import rego.v1

import data.credwarden.lib

max_days := d if {
	d := lib.field(data.credwarden.config.params, "password_max_age_days", 180)
	is_number(d)
} else := 180

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	lib.password_enabled(user)
	changed := lib.field(user.password, "last_changed", null)
	since := password_since(user, changed)
	age := lib.days_since(since)
	age >= max_days
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": message(user, changed, age),
		"remediation": lib.manual({"user_name": user.user_name}, "have the user change the password, or delete the login profile"),
		"details": {
			"password_age_days": age,
			"last_changed": changed,
			"never_changed": never_changed(changed),
			"max_days": max_days,
			"break_glass": lib.break_glass_flag(user),
		},
	}
}

never_changed(changed) := true if {
	changed == null
} else := false

password_since(user, changed) := changed if {
	is_string(changed)
} else := user.created_at

message(user, changed, age) := sprintf(
	"The console password of IAM user %s was never changed since the user was created %d days ago (maximum %d days)",
	[user.user_name, age, max_days],
) if {
	changed == null
} else := sprintf(
	"The console password of IAM user %s was last changed %d days ago (%s; maximum %d days)",
	[user.user_name, age, changed, max_days],
)
