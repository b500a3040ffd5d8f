# METADATA
# title: Account collected without a credential report
# description: >-
#   A collected account whose snapshot has no credential report (or no generation time for it).
#   Password and key last-use data then come only from the IAM API, and the audit trail the
#   compliance team keeps (the report's generation time next to every finding) is missing.
# custom:
#   id: ORG015
#   slug: credential-report-missing
#   severity: info
#   resource_type: aws_credential_report
#   controls:
#     acme-iam-standard: ["AUD-2"]
#   remediation: >-
#     Give the collector iam:GenerateCredentialReport and iam:GetCredentialReport in the account
#     and collect it again.
package org.rules.credential_report_missing

import rego.v1

import data.credwarden.lib

deny contains finding if {
	some account in lib.collected_accounts
	report := lib.field(account, "credential_report", null)
	generated := lib.field(report, "generated_at", null)
	not is_string(generated)
	finding := {
		"account_id": account.account_id,
		"resource": lib.credential_report_resource(account.account_id),
		"message": sprintf("Account %s was collected without a credential report", [account.account_id]),
		"remediation": lib.manual({"account_id": account.account_id}, "grant the report permissions to the collector and collect again"),
		"details": {"credential_report": report},
	}
}
