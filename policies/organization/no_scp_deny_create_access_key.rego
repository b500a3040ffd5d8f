# METADATA
# title: No SCP denies creating access keys
# description: >-
#   An active member account of the AWS Organization that no effective Service Control Policy
#   stops from creating IAM access keys: no SCP attached to the account, to an OU above it or to
#   the root has a Deny statement whose Action (or NotAction) covers iam:CreateAccessKey
#   (wildcards such as iam:Create*, iam:* and * count) for every IAM user. A Condition that
#   exempts break-glass principals still counts as a deny. SCPs never apply to the management
#   account, so it gets its own finding when it has IAM users. Evaluated only when the snapshot
#   has the organization.
# custom:
#   id: CW401
#   slug: no-scp-deny-create-access-key
#   severity: medium
#   resource_type: aws_account
#   controls:
#     nist-800-53-r5: ["AC-2", "IA-5"]
#     iso-27001-2022: ["A.5.15", "A.5.17"]
#   remediation: >-
#     Attach an SCP that denies iam:CreateAccessKey (exempting your break-glass role with an
#     ArnNotLike aws:PrincipalArn condition) to the root or to the OUs of your member accounts.
#     Keep the management account free of IAM users.
package credwarden.rules.no_scp_deny_create_access_key

import rego.v1

import data.credwarden.scp

action := "iam:CreateAccessKey"

# Built once per evaluation: target id -> deny statements of iam:CreateAccessKey attached there.
index := scp.deny_index(action)

deny contains finding if {
	some account in scp.member_accounts
	finding := scp.member_finding(index, account, action)
}

deny contains finding if {
	some management_finding in scp.management_findings(action)
	finding := management_finding
}
