# Hard guards of the shipped policy (they apply to admins too): emergency deny, tenant isolation,
# environment, time window, client network, path arguments.
package mcp.authz_test

import data.mcp.authz

at(inp, ns) := object.union(inp, {"time": {"now_ns": ns}})

from(inp, ip) := object.union(inp, {"network": {"ip": ip}})

in_env(inp, env) := object.union(inp, {"env": env})

labelled(inp, labels) := object.union(inp, {"resource": {"labels": labels}})

of_tenant(inp, tenant) := object.union(inp, {"resource": {"tenant": tenant}})

echo(user) := call(user, "everything", "echo", {"message": "hi"})

read_text(user, path) := call(user, "fs", "read_text_file", {"path": path})

# ---------------------------------------------------------------------------------------------
# Emergency deny
# ---------------------------------------------------------------------------------------------

test_shipped_emergency_switch_is_off if {
	data.mcp.emergency == no_emergency
}

test_emergency_deny_all_stops_everyone if {
	e := {"deny_all": true, "tools": [], "servers": []}
	not authz.allow with input as echo(bob) with data.mcp.emergency as e
	not authz.allow with input as echo(petra) with data.mcp.emergency as e
	not authz.allow with input as echo(alice) with data.mcp.emergency as e
	get := prompt(alice, "everything", "simple-prompt")
	not authz.allow with input as get with data.mcp.emergency as e
	read := resource(bob, "fs", "file:///data/public/a")
	not authz.allow with input as read with data.mcp.emergency as e
	not authz.allow with input as list_item(alice, "everything", "echo") with data.mcp.emergency as e
	want := {"all MCP traffic disabled by emergency deny"}
	authz.reasons == want with input as echo(bob) with data.mcp.emergency as e
}

test_emergency_deny_all_keeps_the_gateway_apis if {
	# Admins and auditors can still read the audit log and history during an incident.
	e := {"deny_all": true, "tools": [], "servers": []}
	authz.allow with input as api(olga, "GET", "/api/v1/audit") with data.mcp.emergency as e
	authz.allow with input as api(alice, "GET", "/api/v1/history") with data.mcp.emergency as e
	authz.allow with input as api(bob, "POST", "/api/v1/emergency") with data.mcp.emergency as e
}

test_emergency_deny_all_without_kind if {
	e := {"deny_all": true, "tools": [], "servers": []}
	inp := object.remove(echo(bob), ["resource"])
	want := "all MCP traffic disabled by emergency deny"
	want in authz.reasons with input as inp with data.mcp.emergency as e
}

test_emergency_tool_by_exposed_name if {
	e := {"deny_all": false, "tools": ["echo"], "servers": []}
	not authz.allow with input as echo(alice) with data.mcp.emergency as e
	not authz.allow with input as echo(bob) with data.mcp.emergency as e
	want := {"tool disabled by emergency deny"}
	authz.reasons == want with input as echo(bob) with data.mcp.emergency as e
	authz.allow with input as call(alice, "everything", "get-sum", {}) with data.mcp.emergency as e
}

test_emergency_tool_by_upstream_name if {
	# Listing the upstream name stops the tool whatever prefix the gateway gives it.
	e := {"deny_all": false, "tools": ["write_file"], "servers": []}
	inp := call_res(bob, "fs", "fs__write_file", {"path": "/data/uploads/a"}, {"name": "write_file"})
	not authz.allow with input as inp with data.mcp.emergency as e
	authz.reasons == {"tool disabled by emergency deny"} with input as inp with data.mcp.emergency as e
}

test_emergency_tool_by_prefixed_name_spares_other_servers if {
	e := {"deny_all": false, "tools": ["fs__write_file"], "servers": []}
	stopped := call_res(bob, "fs", "fs__write_file", {"path": "/data/a"}, {"name": "write_file"})
	spared := call_res(
		bob, "backup", "backup__write_file", {"path": "/data/a"},
		{"name": "write_file"},
	)
	not authz.allow with input as stopped with data.mcp.emergency as e
	authz.allow with input as spared with data.mcp.emergency as e
}

test_emergency_server if {
	e := {"deny_all": false, "tools": [], "servers": ["everything"]}
	not authz.allow with input as echo(bob) with data.mcp.emergency as e
	get := prompt(alice, "everything", "simple-prompt")
	not authz.allow with input as get with data.mcp.emergency as e
	want := {"server disabled by emergency deny"}
	authz.reasons == want with input as echo(bob) with data.mcp.emergency as e
	authz.allow with input as read_text(alice, "/data/public/a.txt") with data.mcp.emergency as e
	read := resource(alice, "fs", "file:///data/public/a")
	authz.allow with input as read with data.mcp.emergency as e
}

test_emergency_every_switch_reported if {
	e := {"deny_all": true, "tools": ["echo"], "servers": ["everything"]}
	authz.reasons == {
		"all MCP traffic disabled by emergency deny",
		"tool disabled by emergency deny",
		"server disabled by emergency deny",
	} with input as echo(bob) with data.mcp.emergency as e
}

test_emergency_data_missing_does_not_deny if {
	authz.allow with input as echo(alice) with data.mcp.emergency as {}
}

# ---------------------------------------------------------------------------------------------
# Tenant isolation
# ---------------------------------------------------------------------------------------------

test_same_tenant_allowed if {
	authz.allow with input as of_tenant(echo(alice), "acme")
}

test_other_tenant_denied if {
	inp := of_tenant(echo(carol), "acme")
	not authz.allow with input as inp
	authz.reasons == {"server belongs to another tenant"} with input as inp
}

test_admin_of_other_tenant_denied if {
	inp := of_tenant(echo(bob), "globex")
	not authz.allow with input as inp
	authz.reasons == {"server belongs to another tenant"} with input as inp
}

test_platform_admin_crosses_tenants if {
	authz.allow with input as of_tenant(echo(petra), "acme")
	authz.allow with input as of_tenant(echo(petra), "globex")
}

test_shared_server_serves_every_tenant if {
	authz.allow with input as of_tenant(echo(carol), "")
	authz.allow with input as of_tenant(echo(carol), null)
	authz.allow with input as without_resource_field(echo(carol), "tenant")
}

test_user_without_tenant_denied_on_tenant_server if {
	inp := of_tenant(echo(object.remove(alice, ["tenant"])), "acme")
	not authz.allow with input as inp
	authz.reasons == {"server belongs to another tenant"} with input as inp
}

test_tenant_applies_to_prompts_and_resources if {
	not authz.allow with input as of_tenant(prompt(carol, "everything", "simple-prompt"), "acme")
	not authz.allow with input as of_tenant(resource(carol, "fs", "file:///x"), "acme")
	authz.allow with input as of_tenant(resource(alice, "fs", "file:///x"), "acme")
}

# ---------------------------------------------------------------------------------------------
# Environment: "dev-only"
# ---------------------------------------------------------------------------------------------

test_dev_only_allowed_in_dev if {
	# get-env carries "dev-only" (and "sensitive") in the shipped data.
	authz.allow with input as call(bob, "everything", "get-env", {})
}

test_dev_only_denied_outside_dev if {
	inp := in_env(call(bob, "everything", "get-env", {}), "prod")
	not authz.allow with input as inp
	authz.reasons == {"only available in the dev environment"} with input as inp
	not authz.allow with input as in_env(call(bob, "everything", "get-env", {}), "staging")
}

test_dev_only_denied_without_env if {
	inp := object.remove(call(bob, "everything", "get-env", {}), ["env"])
	not authz.allow with input as inp
	authz.reasons == {"only available in the dev environment"} with input as inp
}

test_env_does_not_restrict_unlabelled_tools if {
	authz.allow with input as in_env(echo(alice), "prod")
}

test_dev_only_from_configuration if {
	not authz.allow with input as in_env(labelled(echo(alice), ["dev-only"]), "prod")
	authz.allow with input as in_env(labelled(echo(alice), ["dev-only"]), "dev")
}

# ---------------------------------------------------------------------------------------------
# Time window: "business-hours" (shipped window: Mon-Fri 08:00-18:00 UTC)
# ---------------------------------------------------------------------------------------------

test_business_hours_inside_window if {
	authz.allow with input as at(labelled(echo(alice), ["business-hours"]), wed_14h)
	authz.allow with input as at(labelled(echo(alice), ["business-hours"]), wed_08h)
	authz.allow with input as at(labelled(echo(alice), ["business-hours"]), wed_17h59)
}

test_business_hours_before_start if {
	inp := at(labelled(echo(alice), ["business-hours"]), wed_07h59)
	not authz.allow with input as inp
	authz.reasons == {"only available during business hours"} with input as inp
}

test_business_hours_end_is_exclusive if {
	not authz.allow with input as at(labelled(echo(alice), ["business-hours"]), wed_18h)
}

test_business_hours_weekend if {
	inp := at(labelled(echo(alice), ["business-hours"]), sat_12h)
	not authz.allow with input as inp
	authz.reasons == {"only available during business hours"} with input as inp
}

test_business_hours_apply_to_admins if {
	not authz.allow with input as at(labelled(echo(bob), ["business-hours"]), sat_12h)
}

test_business_hours_without_time_denied if {
	inp := object.remove(labelled(echo(alice), ["business-hours"]), ["time"])
	not authz.allow with input as inp
	authz.reasons == {"only available during business hours"} with input as inp
}

test_business_hours_window_from_data if {
	hours := {"timezone": "UTC", "weekdays": ["Saturday"], "start_hour": 10, "end_hour": 14}
	inp := labelled(echo(alice), ["business-hours"])
	authz.allow with input as at(inp, sat_12h) with data.mcp.hours as hours
	not authz.allow with input as at(inp, wed_14h) with data.mcp.hours as hours
}

test_business_hours_timezone if {
	# 14:00 UTC is 09:00 in New York in November (UTC-5); 07:59 UTC is 02:59 there.
	hours := {
		"timezone": "America/New_York", "weekdays": ["Wednesday"],
		"start_hour": 9, "end_hour": 17,
	}
	inp := labelled(echo(alice), ["business-hours"])
	authz.allow with input as at(inp, wed_14h) with data.mcp.hours as hours
	not authz.allow with input as at(inp, wed_07h59) with data.mcp.hours as hours
}

test_business_hours_without_window_denied if {
	inp := at(labelled(echo(alice), ["business-hours"]), wed_14h)
	not authz.allow with input as inp with data.mcp.hours as {}
}

test_no_time_needed_without_label if {
	authz.allow with input as object.remove(echo(alice), ["time"])
}

# ---------------------------------------------------------------------------------------------
# Client network: "internal-network" (data.mcp.network.internal_cidrs)
# ---------------------------------------------------------------------------------------------

test_internal_network_allowed if {
	inp := labelled(echo(alice), ["internal-network"])
	authz.allow with input as from(inp, "127.0.0.1")
	authz.allow with input as from(inp, "10.20.30.40")
	authz.allow with input as from(inp, "172.20.0.5")
	authz.allow with input as from(inp, "192.168.1.10")
	authz.allow with input as from(inp, "::1")
	authz.allow with input as from(inp, "fd12:3456::1")
}

test_external_network_denied if {
	inp := from(labelled(echo(alice), ["internal-network"]), "203.0.113.7")
	not authz.allow with input as inp
	authz.reasons == {"only available from the internal network"} with input as inp
	not authz.allow with input as from(labelled(echo(alice), ["internal-network"]), "172.32.0.1")
	not authz.allow with input as from(labelled(echo(alice), ["internal-network"]), "2001:db8::1")
}

test_internal_network_applies_to_admins if {
	not authz.allow with input as from(labelled(echo(bob), ["internal-network"]), "203.0.113.7")
}

test_internal_network_without_address_denied if {
	inp := object.remove(labelled(echo(alice), ["internal-network"]), ["network"])
	not authz.allow with input as inp
	authz.reasons == {"only available from the internal network"} with input as inp
	not authz.allow with input as from(labelled(echo(alice), ["internal-network"]), "not-an-ip")
}

test_shipped_write_tools_are_internal_only if {
	inp := call(alice, "fs", "write_file", {"path": "/data/uploads/a.txt", "content": "x"})
	authz.allow with input as from(inp, "10.0.0.8")
	not authz.allow with input as from(inp, "198.51.100.1")
}

test_internal_networks_from_data if {
	nets := {"internal_cidrs": ["203.0.113.0/24"]}
	inp := labelled(echo(alice), ["internal-network"])
	authz.allow with input as from(inp, "203.0.113.7") with data.mcp.network as nets
	not authz.allow with input as from(inp, "10.0.0.1") with data.mcp.network as nets
}

# ---------------------------------------------------------------------------------------------
# Path arguments (data.mcp.path_prefixes)
# ---------------------------------------------------------------------------------------------

test_path_under_prefix_allowed if {
	authz.allow with input as read_text(alice, "/data/public/a.txt")
	authz.allow with input as read_text(alice, "/data/uploads/2026/11/b.txt")
	authz.allow with input as read_text(alice, "/data/public")
	authz.allow with input as read_text(alice, "/data/public/")
}

test_path_outside_prefix_denied if {
	inp := read_text(alice, "/etc/passwd")
	not authz.allow with input as inp
	want := {"path /etc/passwd is outside the directories allowed for your roles"}
	authz.reasons == want with input as inp
}

test_path_prefix_is_a_whole_directory if {
	not authz.allow with input as read_text(alice, "/data/publicity/a.txt")
	not authz.allow with input as read_text(alice, "/data")
}

test_path_parent_segment_denied if {
	inp := read_text(alice, "/data/public/../../etc/passwd")
	not authz.allow with input as inp
	authz.reasons == {"path /data/public/../../etc/passwd must not contain '..'"} with input as inp
	not authz.allow with input as read_text(bob, "/data/..")
}

test_relative_path_denied if {
	not authz.allow with input as read_text(alice, "data/public/a.txt")
	not authz.allow with input as read_text(alice, "~/secrets")
}

test_path_that_is_not_a_string_denied if {
	inp := call(alice, "fs", "read_text_file", {"path": 42})
	not authz.allow with input as inp
	authz.reasons == {"path 42 is outside the directories allowed for your roles"} with input as inp
}

test_move_checks_source_and_destination if {
	ok := {"source": "/data/uploads/a.txt", "destination": "/data/public/a.txt"}
	bad := {"source": "/data/uploads/a.txt", "destination": "/etc/cron.d/a"}
	authz.allow with input as call(alice, "fs", "move_file", ok)
	not authz.allow with input as call(alice, "fs", "move_file", bad)
	want := {"path /etc/cron.d/a is outside the directories allowed for your roles"}
	authz.reasons == want with input as call(alice, "fs", "move_file", bad)
}

test_read_multiple_files_checks_every_path if {
	good := {"paths": ["/data/public/a", "/data/uploads/b"]}
	authz.allow with input as call(alice, "fs", "read_multiple_files", good)
	bad := {"paths": ["/data/public/a", "/root/.ssh/id_rsa", "/etc/shadow"]}
	inp := call(alice, "fs", "read_multiple_files", bad)
	not authz.allow with input as inp
	authz.reasons == {
		"path /root/.ssh/id_rsa is outside the directories allowed for your roles",
		"path /etc/shadow is outside the directories allowed for your roles",
	} with input as inp
}

test_path_prefixes_of_every_role_count if {
	# readonly allows /data/public only; with the user role as well, /data/uploads is allowed.
	inp := read_text(rita, "/data/uploads/a.txt")
	not authz.allow with input as inp
	want := {"path /data/uploads/a.txt is outside the directories allowed for your roles"}
	authz.reasons == want with input as inp
	both := object.union(rita, {"roles": ["readonly", "user"]})
	authz.allow with input as read_text(both, "/data/uploads/a.txt")
}

test_admin_may_use_any_absolute_path if {
	authz.allow with input as read_text(bob, "/etc/hosts")
	authz.allow with input as read_text(petra, "/")
}

test_no_role_no_paths if {
	user := with_scopes(["tool:read_text_file:read", "tool:list_allowed_directories:read"])
	not authz.allow with input as read_text(user, "/data/public/a.txt")
	authz.allow with input as call(user, "fs", "list_allowed_directories", {})
}

test_path_rule_applies_to_every_tool if {
	not authz.allow with input as call(alice, "everything", "echo", {"message": "hi", "path": "/etc"})
}

test_list_decisions_carry_no_arguments if {
	authz.allow with input as list_item(alice, "fs", "read_text_file")
}

test_path_prefixes_from_data if {
	prefixes := {"user": ["/tmp/mcpgw-e2e/"]}
	p := prefixes
	authz.allow with input as read_text(alice, "/tmp/mcpgw-e2e/a.txt") with data.mcp.path_prefixes as p
	authz.allow with input as read_text(alice, "/tmp/mcpgw-e2e") with data.mcp.path_prefixes as p
	outside := read_text(alice, "/data/public/a.txt")
	not authz.allow with input as outside with data.mcp.path_prefixes as p
}

# ---------------------------------------------------------------------------------------------
# Several causes at once: each is reported
# ---------------------------------------------------------------------------------------------

test_every_cause_reported if {
	inp := from(
		in_env(
			of_tenant(
				labelled(
					call(carol, "everything", "echo", {"message": "hi", "path": "/etc/passwd"}),
					["sensitive", "dev-only", "internal-network"],
				),
				"acme",
			),
			"prod",
		),
		"203.0.113.7",
	)
	e := {"deny_all": false, "tools": [], "servers": ["everything"]}
	not authz.allow with input as inp with data.mcp.emergency as e
	authz.reasons == {
		"server disabled by emergency deny",
		"server belongs to another tenant",
		"only available in the dev environment",
		"only available from the internal network",
		"path /etc/passwd is outside the directories allowed for your roles",
		"admin role required (resource labelled sensitive)",
	} with input as inp with data.mcp.emergency as e
}
