# A minimal stdio MCP server (initialize, tools/list, tools/call echo) with no runtime of its own to
# speak of: used by bench/overhead.sh to measure what the gateway adds, free of a Node upstream's GC.
import sys, json
for line in sys.stdin:
    m = json.loads(line)
    if "id" not in m or "method" not in m: continue
    meth = m["method"]
    if meth == "initialize":
        r = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}}, "serverInfo": {"name": "py", "version": "1"}}
    elif meth == "tools/list":
        r = {"tools": [{"name": "echo", "inputSchema": {"type": "object"}}]}
    elif meth == "tools/call":
        r = {"content": [{"type": "text", "text": "Echo: " + m["params"]["arguments"]["message"]}]}
    else:
        r = {}
    sys.stdout.write(json.dumps({"jsonrpc": "2.0", "id": m["id"], "result": r}) + "\n"); sys.stdout.flush()
