#!/usr/bin/env node
// Static checks of a Terraform tree without terraform init (no provider download, no network):
// every .tf file is parsed with @cdktf/hcl2json (HashiCorp's HCL parser compiled to WebAssembly),
// resource and data arguments are checked against the Google provider's own schema, shipped in
// @cdktf/provider-google's .jsii assembly (generated from `terraform providers schema` of
// hashicorp/google 6.50.0), and the project's security rules are enforced.
//
//   node tests/deploy/terraform-check.mjs infra/terraform [more roots...]
//
// Exit 0 when clean, 1 with one line per problem (file: what), 2 on a usage/load error.
import { readFileSync, readdirSync, statSync, existsSync } from "node:fs";
import { join, relative, resolve, dirname, basename } from "node:path";
import { createRequire } from "node:module";
import { parse } from "@cdktf/hcl2json";

const require = createRequire(import.meta.url);
const args = process.argv.slice(2);
const fixtureMode = args[0] === "--fixtures";
const roots = fixtureMode ? args.slice(1) : args;
if (roots.length === 0) {
  console.error("usage: terraform-check.mjs DIR...  |  terraform-check.mjs --fixtures DIR");
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// The Google provider schema, from the jsii assembly of @cdktf/provider-google.
// Each resource class's docs link to the registry page of its Terraform type; each struct
// property's docs link to the Terraform attribute or block it stands for.
const META = new Set(["count", "for_each", "depends_on", "lifecycle", "provider", "provisioner", "connection"]);
const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

function loadSchema() {
  const pkgDir = dirname(require.resolve("@cdktf/provider-google/package.json"));
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const providerVersion = pkg.cdktf?.provider?.version;
  const types = JSON.parse(readFileSync(join(pkgDir, ".jsii"), "utf8")).types;
  const structCache = new Map();
  const tfName = (prop) => {
    const text = `${prop.docs?.summary ?? ""} ${prop.docs?.remarks ?? ""}`;
    const m = text.match(/\{@link https:\/\/registry\.terraform\.io\/[^ }]*#([a-z0-9_]+) /);
    return m ? m[1] : snake(prop.name);
  };
  const structFqn = (type) => {
    if (!type) return null;
    if (type.fqn && types[type.fqn]?.datatype) return { fqn: type.fqn, list: false };
    if (type.collection?.kind === "array") {
      const inner = structFqn(type.collection.elementtype);
      return inner ? { fqn: inner.fqn, list: true } : null;
    }
    if (type.union) {
      for (const t of type.union.types) {
        const inner = structFqn(t);
        if (inner) return inner;
      }
    }
    return null;
  };
  const struct = (fqn) => {
    if (structCache.has(fqn)) return structCache.get(fqn);
    const out = { attrs: new Map(), blocks: new Map() };
    structCache.set(fqn, out);
    for (const prop of types[fqn]?.properties ?? []) {
      const name = tfName(prop);
      const nested = structFqn(prop.type);
      if (nested) out.blocks.set(name, { required: !prop.optional, list: nested.list, fqn: nested.fqn });
      else out.attrs.set(name, { required: !prop.optional });
    }
    return out;
  };
  const resources = new Map();
  const data = new Map();
  const re = /Represents a \{@link https:\/\/registry\.terraform\.io\/providers\/hashicorp\/google\/[^/]+\/docs\/(resources|data-sources)\/\S+ (google_[a-z0-9_]+)\}/;
  for (const [fqn, t] of Object.entries(types)) {
    if (t.kind !== "class") continue;
    const m = (t.docs?.summary ?? "").match(re);
    if (!m) continue;
    const cfg = `${fqn}Config`;
    if (!types[cfg]) continue;
    // Attribute names as references see them, compared without underscores and case
    // (cdktf spells md5hash as md5Hash).
    const computed = new Set(["id"]);
    for (const p of t.properties ?? []) {
      if (!p.static && !p.name.endsWith("Input")) computed.add(p.name.toLowerCase());
    }
    const entry = { config: cfg, computed, struct: () => struct(cfg) };
    (m[1] === "resources" ? resources : data).set(m[2], entry);
  }
  return { providerVersion, resources, data, struct };
}

// ---------------------------------------------------------------------------------------------
// Parsing: one merged document per directory.
function tfDirs(root) {
  const out = [];
  const walk = (d) => {
    const entries = readdirSync(d, { withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name.endsWith(".tf"))) out.push(d);
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith(".")) walk(join(d, e.name));
    }
  };
  walk(root);
  return out;
}

async function loadDir(dir) {
  const mod = { dir, files: [], variables: {}, outputs: {}, locals: {}, modules: {}, resources: {}, data: {}, terraform: [], providers: {} };
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".tf")).sort()) {
    const file = join(dir, f);
    let doc;
    try {
      doc = await parse(file, readFileSync(file, "utf8"));
    } catch (e) {
      mod.parseError = `${file}: does not parse: ${String(e.message ?? e).split("\n")[0]}`;
      return mod;
    }
    mod.files.push(file);
    const tag = (obj) => Object.defineProperty(obj, "__file", { value: file, enumerable: false });
    for (const [k, v] of Object.entries(doc.variable ?? {})) mod.variables[k] = tag(v[0] ?? {});
    for (const [k, v] of Object.entries(doc.output ?? {})) mod.outputs[k] = tag(v[0] ?? {});
    for (const block of doc.locals ?? []) for (const k of Object.keys(block)) mod.locals[k] = file;
    for (const [k, v] of Object.entries(doc.module ?? {})) mod.modules[k] = tag(v[0] ?? {});
    for (const [type, byName] of Object.entries(doc.resource ?? {}))
      for (const [name, v] of Object.entries(byName)) mod.resources[`${type}.${name}`] = tag(v[0] ?? {});
    for (const [type, byName] of Object.entries(doc.data ?? {}))
      for (const [name, v] of Object.entries(byName)) mod.data[`${type}.${name}`] = tag(v[0] ?? {});
    for (const t of doc.terraform ?? []) mod.terraform.push(tag(t));
    for (const [k, v] of Object.entries(doc.provider ?? {})) mod.providers[k] = tag(v[0] ?? {});
  }
  return mod;
}

// ---------------------------------------------------------------------------------------------
// Expressions: hcl2json keeps every expression as a "${...}" string; references are read from
// the interpolations only (literal text is never taken for a reference).
function interpolations(s) {
  const out = [];
  let i = 0;
  while ((i = s.indexOf("${", i)) !== -1) {
    let depth = 0;
    let j = i + 1;
    let inStr = false;
    for (; j < s.length; j++) {
      const c = s[j];
      if (inStr) {
        if (c === "\\") j++;
        else if (c === '"') inStr = false;
        continue;
      }
      if (c === '"') inStr = true;
      else if (c === "{") depth++;
      else if (c === "}" && --depth === 0) break;
    }
    out.push(s.slice(i + 2, j).replace(/"(?:[^"\\]|\\.)*"/g, '""'));
    i = j + 1;
  }
  return out;
}

function* strings(value) {
  if (typeof value === "string") yield value;
  else if (Array.isArray(value)) for (const v of value) yield* strings(v);
  else if (value && typeof value === "object") for (const v of Object.values(value)) yield* strings(v);
}

function references(value) {
  const refs = [];
  for (const s of strings(value)) for (const expr of interpolations(s)) {
    const ident = /(?<![\w.])([A-Za-z_][\w-]*)((?:\.[A-Za-z_*][\w-]*|\[[^\]]*\])*)/g;
    let m;
    while ((m = ident.exec(expr)) !== null) {
      const parts = [m[1]];
      const rest = m[2];
      const seg = /\.([A-Za-z_*][\w-]*)|\[([^\]]*)\]/g;
      let p;
      while ((p = seg.exec(rest)) !== null) parts.push(p[1] !== undefined ? p[1] : `[${p[2]}]`);
      refs.push({ parts, text: m[0] });
    }
  }
  return refs;
}

// ---------------------------------------------------------------------------------------------
let problems = [];
const problem = (file, msg) => problems.push(`${relative(process.cwd(), file)}: ${msg}`);

function checkBody(schema, body, where, file, path) {
  for (const [key, value] of Object.entries(body)) {
    if (META.has(key)) continue;
    if (key === "dynamic") {
      for (const [blockName, defs] of Object.entries(value)) {
        const b = schema.blocks.get(blockName);
        if (!b) {
          problem(file, `${where}: dynamic block "${blockName}" is not a block of ${path}`);
          continue;
        }
        for (const d of defs) {
          if (d.for_each === undefined) problem(file, `${where}: dynamic "${blockName}" has no for_each`);
          for (const c of d.content ?? []) checkBody(schemaOf(b), c, where, file, `${path}.${blockName}`);
        }
      }
      continue;
    }
    if (schema.attrs.has(key)) continue;
    const b = schema.blocks.get(key);
    if (!b) {
      problem(file, `${where}: unknown argument "${key}" for ${path} (not in the google provider ${SCHEMA.providerVersion} schema)`);
      continue;
    }
    const items = Array.isArray(value) ? value : [value];
    if (!b.list && items.length > 1) problem(file, `${where}: block "${key}" of ${path} may appear once`);
    for (const item of items) {
      if (item && typeof item === "object" && !Array.isArray(item)) checkBody(schemaOf(b), item, where, file, `${path}.${key}`);
    }
  }
  for (const [name, a] of schema.attrs) {
    if (a.required && body[name] === undefined) problem(file, `${where}: required argument "${name}" of ${path} is missing`);
  }
  for (const [name, b] of schema.blocks) {
    if (b.required && body[name] === undefined && !(body.dynamic && body.dynamic[name]))
      problem(file, `${where}: required block "${name}" of ${path} is missing`);
  }
}
const schemaOf = (b) => SCHEMA.struct(b.fqn);

function get(body, ...path) {
  let cur = body;
  for (const p of path) {
    if (cur === undefined || cur === null) return undefined;
    if (Array.isArray(cur)) cur = cur[0];
    cur = cur?.[p];
  }
  return Array.isArray(cur) && cur.length === 1 && typeof cur[0] === "object" ? cur[0] : cur;
}

function securityRules(mod) {
  for (const [addr, body] of Object.entries(mod.resources)) {
    const file = body.__file;
    const type = addr.split(".")[0];
    for (const s of strings(body)) {
      const role = s.match(/roles\/(owner|editor|viewer)\b/);
      if (role) problem(file, `${addr}: primitive role roles/${role[1]} is not allowed (use a predefined least-privilege role)`);
      if (/\ballUsers\b|\ballAuthenticatedUsers\b/.test(s)) problem(file, `${addr}: public member (allUsers/allAuthenticatedUsers) is not allowed`);
    }
    if (/^google_(storage_bucket_acl|storage_default_object_acl|storage_object_acl)$/.test(type))
      problem(file, `${addr}: ACL resources are not allowed (uniform bucket-level access only)`);
    if (type === "google_sql_database_instance") {
      const ip = get(body, "settings", "ip_configuration");
      if (!ip) problem(file, `${addr}: settings.ip_configuration is required (private IP, TLS)`);
      else {
        if (ip.ipv4_enabled !== false) problem(file, `${addr}: settings.ip_configuration.ipv4_enabled must be false (no public IP)`);
        if (!ip.private_network) problem(file, `${addr}: settings.ip_configuration.private_network must be set (private service access)`);
        if (!["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"].includes(ip.ssl_mode))
          problem(file, `${addr}: settings.ip_configuration.ssl_mode must be ENCRYPTED_ONLY or TRUSTED_CLIENT_CERTIFICATE_REQUIRED (TLS only)`);
        if (ip.authorized_networks !== undefined) problem(file, `${addr}: authorized_networks opens the instance to public networks`);
      }
      const backup = get(body, "settings", "backup_configuration");
      if (!backup || backup.enabled !== true) problem(file, `${addr}: settings.backup_configuration.enabled must be true`);
      if (!String(body.database_version ?? "").startsWith("POSTGRES_15")) problem(file, `${addr}: database_version must be POSTGRES_15`);
    }
    if (type === "google_storage_bucket") {
      if (body.uniform_bucket_level_access !== true) problem(file, `${addr}: uniform_bucket_level_access must be true`);
      if (body.public_access_prevention !== "enforced") problem(file, `${addr}: public_access_prevention must be "enforced"`);
    }
    if (type === "google_service_account_key") problem(file, `${addr}: service account keys are not allowed (workload identity only)`);
    if (type === "google_compute_firewall" && /0\.0\.0\.0\/0/.test(JSON.stringify(body.source_ranges ?? "")))
      problem(file, `${addr}: firewall open to 0.0.0.0/0`);
  }
}

const PRD_TF_VARS = ["project_id", "region", "env", "network_cidr", "subnet_cidrs", "sql_instance_tier", "workload_identity_pool", "opa_policy_bucket", "artifact_registry_repo"];

function checkModule(mod, all) {
  const file0 = mod.files[0] ?? mod.dir;
  const isEnv = basename(dirname(mod.dir)) === "envs";

  // Providers pinned: google (and any other provider whose resources are used) is declared with
  // its source and a version constraint that cannot float to a new major version.
  const required = {};
  let requiredVersion = false;
  for (const t of mod.terraform) {
    if (t.required_version) requiredVersion = true;
    for (const rp of t.required_providers ?? []) Object.assign(required, rp);
  }
  if (!requiredVersion) problem(file0, `terraform.required_version is not set`);
  const used = new Set(Object.keys(mod.resources).concat(Object.keys(mod.data)).map((a) => a.split("_")[0]));
  for (const name of new Set([...used, ...Object.keys(mod.providers)])) {
    const req = required[name];
    if (!req) {
      problem(file0, `provider "${name}" is used but not in required_providers`);
      continue;
    }
    const version = typeof req === "object" ? req.version : req;
    if (!version || !/^\s*(~>\s*\d+\.\d+|=?\s*\d+\.\d+\.\d+)/.test(version) || /[<>]=?\s*\d/.test(version.replace(/~>/, "")))
      problem(file0, `provider "${name}" version "${version ?? ""}" is not pinned (use "~> X.Y")`);
  }
  for (const [name, req] of Object.entries(required)) {
    if (name.startsWith("google") && (req.version ?? "").replace(/\s/g, "") !== "~>6.50")
      problem(file0, `provider "${name}" must be pinned "~> 6.50" (got "${req.version ?? ""}")`);
    if (typeof req === "object" && !req.source) problem(file0, `provider "${name}" has no source`);
  }

  // Variables: typed; env directories declare the requirements' TF_VAR_* names.
  for (const [name, v] of Object.entries(mod.variables)) {
    if (v.type === undefined) problem(v.__file, `variable "${name}" has no type`);
  }
  if (isEnv) {
    for (const name of PRD_TF_VARS)
      if (!mod.variables[name]) problem(file0, `environment does not declare variable "${name}" (TF_VAR_${name} of the requirements)`);
    for (const f of ["main.tf", "variables.tf", "outputs.tf", "providers.tf", "backend.tf"])
      if (!existsSync(join(mod.dir, f))) problem(join(mod.dir, f), `missing (every environment has main, variables, outputs, providers, backend)`);
    const backend = mod.terraform.find((t) => t.backend);
    if (!backend || !backend.backend.gcs) problem(file0, `environment has no GCS backend`);
  }

  // Module calls.
  for (const [name, call] of Object.entries(mod.modules)) {
    const file = call.__file;
    const src = call.source;
    if (typeof src !== "string") {
      problem(file, `module "${name}" has no source`);
      continue;
    }
    if (!src.startsWith("./") && !src.startsWith("../")) {
      if (!call.version) problem(file, `module "${name}": registry/remote source "${src}" without a pinned version`);
      continue;
    }
    const target = resolve(mod.dir, src);
    const tmod = all.get(target);
    if (!existsSync(target) || !tmod) {
      problem(file, `module "${name}": source ${src} does not exist (or has no .tf files)`);
      continue;
    }
    for (const arg of Object.keys(call)) {
      if (["source", "version", "providers", ...META].includes(arg)) continue;
      if (!tmod.variables[arg]) problem(file, `module "${name}": argument "${arg}" is not a variable of ${relative(process.cwd(), target)}`);
    }
    for (const [vname, v] of Object.entries(tmod.variables)) {
      if (v.default === undefined && call[vname] === undefined)
        problem(file, `module "${name}": required variable "${vname}" of ${relative(process.cwd(), target)} is not passed`);
    }
  }

  // References.
  const blocks = [];
  for (const [addr, body] of Object.entries(mod.resources)) blocks.push({ kind: "resource", addr, body });
  for (const [addr, body] of Object.entries(mod.data)) blocks.push({ kind: "data", addr, body });
  for (const [addr, body] of Object.entries(mod.modules)) blocks.push({ kind: "module", addr: `module.${addr}`, body });
  for (const [addr, body] of Object.entries(mod.outputs)) blocks.push({ kind: "output", addr: `output.${addr}`, body });
  for (const [addr, body] of Object.entries(mod.variables)) blocks.push({ kind: "variable", addr: `variable.${addr}`, body: { validation: body.validation } });
  const checkRefs = (kind, addr, body, file) => {
    for (const r of references(body)) {
      const [head, a, b] = r.parts;
      if (head === "var") {
        if (!mod.variables[a]) problem(file, `${addr}: reference to undeclared variable var.${a}`);
      } else if (head === "local") {
        if (!(a in mod.locals)) problem(file, `${addr}: reference to undeclared local.${a}`);
      } else if (head === "module") {
        const call = mod.modules[a];
        if (!call) {
          problem(file, `${addr}: reference to undeclared module.${a}`);
          continue;
        }
        const out = r.parts.slice(2).find((p) => !p.startsWith("["));
        const tmod = typeof call.source === "string" ? all.get(resolve(mod.dir, call.source)) : null;
        if (out && tmod && !tmod.outputs[out]) problem(file, `${addr}: module.${a} has no output "${out}"`);
        if (call.count === undefined && call.for_each === undefined && r.parts[2]?.startsWith("["))
          problem(file, `${addr}: module.${a} is not a counted module but is indexed`);
        if ((call.count !== undefined || call.for_each !== undefined) && r.parts[2] && !r.parts[2].startsWith("["))
          problem(file, `${addr}: module.${a} has count/for_each: index it (module.${a}[0] or [*])`);
      } else if (head === "data") {
        if (!mod.data[`${a}.${b}`]) problem(file, `${addr}: reference to undeclared data.${a}.${b}`);
      } else if (head === "each") {
        if (body.for_each === undefined && !(kind === "dynamic")) problem(file, `${addr}: each.${a} used without for_each`);
      } else if (head === "count") {
        if (body.count === undefined) problem(file, `${addr}: count.${a} used without count`);
      } else if (/^google(-beta)?_[a-z0-9_]+$/.test(head) && (SCHEMA.resources.has(head) || /^google_/.test(head)) && a && !a.startsWith("[")) {
        const res = mod.resources[`${head}.${a}`];
        if (!res) {
          problem(file, `${addr}: reference to undeclared resource ${head}.${a}`);
          continue;
        }
        const attr = r.parts.slice(2).find((p) => !p.startsWith("["));
        const entry = SCHEMA.resources.get(head);
        if (attr && attr !== "*" && entry && !entry.computed.has(attr.replace(/_/g, "").toLowerCase()) && !entry.struct().attrs.has(attr) && !entry.struct().blocks.has(attr))
          problem(file, `${addr}: ${head} has no attribute "${attr}"`);
      }
    }
  };
  for (const { kind, addr, body } of blocks) {
    checkRefs(kind, addr, body, body.__file ?? file0);
    // depends_on must name resources, data sources or modules.
    for (const d of body.depends_on ?? []) {
      const inner = String(d).replace(/^\$\{|\}$/g, "");
      if (!/^(module\.[\w-]+|data\.[\w-]+\.[\w-]+|[a-z][\w-]*\.[\w-]+)$/.test(inner) || /^(var|local)\./.test(inner))
        problem(body.__file ?? file0, `${addr}: depends_on entry "${inner}" is not a resource, data source or module`);
    }
  }
}

async function checkLocals(mod) {
  for (const f of mod.files) {
    const doc = await parse(f, readFileSync(f, "utf8"));
    for (const block of doc.locals ?? []) {
      for (const [name, value] of Object.entries(block)) {
        for (const r of references(value)) {
          const [head, a, b] = r.parts;
          if (head === "var" && !mod.variables[a]) problem(f, `local.${name}: reference to undeclared variable var.${a}`);
          if (head === "local" && !(a in mod.locals)) problem(f, `local.${name}: reference to undeclared local.${a}`);
          if (head === "module" && !mod.modules[a]) problem(f, `local.${name}: reference to undeclared module.${a}`);
          if (head === "data" && !mod.data[`${a}.${b}`]) problem(f, `local.${name}: reference to undeclared data.${a}.${b}`);
          if (/^google(-beta)?_[a-z0-9_]+$/.test(head) && a && !a.startsWith("[") && !mod.resources[`${head}.${a}`])
            problem(f, `local.${name}: reference to undeclared resource ${head}.${a}`);
        }
      }
    }
  }
}

function checkSchema(mod) {
  for (const [kind, table, entries] of [["resource", SCHEMA.resources, mod.resources], ["data source", SCHEMA.data, mod.data]]) {
    for (const [addr, body] of Object.entries(entries)) {
      const type = addr.split(".")[0];
      if (!type.startsWith("google")) continue;
      if (type.startsWith("google-beta")) continue;
      const entry = table.get(type);
      if (!entry) {
        problem(body.__file, `${addr}: ${type} is not a ${kind} of the google provider ${SCHEMA.providerVersion}`);
        continue;
      }
      checkBody(entry.struct(), body, addr, body.__file, type);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Following module calls. A chain is the list of calls from a root down to one module call:
// [{ mod, name, call }, ...], mod being the module that contains the call.
const localTarget = (mod, call) =>
  typeof call.source === "string" && (call.source.startsWith("./") || call.source.startsWith("../")) ? resolve(mod.dir, call.source) : null;
const isSqlModule = (dir) => basename(dir) === "sql" && basename(dirname(dir)) === "modules";

function sqlCalls(mod, all, above = [], seen = new Set([mod.dir])) {
  const out = [];
  for (const [name, call] of Object.entries(mod.modules)) {
    const target = localTarget(mod, call);
    if (!target) continue;
    const chain = [...above, { mod, name, call }];
    if (isSqlModule(target)) out.push(chain);
    else if (all.has(target) && !seen.has(target)) out.push(...sqlCalls(all.get(target), all, chain, new Set([...seen, target])));
  }
  return out;
}

// What the last call of a chain passes as `arg`: a literal as it stands; `var.X` followed up
// through the calls above. Left undefined (so never true): an argument left to a module's default
// (the rule wants it written), and a variable of the root itself (TF_VAR_X or -var can set it to
// anything); any other expression comes back as its text. Returns { value, file, how }: file is
// where the value is (or should be) written, how says what was found there.
function argValue(chain, arg) {
  const show = (v) => (typeof v === "string" && /^\$\{[^]*\}$/.test(v) ? v.slice(2, -1) : JSON.stringify(v));
  let name = arg;
  for (let k = chain.length - 1; ; k--) {
    const { name: callName, call } = chain[k];
    const value = call[name];
    if (value === undefined)
      return { value, file: call.__file, how: `module.${callName} does not pass ${name}; a default does not count` };
    const m = typeof value === "string" && value.match(/^\$\{\s*var\.([\w-]+)\s*\}$/);
    if (!m) return { value, file: call.__file, how: `module.${callName} gets ${name} = ${show(value)}` };
    if (k === 0)
      return { value: undefined, file: call.__file, how: `module.${callName} gets ${name} = var.${m[1]}, which TF_VAR_${m[1]} can change: write true` };
    name = m[1];
  }
}

// ---------------------------------------------------------------------------------------------
const SCHEMA = loadSchema();

async function check(rootDirs) {
  problems = [];
  const all = new Map();
  for (const root of rootDirs) {
    if (!existsSync(root) || !statSync(root).isDirectory()) {
      console.error(`terraform-check: ${root} is not a directory`);
      process.exit(2);
    }
    for (const d of tfDirs(resolve(root))) all.set(d, await loadDir(d));
  }
  for (const mod of all.values()) {
    if (mod.parseError) {
      problems.push(mod.parseError);
      continue;
    }
    checkModule(mod, all);
    await checkLocals(mod);
    checkSchema(mod);
    securityRules(mod);
  }
  // Production: backups with point-in-time recovery, HA and deletion protection on the database.
  // The rule follows local module calls from envs/prod down to every call of modules/sql (directly,
  // or through modules/stack) and resolves what each argument receives there.
  for (const mod of all.values()) {
    if (basename(mod.dir) !== "prod" || basename(dirname(mod.dir)) !== "envs") continue;
    const chains = sqlCalls(mod, all);
    if (chains.length === 0) problem(join(mod.dir, "main.tf"), `prod reaches no call of modules/sql: its database settings cannot be checked`);
    for (const chain of chains) {
      const addr = chain.map((f) => `module.${f.name}`).join(".");
      for (const arg of ["point_in_time_recovery", "deletion_protection", "high_availability"]) {
        const r = argValue(chain, arg);
        if (r.value !== true) problem(r.file, `${addr}: prod must set ${arg} = true (${r.how})`);
      }
    }
  }
  let resources = 0;
  for (const m of all.values()) resources += Object.keys(m.resources).length + Object.keys(m.data).length;
  return { problems, modules: all.size, resources };
}

if (fixtureMode) {
  // Each subdirectory is a broken tree with an EXPECT file: it must be rejected with that message.
  let failed = 0;
  for (const name of readdirSync(roots[0]).sort()) {
    const dir = join(roots[0], name);
    if (!statSync(dir).isDirectory()) continue;
    const expect = readFileSync(join(dir, "EXPECT"), "utf8").trim();
    const r = await check([dir]);
    const hit = r.problems.find((p) => p.includes(expect));
    if (hit) console.log(`  rejected  terraform/${name}: ${hit.replace(/^.*?: /, "")}`);
    else {
      failed++;
      console.log(`  ACCEPTED  terraform/${name}: expected "${expect}", got: ${r.problems.join(" | ") || "no problem"}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

const result = await check(roots);
if (result.problems.length) {
  for (const p of result.problems) console.log(p);
  console.log(`terraform-check: ${result.problems.length} problem(s) in ${result.modules} module(s)`);
  process.exit(1);
}
console.log(`terraform-check: ${result.modules} module(s), ${result.resources} resource(s)/data source(s) valid against hashicorp/google ${SCHEMA.providerVersion}; security rules hold`);
