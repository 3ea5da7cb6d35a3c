/** Deterministic workloads for pipeline tests and benches. */
import { setupCommands } from './generators.js';
import { CommandFlag, CommandKind } from '../../src/protocol/command-layout.js';
import type { CommandFields } from '../../src/protocol/command-writer.js';

/** A deterministic mixed workload: set-up, then transfers and crossing limit orders. */
export function workload(clientId: number, count: number, seed = 1): CommandFields[] {
  let x = seed;
  const next = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x % n;
  };
  const out: CommandFields[] = setupCommands().map((f, i) => ({
    ...f,
    clientId,
    clientSeq: i + 1,
  }));
  for (let i = 0; i < count; i++) {
    const clientSeq = out.length + 1;
    const account = 1 + next(6);
    if (next(2) === 0) {
      const target = 1 + next(6);
      out.push({
        kind: CommandKind.Transfer,
        clientId,
        clientSeq,
        account,
        target,
        ref: 1 + next(3),
        quantity: 1 + next(50),
      });
    } else {
      const sell = next(2) === 0 ? 1 : 0;
      out.push({
        kind: CommandKind.PlaceOrder,
        clientId,
        clientSeq,
        account,
        ref: 2,
        price: 90 + next(20),
        quantity: 1 + next(5),
        flags: sell ? CommandFlag.Sell : 0,
      });
    }
  }
  return out;
}
