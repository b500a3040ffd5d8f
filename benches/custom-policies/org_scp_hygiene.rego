# METADATA
# title: Service control policy breaks the SCP conventions
# description: >-
#   A customer-managed SCP must be named `<Verb><What>` in PascalCase with a verb of
#   `params.scp_name_verbs` (default Deny, Require, Restrict, Protect, Allow), e.g.
#   DenyLeaveOrganization; every statement must have a Sid (access-denied messages and reviews
#   name the statement); and the policy must be attached somewhere (an unattached SCP is either
#   dead or a control someone believes is in force). AWS-managed SCPs are not checked.
# custom:
#   id: ORG016
#   slug: scp-conventions
#   severity: low
#   resource_type: aws_organizations_policy
#   controls:
#     nist-800-53-r5: ["CM-2", "CM-3"]
#     acme-iam-standard: ["ORG-2"]
#   remediation: >-
#     Fix the SCP in the organization's infrastructure repository (rename it, add a Sid to every
#     statement, attach it or delete it) and let the pipeline apply it.
package org.rules.scp_hygiene

import rego.v1

import data.credwarden.lib
import data.credwarden.scp

default_verbs := ["Deny", "Require", "Restrict", "Protect", "Allow"]

verbs_param := v if {
	v := lib.field(data.credwarden.config.params, "scp_name_verbs", default_verbs)
	is_array(v)
} else := default_verbs

name_regex := sprintf("^(%s)[A-Z][A-Za-z0-9]+$", [concat("|", [v | some v in verbs_param; is_string(v)])])

deny contains finding if {
	org := scp.organization
	some policy in lib.field(org, "policies", [])
	lib.field(policy, "aws_managed", false) != true
	name := lib.field(policy, "name", "")
	statements := scp.statements(scp.document(policy))
	unnamed := [i | some i, s in statements; not has_sid(s)]
	targets := lib.field(policy, "targets", [])
	problems := [p | some p in [
		name_problem(name),
		sid_problem(unnamed),
		target_problem(targets),
	]; p != ""]
	count(problems) > 0
	finding := {
		"account_id": org.management_account_id,
		"resource": {"type": "aws_organizations_policy", "id": policy.id, "arn": policy_arn(org, policy)},
		"message": sprintf("SCP %s (%s) breaks the SCP conventions: %s", [name, policy.id, concat("; ", problems)]),
		"remediation": lib.manual({"policy_id": policy.id, "policy_name": name}, "fix the SCP in the infrastructure repository"),
		"details": {
			"policy_name": name,
			"problems": problems,
			"statements_without_sid": unnamed,
			"targets": targets,
		},
	}
}

has_sid(statement) if {
	sid := lib.field(statement, "Sid", null)
	is_string(sid)
	sid != ""
}

name_problem(name) := "" if {
	is_string(name)
	regex.match(name_regex, name)
} else := sprintf("the name does not match %s", [name_regex])

sid_problem(unnamed) := "" if {
	count(unnamed) == 0
} else := sprintf("%d statement(s) without a Sid", [count(unnamed)])

target_problem(targets) := "" if {
	count(targets) > 0
} else := "it is not attached to any root, OU or account"

policy_arn(org, policy) := arn if {
	arn := lib.field(policy, "arn", null)
	is_string(arn)
} else := sprintf(
	"arn:aws:organizations::%s:policy/%s/service_control_policy/%s",
	[org.management_account_id, org.id, policy.id],
)
