# METADATA
# title: Service account with a console password
# description: >-
#   An IAM user under the service-account path (`params.service_path`, default /service/) that
#   has a console password. Workload users authenticate with keys only; a password on one is
#   shared by people and bypasses the joiner/leaver process.
# custom:
#   id: ORG011
#   slug: service-account-console-password
#   severity: high
#   resource_type: aws_iam_user
#   controls:
#     nist-800-53-r5: ["AC-2", "IA-2"]
#     acme-iam-standard: ["IAM-2.2"]
#   remediation: >-
#     Delete the user's login profile (aws iam delete-login-profile). People who need the
#     console get it through IAM Identity Center.
package org.rules.service_account_console

import rego.v1

import data.credwarden.lib

service_path := p if {
	p := lib.field(data.credwarden.config.params, "service_path", "/service/")
	is_string(p)
} else := "/service/"

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	path := lib.field(user, "path", "/")
	is_string(path)
	startswith(path, service_path)
	lib.password_enabled(user)
	finding := {
		"account_id": account.account_id,
		"resource": lib.user_resource(user),
		"message": sprintf("Service account %s (path %s) has a console password", [user.user_name, path]),
		"remediation": lib.user_remediation(user, "delete_login_profile", {}),
		"details": {
			"path": path,
			"password_last_used": lib.field(user.password, "last_used", null),
			"mfa_active": lib.field(user, "mfa_active", null),
		},
	}
}
