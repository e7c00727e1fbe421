#!/usr/bin/env node
// Checks a Compose file the way `docker compose up` would need it, without a Docker engine:
//
//  1. `docker-compose config` (Debian's docker-compose 1.29, which validates against the Compose
//     schema and refuses unknown keys, so v2-only keys fail here) must accept the file with the
//     given env file; the resolved configuration it prints is what the rest checks;
//  2. every referenced file exists (bind-mount sources, build context and Dockerfile, env files,
//     file secrets), every network / secret / named volume / service it names is declared;
//  3. the stack converges: every service outside a profile has a health check, depends_on with
//     service_healthy points at a service that has one, nothing outside a profile depends on a
//     profiled service, images are pinned (no :latest outside profiles);
//  4. the project's own rules: OPA is the official image with read-only policy/data mounts; the
//     gateway talks to it (GATEWAY_POLICY_MODE=opa, OPA_URL, OPA_DECISION_PATH) and to PostgreSQL
//     (HISTORY_DB_DSN); db is postgres:15 with services/storage/init.sql; the env file names the
//     requirements' variables;
//  5. when an mcpgw binary is given (MCPGW=...), every service running the mcpgw image has its
//     configuration checked by the binary itself (`serve --check`, `auth-server --check`) with
//     the service's environment and its mounts mapped back to the repository.
//
//   node tests/deploy/compose-check.mjs compose/docker-compose.yml compose/.env.example
//   node tests/deploy/compose-check.mjs --fixtures DIR    (DIR/<case>/docker-compose.yml must be
//                                                          rejected with its "# expect:" message)
import { readFileSync, existsSync, statSync, readdirSync, mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join, dirname, resolve, relative } from "node:path";
import { spawnSync } from "node:child_process";
import { parse as parseYaml } from "yaml";

const here = dirname(new URL(import.meta.url).pathname);
const repo = resolve(here, "..", "..");
const COMPOSE = process.env.DOCKER_COMPOSE ?? "docker-compose";

const PRD_ENV = [
  "COMPOSE_PROJECT_NAME", "ENV", "TZ", "GATEWAY_PORT", "GATEWAY_LOG_LEVEL", "GATEWAY_ALLOWED_ORIGINS", "OAUTH_ISSUER",
  "OAUTH_AUDIENCE", "OAUTH_JWKS_URI", "OAUTH_REQUIRED_SCOPES", "RBAC_DEFAULT_ROLE", "RBAC_ADMIN_GROUP", "RATE_LIMIT_RPS",
  "HISTORY_DB_DSN", "OPA_URL", "OPA_LOG_LEVEL", "OPA_BUNDLE_URL", "OPA_DECISION_PATH", "AUTH_ISSUER_URL", "AUTH_CLIENT_ID",
  "AUTH_CLIENT_SECRET", "AUTH_REDIRECT_URI", "AUTH_JWT_SIGNING_ALG", "AUTH_JWKS_PATH", "POSTGRES_DB", "POSTGRES_USER",
  "POSTGRES_PASSWORD", "POSTGRES_HOST", "POSTGRES_PORT", "OTEL_EXPORTER_OTLP_ENDPOINT", "LOG_FORMAT",
];
// Host paths a stack may mount that are not part of the repository.
const HOST_PATHS = new Set(["/var/run/docker.sock"]);

// docker-compose 1.29 prints mounts in the short syntax, v2 in the long one: one shape for both.
function mounts(svc) {
  return (svc.volumes ?? []).map((v) => {
    if (typeof v !== "string") return { ...v, read_only: v.read_only === true };
    const [source, target, mode = ""] = v.split(":");
    const bind = /^[./~]/.test(source);
    return { type: bind ? "bind" : "volume", source, target, read_only: mode.split(",").includes("ro") };
  });
}

function check(file, envFile) {
  const problems = [];
  const dir = dirname(resolve(file));
  const args = ["-f", file];
  if (envFile) args.unshift("--env-file", envFile);
  const run = spawnSync(COMPOSE, [...args, "config"], { encoding: "utf8", env: { ...process.env, COMPOSE_PROFILES: "" } });
  if (run.error) return [`${COMPOSE} cannot run: ${run.error.message}`];
  if (run.status !== 0) return [`${COMPOSE} config refuses ${file}: ${(run.stderr || run.stdout).trim().split("\n").slice(-3).join(" ")}`];
  const cfg = parseYaml(run.stdout);
  const services = cfg.services ?? {};
  const declared = (section) => new Set(Object.keys(cfg[section] ?? {}));
  const networks = declared("networks");
  const volumes = declared("volumes");
  const secrets = declared("secrets");
  const rel = (p) => relative(process.cwd(), p);

  // Top-level file secrets / configs exist.
  for (const section of ["secrets", "configs"]) {
    for (const [n, s] of Object.entries(cfg[section] ?? {})) {
      if (s?.file && !existsSync(resolve(dir, s.file))) problems.push(`${section}.${n}: file ${rel(resolve(dir, s.file))} does not exist`);
    }
  }
  for (const [name, svc] of Object.entries(services)) {
    const where = `service ${name}`;
    // Build.
    if (svc.build) {
      const ctx = resolve(dir, typeof svc.build === "string" ? svc.build : svc.build.context ?? ".");
      if (!existsSync(ctx)) problems.push(`${where}: build context ${rel(ctx)} does not exist`);
      const df = resolve(ctx, svc.build.dockerfile ?? "Dockerfile");
      if (!existsSync(df)) problems.push(`${where}: Dockerfile ${rel(df)} does not exist`);
    }
    // Mounts.
    for (const m of mounts(svc)) {
      if (m.type === "bind") {
        const src = resolve(dir, m.source);
        if (HOST_PATHS.has(m.source)) continue;
        if (!existsSync(src)) problems.push(`${where}: mounted file ${rel(src)} does not exist`);
      } else if (m.type === "volume" && m.source && !volumes.has(m.source)) {
        problems.push(`${where}: volume ${m.source} is not declared`);
      }
    }
    for (const e of [].concat(svc.env_file ?? [])) {
      const p = resolve(dir, typeof e === "string" ? e : e.path);
      if (!existsSync(p)) problems.push(`${where}: env_file ${rel(p)} does not exist`);
    }
    for (const s of svc.secrets ?? []) {
      const n = typeof s === "string" ? s : s.source;
      if (!secrets.has(n)) problems.push(`${where}: secret ${n} is not declared`);
    }
    const nets = Array.isArray(svc.networks) ? svc.networks : Object.keys(svc.networks ?? {});
    for (const n of nets) if (!networks.has(n) && n !== "default") problems.push(`${where}: network ${n} is not declared`);
    if (svc.network_mode?.startsWith("service:")) {
      const target = svc.network_mode.slice(8);
      if (!services[target]) problems.push(`${where}: network_mode names unknown service ${target}`);
    }
    // Convergence.
    const profiled = (svc.profiles ?? []).length > 0;
    if (!profiled && !svc.healthcheck) problems.push(`${where}: no healthcheck (every service of the default stack needs one)`);
    if (svc.healthcheck?.disable) problems.push(`${where}: healthcheck disabled`);
    const deps = Array.isArray(svc.depends_on) ? Object.fromEntries(svc.depends_on.map((d) => [d, {}])) : svc.depends_on ?? {};
    for (const [d, cond] of Object.entries(deps)) {
      const t = services[d];
      if (!t) {
        problems.push(`${where}: depends_on unknown service ${d}`);
        continue;
      }
      if (cond.condition === "service_healthy" && !t.healthcheck) problems.push(`${where}: depends_on ${d} (service_healthy) but ${d} has no healthcheck`);
      if (!profiled && (t.profiles ?? []).length) problems.push(`${where}: depends_on ${d}, which only runs with profile ${t.profiles.join(",")}`);
    }
    if (svc.image && !profiled) {
      const tag = svc.image.includes("@") ? "digest" : svc.image.split("/").pop().split(":")[1];
      if (!tag || tag === "latest") problems.push(`${where}: image ${svc.image} is not pinned to a version`);
    }
  }

  // The project's own rules.
  const opa = services.opa;
  if (!opa) problems.push("no opa service");
  else if (opa.image) {
    if (!/^openpolicyagent\/opa:\d+\.\d+\.\d+/.test(opa.image ?? "")) problems.push(`service opa: image ${opa.image} is not a pinned official openpolicyagent/opa`);
    const binds = mounts(opa).filter((m) => m.type === "bind");
    for (const want of ["services/opa/policies", "services/opa/data"]) {
      const m = binds.find((x) => resolve(dir, x.source) === join(repo, want));
      if (!m) problems.push(`service opa: ${want} is not mounted`);
      else if (!m.read_only) problems.push(`service opa: ${want} is not mounted read-only`);
    }
  }
  const gw = services["mcp-gateway"];
  if (!gw) problems.push("no mcp-gateway service");
  else {
    const env = gw.environment ?? {};
    const want = { GATEWAY_POLICY_MODE: "opa", OPA_URL: "http://opa:8181", OPA_DECISION_PATH: "/mcp/authz/allow" };
    for (const [k, v] of Object.entries(want)) if (env[k] !== v) problems.push(`service mcp-gateway: ${k} must be ${v} (is ${env[k] ?? "unset"})`);
    if (!/^postgres(ql)?:\/\//.test(env.HISTORY_DB_DSN ?? "")) problems.push(`service mcp-gateway: HISTORY_DB_DSN must be a postgresql:// DSN`);
    for (const k of ["OAUTH_ISSUER", "OAUTH_AUDIENCE"]) if (!env[k]) problems.push(`service mcp-gateway: ${k} is not set`);
  }
  const db = services.db;
  if (!db) problems.push("no db service");
  else {
    if (!/^postgres:15(\.|$|-)/.test(db.image ?? "")) problems.push(`service db: image must be postgres:15 (is ${db.image})`);
    const init = mounts(db).find((m) => m.type === "bind" && resolve(dir, m.source) === join(repo, "services/storage/init.sql"));
    if (!init) problems.push("service db: services/storage/init.sql is not mounted into /docker-entrypoint-initdb.d");
  }
  if (envFile) {
    const names = new Set(readFileSync(envFile, "utf8").split("\n").map((l) => l.match(/^([A-Z_][A-Z0-9_]*)=/)?.[1]).filter(Boolean));
    for (const n of PRD_ENV) if (!names.has(n)) problems.push(`${envFile}: variable ${n} of the requirements is missing`);
  }
  if (process.env.MCPGW) problems.push(...mcpgwChecks(cfg, dir));
  return problems;
}

// Runs the binary's own --check on the configuration each mcpgw service would start with.
function mcpgwChecks(cfg, dir) {
  const problems = [];
  const tmp = mkdtempSync(join(repo, "tests", ".tmp", "compose-"));
  try {
    for (const [name, svc] of Object.entries(cfg.services ?? {})) {
      const image = svc.image ?? "";
      if (!image.startsWith("mcpgw") && !svc.build) continue;
      const cmd = [].concat(svc.command ?? []);
      if (!cmd.length) continue;
      // Mounts, longest container path first, mapped back to the host (named volumes to tmp).
      const maps = mounts(svc)
        .map((m) => [m.target, m.type === "bind" ? resolve(dir, m.source) : join(tmp, `${name}-${m.source}`)])
        .sort((a, b) => b[0].length - a[0].length);
      const mapPath = (p) => {
        for (const [t, h] of maps) if (p === t || p.startsWith(`${t}/`)) return h + p.slice(t.length);
        return p;
      };
      for (const [, h] of maps) if (h.startsWith(tmp)) mkdirSync(h, { recursive: true });
      const args = cmd.map((a, i) => (cmd[i - 1] === "--config" ? mapPath(a) : a));
      const ci = args.indexOf("--config");
      if (ci >= 0) {
        let text = readFileSync(args[ci + 1], "utf8");
        for (const [t, h] of maps) text = text.split(t).join(h);
        const copy = join(tmp, `${name}.yaml`);
        writeFileSync(copy, text);
        args[ci + 1] = copy;
      }
      const sub = args[0] === "auth-server" ? ["auth-server", ...args.slice(1), "--check"] : [...args, "--check"];
      const env = { PATH: process.env.PATH, ...Object.fromEntries(Object.entries(svc.environment ?? {}).map(([k, v]) => [k, String(v ?? "")])) };
      const r = spawnSync(process.env.MCPGW, sub, { encoding: "utf8", env, cwd: tmp });
      if (r.status !== 0) problems.push(`service ${name}: mcpgw ${sub.join(" ")} refuses its configuration: ${(r.stderr || r.stdout).trim().split("\n").pop()}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return problems;
}

const args = process.argv.slice(2);
mkdirSync(join(repo, "tests", ".tmp"), { recursive: true });
if (args[0] === "--fixtures") {
  let failed = 0;
  for (const c of readdirSync(args[1]).sort()) {
    const f = join(args[1], c, "docker-compose.yml");
    if (!existsSync(f)) continue;
    const text = readFileSync(f, "utf8");
    const expect = (text.match(/^# expect: (.*)$/m) ?? [])[1];
    if (/^# needs: mcpgw/m.test(text) && !process.env.MCPGW) {
      console.log(`  skipped   compose/${c}: needs the mcpgw binary (MCPGW unset: no build)`);
      continue;
    }
    const env = existsSync(join(args[1], c, "env")) ? join(args[1], c, "env") : undefined;
    const problems = check(f, env);
    const hit = expect && problems.find((p) => p.includes(expect));
    if (hit) console.log(`  rejected  compose/${c}: ${hit}`);
    else {
      failed++;
      console.log(`  ACCEPTED  compose/${c}: expected "${expect}", got: ${problems.join(" | ") || "no problem"}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
if (args.length < 1) {
  console.error("usage: compose-check.mjs COMPOSE_FILE [ENV_FILE] | --fixtures DIR");
  process.exit(2);
}
const problems = check(args[0], args[1]);
if (problems.length) {
  for (const p of problems) console.log(`${args[0]}: ${p}`);
  process.exit(1);
}
console.log(`compose-check: ${args[0]} accepted by ${COMPOSE} config; files, networks, volumes, secrets, health checks and dependencies consistent${process.env.MCPGW ? "; mcpgw accepts every service's configuration" : ""}`);
