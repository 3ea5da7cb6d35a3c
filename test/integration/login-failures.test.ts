/**
 * Refused logins leave a trace: counted by reason on /metrics and summed up in one warn line,
 * never with a key (a hostile-input audit: 5,300 failed logins in 2 s were neither).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { BourseClient } from '../../src/client/client.js';
import { BourseNode } from '../../src/pipeline/node.js';
import { createKey } from '../../src/gateway/api-keys.js';
import { CloseCode, FrameType, LoginMethod } from '../../src/protocol/frames.js';
import { frame, keysFile } from '../harness/gateway-node.js';
import { smallConfig } from '../harness/engine-driver.js';
import { removeDir, tempDataDir } from '../harness/node-driver.js';
import { seriesValue } from '../harness/metrics-text.js';

/** A Hello body: client id, key length, login method, key. */
function helloBody(clientId: number, key: string, method: number = LoginMethod.Key): Buffer {
  const bytes = Buffer.from(key, 'latin1');
  const body = Buffer.alloc(8 + bytes.byteLength);
  body.writeUInt32LE(clientId, 0);
  body.writeUInt16LE(bytes.byteLength, 4);
  body.writeUInt16LE(method, 6);
  bytes.copy(body, 8);
  return body;
}

/** Opens a raw socket, sends `frames` and resolves with the close code the server chose. */
async function closeCodeOf(url: string, frames: Buffer[]): Promise<number> {
  return (await closeOf(url, frames)).code;
}

/** closeCodeOf, with the close's reason. */
function closeOf(url: string, frames: Buffer[]): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('error', reject);
    ws.once('open', () => frames.forEach((f) => ws.send(f)));
    // A challenge is answered with a wrong proof.
    ws.on('message', (data: Buffer) => {
      if (data.readUInt8(0) !== FrameType.Challenge) return;
      ws.send(frame(FrameType.Answer, Buffer.alloc(32, 7)));
    });
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

/** The value of `bourse_login_failures_total{reason}` in a /metrics text. */
function failures(text: string, reason: string): number {
  return seriesValue(text, `bourse_login_failures_total{reason="${reason}"}`);
}

test('refused logins are counted by reason on /metrics and summed up in one line', async () => {
  const user = createKey(71, false, [1]);
  const [, id, secret] = /^bk_([0-9a-f]{8})_(.+)$/.exec(user.token)!;
  const dir = tempDataDir();
  keysFile(user)(dir);
  const lines: { line: string; level?: string }[] = [];
  const node = await BourseNode.start({
    dataDir: dir,
    config: smallConfig,
    gateway: { host: '127.0.0.1', port: 0 },
    log: (line, level) => lines.push({ line, level }),
  });
  const url = `ws://127.0.0.1:${node.gateway?.port}/`;
  try {
    const open = await BourseClient.connect(url, { clientId: 71, apiKey: user.token });
    const wrong = `bk_${id}_${'x'.repeat(secret.length)}`;
    const cases: [string, Buffer, number, number][] = [
      ['wrong_secret', helloBody(72, wrong), CloseCode.Unauthorized, 40],
      ['unknown_key', helloBody(72, `bk_00000000_${secret}`), CloseCode.Unauthorized, 3],
      ['malformed', helloBody(72, 'k'.repeat(60_000)), CloseCode.Unauthorized, 2],
      ['malformed', Buffer.alloc(2), CloseCode.Malformed, 1],
      ['no_key', helloBody(72, ''), CloseCode.Unauthorized, 2],
      ['wrong_client', helloBody(72, user.token), CloseCode.Unauthorized, 1],
      ['wrong_secret', helloBody(71, `bk_${id}`, LoginMethod.Challenge), CloseCode.Unauthorized, 1],
      ['client_id_taken', helloBody(71, user.token), CloseCode.ClientIdInUse, 1],
    ];
    for (const [reason, body, code, times] of cases) {
      for (let i = 0; i < times; i++) {
        assert.equal(await closeCodeOf(url, [frame(FrameType.Hello, body)]), code, reason);
      }
    }
    // Challenge login 1 (whose proofs keys.json could sign) is refused, saying what to use.
    const v1 = await closeOf(url, [frame(FrameType.Hello, helloBody(71, `bk_${id}`, 1))]);
    assert.equal(v1.code, CloseCode.Unauthorized);
    assert.match(v1.reason, /challenge login 1 is retired: use method 2 \(docs\/PROTOCOL\.md\)/);
    // An Answer with no challenge pending (was closed uncounted).
    const answer = frame(FrameType.Answer, Buffer.alloc(32));
    assert.equal(await closeCodeOf(url, [answer]), CloseCode.HelloRequired, 'Answer first');
    // The first scrape is computed now (later ones within metricsCacheMs share it).
    const text = await (await fetch(url.replace('ws', 'http') + 'metrics')).text();
    assert.equal(failures(text, 'wrong_secret'), 41);
    assert.equal(failures(text, 'unknown_key'), 3);
    assert.equal(failures(text, 'malformed'), 5);
    assert.equal(failures(text, 'no_key'), 2);
    assert.equal(failures(text, 'wrong_client'), 1);
    assert.equal(failures(text, 'client_id_taken'), 1);
    assert.equal(failures(text, 'timeout'), 0, 'every reason is shown, 0 until seen');
    assert.equal(lines.filter((l) => /logins refused/.test(l.line)).length, 0, 'not yet');
    await open.close();
  } finally {
    await node.stop(); // writes the interval's line now
    removeDir(dir);
  }
  const summaries = lines.filter((l) => /logins refused/.test(l.line));
  assert.equal(summaries.length, 1, 'one line for 53 failures');
  const { line, level } = summaries[0];
  assert.equal(level, 'warn');
  assert.match(line, /: 53 \(malformed 5, no_key 2, unknown_key 3, wrong_secret 41, /);
  assert.match(line, /wrong_client 1, client_id_taken 1\); from 1 address, most: 127\.0\.0\.1 53/);
  assert.ok(!line.includes(secret) && !line.includes(id), 'never a key');
});
