/**
 * Capacity check for bench:engine: an engine sized for N accounts and N resting orders, filled
 * to that level through real commands, and the memory it takes (typed arrays live outside the JS
 * heap, so the figure is heap used plus array buffers).
 */
import { Engine } from '../../src/engine/engine.js';
import { engineConfigDefault } from '../../src/constants.js';
import { RecordBuffer } from '../../src/stdx/records.js';
import { CommandKind, CommandFlag, SequencedWord } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { stampCommand, writeCommand } from '../../src/protocol/command-writer.js';
import { heapAfterGc } from '../lib/gc-watch.js';

export function measureCapacity(n: number): {
  accounts: number;
  orders: number;
  megabytes: number;
} {
  const before = heapAfterGc() + process.memoryUsage().arrayBuffers;
  const engine = new Engine({
    ...engineConfigDefault,
    accountCountMax: n + 1,
    orderCountMax: n,
    levelCountMax: Math.min(n, 1 << 16),
    levelsPerSideMax: Math.min(n, 4096),
  });
  const cmd = RecordBuffer.allocate(1, SequencedWord.size * 4);
  const out = RecordBuffer.allocate(engine.eventsPerCommandMax, EventWord.size * 4);
  let sequence = 0;
  let clientSeq = 0;
  const exec = (f: Parameters<typeof writeCommand>[2]): void => {
    writeCommand(cmd.u32, 0, f);
    sequence++;
    stampCommand(cmd.u32, 0, sequence, sequence);
    engine.execute(cmd.u32, 0, out, 0);
  };
  const c = { clientId: 1 };
  exec({ ...c, clientSeq: ++clientSeq, kind: CommandKind.AddAsset, ref: 1, aux: 2 });
  exec({ ...c, clientSeq: ++clientSeq, kind: CommandKind.AddAsset, ref: 2, aux: 2 });
  exec({
    ...c,
    clientSeq: ++clientSeq,
    kind: CommandKind.AddInstrument,
    ref: 1,
    target: 2,
    aux: 1,
    price: 1,
    quantity: 1,
  });
  for (let a = 1; a <= n; a++) {
    exec({ ...c, clientSeq: ++clientSeq, kind: CommandKind.CreateAccount, account: a });
    exec({
      ...c,
      clientSeq: ++clientSeq,
      kind: CommandKind.Deposit,
      account: a,
      ref: 1,
      quantity: 1e9,
    });
    exec({
      ...c,
      clientSeq: ++clientSeq,
      kind: CommandKind.Deposit,
      account: a,
      ref: 2,
      quantity: 1e9,
    });
  }
  // Bids below 5000, asks above: nothing crosses, so every order rests.
  for (let i = 0; i < n; i++) {
    const sell = (i & 1) === 1;
    exec({
      ...c,
      clientSeq: ++clientSeq,
      kind: CommandKind.PlaceOrder,
      account: 1 + (i % n),
      ref: 1,
      flags: sell ? CommandFlag.Sell : 0,
      price: sell ? 5001 + (i % 4000) : 4999 - (i % 4000),
      quantity: 1,
    });
  }
  const resting = engine.orders.pool.used();
  const after = heapAfterGc() + process.memoryUsage().arrayBuffers;
  return {
    accounts: engine.accounts.count,
    orders: resting,
    megabytes: Math.round((after - before) / 2 ** 20),
  };
}
