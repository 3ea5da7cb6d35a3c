/**
 * docs/PROTOCOL.md is what a client in another language is written from: its tables of frame
 * types, Error codes, close codes and the Command and Event structs must say what the code
 * does. Each table is read from the document and checked against the code (the enums as
 * src/protocol/frames.ts declares them; the structs by writing and reading bytes at the
 * document's offsets), so that neither can change without the other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { commandSizeBytes, eventSizeBytes } from '../../../src/constants.js';
import { writeCommandOf } from '../../../src/protocol/command-writer.js';
import { readEvent } from '../../../src/protocol/event-reader.js';

const root = join(new URL('.', import.meta.url).pathname, '..', '..', '..', '..');
const doc = readFileSync(join(root, 'docs', 'PROTOCOL.md'), 'utf8');
const framesSource = readFileSync(join(root, 'src', 'protocol', 'frames.ts'), 'utf8');

/** The rows of the first table after `heading`, as trimmed cells. */
function tableAfter(heading: string): string[][] {
  const at = doc.indexOf(heading);
  assert.ok(at >= 0, `PROTOCOL.md has ${heading}`);
  const lines = doc.slice(at).split('\n');
  const start = lines.findIndex((l) => l.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(start)) {
    if (!line.startsWith('|')) break;
    const cells = line.split('|').slice(1, -1);
    if (cells.every((c) => /^[\s:-]+$/.test(c))) continue; // the rule under the header
    rows.push(cells.map((c) => c.trim()));
  }
  return rows.slice(1); // without the header
}

/** The members of `export const enum <name>` in frames.ts by value (aliases, as All, left out). */
function enumOf(name: string): Map<number, string> {
  const body = new RegExp(`export const enum ${name} \\{([^}]*)\\}`).exec(framesSource)?.[1];
  assert.ok(body !== undefined, `frames.ts declares ${name}`);
  const members = new Map<number, string>();
  for (const [, member, value] of body.matchAll(/^\s*(\w+) = (0x[0-9a-fA-F]+|\d+),/gm)) {
    if (!members.has(Number(value))) members.set(Number(value), member);
  }
  return members;
}

test('the frame types table names every FrameType, with its value', () => {
  const rows = tableAfter('| type   | name ');
  const documented = new Map(rows.map(([type, name]) => [Number(type.replace(/`/g, '')), name]));
  assert.deepEqual(documented, enumOf('FrameType'));
});

test('the Error codes table names every FrameError, with its value', () => {
  const rows = tableAfter('### Error codes');
  const documented = new Map(rows.map(([code, name]) => [Number(code), name]));
  assert.deepEqual(documented, enumOf('FrameError'));
});

test('the close codes table has a row for every CloseCode the server sends', () => {
  const rows = tableAfter('## Close codes');
  const documented = rows.map(([code]) => Number(code)).filter((c) => c >= 4000);
  assert.deepEqual(documented.sort(), [...enumOf('CloseCode').keys()].sort());
});

/** A doc table of a struct, drawn as two side-by-side column triples: [offset, field, type]. */
function structRows(heading: string): [number, string, string][] {
  const out: [number, string, string][] = [];
  for (const row of tableAfter(heading)) {
    for (const [o, f, t] of [row.slice(0, 3), row.slice(4, 7)]) {
      if (o !== undefined && o !== '') out.push([Number(o), f.replace(/`/g, ''), t]);
    }
  }
  return out.sort((a, b) => a[0] - b[0]);
}

const widths: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8, i64: 8 };

function read(bytes: Buffer, offset: number, type: string): number {
  if (type === 'u8') return bytes.readUInt8(offset);
  if (type === 'u16') return bytes.readUInt16LE(offset);
  if (type === 'u32') return bytes.readUInt32LE(offset);
  if (type === 'u64') return Number(bytes.readBigUInt64LE(offset));
  assert.equal(type, 'i64');
  return Number(bytes.readBigInt64LE(offset));
}

/** The fields tile the struct: each starts where the one before ends, the last at its end. */
function assertTiles(rows: [number, string, string][], size: number): void {
  let at = 0;
  for (const [offset, field, type] of rows) {
    assert.equal(offset, at, `${field} starts where the field before it ends`);
    at += widths[type];
  }
  assert.equal(at, size);
}

const camel = (snake: string): string => snake.replace(/_(\w)/g, (_, c: string) => c.toUpperCase());

test('the Command table: the SDK writes each field at the offset and width it gives', () => {
  const rows = structRows('A `Command` (64 bytes');
  assertTiles(rows, commandSizeBytes);
  const values: Record<string, number> = {};
  rows.forEach(([, field, type], i) => (values[camel(field)] = type === 'i64' ? -(i + 1) : i + 1));
  const u32 = new Uint32Array(commandSizeBytes / 4);
  writeCommandOf(u32, 0, values.kind, values.clientId, values.clientSeq, values);
  const bytes = Buffer.from(u32.buffer);
  for (const [offset, field, type] of rows) {
    assert.equal(read(bytes, offset, type), values[camel(field)], field);
  }
});

test('the Event table: the SDK reads each field at the offset and width it gives', () => {
  const rows = structRows('An `Event` (128 bytes');
  assertTiles(rows, eventSizeBytes);
  const bytes = Buffer.alloc(eventSizeBytes);
  const values: Record<string, number> = {};
  rows.forEach(([offset, field, type], i) => {
    const value = type === 'i64' ? -(i + 1) : i + 1;
    values[camel(field)] = value;
    if (type === 'u8') bytes.writeUInt8(value, offset);
    else if (type === 'u16') bytes.writeUInt16LE(value, offset);
    else if (type === 'u32') bytes.writeUInt32LE(value, offset);
    else if (type === 'u64') bytes.writeBigUInt64LE(BigInt(value), offset);
    else bytes.writeBigInt64LE(BigInt(value), offset);
  });
  const event = readEvent(new Uint32Array(bytes.buffer, bytes.byteOffset, eventSizeBytes / 4), 0);
  for (const [, field] of rows) {
    const name = camel(field) as keyof typeof event;
    assert.equal(event[name], values[camel(field)], field);
  }
});

// What each kind fills in was only in events.fbs: a client written from PROTOCOL.md could not
// tell that a maker's Trade carries its order's open quantity in `aux`, or a CancelAll where to
// go on in `other_id`. The document has the table now, as the schema has it.
test('the table of what each event kind fills in is the one events.fbs has', () => {
  const schema = readFileSync(join(root, 'native-layouts', 'events.fbs'), 'utf8');
  const cells = (line: string): string[] =>
    line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
  const lines = schema.split('\n').filter((l) => l.startsWith('/// |'));
  const rows = lines.map((l) => cells(l.slice(4))).filter((r) => !r.every((c) => /^-*$/.test(c)));
  assert.ok(rows.length > 10, 'events.fbs has the table');
  const documented = tableAfter('What each event kind fills in');
  assert.deepEqual(documented, rows.slice(1));
});

// ClientErrorCode is what a client reads a ClientError's `code` by (README). It named neither
// 4001 (no login within 5 s: a client whose event loop stalled through its login gets it), nor
// 4003 or 4004: a client met a number the SDK's own names did not cover.
test('ClientErrorCode names every code of the Error codes and close codes tables', async () => {
  const { ClientErrorCode } = await import('../../../src/client/error-codes.js');
  const named = new Set<number>(Object.values(ClientErrorCode));
  const errors = tableAfter('### Error codes').map(([code]) => Number(code));
  const closes = tableAfter('## Close codes').map(([code]) => Number(code));
  const missing = [...errors, ...closes].filter((code) => !named.has(code));
  assert.deepEqual(missing, []);
});
