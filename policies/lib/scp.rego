# Effective Service Control Policy (SCP) denies, for the organization rules (CW401, CW402).
#
# AWS semantics: an SCP applies to an account when it is attached to the account, to any OU
# above it, or to the organization root. An SCP Deny statement denies an action when one of
# its `Action` patterns matches it (`*`, `iam:*`, `iam:Create*`, ...), or when it has
# `NotAction` and none of those patterns matches it. A `Condition` (for instance one that
# exempts break-glass principals) does not stop the statement from counting as a deny.
# SCPs never apply to the management account.
#
# The package is credwarden.scp, not credwarden.lib.scp: regorus evaluates every module under a
# package it looks up by prefix, so a test package nested under credwarden.lib would be run
# (and could form a cycle) whenever a policy refers to the library.
#
# Usage (evaluate the index once per query, as a complete rule, then test each account):
#
#   index := scp.deny_index("iam:CreateAccessKey")
#   covered if scp.covered(index, account.id)
package credwarden.scp

import rego.v1

import data.credwarden.lib

scp_type := "SERVICE_CONTROL_POLICY"

# The organization, when the snapshot has one (undefined otherwise).
organization := org if {
	org := lib.field(input, "organization", null)
	is_object(org)
}

management_account_id := organization.management_account_id

# Active member accounts: SCPs apply to these.
member_accounts contains account if {
	some account in lib.field(organization, "accounts", [])
	account.status == "ACTIVE"
	account.id != management_account_id
}

# SCPs are known to be disabled: at least one root lists its enabled policy types, and no root
# lists SERVICE_CONTROL_POLICY. Roots with an empty (unknown) list say nothing either way, so
# an organization whose roots list no types at all is taken to have SCPs enabled.
scps_disabled if {
	roots := lib.field(organization, "roots", [])
	some listed in roots
	count(lib.field(listed, "policy_types", [])) > 0
	every root in roots {
		not scp_type in lib.field(root, "policy_types", [])
	}
}

scps_enabled := false if {
	scps_disabled
} else := true

# ---------------------------------------------------------------------------
# The organization tree: child id -> parent ids (a set), roots and unknown parents -> {}.
# ---------------------------------------------------------------------------

parents[child] contains parent if {
	some account in lib.field(organization, "accounts", [])
	child := account.id
	parent := account.parent_id
}

parents[child] contains parent if {
	some ou in lib.field(organization, "organizational_units", [])
	child := ou.id
	parent := ou.parent_id
}

tree_tops := {id | some root in lib.field(organization, "roots", []); id := root.id} | {parent |
	some _, ps in parents
	some parent in ps
}

tree := object.union({id: set() | some id in tree_tops; not parents[id]}, parents)

# Every id an account inherits SCPs from: the account itself, its OUs, and the root.
ancestry(account_id) := graph.reachable(tree, [account_id])

# The same ids in order, account first, root last: [account, ou, ..., root].
ancestry_path(account_id) := path if {
	paths := sort([p | some p in graph.reachable_paths(tree, [account_id])])
	count(paths) > 0
	path := paths[0]
} else := [account_id]

# ---------------------------------------------------------------------------
# Policy documents
# ---------------------------------------------------------------------------

# The parsed document (a collector may hand over the JSON text).
document(policy) := doc if {
	is_string(policy.document)
	doc := json.unmarshal(policy.document)
} else := policy.document

# Statement may be one object or an array of them.
statements(doc) := s if {
	s := lib.field(doc, "Statement", null)
	is_array(s)
} else := [s] if {
	s := lib.field(doc, "Statement", null)
	is_object(s)
} else := []

# Action, NotAction, Resource and NotResource may be one string or an array of them.
as_list(x) := x if {
	is_array(x)
} else := [x] if {
	is_string(x)
} else := []

any_matches(patterns, action) if {
	some pattern in patterns
	lib.action_matches(pattern, action)
}

# The statement is a Deny whose Action (or NotAction) covers `action`.
statement_denies(statement, action) if {
	statement.Effect == "Deny"
	any_matches(as_list(lib.field(statement, "Action", null)), action)
}

statement_denies(statement, action) if {
	statement.Effect == "Deny"
	lib.field(statement, "Action", null) == null
	not_actions := lib.field(statement, "NotAction", null)
	not_actions != null
	not any_matches(as_list(not_actions), action)
}

# The partition of the organization's ARNs ("aws", "aws-us-gov", "aws-cn").
partition(policy) := p if {
	arn := lib.field(policy, "arn", null)
	is_string(arn)
	startswith(arn, "arn:")
	p := split(arn, ":")[1]
} else := "aws"

# Every IAM user of the account, as one ARN pattern. A Resource pattern covers all users when
# it matches this literally (`*`, `arn:aws:iam::*:user/*`, `arn:aws:iam::*:*`, ...); a pattern
# naming some users only (`.../user/ops/*`) does not.
all_users_arn(entry, account_id) := sprintf("arn:%s:iam::%s:user/*", [entry.partition, account_id])

any_resource_matches(patterns, arn) if {
	some pattern in patterns
	lib.wildcard_match(pattern, arn)
}

# The deny applies to every IAM user of the account. A statement with neither Resource nor
# NotResource is taken to cover everything. A NotResource that exempts some users (e.g. the
# break-glass user) still covers, like a Condition does.
covers_users(entry, _) if {
	entry.resource == null
	entry.not_resource == null
}

covers_users(entry, account_id) if {
	any_resource_matches(as_list(entry.resource), all_users_arn(entry, account_id))
}

covers_users(entry, account_id) if {
	entry.resource == null
	entry.not_resource != null
	not any_resource_matches(as_list(entry.not_resource), all_users_arn(entry, account_id))
}

# ---------------------------------------------------------------------------
# The index: target id (root, OU or account) -> the deny statements attached there.
# ---------------------------------------------------------------------------

deny_entries(action) := {[target, entry] |
	some policy in lib.field(organization, "policies", [])
	some i, statement in statements(document(policy))
	statement_denies(statement, action)
	entry := {
		"policy_id": policy.id,
		"policy_name": lib.field(policy, "name", policy.id),
		"statement": lib.field(statement, "Sid", sprintf("#%d", [i])),
		"conditional": has_condition(statement),
		"resource": lib.field(statement, "Resource", null),
		"not_resource": lib.field(statement, "NotResource", null),
		"partition": partition(policy),
	}
	some target in lib.field(policy, "targets", [])
}

has_condition(statement) := true if {
	lib.field(statement, "Condition", null) != null
} else := false

deny_index(action) := index if {
	entries := deny_entries(action)
	targets := {target | some [target, _] in entries}
	index := {target: {entry | some [t, entry] in entries; t == target} | some target in targets}
}

# The deny statements that apply to the account and cover all its users.
covering(index, account_id) := {entry |
	not scps_disabled
	some id in ancestry(account_id)
	some entry in object.get(index, id, set())
	covers_users(entry, account_id)
}

covered(index, account_id) if count(covering(index, account_id)) > 0

# ---------------------------------------------------------------------------
# Findings shared by the organization rules
# ---------------------------------------------------------------------------

# A member account that no effective SCP Deny of `action` covers.
member_finding(index, account, action) := finding if {
	not covered(index, account.id)
	path := ancestry_path(account.id)
	finding := {
		"account_id": account.id,
		"resource": lib.account_resource(account.id),
		"message": member_message(account, action, path),
		"remediation": member_remediation(account, action),
		"details": {
			"account_name": lib.field(account, "name", ""),
			"ancestry": path,
			"scps_enabled": scps_enabled,
			"denied_action": action,
			"partial_denies": sort([sprintf("%s (%s)", [e.policy_name, e.statement]) |
				some id in ancestry(account.id)
				some e in object.get(index, id, set())
				not covers_users(e, account.id)
			]),
		},
	}
}

member_message(account, action, path) := sprintf(
	"SCPs are disabled in organization %s, so nothing denies %s in member account %s (%s)",
	[organization.id, action, account.id, lib.field(account, "name", "")],
) if {
	scps_disabled
} else := sprintf(
	"No SCP attached to member account %s (%s), its OUs or the root denies %s (checked %s)",
	[account.id, lib.field(account, "name", ""), action, concat(" < ", path)],
)

member_remediation(account, action) := lib.manual(
	{"account_id": account.id, "organization_id": organization.id, "denied_action": action},
	"enable the SERVICE_CONTROL_POLICY policy type on the organization root, then attach a deny",
) if {
	scps_disabled
} else := {
	"action": "attach_scp",
	"params": {"target_id": account.id, "account_id": account.id, "deny_actions": [action]},
}

# The management account, when it was collected and has IAM users: SCPs cannot protect it.
# (data.credwarden.lib.collected_accounts by its full path: regorus can fail to resolve an
# import alias to another package's rule inside a function body called from a third module.)
management_findings(action) := {finding |
	some account in data.credwarden.lib.collected_accounts
	account.account_id == management_account_id
	users := count(lib.field(account, "users", []))
	users > 0
	finding := {
		"account_id": account.account_id,
		"resource": lib.account_resource(account.account_id),
		"message": sprintf(
			"SCPs never apply to the management account %s, which has %d IAM user(s): no SCP can deny %s there",
			[account.account_id, users, action],
		),
		"remediation": lib.manual(
			{"account_id": account.account_id, "denied_action": action},
			"keep the management account free of IAM users; restrict the action with IAM policies",
		),
		"details": {"management_account": true, "iam_users": users, "denied_action": action},
	}
}

