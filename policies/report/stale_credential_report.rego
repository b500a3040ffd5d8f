# METADATA
# title: Credential report is stale
# description: >-
#   The IAM credential report behind an account's findings was generated more than
#   `stale_report_hours` (default 4) hours before the evaluation time, so recent sign-ins, key
#   use and key changes are missing from it. AWS regenerates the report at most every 4 hours.
#   Not reported when the report's generation time is unknown.
# custom:
#   id: CW901
#   slug: stale-credential-report
#   severity: info
#   resource_type: aws_credential_report
#   remediation: >-
#     Generate a fresh report (aws iam generate-credential-report) and collect again; pass the
#     report's GeneratedTime along when evaluating a CSV.
package credwarden.rules.stale_credential_report

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	generated := lib.field(lib.field(account, "credential_report", {}), "generated_at", null)
	is_string(generated)
	hours := lib.hours_since(generated)
	hours > data.credwarden.config.thresholds.stale_report_hours
	finding := {
		"account_id": account.account_id,
		"resource": lib.credential_report_resource(account.account_id),
		"message": sprintf(
			"The credential report of account %s was generated %d hours ago (%s); findings may miss recent activity",
			[account.account_id, hours, generated],
		),
		"remediation": lib.manual({"account_id": account.account_id}, "generate a new credential report and collect again"),
		"details": {"generated_at": generated, "age_hours": hours},
	}
}
