# METADATA
# title: No SCP denies creating IAM users
# description: >-
#   An active member account of the AWS Organization that no effective Service Control Policy
#   stops from creating IAM users: no SCP attached to the account, to an OU above it or to
#   the root has a Deny statement whose Action (or NotAction) covers iam:CreateUser
#   (wildcards such as iam:Create*, iam:* and * count) for every IAM user. A Condition that
#   exempts break-glass principals still counts as a deny. SCPs never apply to the management
#   account, so it gets its own finding when it has IAM users. Evaluated only when the snapshot
#   has the organization.
# custom:
#   id: CW402
#   slug: no-scp-deny-create-user
#   severity: low
#   resource_type: aws_account
#   controls:
#     nist-800-53-r5: ["AC-2", "AC-6"]
#     iso-27001-2022: ["A.5.15", "A.5.16"]
#   remediation: >-
#     Attach an SCP that denies iam:CreateUser (exempting your break-glass role with an
#     ArnNotLike aws:PrincipalArn condition) to the root or to the OUs of your member accounts.
#     Keep the management account free of IAM users.
package credwarden.rules.no_scp_deny_create_user

import rego.v1

import data.credwarden.scp

action := "iam:CreateUser"

# Built once per evaluation: target id -> deny statements of iam:CreateUser attached there.
index := scp.deny_index(action)

deny contains finding if {
	some account in scp.member_accounts
	finding := scp.member_finding(index, account, action)
}

deny contains finding if {
	some management_finding in scp.management_findings(action)
	finding := management_finding
}
