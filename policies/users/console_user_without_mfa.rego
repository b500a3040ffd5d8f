# METADATA
# title: Console user without MFA
# description: >-
#   An IAM user with a console password and no MFA device. A leaked or guessed password is then
#   all it takes to sign in.
# custom:
#   id: CW303
#   slug: console-user-without-mfa
#   severity: high
#   resource_type: aws_iam_user
#   controls:
#     cis-aws-1.2: ["1.2"]
#     cis-aws-1.4: ["1.10"]
#     cis-aws-1.5: ["1.10"]
#     cis-aws-2.0: ["1.10"]
#     cis-aws-3.0: ["1.10"]
#     cis-aws-5.0: ["1.9"]
#     nist-800-53-r5: ["IA-2(1)", "IA-2(2)"]
#     iso-27001-2022: ["A.5.17", "A.8.5"]
#   remediation: >-
#     Have the user register an MFA device (passkey or hardware key preferred), and enforce MFA
#     with a policy that denies everything but MFA self-service without aws:MultiFactorAuthPresent.
#     If the user needs no console, delete its login profile instead.
package credwarden.rules.console_user_without_mfa

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	lib.password_enabled(user)
	user.mfa_active == false
	password_last_used := lib.field(user.password, "last_used", null)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("IAM user %s can sign in to the console with a password but has no MFA device", [user.user_name]),
		"remediation": lib.user_remediation(user, "enable_mfa", {}),
		"details": {"password_last_used": password_last_used, "break_glass": lib.break_glass_flag(user)},
	}
}
