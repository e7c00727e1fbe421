# The shipped authorization policy of the MCP gateway. docs/policy.md describes the input document,
# the decision contract and the data this policy reads (data.mcp.*, from services/opa/data/mcp/).
#
# The gateway asks for `allow` once per MCP request (and once per item when it filters a list
# response); only the boolean `true` allows. On a deny it reads `reasons` and shows them to the
# client, so `reasons` must name every cause of a deny and nothing else.
#
# Written for speed: every lookup goes from the request to the data (data.mcp.tools[<tool>],
# data.mcp.role_scopes[<role of the user>]) instead of walking the data, so the cost of a
# decision follows the request (the user's roles and scopes, the arguments), not the number of
# tools or roles in the data. `else` stops at the first grant that holds (the engine evaluates
# every definition of a rule otherwise). `reasons` is only evaluated on a deny and may be slower.
#
# Two layers:
#   - `blocked`: hard guards that apply to everyone, admins included: authentication, emergency
#     deny, tenant isolation, labels restricting environment / time / network, argument paths.
#   - a grant: the admin role, or (for everyone else) a scope for the tool / prompt / resource, a
#     role for the gateway's own APIs.
package mcp.authz

default allow := false

# Admins may do anything the hard guards leave open. The kind must still be one the gateway knows:
# a malformed input is not a reason to let anyone through.
allow if {
	is_admin
	input.resource.kind in known_kinds
	not blocked
}

# Everyone else needs a grant for what they ask for (the requirements' example rule, per kind).
allow if {
	permitted
	not blocked
}

# Both results in one document, for callers that want a single round trip (e.g. an OPA server
# queried at /v1/data/mcp/authz/decision). The gateway itself reads `allow`, then `reasons`.
decision := {"allow": allow, "reasons": reasons}

known_kinds := {"tool", "prompt", "resource", "api"}

# ---------------------------------------------------------------------------------------------
# Who is asking
# ---------------------------------------------------------------------------------------------

# The gateway verified the token; a request without a verified user never passes, whatever the
# rest of the input says.
authenticated if input.user.authenticated == true

# "platform-admin" is an admin of every tenant; "admin" is an admin of its own tenant only (tenant
# isolation below applies to it like to any other user).
is_admin if "admin" in input.user.roles

is_admin if is_platform_admin

is_platform_admin if "platform-admin" in input.user.roles

is_auditor if "auditor" in input.user.roles

# A scope is held when the token carries it, or else when one of the user's roles grants it.
# Only the user's own roles are looked up, so the cost follows the token, not the number of roles
# in the data; `else` skips them when the token has the scope.
scope_allowed(scope) if {
	scope in input.user.scopes
} else if {
	some role in input.user.roles
	scope in data.mcp.role_scopes[role]
}

# ---------------------------------------------------------------------------------------------
# Grants per kind
# ---------------------------------------------------------------------------------------------

permitted if {
	input.resource.kind == "tool"
	tool_action_allowed
	not label_requires_admin
}

permitted if {
	input.resource.kind == "prompt"
	prompt_allowed
	not label_requires_admin
}

permitted if {
	input.resource.kind == "resource"
	resource_allowed
	not label_requires_admin
}

permitted if {
	input.resource.kind == "api"
	api_allowed
}

# Tools: scope tool:<tool>:<action>, where <tool> is the name the client sees (with the
# <server>__ prefix when the gateway adds one) and <action> comes from the gateway's
# configuration or, when that has none, from data.mcp.tools.
# tool:<tool>:* grants every action of that one tool (even one whose action is not configured:
# the scope names the tool explicitly). `else` tries it only when the exact scope is missing.
tool_action_allowed if {
	scope_allowed(tool_scope)
} else if {
	scope_allowed(tool_any_scope)
}

# The scope names are documents of their own (not expressions inside the rule above) because they
# depend on the tool alone: when the gateway filters a list, the engine keeps such documents per
# catalog entry from one list to the next.
tool_scope := concat(":", ["tool", tool_name, action])

tool_any_scope := concat(":", ["tool", tool_name, "*"])

# The requirements' ABAC example: a resource labelled "sensitive" is for admins only.
label_requires_admin if "sensitive" in resource_labels

# Prompts and resources: the general mcp:read (the common case, tried first), or else the
# specific scope; directly or via a role.
prompt_allowed if {
	scope_allowed("mcp:read")
} else if {
	scope_allowed(concat(":", ["prompt", prompt_name, "get"]))
}

resource_allowed if {
	scope_allowed("mcp:read")
} else if {
	scope_allowed(concat(":", ["resource", resource_server, "read"]))
}

# The gateway's own APIs. History: any authenticated user (the API itself returns only the
# caller's own rows). Audit and analytics: admins (first allow rule) and auditors.
api_allowed if api_path_under("/api/v1/history")

api_allowed if {
	is_auditor
	audit_or_analytics_path
}

audit_or_analytics_path if api_path_under("/api/v1/audit")

audit_or_analytics_path if api_path_under("/api/v1/analytics")

# The path itself, anything below it, or it with a query string; "/api/v1/auditx" is not under
# "/api/v1/audit".
api_path_under(base) if input.path == base

api_path_under(base) if startswith(input.path, concat("", [base, "/"]))

api_path_under(base) if startswith(input.path, concat("", [base, "?"]))

# ---------------------------------------------------------------------------------------------
# Facts about the resource
# ---------------------------------------------------------------------------------------------

tool_name := input.resource.tool

# Prompts, like tools, are named as the client sees them (resource.prompt, with the gateway's
# prefix if any); an input without that field falls back to the upstream's name.
prompt_name := p if {
	p := input.resource.prompt
	is_string(p)
	p != ""
} else := n if {
	n := object.get(input.resource, "name", "")
}

resource_server := object.get(input.resource, "server", "")

# The policy data's entry of a tool: by the name the client sees first (so data can tell apart
# two servers' tools that the gateway prefixed), else by the upstream's own name (so one entry
# covers the tool whether or not the gateway prefixes it).
tool_info := info if {
	info := data.mcp.tools[tool_name]
} else := info if {
	info := data.mcp.tools[input.resource.name]
}

# The action of a tool: the gateway's configuration wins, the policy data is the fallback.
# Undefined when neither knows it: then only tool:<tool>:* or the admin role grant the tool.
action := a if {
	a := input.resource.action
	a != ""
} else := a if {
	a := tool_info.action
	a != ""
}

# Labels: the gateway's configuration wins; a tool without configured labels takes those of its
# policy data entry.
resource_labels := labels if {
	labels := input.resource.labels
	count(labels) > 0
} else := labels if {
	input.resource.kind == "tool"
	labels := tool_info.labels
} else := []

# ---------------------------------------------------------------------------------------------
# Hard guards (apply to admins too)
# ---------------------------------------------------------------------------------------------

blocked if not authenticated

blocked if emergency_all

blocked if emergency_tool

blocked if emergency_server

blocked if tenant_denied

blocked if env_denied

blocked if hours_denied

blocked if network_denied

blocked if args_denied

# Emergency deny (data.mcp.emergency, flipped at runtime by an admin). deny_all stops every MCP
# request (tools, prompts, resources) for everyone; the gateway's own read-only APIs stay
# reachable so that the incident can be investigated. Written as `not ... == "api"` so that an
# input without a kind is stopped too.
emergency_all if {
	data.mcp.emergency.deny_all == true
	not input.resource.kind == "api"
}

# Listed tools, by the name the client sees or by the upstream's own name (listing "write_file"
# stops every server's write_file).
# (The list is tested first: it is usually empty, which ends the rule at once.)
emergency_tool if {
	input.resource.tool in data.mcp.emergency.tools
	input.resource.kind == "tool"
}

emergency_tool if {
	input.resource.name in data.mcp.emergency.tools
	input.resource.kind == "tool"
}

# Listed servers: every tool, prompt and resource of the server.
emergency_server if {
	input.resource.server in data.mcp.emergency.servers
	not input.resource.kind == "api"
}

# Tenant isolation: a server that belongs to a tenant serves only that tenant's users. An admin
# of another tenant is refused too; only "platform-admin" crosses tenants. A server without a
# tenant (absent, "" or null) is shared by all. A user without a tenant claim matches no tenant.
tenant_denied if {
	t := input.resource.tenant
	t != ""
	t != null
	not t == input.user.tenant
	not is_platform_admin
}

# Resources labelled "dev-only" (debugging aids such as server-everything's get-env, which shows
# the server's environment) exist only in the dev environment.
env_denied if {
	"dev-only" in resource_labels
	not input.env == "dev"
}

# Resources labelled "business-hours" may be used only inside the window of data.mcp.hours. The
# clock is the gateway's (input.time), not the PDP's, so that a decision can be replayed from its
# logged input. No time in the input, or no window in the data: outside.
hours_denied if {
	"business-hours" in resource_labels
	not within_business_hours
}

within_business_hours if {
	hours := data.mcp.hours
	ns := input.time.now_ns
	tz := object.get(hours, "timezone", "UTC")
	time.weekday([ns, tz]) in hours.weekdays
	[hour, _, _] := time.clock([ns, tz])
	hour >= hours.start_hour
	hour < hours.end_hour
}

# Resources labelled "internal-network" may be used only from the networks of
# data.mcp.network.internal_cidrs. An address that does not parse is outside.
network_denied if {
	"internal-network" in resource_labels
	not from_internal_network
}

from_internal_network if {
	some cidr in data.mcp.network.internal_cidrs
	net.cidr_contains(cidr, input.network.ip)
}

# Argument rule: every filesystem path in the arguments must lie under a prefix that one of the
# user's roles allows (data.mcp.path_prefixes). The argument names are those of
# server-filesystem (path, source, destination, paths), checked for any tool, since a path
# argument means the same wherever it appears. List decisions carry no arguments.
path_arg_keys := {"path", "source", "destination"}

arg_paths contains p if {
	some key in path_arg_keys
	p := input.args[key]
}

arg_paths contains p if some p in input.args.paths

args_denied if {
	some p in arg_paths
	not path_allowed(p)
}

# "/data/public" allows "/data/public" and "/data/public/x", not "/data/publicity"; a ".."
# segment would walk out of the prefix, so it is refused outright. A non-string is refused too.
path_allowed(p) if {
	is_string(p)
	not has_parent_segment(p)
	some role in input.user.roles
	some prefix in data.mcp.path_prefixes[role]
	under_prefix(p, prefix)
}

has_parent_segment(p) if ".." in split(p, "/")

under_prefix(p, prefix) if p == trim_suffix(prefix, "/")

under_prefix(p, prefix) if startswith(p, concat("", [trim_suffix(prefix, "/"), "/"]))

# ---------------------------------------------------------------------------------------------
# Reasons (read by the gateway on a deny; one entry per cause, no policy internals)
# ---------------------------------------------------------------------------------------------

reasons contains "authentication required" if not authenticated

reasons contains "unknown resource kind" if not input.resource.kind in known_kinds

reasons contains "all MCP traffic disabled by emergency deny" if emergency_all

reasons contains "tool disabled by emergency deny" if emergency_tool

reasons contains "server disabled by emergency deny" if emergency_server

reasons contains "server belongs to another tenant" if tenant_denied

reasons contains "only available in the dev environment" if env_denied

reasons contains "only available during business hours" if hours_denied

reasons contains "only available from the internal network" if network_denied

reasons contains msg if {
	some p in arg_paths
	not path_allowed(p)
	msg := path_reason(p)
}

reasons contains msg if {
	input.resource.kind == "tool"
	not is_admin
	not tool_action_allowed
	msg := tool_scope_reason
}

reasons contains "admin role required (resource labelled sensitive)" if {
	input.resource.kind in {"tool", "prompt", "resource"}
	label_requires_admin
	not is_admin
}

reasons contains msg if {
	input.resource.kind == "prompt"
	not is_admin
	not prompt_allowed
	msg := concat("", ["scope prompt:", prompt_name, ":get or mcp:read required"])
}

reasons contains msg if {
	input.resource.kind == "resource"
	not is_admin
	not resource_allowed
	msg := concat("", ["scope resource:", resource_server, ":read or mcp:read required"])
}

reasons contains "admin or auditor role required" if {
	input.resource.kind == "api"
	not is_admin
	audit_or_analytics_path
	not is_auditor
}

reasons contains "admin role required" if {
	input.resource.kind == "api"
	not is_admin
	not api_allowed
	not audit_or_analytics_path
}

tool_scope_reason := msg if {
	msg := concat("", ["scope tool:", tool_name, ":", action, " required"])
} else := msg if {
	msg := concat("", [
		"tool ", tool_name, " has no action configured (scope tool:", tool_name, ":* required)",
	])
} else := "tool name missing"

path_reason(p) := msg if {
	is_string(p)
	has_parent_segment(p)
	msg := concat("", ["path ", p, " must not contain '..'"])
} else := msg if {
	msg := sprintf("path %v is outside the directories allowed for your roles", [p])
}
