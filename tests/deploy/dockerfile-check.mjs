#!/usr/bin/env node
// Lints a Dockerfile with dockerfile-utils (the Docker language server's validator: unknown
// instructions and flags, malformed arguments, ...; warnings count as failures) and then checks
// the project's rules for the mcpgw image:
//  - multi-stage: a build stage and a final runtime stage, base images pinned (no :latest);
//  - the build stage installs every Debian -dev package that scripts/bootstrap.sh installs, plus
//    the build tools, and builds with CMake;
//  - the runtime stage installs no -dev package nor compiler, runs as a non-root USER and has a
//    HEALTHCHECK; apt-get uses --no-install-recommends and removes its lists;
//  - every COPY source exists in the build context and is not excluded by .dockerignore.
//
//   node tests/deploy/dockerfile-check.mjs services/gateway/Dockerfile [CONTEXT_DIR]
//   node tests/deploy/dockerfile-check.mjs --fixtures DIR   (DIR/*.Dockerfile, "# expect:" lines)
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { join, resolve, dirname, relative } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { validate } = require("dockerfile-utils");
const here = dirname(new URL(import.meta.url).pathname);
const repo = resolve(here, "..", "..");

function bootstrapDevPackages() {
  const text = readFileSync(join(repo, "scripts/bootstrap.sh"), "utf8");
  const m = text.match(/DEB_PACKAGES=\(([\s\S]*?)\)/);
  if (!m) throw new Error("scripts/bootstrap.sh has no DEB_PACKAGES=( ... )");
  return m[1].replace(/#.*$/gm, "").split(/\s+/).filter((p) => p.endsWith("-dev"));
}

// .dockerignore: Go filepath.Match-like patterns, later lines win, "!" re-includes.
function dockerignore(context) {
  const f = join(context, ".dockerignore");
  if (!existsSync(f)) return () => false;
  const rules = readFileSync(f, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((l) => {
    const neg = l.startsWith("!");
    const pat = (neg ? l.slice(1) : l).replace(/^\/+/, "").replace(/\/+$/, "");
    const re = new RegExp("^" + pat.split("**").map((part) => part.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")).join(".*") + "(/.*)?$");
    return { neg, re, pat };
  });
  return (path) => {
    let excluded = false;
    const p = path.replace(/^\.\//, "").replace(/\/+$/, "");
    for (const r of rules) if (r.re.test(p)) excluded = !r.neg;
    // A directory is still sent when a later "!" pattern re-includes something inside it.
    if (excluded && rules.some((r) => r.neg && r.pat.startsWith(`${p}/`))) excluded = false;
    return excluded;
  };
}

function instructions(text) {
  // Logical lines: continuations joined, comments dropped.
  const out = [];
  let cur = "";
  let line0 = 0;
  text.split("\n").forEach((raw, i) => {
    const l = raw.trimEnd();
    if (!cur && (l.trim().startsWith("#") || !l.trim())) return;
    if (!cur) line0 = i + 1;
    if (l.endsWith("\\")) cur += l.slice(0, -1) + " ";
    else {
      cur += l;
      const m = cur.trim().match(/^(\w+)\s*(.*)$/s);
      if (m) out.push({ line: line0, op: m[1].toUpperCase(), args: m[2].trim() });
      cur = "";
    }
  });
  return out;
}

function check(file, context) {
  const problems = [];
  const text = readFileSync(file, "utf8");
  for (const d of validate(text)) {
    problems.push(`${relative(process.cwd(), file)}:${d.range.start.line + 1}: ${d.severity === 1 ? "error" : "warning"}: ${d.message}`);
  }
  const ins = instructions(text);
  const args = {};
  for (const i of ins) {
    if (i.op === "ARG") {
      const [k, v] = i.args.split("=");
      if (v !== undefined && !(k in args)) args[k] = v.replace(/^"|"$/g, "");
    }
  }
  const expand = (s) => s.replace(/\$\{?(\w+)\}?/g, (_, k) => args[k] ?? `$${k}`);
  const stages = [];
  for (const i of ins) {
    if (i.op === "FROM") {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith("--"));
      stages.push({ line: i.line, image: expand(parts[0]), name: parts[2] ?? null, ins: [] });
    } else if (stages.length) stages[stages.length - 1].ins.push(i);
  }
  const at = (i) => `${relative(process.cwd(), file)}:${i.line}`;
  if (stages.length < 2) problems.push(`${relative(process.cwd(), file)}: not a multi-stage build (a build stage and a runtime stage)`);
  const names = new Set(stages.map((s) => s.name).filter(Boolean));
  for (const s of stages) {
    if (names.has(s.image)) continue;
    const tag = s.image.includes("@") ? "digest" : s.image.split("/").pop().split(":")[1];
    if (!tag || tag === "latest" || tag.includes("$")) problems.push(`${at(s)}: base image ${s.image} is not pinned to a version`);
  }
  const installs = (s) =>
    s.ins.filter((i) => i.op === "RUN").flatMap((i) => {
      const pk = [];
      for (const seg of i.args.split(/&&|;/)) {
        const m = seg.match(/apt-get\s+install\s+(.*)$/);
        if (!m) continue;
        if (!/--no-install-recommends/.test(seg)) problems.push(`${at(i)}: apt-get install without --no-install-recommends`);
        pk.push(...m[1].split(/\s+/).filter((w) => w && !w.startsWith("-")));
      }
      if (/apt-get\s+install/.test(i.args) && !/rm -rf \/var\/lib\/apt\/lists/.test(i.args)) problems.push(`${at(i)}: apt-get install without removing /var/lib/apt/lists in the same layer`);
      return pk;
    });
  if (stages.length >= 2) {
    const build = stages[0];
    const runtime = stages[stages.length - 1];
    const bpk = new Set(installs(build));
    for (const p of [...bootstrapDevPackages(), "build-essential", "cmake", "pkg-config"])
      if (!bpk.has(p)) problems.push(`${at(build)}: build stage does not install ${p} (scripts/bootstrap.sh installs it)`);
    if (!build.ins.some((i) => i.op === "RUN" && /\bcmake\b.*--build/.test(i.args))) problems.push(`${at(build)}: build stage does not build with cmake --build`);
    for (const p of installs(runtime))
      if (/-dev$/.test(p) || ["build-essential", "cmake", "g++", "gcc", "clang"].includes(p)) problems.push(`${at(runtime)}: runtime stage installs build package ${p}`);
    const users = runtime.ins.filter((i) => i.op === "USER");
    const user = users.length ? users[users.length - 1].args.split(":")[0] : "root";
    if (["root", "0"].includes(user)) problems.push(`${at(runtime)}: runtime stage runs as root (add a USER with a non-root uid)`);
    if (!runtime.ins.some((i) => i.op === "HEALTHCHECK" && !/^NONE/i.test(i.args))) problems.push(`${at(runtime)}: runtime stage has no HEALTHCHECK`);
    if (!runtime.ins.some((i) => i.op === "ENTRYPOINT" || i.op === "CMD")) problems.push(`${at(runtime)}: runtime stage has no ENTRYPOINT/CMD`);
  }
  // COPY sources exist and are sent by .dockerignore.
  const ignored = dockerignore(context);
  for (const s of stages) {
    for (const i of s.ins.filter((x) => x.op === "COPY" || x.op === "ADD")) {
      if (/--from=/.test(i.args)) continue;
      let parts;
      const json = i.args.replace(/^(--\S+\s+)*/, "");
      try {
        parts = json.startsWith("[") ? JSON.parse(json) : json.split(/\s+/);
      } catch {
        parts = json.split(/\s+/);
      }
      for (const src of parts.slice(0, -1)) {
        if (/^https?:/.test(src)) continue;
        if (!existsSync(join(context, src))) problems.push(`${at(i)}: COPY source ${src} does not exist in the build context`);
        else if (ignored(src)) problems.push(`${at(i)}: COPY source ${src} is excluded by .dockerignore`);
      }
    }
  }
  return problems;
}

const argv = process.argv.slice(2);
if (argv[0] === "--fixtures") {
  let failed = 0;
  for (const f of readdirSync(argv[1]).filter((n) => n.endsWith(".Dockerfile")).sort()) {
    const path = join(argv[1], f);
    const expect = (readFileSync(path, "utf8").match(/^# expect: (.*)$/m) ?? [])[1];
    const problems = check(path, repo);
    const hit = expect && problems.find((p) => p.includes(expect));
    if (hit) console.log(`  rejected  dockerfile/${f}: ${hit.replace(/^.*?: /, "")}`);
    else {
      failed++;
      console.log(`  ACCEPTED  dockerfile/${f}: expected "${expect}", got: ${problems.join(" | ") || "no problem"}`);
    }
  }
  process.exit(failed ? 1 : 0);
}
if (!argv[0]) {
  console.error("usage: dockerfile-check.mjs DOCKERFILE [CONTEXT] | --fixtures DIR");
  process.exit(2);
}
const problems = check(argv[0], resolve(argv[1] ?? repo));
if (problems.length) {
  for (const p of problems) console.log(p);
  process.exit(1);
}
console.log(`dockerfile-check: ${argv[0]} clean (dockerfile-utils) and follows the image rules`);
