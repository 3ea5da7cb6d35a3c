import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeDriver, removeDir, tempDataDir } from '../harness/node-driver.js';
import { EngineDriver, smallConfig } from '../harness/engine-driver.js';
import { setupCommands } from '../harness/generators.js';
import { workload } from '../harness/workload.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';
import type { EventRecord } from '../../src/protocol/event-reader.js';
import { openJournalDb, closeJournalDb } from '../../src/journal/journal-db.js';
import { Replica } from '../../src/pipeline/replay.js';

/** Runs `commands` through an in-process engine with the node's stamps; returns its events. */
function expected(commands: CommandFields[], durable: EventRecord[]): EventRecord[] {
  const stamps = new Map<string, [number, number]>();
  for (const e of durable) stamps.set(`${e.clientId}/${e.clientSeq}`, [e.sequence, e.timestamp]);
  const d = new EngineDriver(smallConfig);
  const out: EventRecord[] = [];
  for (const f of commands) {
    const stamp = stamps.get(`${f.clientId}/${f.clientSeq}`);
    assert.ok(stamp !== undefined, `command ${f.clientId}/${f.clientSeq} is durable`);
    out.push(...d.submitAt(f, stamp[0], stamp[1]));
  }
  return out;
}

test('commands go ring → processor → journal → publisher and match the engine alone', async () => {
  const dir = tempDataDir();
  try {
    const driver = await NodeDriver.start({ dataDir: dir, config: smallConfig });
    assert.equal(driver.node.recovery.sequence, 0);
    const commands = workload(1, 3_000);
    await driver.submit(commands);
    await driver.untilDurable(commands.length);
    await driver.stop();
    assert.deepEqual(driver.durable, expected(commands, driver.durable));
    assert.equal(driver.durable.at(-1)?.sequence, commands.length);
  } finally {
    removeDir(dir);
  }
});

test('a restarted node recovers to its journal end and goes on from there', async () => {
  const dir = tempDataDir();
  try {
    const first = await NodeDriver.start({ dataDir: dir, config: smallConfig });
    const commands = workload(1, 2_000);
    await first.submit(commands);
    await first.untilDurable(commands.length);
    await first.stop();
    const second = await NodeDriver.start({ dataDir: dir, config: smallConfig });
    assert.equal(second.node.recovery.sequence, commands.length);
    const more = workload(2, 1_000, 7).slice(setupCommands().length);
    await second.submit(more);
    await second.untilDurable(commands.length + more.length);
    await second.stop();
    assert.equal(second.durable[0].sequence, commands.length + 1, 'sequences go on');
    const all = [...first.durable, ...second.durable];
    assert.deepEqual(all, expected([...commands, ...more], all));
    const db = openJournalDb(dir, { create: false, readOnly: true });
    const replica = new Replica(smallConfig);
    replica.replay(db, Infinity);
    closeJournalDb(db);
    assert.equal(replica.sequence, commands.length + more.length);
    assert.equal(replica.eventsApplied, all.length);
  } finally {
    removeDir(dir);
  }
});

/**
 * A cluster member starts a new node at every change of role, on the rings of the node it
 * stopped (node-rings.ts): the new node resets them and goes on as on new ones, and the stopped
 * node's input port takes nothing more. (Each node allocated its own before: 33 MB a change of
 * role, left to the main thread's next full collection.)
 */
test("a node started on a stopped node's rings goes on from the journal end", async () => {
  const dir = tempDataDir();
  try {
    // A small input ring: the first node's commands go round it many times.
    const options = { dataDir: dir, config: smallConfig, inputRingSlots: 64 };
    const first = await NodeDriver.start(options);
    const commands = workload(3, 2_000);
    await first.submit(commands);
    await first.untilDurable(commands.length);
    await first.stop();
    const stopped = first.node.input;
    assert.ok(stopped !== null);
    assert.equal(stopped.hasRoom(1), false, 'a stopped node takes no command');
    assert.equal(await stopped.waitRoom(1), false);
    const second = await NodeDriver.start({ ...options, rings: first.node.rings });
    assert.equal(second.node.inputRing.buffer, first.node.inputRing.buffer, 'the same rings');
    assert.equal(second.node.outputRing.buffer, first.node.outputRing.buffer);
    const more = workload(4, 1_000, 7).slice(setupCommands().length);
    await second.submit(more);
    await second.untilDurable(commands.length + more.length);
    await second.stop();
    assert.equal(second.durable[0].sequence, commands.length + 1, 'sequences go on');
    const all = [...first.durable, ...second.durable];
    assert.deepEqual(all, expected([...commands, ...more], all));
  } finally {
    removeDir(dir);
  }
});
