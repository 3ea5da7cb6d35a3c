/**
 * bench:peer-postgres's transfer stream, made the same way wherever it is needed (the bench
 * and each of its bourse client processes), and the closed loop that drives it.
 */
import { Rng } from '../../src/stdx/rng.js';

/** The transfer stream: generated from its seed, sent unchanged to both sides. */
export interface Stream {
  from: Int32Array;
  to: Int32Array;
  amount: Int32Array;
  /** FNV-1a of every (from, to, amount): the same stream gives the same checksum. */
  checksum: string;
}

export interface StreamShape {
  seed: number;
  transfers: number;
  accounts: number;
  /** Amounts are uniform in 1..amountMax. */
  amountMax: number;
}

export function makeStream(shape: StreamShape): Stream {
  const { seed, transfers, accounts, amountMax } = shape;
  const rng = new Rng(seed);
  const from = new Int32Array(transfers);
  const to = new Int32Array(transfers);
  const amount = new Int32Array(transfers);
  let hash = 0x811c9dc5;
  for (let i = 0; i < transfers; i++) {
    from[i] = 1 + rng.int(accounts);
    const other = 1 + rng.int(accounts - 1); // any account but the source
    to[i] = other >= from[i] ? other + 1 : other;
    amount[i] = 1 + rng.int(amountMax);
    for (const word of [from[i], to[i], amount[i]]) hash = Math.imul(hash ^ word, 0x01000193);
  }
  return { from, to, amount, checksum: (hash >>> 0).toString(16).padStart(8, '0') };
}

/**
 * Sends the items `items` yields over `lanes` lanes, each sending one at a time and then
 * taking the next item (a closed loop); returns the elapsed ms.
 */
export async function closedLoop(
  items: readonly number[] | number,
  lanes: number,
  send: (i: number, lane: number) => Promise<void>,
): Promise<number> {
  const list = typeof items === 'number' ? null : items;
  const count = list === null ? (items as number) : list.length;
  let next = 0;
  const run = async (lane: number): Promise<void> => {
    while (next < count) {
      const at = next++;
      await send(list === null ? at : list[at], lane);
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(lanes, count) }, (_, lane) => run(lane)));
  return performance.now() - t0;
}
