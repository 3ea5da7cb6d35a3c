/**
 * What a member logs of members whose messages it drops: nothing on one message, or on
 * messages that disagree (what damaged datagrams looked like before checksums: cluster ids a
 * bit apart), and a cautious line once several in a row say the same other cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foreignLogMs, foreignMessagesMin } from '../../../src/constants.js';
import { ForeignMembers } from '../../../src/pipeline/foreign-members.js';

const ours = 0x9a0491cc;

function member(): { foreign: ForeignMembers; lines: string[] } {
  const lines: string[] = [];
  const consensus = { id: 2, membersMask: 0b111, clusterId: ours };
  return { foreign: new ForeignMembers(consensus, (line) => lines.push(line)), lines };
}

test('one message of another cluster id concludes nothing; several in a row do', () => {
  const { foreign, lines } = member();
  foreign.report(3, 0x9a4491cc, 0b111); // one bit off ours: a damaged datagram, once
  for (let i = 0; i < foreignMessagesMin * 3; i++) {
    foreign.report(1, ours ^ (1 << (i % 32)), 0b111); // each of another id
  }
  assert.equal(lines.length, 0, 'no conclusion from messages that disagree');
  for (let i = 0; i < foreignMessagesMin - 1; i++) foreign.report(3, 0x12345678, 0b111);
  assert.equal(lines.length, 0);
  foreign.report(3, 0x12345678, 0b111);
  assert.equal(lines.length, 1);
  const [line] = lines;
  assert.ok(line.startsWith("member 2: member 3 holds another cluster's journal"), line);
  assert.ok(line.includes(`${foreignMessagesMin} messages in a row`), line);
  assert.ok(line.includes('Confirm before emptying any folder: GET /health'), line);
  for (let i = 0; i < foreignMessagesMin * 2; i++) foreign.report(3, 0x12345678, 0b111);
  assert.equal(lines.length, 1, 'then at most once per foreignLogMs');
});

test('another member list is told only once several messages say it', () => {
  const { foreign, lines } = member();
  foreign.report(1, ours, 0b1111);
  foreign.report(1, ours, 0b101);
  assert.equal(lines.length, 0);
  for (let i = 0; i < foreignMessagesMin; i++) foreign.report(1, ours, 0b1111);
  assert.equal(lines.length, 1);
  const said = "cluster file lists members 1,2,3,4, this member's 1,2,3: its messages are dropped";
  assert.ok(lines[0].includes(said), lines[0]);
});

test('a step of the wall clock back does not silence the line', (t) => {
  const { foreign, lines } = member();
  let wall = Date.now();
  t.mock.method(Date, 'now', () => wall);
  let mono = performance.now();
  t.mock.method(performance, 'now', () => mono);
  for (let i = 0; i < foreignMessagesMin; i++) foreign.report(3, 0x12345678, 0b111);
  assert.equal(lines.length, 1);
  wall -= 3_600_000; // NTP steps the clock an hour back; the monotonic clock goes on
  mono += foreignLogMs;
  foreign.report(3, 0x12345678, 0b111);
  assert.equal(lines.length, 2, 'told again once foreignLogMs passed');
});
