/**
 * Reading ahead (engine/prefetch.ts) changes nothing: with or without it, the same commands
 * write the same events, replicas applying those events reach the same state, and garbage
 * (unknown accounts and orders, huge ids, random words) is read without harm.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Engine } from '../../../src/engine/engine.js';
import { EventWord } from '../../../src/protocol/event-layout.js';
import { EngineDriver, smallConfig } from '../../harness/engine-driver.js';
import { setupCommands } from '../../harness/generators.js';
import { writeCommand, type CommandFields } from '../../../src/protocol/command-writer.js';
import { CommandKind, SequencedWord } from '../../../src/protocol/command-layout.js';

type Fields = Omit<CommandFields, 'clientId' | 'clientSeq'>;

/** Commands over the generators' universe, with ids that exist, do not, or overflow. */
const id = fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constant(2 ** 53 - 1), fc.constant(0));
const fields: fc.Arbitrary<Fields> = fc.record({
  kind: fc.constantFrom(
    CommandKind.Transfer,
    CommandKind.TransferPending,
    CommandKind.Deposit,
    CommandKind.Withdraw,
    CommandKind.PlaceOrder,
    CommandKind.PlaceOrder,
    CommandKind.CancelOrder,
    CommandKind.AmendOrder,
    CommandKind.Tick,
  ),
  account: id,
  // Cancels and amends name orders by the sequence that placed them: recent ones, mostly.
  target: fc.integer({ min: 0, max: 120 }),
  ref: fc.integer({ min: 0, max: 5 }),
  price: fc.integer({ min: 80, max: 120 }),
  quantity: fc.integer({ min: 1, max: 60 }),
  flags: fc.constantFrom(0, 2, 4, 6),
});

function withSetup(): EngineDriver {
  const d = new EngineDriver();
  for (const f of setupCommands()) d.submit(f);
  return d;
}

test('deciding after reading ahead writes the same events and the same state', () => {
  fc.assert(
    fc.property(fc.array(fields, { minLength: 1, maxLength: 120 }), (commands) => {
      const plain = withSetup();
      const ahead = withSetup();
      for (const f of commands) {
        const expected = plain.submit(f);
        const full = { clientId: ahead.clientId, clientSeq: ++ahead.clientSeq, ...f };
        writeCommand(ahead.commands.u32, 0, full);
        ahead.engine.prefetchNote(ahead.commands.u32, 0);
        ahead.engine.prefetchRead();
        assert.deepEqual(ahead.executeRaw(ahead.commands.u32, 0), expected);
      }
      assert.equal(ahead.engine.checksum.hex(), plain.engine.checksum.hex());
    }),
    { numRuns: 150 },
  );
});

test('reading ahead garbage neither throws nor changes the state', () => {
  const d = withSetup();
  d.submit({ kind: CommandKind.PlaceOrder, account: 1, ref: 1, price: 100, quantity: 10 });
  const before = d.engine.checksum.hex();
  fc.assert(
    fc.property(
      fc.uint32Array({ minLength: SequencedWord.size, maxLength: SequencedWord.size }),
      (words) => {
        for (let i = 0; i < 300; i++) d.engine.prefetchNote(words, 0); // past its capacity too
        d.engine.prefetchRead();
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(d.engine.checksum.hex(), before);
});

test('a replica that reads each event ahead reaches the same state as one that does not', () => {
  fc.assert(
    fc.property(
      fc.array(fields, { minLength: 1, maxLength: 120 }),
      fc.uint32Array({ minLength: EventWord.size, maxLength: EventWord.size }),
      (commands, garbage) => {
        const primary = withSetup();
        for (const f of commands) primary.submit(f);
        const plain = new Engine(smallConfig);
        const ahead = new Engine(smallConfig);
        for (const event of primary.journal) {
          plain.applyAt(event, 0);
          ahead.prefetchNoteEvent(event, 0);
          ahead.prefetchNoteEvent(garbage, 0);
          ahead.prefetchRead();
          ahead.applyAt(event, 0);
        }
        assert.equal(plain.checksum.hex(), primary.engine.checksum.hex());
        assert.equal(ahead.checksum.hex(), primary.engine.checksum.hex());
      },
    ),
    { numRuns: 100 },
  );
});
