package credwarden.rules.account_not_collected_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.account_not_collected as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

failed := {"code": "AccessDenied", "message": "sts:AssumeRole failed: AccessDenied: not authorized"}

test_failed_account_fires if {
	fs := findings(t.snapshot([t.account_with([], {"error": failed})]))
	count(fs) == 1
	some f in fs
	f.account_id == t.account_id
	f.resource.type == "aws_account"
	f.details.error_code == "AccessDenied"
	contains(f.message, "not authorized")
}

test_collected_account_is_fine if {
	fs := findings(t.single([]))
	count(fs) == 0
}

test_null_error_is_fine if {
	fs := findings(t.snapshot([t.account_with([], {"error": null})]))
	count(fs) == 0
}
