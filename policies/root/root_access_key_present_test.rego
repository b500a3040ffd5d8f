package credwarden.rules.root_access_key_present_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.root_access_key_present as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

with_root(root) := t.snapshot([t.account_with([], {"root": root})])

test_active_root_key_fires if {
	root := t.root_with({"access_keys": [t.root_slot(1, true, 300, 2), t.root_slot(2, false, null, null)]})
	fs := findings(with_root(root))
	count(fs) == 1
	some f in fs
	f.account_id == t.account_id
	f.resource == {"type": "aws_root_user", "id": "root", "arn": "arn:aws:iam::222222222222:root"}
	f.details.key_slots == [1]
	f.details.active_key_slots == [1]
	contains(f.message, "222222222222")
	contains(f.message, "slot(s) 1")
}

test_inactive_root_key_still_fires if {
	root := t.root_with({"access_keys": [t.root_slot(1, false, null, null), t.root_slot(2, false, 300, null)]})
	fs := findings(with_root(root))
	count(fs) == 1
	some f in fs
	f.details.key_slots == [2]
	f.details.active_key_slots == []
	contains(f.message, "active: none")
}

test_two_root_keys_are_one_finding if {
	root := t.root_with({"access_keys": [t.root_slot(1, true, 300, null), t.root_slot(2, false, 200, null)]})
	fs := findings(with_root(root))
	count(fs) == 1
	some f in fs
	f.details.key_slots == [1, 2]
}

test_account_summary_alone_fires if {
	root := t.root_with({"access_keys": [], "account_access_keys_present": true})
	fs := findings(with_root(root))
	count(fs) == 1
	some f in fs
	contains(f.message, "AccountAccessKeysPresent")
}

test_no_root_key_is_fine if {
	fs := findings(t.single([]))
	count(fs) == 0
}

test_unknown_summary_and_empty_slots_is_fine if {
	root := t.root_with({"account_access_keys_present": null})
	fs := findings(with_root(root))
	count(fs) == 0
}

test_unknown_root_is_fine if {
	fs := findings(with_root(null))
	count(fs) == 0
}

test_account_with_error_is_skipped if {
	root := t.root_with({"access_keys": [t.root_slot(1, true, 300, 2)]})
	fs := findings(t.snapshot([t.errored(t.account_with([], {"root": root}))]))
	count(fs) == 0
}
