# METADATA
# title: IAM user that is not a break-glass user
# description: >-
#   Any IAM user not designated break-glass (by name or ARN in config `break_glass.users`, or
#   by the break-glass tag). IAM users carry long-lived credentials: people belong in IAM
#   Identity Center (or another identity provider), workloads in IAM roles. The only IAM users
#   worth keeping are a few emergency (break-glass) users.
# custom:
#   id: CW304
#   slug: non-break-glass-user
#   severity: medium
#   resource_type: aws_iam_user
#   controls:
#     cis-aws-1.4: ["1.21"]
#     cis-aws-1.5: ["1.21"]
#     cis-aws-2.0: ["1.21"]
#     cis-aws-3.0: ["1.21"]
#     cis-aws-5.0: ["1.20"]
#     nist-800-53-r5: ["AC-2", "IA-2"]
#     iso-27001-2022: ["A.5.16"]
#   remediation: >-
#     Move the person to IAM Identity Center, or the workload to an IAM role (IRSA, instance
#     profile, IAM Roles Anywhere), then delete the user. If it is an emergency user, list it in
#     break_glass.users or tag it.
package credwarden.rules.non_break_glass_user

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	not lib.is_break_glass(user)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf(
			"IAM user %s is not a break-glass user; people belong in IAM Identity Center, workloads in IAM roles",
			[user.user_name],
		),
		"remediation": lib.manual({"user_name": user.user_name}, "replace the IAM user with federation or a role"),
		"details": {
			"password_enabled": lib.password_enabled(user),
			"active_access_keys": count(lib.active_keys(user)),
		},
	}
}
