#!/usr/bin/env node
// Compiles Envoy's v3 API protos into one binary FileDescriptorSet at
// `.envoy-schema/envoy.binpb`, used by test/support/envoy-schema.ts to decode
// every resource we serve STRICTLY (Envoy silently ignores unknown fields in
// dynamic config, so typos would otherwise ship unnoticed).
//
// Offline by design: the protos come from @grpc/grpc-js-xds/deps (envoy-api,
// xds, googleapis, protoc-gen-validate) and the compiler is the `buf` binary
// shipped inside the @bufbuild/buf npm package (platform sub-package, no
// install script needed). google/protobuf/*.proto well-known types are built
// into buf.
//
// Fixes applied to the bundled proto tree (in a temp copy, never in place):
//  - validate/validate.proto is an old protoc-gen-validate revision. Newer
//    Envoy protos use `ignore_empty` (e.g. StringRules, field 26) and
//    MessageOptions `validate.ignored` (1072). The missing fields are added
//    with upstream's field numbers (bufbuild/protoc-gen-validate
//    validate/validate.proto): ignore_empty = 8 in all numeric rules,
//    26 StringRules, 14 BytesRules, 5 RepeatedRules, 6 MapRules.
//  - Some files import protos that grpc-js-xds does not ship (opencensus,
//    opentelemetry, prometheus, google/logging, google/longrunning, and the
//    whole envoy/api/v2 tree). Those files, and everything that transitively
//    imports them, are EXCLUDED, not replaced by placeholders; in Envoy v3 that is only
//    tracing/metrics-service plumbing we do not serve:
//      envoy/config/trace/v3/opencensus.proto (opencensus)
//      envoy/config/trace/v3/trace.proto (public-imports opencensus.proto)
//      envoy/extensions/access_loggers/open_telemetry/v3/logs_service.proto
//      envoy/service/trace/v3/trace_service.proto (opencensus)
//      envoy/service/metrics/v3/metrics_service.proto (prometheus)
//    The exact list is computed at build time and printed with --verbose.
//    HttpConnectionManager/Bootstrap only need trace/v3/http_tracer.proto,
//    which compiles fine.
//
// Roots: every envoy/**/v3/*.proto plus xds/udpa protos; only the roots that
// compile and their imports are copied, so v2 leftovers and unrelated
// googleapis files never reach the compiler.
//
// Idempotent: skipped when the output exists and its stamp (hash of the
// grpc-js-xds version, buf version and this script) matches.
//
// Usage: node scripts/build-envoy-schema.mjs [--force] [--verbose]

import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const t0 = performance.now();
const scriptPath = fileURLToPath(import.meta.url);
const repoRoot = path.resolve(path.dirname(scriptPath), "..");
const outDir = path.join(repoRoot, ".envoy-schema");
const outFile = path.join(outDir, "envoy.binpb");
const stampFile = path.join(outDir, "envoy.binpb.stamp");
const args = new Set(process.argv.slice(2));
const force = args.has("--force");
const verbose = args.has("--verbose");
const require = createRequire(path.join(repoRoot, "package.json"));

class BuildError extends Error {}
// Throw (rather than process.exit) so `finally` cleans the temp dir; report
// expected failures as one clear line, anything else with its stack.
process.on("uncaughtException", (err) => {
  console.error(`build-envoy-schema: ERROR: ${err instanceof BuildError ? err.message : err.stack}`);
  process.exit(1);
});
function fail(message) {
  throw new BuildError(message);
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

let xdsPkgJson, bufPkgJson;
try {
  xdsPkgJson = require.resolve("@grpc/grpc-js-xds/package.json");
  bufPkgJson = require.resolve("@bufbuild/buf/package.json");
} catch (err) {
  fail(`${err.message}\n  Run \`npm ci\` first (@grpc/grpc-js-xds and @bufbuild/buf are devDependencies).`);
}
const depsDir = path.join(path.dirname(xdsPkgJson), "deps");
// Search order matters only for diagnostics; the trees do not overlap.
const protoRoots = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => path.join(depsDir, d));
for (const root of protoRoots) {
  if (!fs.existsSync(root)) fail(`proto tree not found: ${root}`);
}

const stamp = createHash("sha256")
  .update(`grpc-js-xds@${readJson(xdsPkgJson).version}\n`)
  .update(`buf@${readJson(bufPkgJson).version}\n`)
  .update(fs.readFileSync(scriptPath))
  .digest("hex");

if (!force && fs.existsSync(outFile) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8").trim() === stamp) {
  const size = fs.statSync(outFile).size;
  console.log(`envoy-schema: up to date (${rel(outFile)}, ${kib(size)}, ${ms()} ms)`);
  process.exit(0);
}

// ---------------------------------------------------------------------------
// 1. Collect files, resolve imports, drop files with unsatisfiable imports.

/** @type {Map<string, string>} import path -> absolute file */
const available = new Map();
for (const root of protoRoots) {
  for (const file of walk(root)) {
    const relPath = path.relative(root, file).split(path.sep).join("/");
    // protoc-gen-validate also ships java/ and tests/ protos; only validate/ is a dependency.
    if (root.endsWith("protoc-gen-validate") && !relPath.startsWith("validate/")) continue;
    if (!available.has(relPath)) available.set(relPath, file);
  }
}

const importRe = /^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;/gm;
/** @type {Map<string, string[]>} */
const importsOf = new Map();
function imports(relPath) {
  let list = importsOf.get(relPath);
  if (!list) {
    const text = fs.readFileSync(available.get(relPath), "utf8");
    list = [...text.matchAll(importRe)].map((m) => m[1]);
    importsOf.set(relPath, list);
  }
  return list;
}

/** @type {Map<string, string | null>} file -> first missing import on its closure (null: ok) */
const missingOf = new Map();
function missing(relPath, stack = new Set()) {
  if (relPath.startsWith("google/protobuf/")) return null; // built into buf
  if (!available.has(relPath)) return relPath;
  if (missingOf.has(relPath)) return missingOf.get(relPath);
  if (stack.has(relPath)) return null; // cycles are a protoc error; let buf report them
  stack.add(relPath);
  let result = null;
  for (const dep of imports(relPath)) {
    const m = missing(dep, stack);
    if (m) {
      result = m === dep ? m : `${dep} -> ${m}`;
      break;
    }
  }
  stack.delete(relPath);
  missingOf.set(relPath, result);
  return result;
}

const isRoot = (p) => /^envoy\/.*\/v3\/[^/]+\.proto$/.test(p) || /^(xds|udpa)\//.test(p);
const roots = [...available.keys()].filter(isRoot).sort();
const excluded = [];
const closure = new Set();
function addClosure(relPath) {
  if (closure.has(relPath) || relPath.startsWith("google/protobuf/")) return;
  closure.add(relPath);
  for (const dep of imports(relPath)) addClosure(dep);
}
for (const root of roots) {
  const m = missing(root);
  if (m) excluded.push(`${root} (needs ${m})`);
  else addClosure(root);
}
for (const needed of ["envoy/config/cluster/v3/cluster.proto", "envoy/service/discovery/v3/discovery.proto", "envoy/config/bootstrap/v3/bootstrap.proto", "validate/validate.proto"]) {
  if (!closure.has(needed)) fail(`required proto ${needed} would be excluded or is missing`);
}

// ---------------------------------------------------------------------------
// 2. Copy the closure to a temp module, patch validate.proto, run buf.

const work = fs.mkdtempSync(path.join(os.tmpdir(), "envoy-schema-"));
try {
  const moduleDir = path.join(work, "proto");
  for (const relPath of closure) {
    const dest = path.join(moduleDir, relPath);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(available.get(relPath), dest);
  }
  const validatePath = path.join(moduleDir, "validate/validate.proto");
  fs.writeFileSync(validatePath, patchValidate(fs.readFileSync(validatePath, "utf8")));
  // Explicit (empty) v2 module config so buf never walks up into some other buf.yaml.
  fs.writeFileSync(path.join(moduleDir, "buf.yaml"), "version: v2\n");

  const tmpOut = path.join(work, "envoy.binpb");
  const [cmd, cmdArgs] = bufCommand();
  const result = spawnSync(
    cmd,
    [...cmdArgs, "build", moduleDir, "--as-file-descriptor-set", "--exclude-source-info", "-o", tmpOut],
    {
      encoding: "utf8",
      // buf wants a writable cache dir even for local builds; keep it out of $HOME.
      env: { ...process.env, BUF_CACHE_DIR: process.env.BUF_CACHE_DIR ?? path.join(work, "cache") },
    },
  );
  if (result.error) fail(`could not run buf (${cmd}): ${result.error.message}`);
  if (result.status !== 0) {
    fail(`buf build failed (exit ${result.status}):\n${(result.stderr || result.stdout).trim()}`);
  }

  fs.mkdirSync(outDir, { recursive: true });
  // Unique temp name + rename: concurrent builds (e.g. parallel jest workers) never see a torn file.
  const staged = `${outFile}.${process.pid}.tmp`;
  fs.copyFileSync(tmpOut, staged);
  fs.renameSync(staged, outFile);
  fs.writeFileSync(stampFile, `${stamp}\n`);
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

if (verbose) for (const e of excluded) console.log(`  excluded ${e}`);
console.log(
  `envoy-schema: compiled ${closure.size} files (${roots.length - excluded.length} roots), excluded ${excluded.length}, ` +
    `${kib(fs.statSync(outFile).size)}, ${ms()} ms -> ${rel(outFile)}`,
);

// ---------------------------------------------------------------------------

function* walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.name.endsWith(".proto")) yield full;
  }
}

/**
 * Adds fields that newer Envoy protos set but the bundled (older)
 * protoc-gen-validate lacks. Field numbers from upstream validate.proto.
 * Fields that already exist are left alone, so a newer bundle is a no-op.
 */
function patchValidate(src) {
  src = src.replace(/\r\n/g, "\n"); // the bundled copy has CRLF line endings
  const ignoreEmpty = {
    FloatRules: 8, DoubleRules: 8, Int32Rules: 8, Int64Rules: 8, UInt32Rules: 8, UInt64Rules: 8,
    SInt32Rules: 8, SInt64Rules: 8, Fixed32Rules: 8, Fixed64Rules: 8, SFixed32Rules: 8, SFixed64Rules: 8,
    StringRules: 26, BytesRules: 14, RepeatedRules: 5, MapRules: 6,
  };
  let out = src;
  for (const [msg, no] of Object.entries(ignoreEmpty)) {
    // Top-level messages close with a "}" in column 0 (nested oneofs are indented).
    const re = new RegExp(`(^message ${msg} \\{\\n[\\s\\S]*?)(^\\}$)`, "m");
    const m = re.exec(out);
    if (!m) fail(`validate.proto: message ${msg} not found; cannot patch`);
    if (/\bignore_empty\b/.test(m[1])) continue;
    out = out.replace(re, `$1    // Added by build-envoy-schema (upstream PGV field).\n    optional bool ignore_empty = ${no};\n$2`);
  }
  if (!/\bignored\s*=\s*1072\b/.test(out)) {
    const re = /(^extend google\.protobuf\.MessageOptions \{\n[\s\S]*?)(^\}$)/m;
    if (!re.test(out)) fail("validate.proto: MessageOptions extension not found; cannot patch");
    out = out.replace(re, "$1    // Added by build-envoy-schema (upstream PGV field).\n    optional bool ignored = 1072;\n$2");
  }
  return out;
}

/**
 * Prefer the native binary from the platform package (@bufbuild/buf-<os>-<arch>)
 * to skip the node wrapper; fall back to the wrapper, which does the same lookup.
 */
function bufCommand() {
  const archs = { x64: "x64", arm64: process.platform === "linux" ? "aarch64" : "arm64", arm: "armv7" };
  const exe = process.platform === "win32" ? "buf.exe" : "buf";
  try {
    const pkg = require.resolve(`@bufbuild/buf-${process.platform}-${archs[process.arch] ?? process.arch}/package.json`, {
      paths: [path.dirname(bufPkgJson)],
    });
    const bin = path.join(path.dirname(pkg), "bin", exe);
    if (fs.existsSync(bin)) return [bin, []];
  } catch {
    // fall through to the wrapper
  }
  const wrapper = path.join(path.dirname(bufPkgJson), "bin", "buf");
  if (!fs.existsSync(wrapper)) fail(`buf binary not found under ${path.dirname(bufPkgJson)}`);
  const isScript = fs.readFileSync(wrapper).subarray(0, 2).toString() === "#!";
  return isScript ? [process.execPath, [wrapper]] : [wrapper, []];
}

function rel(p) {
  return path.relative(process.cwd(), p) || p;
}
function kib(n) {
  return n > 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}
function ms() {
  return Math.round(performance.now() - t0);
}
