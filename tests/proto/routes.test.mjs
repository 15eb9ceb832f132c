// Keeps proto/http-api.yaml and the server's route table in step.
// `<COHORT_BIN or build/cohort> routes` prints one served route per line, `METHOD PATH`
// (e.g. `GET /api/webinars/{id}`); the document's `paths:` section is read with a small
// line-based parser (no npm deps): path keys at indent 2 starting with `/`, lower-case
// HTTP method keys at indent 4.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cohortBin = process.env.COHORT_BIN || path.join(repoRoot, 'build', 'cohort');
const specPath = path.join(repoRoot, 'proto', 'http-api.yaml');

const HTTP_METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

const indentOf = (line) => line.length - line.trimStart().length;
const isSkippable = (line) => line.trim() === '' || line.trimStart().startsWith('#');
// `key:` or `key: value` → key (quotes removed); null if the line is not a mapping key.
function keyOf(line) {
  const m = /^\s*('([^']*)'|"([^"]*)"|([^\s'"#][^:#]*?))\s*:(\s|$)/.exec(line);
  if (!m) return null;
  return m[2] ?? m[3] ?? m[4];
}

// Lines [start, end) of the block under a top-level key (e.g. `paths:`), with their 1-based numbers.
function topLevelBlock(lines, name) {
  const start = lines.findIndex((l) => indentOf(l) === 0 && keyOf(l) === name);
  if (start < 0) return null;
  let end = start + 1;
  while (end < lines.length && (isSkippable(lines[end]) || indentOf(lines[end]) > 0)) end++;
  return { start: start + 1, end };
}

// Children of the block at lines[from..to) whose indent is exactly `indent`: [{key, line, from, to}].
function childrenAt(lines, from, to, indent) {
  const out = [];
  for (let i = from; i < to; i++) {
    const l = lines[i];
    if (isSkippable(l) || indentOf(l) !== indent) continue;
    const key = keyOf(l);
    if (key === null) continue;
    let j = i + 1;
    while (j < to && (isSkippable(lines[j]) || indentOf(lines[j]) > indent)) j++;
    out.push({ key, line: i + 1, from: i + 1, to: j });
  }
  return out;
}

export function parseSpec(text) {
  const lines = text.split(/\r?\n/);
  const problems = [];
  lines.forEach((l, i) => {
    if (/\t/.test(l.slice(0, indentOf(l) + 1))) problems.push(`line ${i + 1}: tab in indentation`);
    if (!isSkippable(l) && indentOf(l) % 2 !== 0) problems.push(`line ${i + 1}: indent ${indentOf(l)} is not a multiple of 2`);
  });
  const paths = topLevelBlock(lines, 'paths');
  if (!paths) return { operations: [], problems: [...problems, 'no top-level `paths:`'], lines };
  const operations = [];
  const pathBlocks = [];
  for (const p of childrenAt(lines, paths.start, paths.end, 2)) {
    if (!p.key.startsWith('/')) { problems.push(`line ${p.line}: key "${p.key}" under paths does not start with /`); continue; }
    pathBlocks.push(p);
    for (const op of childrenAt(lines, p.from, p.to, 4)) {
      if (!HTTP_METHODS.has(op.key)) {
        if (HTTP_METHODS.has(op.key.toLowerCase())) problems.push(`line ${op.line}: method key "${op.key}" must be lower-case`);
        continue; // parameters, summary, description, servers
      }
      const fields = childrenAt(lines, op.from, op.to, 6);
      const responses = fields.find((f) => f.key === 'responses');
      const codes = responses ? childrenAt(lines, responses.from, responses.to, 8).map((c) => c.key) : [];
      operations.push({ method: op.key.toUpperCase(), path: p.key, line: op.line, hasResponses: !!responses, codes, from: op.from, to: op.to });
    }
  }
  return { operations, pathBlocks, problems, lines };
}

// Resolves `#/components/<section>/<name>` against the document's components: block.
function componentExists(lines, ref) {
  const m = /^#\/components\/([^/]+)\/([^/]+)$/.exec(ref);
  if (!m) return false;
  const comp = topLevelBlock(lines, 'components');
  if (!comp) return false;
  const section = childrenAt(lines, comp.start, comp.end, 2).find((c) => c.key === m[1]);
  if (!section) return false;
  return childrenAt(lines, section.from, section.to, 4).find((c) => c.key === m[2]) ?? false;
}

const routeKey = (method, p) => `${method} ${p}`;

function servedRoutes() {
  if (!existsSync(cohortBin)) {
    throw new Error(`${cohortBin} does not exist: build the server first (cmake --build build), or set COHORT_BIN`);
  }
  const out = execFileSync(cohortBin, ['routes'], { encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'pipe'] });
  const routes = [];
  const junk = [];
  for (const raw of out.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^([A-Z]+)\s+(\/\S*)$/.exec(line);
    if (m) routes.push(routeKey(m[1], m[2])); else junk.push(line);
  }
  return { routes, junk };
}

const spec = parseSpec(readFileSync(specPath, 'utf8'));

test('http-api.yaml is structurally sound', () => {
  const { operations, pathBlocks, problems, lines } = spec;
  assert.match(lines.find((l) => !isSkippable(l)) ?? '', /^openapi:\s*['"]?3\.0\.3['"]?\s*$/, 'first key must be openapi: 3.0.3');
  for (const top of ['info', 'paths', 'components']) {
    if (!topLevelBlock(lines, top)) problems.push(`no top-level \`${top}:\``);
  }
  if (operations.length === 0) problems.push('no operations under paths:');
  const seen = new Set();
  for (const op of operations) {
    const k = routeKey(op.method, op.path);
    if (seen.has(k)) problems.push(`line ${op.line}: ${k} documented twice`);
    seen.add(k);
    if (!op.hasResponses) { problems.push(`line ${op.line}: ${k} has no responses`); continue; }
    if (op.codes.length === 0) problems.push(`line ${op.line}: ${k} has an empty responses map`);
    for (const c of op.codes) if (!/^([1-5]XX|[1-5]\d\d|default)$/.test(c)) problems.push(`line ${op.line}: ${k} has response key "${c}" that is not a status code`);
    // A success answer: 2xx, or 101 for the WebSocket upgrade.
    if (!op.codes.some((c) => /^2/.test(c) || c === '101')) problems.push(`line ${op.line}: ${k} documents no success (2xx or 101) response`);
  }
  // Every $ref points at something that exists.
  lines.forEach((l, i) => {
    const m = /\$ref:\s*['"]?([^'"\s]+)['"]?/.exec(l);
    if (m && !componentExists(lines, m[1])) problems.push(`line ${i + 1}: $ref ${m[1]} does not resolve`);
  });
  // Every {template} in a path has a path parameter of that name (inline or via components/parameters).
  for (const p of pathBlocks) {
    const vars = [...p.key.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    if (vars.length === 0) continue;
    const names = new Set();
    for (let i = p.from; i < p.to; i++) {
      const name = /^\s*-?\s*name:\s*['"]?([^'"\s]+)/.exec(lines[i]);
      if (name) names.add(name[1]);
      const ref = /\$ref:\s*['"]?(#\/components\/parameters\/[^'"\s]+)/.exec(lines[i]);
      const target = ref && componentExists(lines, ref[1]);
      if (target) for (let j = target.from; j < target.to; j++) {
        const n = /^\s*name:\s*['"]?([^'"\s]+)/.exec(lines[j]);
        if (n) names.add(n[1]);
      }
    }
    for (const v of vars) if (!names.has(v)) problems.push(`line ${p.line}: ${p.key} has no parameter named "${v}"`);
  }
  assert.deepEqual(problems, [], `proto/http-api.yaml problems:\n  ${problems.join('\n  ')}`);
});

test('server routes and documented operations match', () => {
  const { routes, junk } = servedRoutes();
  assert.deepEqual(junk, [], `\`cohort routes\` printed lines that are not "METHOD /path":\n  ${junk.join('\n  ')}`);
  assert.ok(routes.length > 0, '`cohort routes` printed no routes');
  const served = new Set(routes);
  const documented = new Set(spec.operations.map((o) => routeKey(o.method, o.path)));
  const undocumented = [...served].filter((r) => !documented.has(r)).sort();
  const unserved = [...documented].filter((r) => !served.has(r)).sort();
  const msg = [];
  if (undocumented.length) msg.push(`served by the server but missing from proto/http-api.yaml:\n  ${undocumented.join('\n  ')}`);
  if (unserved.length) msg.push(`documented in proto/http-api.yaml but not served:\n  ${unserved.join('\n  ')}`);
  assert.ok(msg.length === 0, msg.join('\n'));
});
