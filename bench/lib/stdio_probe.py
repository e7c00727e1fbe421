# Drives bench/lib/echo_server.py directly over stdio, one request at a time, and prints latency
# percentiles in microseconds as JSON: the floor for bench/overhead.sh.
import json, subprocess, sys, time

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 8.0
p = subprocess.Popen([sys.executable, sys.argv[2]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)

def call(i, method, params):
    p.stdin.write(json.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": params}) + "\n")
    p.stdin.flush()
    return json.loads(p.stdout.readline())

call(0, "initialize", {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}})
lat = []
i = 1
end = time.perf_counter() + seconds
while time.perf_counter() < end:
    t = time.perf_counter()
    r = call(i, "tools/call", {"name": "echo", "arguments": {"message": "mcpgw bench"}})
    lat.append((time.perf_counter() - t) * 1e6)
    assert r["id"] == i and "Echo: mcpgw bench" in r["result"]["content"][0]["text"]
    i += 1
p.stdin.close()
p.wait()
lat.sort()
n = len(lat)
print(json.dumps({"n": n, "p50_us": lat[n // 2], "p99_us": lat[int(n * 0.99)]}))
