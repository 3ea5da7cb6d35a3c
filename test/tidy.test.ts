/**
 * Tidy is a test (STYLE rule 18, after TigerBeetle's tidy.zig): line and function length, the
 * import DAG between pipeline stages, and what the hot folders may not contain. Sources are parsed
 * with the TypeScript compiler, so the checks see syntax, not text. Each check's self-test runs it
 * on a snippet with and without a violation, so a broken checker cannot pass silently.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(new URL('.', import.meta.url).pathname, '..', '..');
const lineMax = 100;
const functionLinesMax = 70;
const fileLinesMax = 800;
const generated = 'src/protocol/generated/';

/**
 * Which src/ folders each src/ folder may import (STYLE's layout). `constants` and `main` are
 * the files src/constants.ts and src/main.ts. A folder missing here fails the DAG check, so a new
 * stage must be placed in the DAG on purpose.
 */
const allowedImports: Record<string, string[]> = {
  stdx: ['stdx'],
  constants: ['stdx', 'constants'],
  ring: ['stdx', 'constants', 'ring'],
  protocol: ['stdx', 'constants', 'protocol'],
  engine: ['stdx', 'constants', 'protocol', 'engine'],
  journal: ['stdx', 'constants', 'protocol', 'ring', 'journal'],
  gateway: ['stdx', 'constants', 'protocol', 'ring', 'gateway'],
  replication: ['stdx', 'constants', 'protocol', 'ring', 'journal', 'replication'],
  pipeline: [
    'stdx',
    'constants',
    'protocol',
    'ring',
    'engine',
    'journal',
    'gateway',
    'replication',
    'pipeline',
  ],
  client: ['stdx', 'constants', 'protocol', 'client'],
  cli: [
    'stdx',
    'constants',
    'protocol',
    'ring',
    'engine',
    'journal',
    'gateway',
    'pipeline',
    'client', // drills put load on a cluster through the SDK
    'cli',
  ],
  main: ['constants', 'pipeline', 'cli', 'main'],
};
const hotFolders = ['engine', 'ring', 'stdx'];

/**
 * Files in hot folders that run off the hot path, and why. Everything else there follows the
 * hot-path rules.
 */
const hotExceptions: Record<string, string> = {
  'src/engine/checksum-scan.ts': 'an O(state) audit for tests and verify, never per command',
  'src/ring/async-wait.ts': 'main-thread waiting when idle: one promise per sleep, none when busy',
};

interface Source {
  path: string;
  text: string;
  file: ts.SourceFile;
}

function listTs(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const rel = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTs(rel));
    else if (entry.name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

function parse(path: string, text: string): Source {
  return { path, text, file: ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true) };
}

function load(dirs: string[]): Source[] {
  return dirs
    .flatMap(listTs)
    .filter((p) => !p.startsWith(generated))
    .map((p) => parse(p, readFileSync(join(root, p), 'utf8')));
}

function lineOf(s: Source, pos: number): number {
  return s.file.getLineAndCharacterOfPosition(pos).line + 1;
}

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  node.forEachChild((child) => walk(child, visit));
}

export function checkLines(sources: Source[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    s.text.split('\n').forEach((line, i) => {
      if (line.length > lineMax) out.push(`${s.path}:${i + 1}: line of ${line.length} columns`);
    });
    const lines = s.text.split('\n').length;
    if (s.path.startsWith('src/') && lines > fileLinesMax)
      out.push(`${s.path}: file of ${lines} lines`);
  }
  return out;
}

export function checkFunctions(sources: Source[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    walk(s.file, (n) => {
      if (!ts.isFunctionLike(n) || !('body' in n) || n.body === undefined) return;
      const lines = lineOf(s, n.getEnd()) - lineOf(s, n.getStart()) + 1;
      if (lines > functionLinesMax)
        out.push(`${s.path}:${lineOf(s, n.getStart())}: function of ${lines} lines`);
    });
  }
  return out;
}

/** The src/ folder (or `constants` / `main`) a path under src/ belongs to. */
function stageOf(path: string): string {
  const rest = path.slice('src/'.length);
  if (!rest.includes('/')) return rest.replace(/\.ts$/, '');
  return rest.slice(0, rest.indexOf('/'));
}

export function checkImports(sources: Source[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    if (!s.path.startsWith('src/')) continue;
    const stage = stageOf(s.path);
    const allowed = allowedImports[stage];
    if (allowed === undefined) {
      out.push(`${s.path}: folder '${stage}' is not in the import DAG`);
      continue;
    }
    for (const stmt of s.file.statements) {
      if (!ts.isImportDeclaration(stmt) && !ts.isExportDeclaration(stmt)) continue;
      const spec = stmt.moduleSpecifier;
      if (spec === undefined || !ts.isStringLiteral(spec)) continue;
      const line = lineOf(s, stmt.getStart());
      const target = spec.text;
      if (!target.startsWith('.')) {
        if (hotFolders.includes(stage))
          out.push(`${s.path}:${line}: hot folder imports package '${target}'`);
        continue;
      }
      const resolved = relative(root, join(root, s.path, '..', target)).replace(/\.js$/, '.ts');
      if (!resolved.startsWith('src/')) {
        out.push(`${s.path}:${line}: imports outside src: ${target}`);
        continue;
      }
      const to = stageOf(resolved);
      if (!allowed.includes(to)) out.push(`${s.path}:${line}: ${stage} may not import ${to}`);
    }
  }
  return out;
}

/**
 * bench/ files import only src/ and bench/: the image (docker/Dockerfile) builds src and bench
 * without test/, so a bench importing a test harness broke its build.
 */
export function checkBenchImports(sources: Source[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    if (!s.path.startsWith('bench/')) continue;
    for (const stmt of s.file.statements) {
      if (!ts.isImportDeclaration(stmt) && !ts.isExportDeclaration(stmt)) continue;
      const spec = stmt.moduleSpecifier;
      if (spec === undefined || !ts.isStringLiteral(spec) || !spec.text.startsWith('.')) continue;
      const resolved = relative(root, join(root, s.path, '..', spec.text));
      if (resolved.startsWith('src/') || resolved.startsWith('bench/')) continue;
      out.push(`${s.path}:${lineOf(s, stmt.getStart())}: bench imports outside src and bench`);
    }
  }
  return out;
}

const bannedCalls = new Set([
  'Date.now',
  'performance.now',
  'Math.random',
  'setTimeout',
  'setInterval',
  'setImmediate',
]);
const bannedMethods = new Set(['map', 'filter', 'forEach', 'reduce']);
const bannedRoots = new Set(['JSON', 'console', 'process']);

/** Instance methods that run only at start-up or restart, never per command. */
const startupMethods = new Set(['restore']);

/** Is `n` inside a constructor, a field initializer or a static method (start-up code)? */
function inStartup(n: ts.Node): boolean {
  for (let p = n.parent; p !== undefined; p = p.parent) {
    if (ts.isConstructorDeclaration(p)) return true;
    if (ts.isMethodDeclaration(p)) {
      if (ts.isIdentifier(p.name) && startupMethods.has(p.name.text)) return true;
      return (ts.getCombinedModifierFlags(p) & ts.ModifierFlags.Static) !== 0;
    }
    if (ts.isPropertyDeclaration(p)) return true; // field initializers run in the constructor
  }
  return false;
}

function hotViolation(n: ts.Node): string | null {
  if (ts.isPropertyAccessExpression(n)) {
    const text = n.getText();
    if (bannedCalls.has(text)) return text;
    if (ts.isIdentifier(n.expression) && bannedRoots.has(n.expression.text))
      return `${n.expression.text}.*`;
    if (bannedMethods.has(n.name.text) && ts.isCallExpression(n.parent)) return `.${n.name.text}()`;
  }
  if (ts.isIdentifier(n) && bannedCalls.has(n.text) && ts.isCallExpression(n.parent)) return n.text;
  if (ts.isIdentifier(n) && n.text === 'BigInt') return 'BigInt';
  if (ts.isBigIntLiteral(n)) return 'bigint literal';
  if (ts.isTemplateExpression(n) || ts.isNoSubstitutionTemplateLiteral(n))
    return 'template literal';
  if (ts.isSpreadElement(n) || ts.isSpreadAssignment(n)) return 'spread';
  if (ts.isArrowFunction(n) || ts.isFunctionExpression(n)) return 'closure';
  if (ts.isAwaitExpression(n)) return 'await';
  if ((ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && hasAsync(n))
    return 'async function';
  if (ts.isNewExpression(n) && !ts.isThrowStatement(n.parent) && !inStartup(n))
    return 'new outside start-up';
  return null;
}

function hasAsync(n: ts.FunctionDeclaration | ts.MethodDeclaration): boolean {
  return (ts.getCombinedModifierFlags(n) & ts.ModifierFlags.Async) !== 0;
}

export function checkHot(sources: Source[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    if (!hotFolders.some((f) => s.path.startsWith(`src/${f}/`))) continue;
    if (hotExceptions[s.path] !== undefined) continue;
    walk(s.file, (n) => {
      const what = hotViolation(n);
      if (what !== null) out.push(`${s.path}:${lineOf(s, n.getStart())}: ${what} in a hot folder`);
    });
  }
  return out;
}

// Spelled in pieces so that this file does not trip its own check.
const leftover = new RegExp('\\b(' + 'FIX' + 'ME|' + 'X' + 'XX)\\b');
const todo = new RegExp('\\b' + 'TO' + 'DO\\b');
const todoWithIssue = new RegExp('\\b' + 'TO' + 'DO\\(#\\d+\\)');

export function checkMarkers(sources: Source[]): string[] {
  const out: string[] = [];
  for (const s of sources) {
    s.text.split('\n').forEach((line, i) => {
      if (leftover.test(line)) out.push(`${s.path}:${i + 1}: leftover marker`);
      if (todo.test(line) && !todoWithIssue.test(line)) {
        out.push(`${s.path}:${i + 1}: to-do without an issue`);
      }
    });
  }
  return out;
}

const all = load(['src', 'test', 'bench']);
const report = (found: string[]): string => `\n${found.join('\n')}`;

test('lines are at most 100 columns and src files at most 800 lines', () => {
  const found = checkLines(all);
  assert.deepEqual(found, [], report(found));
});

test('functions in src are at most 70 lines', () => {
  const found = checkFunctions(all.filter((s) => s.path.startsWith('src/')));
  assert.deepEqual(found, [], report(found));
});

test('src folders import only what the pipeline DAG allows', () => {
  const found = checkImports(all);
  assert.deepEqual(found, [], report(found));
});

test('bench files import only src and bench (the image has no test/)', () => {
  const found = checkBenchImports(all);
  assert.deepEqual(found, [], report(found));
});

test('hot folders have no clock, randomness, I/O, JSON, closures, BigInt or allocation', () => {
  const found = checkHot(all);
  assert.deepEqual(found, [], report(found));
});

test('no leftover markers, and every to-do names an issue', () => {
  const found = checkMarkers(all);
  assert.deepEqual(found, [], report(found));
});

test('each checker finds a planted violation and passes clean code', () => {
  const long = parse('src/engine/x.ts', `const a = ${'1 + '.repeat(30)}1;\n`);
  assert.equal(checkLines([long]).length, 1);
  const body = Array.from({ length: 75 }, (_, i) => `  const v${i} = ${i};`).join('\n');
  assert.equal(
    checkFunctions([parse('src/engine/x.ts', `function f() {\n${body}\n}\n`)]).length,
    1,
  );
  assert.equal(
    checkFunctions([parse('src/engine/x.ts', 'function f() {\n  return 1;\n}\n')]).length,
    0,
  );
  assert.equal(
    checkImports([parse('src/engine/x.ts', "import { a } from '../journal/y.js';\n")]).length,
    1,
  );
  const fromTest = "import { a } from '../../test/harness/y.js';\n";
  assert.equal(checkBenchImports([parse('bench/soak/x.ts', fromTest)]).length, 1);
  const fromSrc = "import { a } from '../../src/cli/y.js';\n";
  assert.equal(checkBenchImports([parse('bench/soak/x.ts', fromSrc)]).length, 0);
  assert.equal(
    checkImports([parse('src/engine/x.ts', "import { a } from '../protocol/y.js';\n")]).length,
    0,
  );
  assert.equal(checkImports([parse('src/engine/x.ts', "import fs from 'node:fs';\n")]).length, 1);
  assert.equal(checkImports([parse('src/newstage/x.ts', 'export const a = 1;\n')]).length, 1);
  const hot = (code: string): number => checkHot([parse('src/engine/x.ts', code)]).length;
  assert.equal(hot('function f() { return Date.now(); }'), 1);
  assert.equal(hot('function f(a: number[]) { return a.map((x) => x); }'), 2);
  assert.equal(hot('function f() { return new Float64Array(4); }'), 1);
  assert.equal(hot('class A { b = new Float64Array(4); constructor() { new Int32Array(1); } }'), 0);
  assert.equal(hot('function f(e: boolean) { if (e) throw new Error(); }'), 0);
  assert.equal(hot('function f(x: number) { return `${x}`; }'), 1);
  assert.equal(hot('function f(x: number) { return x + 1; }'), 0);
  const markers = [
    '// ' + 'FIX' + 'ME later',
    '// ' + 'TO' + 'DO(#3) fine',
    '// ' + 'TO' + 'DO bad',
  ];
  assert.equal(checkMarkers([parse('src/a.ts', markers.join('\n'))]).length, 2);
});
