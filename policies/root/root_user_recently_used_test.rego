package credwarden.rules.root_user_recently_used_test

import rego.v1

import data.credwarden.lib_test as t
import data.credwarden.rules.root_user_recently_used as rule

findings(inp) := fs if {
	n := t.now_ns
	cfg := t.config
	fs := rule.deny with input as inp with data.credwarden.now_ns as n with data.credwarden.config as cfg
}

with_root(root) := t.snapshot([t.account_with([], {"root": root})])

test_recent_password_use_fires if {
	fs := findings(with_root(t.root_with({"password_last_used": t.days_ago(3)})))
	count(fs) == 1
	some f in fs
	f.resource == {"type": "aws_root_user", "id": "root", "arn": "arn:aws:iam::222222222222:root"}
	f.details.days_since_last_use == 3
	f.details.used_with == ["password"]
	contains(f.message, "3 days ago")
	contains(f.message, "password")
}

test_old_use_is_fine if {
	fs := findings(t.single([]))
	count(fs) == 0
}

test_exactly_at_threshold_fires if {
	fs := findings(with_root(t.root_with({"password_last_used": t.days_ago(90)})))
	count(fs) == 1
}

test_one_day_past_threshold_is_fine if {
	fs := findings(with_root(t.root_with({"password_last_used": t.days_ago(91)})))
	count(fs) == 0
}

test_recent_key_use_fires if {
	root := t.root_with({
		"password_last_used": null,
		"access_keys": [t.root_slot(1, true, 300, 200), t.root_slot(2, true, 100, 5)],
	})
	fs := findings(with_root(root))
	count(fs) == 1
	some f in fs
	f.details.days_since_last_use == 5
	f.details.used_with == ["access key in slot 2"]
	contains(f.message, "slot 2")
}

test_most_recent_use_is_reported_once if {
	root := t.root_with({
		"password_last_used": t.days_ago(10),
		"access_keys": [t.root_slot(1, true, 300, 2), t.root_slot(2, false, null, null)],
	})
	fs := findings(with_root(root))
	count(fs) == 1
	some f in fs
	f.details.days_since_last_use == 2
	f.details.used_with == ["access key in slot 1", "password"]
}

test_never_used_root_is_fine if {
	fs := findings(with_root(t.root_with({"password_last_used": null})))
	count(fs) == 0
}

test_unknown_root_is_fine if {
	fs := findings(with_root(null))
	count(fs) == 0
}

test_account_with_error_is_skipped if {
	acct := t.errored(t.account_with([], {"root": t.root_with({"password_last_used": t.days_ago(1)})}))
	fs := findings(t.snapshot([acct]))
	count(fs) == 0
}
