# METADATA
# title: Access key used for a service outside the allow list
# description: >-
#   An active access key whose last use was a call to a service that long-lived keys may not
#   call (`params.allowed_key_services`). Keys are tolerated for data-plane access (S3, queues,
#   tables, secrets, metrics); infrastructure (EC2, IAM, CloudFormation, Organizations) is
#   changed only by the deployment roles, never with a user's key.
# custom:
#   id: ORG006
#   slug: access-key-unapproved-service
#   severity: medium
#   resource_type: aws_iam_access_key
#   controls:
#     nist-800-53-r5: ["AC-6", "AC-6(9)"]
#     acme-iam-standard: ["IAM-3.4"]
#   remediation: >-
#     Move the workload's infrastructure calls to the deployment pipeline's role, then restrict
#     the user's policies to the data-plane actions it needs.
package org.rules.key_service_allowlist

import rego.v1

import data.credwarden.lib

default_services := [
	"athena", "ce", "cloudwatch", "dynamodb", "ecr", "glue", "identitystore", "kinesis", "kms",
	"lambda", "logs", "s3", "sagemaker", "secretsmanager", "sns", "sqs", "ssm", "sts",
]

services_param := s if {
	s := lib.field(data.credwarden.config.params, "allowed_key_services", default_services)
	is_array(s)
} else := default_services

allowed_services := {lower(s) | some s in services_param; is_string(s)}

deny contains finding if {
	some account in lib.collected_accounts
	some user in account.users
	some key in user.access_keys
	lib.is_active(key)
	service := lib.field(key, "last_used_service", null)
	is_string(service)
	not lower(service) in allowed_services
	finding := {
		"account_id": account.account_id,
		"resource": lib.key_resource(user, key),
		"message": sprintf(
			"Active access key %s of user %s was last used for %s, which long-lived keys may not call",
			[lib.key_label(key), user.user_name, service],
		),
		"remediation": lib.manual(lib.key_params(user, key), "move the calls to a role and narrow the user's policies"),
		"details": {
			"last_used_service": service,
			"last_used_at": lib.field(key, "last_used_at", null),
			"last_used_region": lib.field(key, "last_used_region", null),
		},
	}
}
