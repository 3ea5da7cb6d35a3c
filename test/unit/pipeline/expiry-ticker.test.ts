/**
 * The expiry ticker and the processor, on a node whose clock is an hour behind its journal's
 * last timestamp (a failover or a restart onto a slower clock). Logical time holds at the
 * journal's, so holds due by it are due now: the ticker must send its Tick for them at once.
 * Before, it compared their expiry with the clock alone, and a backlog left past what one
 * command expires (expiriesPerCommandMax, 4 here) waited an hour for the clock, or for a
 * client's command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../../src/engine/engine.js';
import { BusinessLogicProcessor } from '../../../src/pipeline/business-logic-processor.js';
import { ExpiryTicker } from '../../../src/pipeline/expiry-ticker.js';
import { InputPort } from '../../../src/pipeline/input-port.js';
import { JournalProgress } from '../../../src/journal/journal-progress.js';
import { RingBuffer } from '../../../src/ring/ring-buffer.js';
import { SequenceBarrier } from '../../../src/ring/sequence-barrier.js';
import { Sequencer } from '../../../src/ring/sequencer.js';
import { WaitStrategy } from '../../../src/ring/wait-strategy.js';
import { eventSizeBytes } from '../../../src/constants.js';
import { CommandKind, SequencedWord } from '../../../src/protocol/command-layout.js';
import { EventKind } from '../../../src/protocol/event-layout.js';
import { timerClientId } from '../../../src/protocol/command-writer.js';
import type { EventRecord } from '../../../src/protocol/event-reader.js';
import { EngineDriver } from '../../harness/engine-driver.js';
import { takeEvents } from '../../harness/event-ring.js';

const hourUs = 3_600_000_000;
const USD = 1;

/** The node's clock, read as the processor reads it (µs). */
function nowUs(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

/**
 * An engine whose journal ends an hour past this node's clock, holding `holds` transfers of 1
 * from account 10 that expired before its last command, which released only 4 of them.
 */
function engineAhead(holds: number, timeoutUs = 50_000): EngineDriver {
  const d = new EngineDriver();
  d.timestamp = nowUs() + hourUs;
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1_000 });
  for (let i = 0; i < holds; i++) {
    const pending = { account: 10, target: 11, ref: USD, quantity: 1, aux: timeoutUs };
    d.submit({ kind: CommandKind.TransferPending, ...pending });
  }
  d.advance(2 * timeoutUs);
  d.submit({ kind: CommandKind.Deposit, account: 11, ref: USD, quantity: 1 });
  return d;
}

/** A processor over `engine` as a node starts one, and the node's ticker feeding it. */
function pipeline(engine: Engine) {
  const wait = new WaitStrategy(0, 1);
  const slotSizeBytes = SequencedWord.size * 4;
  const input = RingBuffer.create({ slotCount: 64, slotSizeBytes, consumers: 1, spill: 0 });
  const output = RingBuffer.create({
    slotCount: 1 << 10,
    slotSizeBytes: eventSizeBytes,
    consumers: 1,
    spill: engine.eventsPerCommandMax,
  });
  const progress = new JournalProgress();
  const taken = new SequenceBarrier(input, 0, wait);
  const out = new Sequencer(output, wait);
  const processor = new BusinessLogicProcessor(engine, taken, out, progress, 64);
  const ticker = new ExpiryTicker(new InputPort(input, wait), progress, () => true);
  const events = new SequenceBarrier(output, 0, wait);
  /** Decides what the ring holds; returns the events written. */
  const step = (): EventRecord[] => {
    processor.processBatch(taken.position(), taken.available());
    return takeEvents(output, events);
  };
  return { ticker, step };
}

test('ticker: holds due in logical time are ticked while the clock is behind it', () => {
  const d = engineAhead(10);
  const last = d.engine.position()[1];
  assert.ok(last > nowUs() + hourUs / 2, 'the journal is ahead of this clock');
  assert.equal(d.balance(10, USD).held, 6, 'one command released 4 of the 10 due holds');
  const { ticker, step } = pipeline(d.engine);
  const expired: EventRecord[] = [];
  for (let round = 0; round < 10 && ticker.tick(nowUs()); round++) {
    const events = step();
    const tick = events[events.length - 1];
    assert.equal(tick.clientId, timerClientId, "the ticker's Tick");
    assert.equal(tick.kind, EventKind.Ticked);
    for (const e of events) assert.ok(e.timestamp >= last, 'logical time never goes back');
    expired.push(...events.filter((e) => e.kind === EventKind.PendingExpired));
  }
  assert.equal(expired.length, 6, 'the backlog is released by Ticks, not left for the clock');
  assert.deepEqual(d.balance(10, USD), { available: 1_000, held: 0 });
  assert.equal(ticker.tick(nowUs()), false, 'nothing due is left');
});

test('ticker: a hold due by the clock is ticked, one not yet due is not', () => {
  const d = new EngineDriver();
  d.timestamp = nowUs() - hourUs; // the journal an hour behind the clock: logical time = clock
  d.submit({ kind: CommandKind.AddAsset, ref: USD, aux: 2 });
  for (const account of [10, 11]) d.submit({ kind: CommandKind.CreateAccount, account });
  d.submit({ kind: CommandKind.Deposit, account: 10, ref: USD, quantity: 1_000 });
  const hold = { kind: CommandKind.TransferPending, account: 10, target: 11, ref: USD };
  d.submit({ ...hold, quantity: 5, aux: 60_000_000 }); // due 59 minutes ago
  d.submit({ ...hold, quantity: 7, aux: 2 * hourUs }); // due in an hour
  const { ticker, step } = pipeline(d.engine);
  assert.equal(ticker.tick(nowUs()), true);
  const events = step();
  assert.deepEqual(
    events.map((e) => e.kind),
    [EventKind.PendingExpired, EventKind.Ticked],
  );
  assert.equal(events[0].release, 5);
  assert.equal(ticker.tick(nowUs()), false, 'the other is due in an hour');
  assert.deepEqual(d.balance(10, USD), { available: 993, held: 7 });
});

test('ticker: a backlog of due holds gets bursts of Ticks, not one Tick a turn', () => {
  // 116 holds due at once, 4 expired per command (smallConfig): 29 Ticks' worth. One Tick a
  // timer turn (100 ms) took 29 turns, as 65,536 holds at the default 64 took 1,024 (103 s).
  const d = engineAhead(120, 1_000_000); // none due while they are made
  assert.equal(d.balance(10, USD).held, 116);
  const { ticker, step } = pipeline(d.engine);
  let turns = 0;
  let expired = 0;
  for (; turns < 40 && ticker.tick(nowUs()); turns++) {
    const events = step();
    expired += events.filter((e) => e.kind === EventKind.PendingExpired).length;
  }
  assert.equal(expired, 116, 'every due hold released');
  assert.deepEqual(d.balance(10, USD), { available: 1_000, held: 0 });
  // Bursts of 1, 2, 4, 8, 16 Ticks: 4 + 8 + 16 + 32 + 64 holds.
  assert.ok(turns <= 5, `${turns} turns of the timer`);
  assert.ok(ticker.ticks <= 2 * 29, `${ticker.ticks} Ticks for 29 Ticks' worth of holds`);
});
