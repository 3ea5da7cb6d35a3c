/**
 * `bourse replay`: rebuilds the state as it stood at a sequence or a time, from the journal
 * alone (no snapshot, so it cannot inherit a snapshot's fault), and prints it.
 */
import { readU64At } from '../stdx/records.js';
import { closeJournalDb, sequenceKey, type JournalDb } from '../journal/journal-db.js';
import { batchKeyAtOrBefore, readBatches } from '../journal/journal-reader.js';
import { batchAtTimeChecked } from '../journal/time-index.js';
import { EventFlag, EventOffset } from '../protocol/event-layout.js';
import { Replica } from '../pipeline/replay.js';
import { isoTimeUs } from '../protocol/time-us.js';
import { standbyLogPast } from '../pipeline/group-commit.js';
import { openData, standbyLogLine } from './open-data.js';
import { progressBar, table } from './output.js';
import { balances, bookSide, openOrders } from '../pipeline/state-view.js';

export interface ReplayOptions {
  data: string;
  toSeq?: number;
  toTimeUs?: number;
  balances?: boolean;
  orders?: boolean;
  book?: number;
  account?: number;
  /** Print the state to stdout (the CLI does; tests read the returned replica). */
  print?: boolean;
}

export function replay(options: ReplayOptions): Replica {
  const { db, config, tail } = openData(options.data);
  try {
    const asked = limitSequence(options, db, tail.sequence);
    const chain = chainAround(db, asked, config.chainLengthMax);
    const limit = chain === null ? asked : chain[0] - 1;
    const replica = new Replica(config);
    const bar = progressBar('replay', Math.min(limit, tail.sequence));
    replica.replay(db, limit, () => bar.update(replica.sequence));
    bar.stop();
    if (options.print !== true) return replica;
    const past = standbyLogPast(options.data, db);
    print(replica, options, tail.sequence, chain);
    process.stdout.write(standbyLogLine('replay', options.data, past));
    return replica;
  } finally {
    closeJournalDb(db);
  }
}

/** The last sequence to include: --to-seq, or the last event at or before --to-time. */
function limitSequence(options: ReplayOptions, db: JournalDb, end: number): number {
  if (options.toSeq !== undefined) return options.toSeq;
  if (options.toTimeUs === undefined) return end;
  // Cross-checked against the batches: a damaged index gave an empty or wrong state.
  const first = batchAtTimeChecked(db, options.toTimeUs);
  if (first <= 0) return 0;
  return lastSequenceAtTime(db, first, options.toTimeUs);
}

/**
 * The linked chain that `sequence` is a member of, but not its last ([first, last]), or null.
 * A chain's members are decided together when its last one arrives: the state between them
 * never existed, so a replay that would stop inside one stops just before it. Only a chain
 * closed by its own client within `lengthMax` members can have been applied; any other run of
 * linked commands was rejected whole and changed nothing, so it needs no rounding.
 */
function chainAround(db: JournalDb, sequence: number, lengthMax: number): [number, number] | null {
  const client = new Map<number, number>(); // head event's sequence -> client id, minus if Linked
  readBatches(db, batchKeyAtOrBefore(db, Math.max(1, sequence - lengthMax)), null, (view) => {
    const dv = new DataView(view.events.buffer, view.events.byteOffset, view.events.byteLength);
    for (let at = 0; at < view.events.byteLength; at += EventOffset.size) {
      const flags = dv.getUint16(at + EventOffset.flags, true);
      if ((flags & EventFlag.Head) === 0) continue;
      const id = dv.getUint32(at + EventOffset.clientId, true);
      client.set(
        readU64At(dv, at + EventOffset.sequence),
        (flags & EventFlag.Linked) !== 0 ? -id : id,
      );
    }
    return view.firstSequence <= sequence + lengthMax;
  });
  const member = client.get(sequence) ?? 0;
  if (member >= 0) return null;
  let first = sequence;
  while (client.get(first - 1) === member) first--;
  let last = sequence;
  while (client.get(last) === member) last++;
  const closed = client.get(last) === -member;
  return closed && last - first < lengthMax ? [first, last] : null;
}

/**
 * The last event at or before `timeUs`: in the last batch that starts by then (the time index
 * finds it), since the next batch starts later.
 */
function lastSequenceAtTime(db: JournalDb, batch: number, timeUs: number): number {
  let last = batch - 1;
  readBatches(db, sequenceKey(batch), null, (view) => {
    const dv = new DataView(view.events.buffer, view.events.byteOffset, view.events.byteLength);
    for (let at = 0; at < view.events.byteLength; at += 128) {
      const ts = readU64At(dv, at + 8);
      if (ts > timeUs) return false;
      last = readU64At(dv, at);
    }
    return true;
  });
  return last;
}

/** What was asked for but is not there: a sequence past the end, an account, a book. */
function absent(replica: Replica, options: ReplayOptions, end: number): string[] {
  const notes: string[] = [];
  if (options.toSeq !== undefined && options.toSeq > end) {
    notes.push(`(the journal ends at sequence ${end}; --to-seq ${options.toSeq} is past it)`);
  }
  const e = replica.engine;
  if (options.account !== undefined && e.accounts.slotOf(options.account) === -1) {
    notes.push(`(account ${options.account} does not exist at this sequence)`);
  }
  if (options.book !== undefined && !e.instruments.has(options.book)) {
    notes.push(`(instrument ${options.book} does not exist at this sequence)`);
  }
  return notes;
}

function print(
  replica: Replica,
  options: ReplayOptions,
  end: number,
  chain: [number, number] | null,
): void {
  const e = replica.engine;
  const when = isoTimeUs(replica.timestamp); // to the µs: pasted into --to-time, it includes it
  const out: string[] = [
    replica.sequence === 0
      ? 'state before the first event: nothing applied'
      : `state at sequence ${replica.sequence} (${when}), ${replica.eventsApplied} events applied`,
    `state checksum ${e.checksum.hex()}`,
    ...(chain === null
      ? []
      : [
          `(sequences ${chain[0]} to ${chain[1]} are one linked chain, decided together when ` +
            `${chain[1]} arrived: no state existed between them, so this is the state before it)`,
        ]),
    ...absent(replica, options, end),
  ];
  const account = options.account ?? -1;
  if (options.balances === true) out.push('', 'balances', table(balances(e, account) as never[]));
  if (options.orders === true)
    out.push('', 'open orders', table(openOrders(e, account) as never[]));
  if (options.book !== undefined) out.push('', ...bookLines(replica, options.book));
  process.stdout.write(out.join('\n') + '\n');
}

/**
 * A book's sides, after whether it is halted: a halted book keeps its orders but takes no new
 * ones, and its tables alone could not tell it from a quiet one (GET /book says it too).
 */
function bookLines(replica: Replica, instrument: number): string[] {
  const e = replica.engine;
  const halted = e.instruments.halted[instrument] === 1;
  const state = halted ? 'halted (it keeps its orders, takes no new ones; cancels go)' : 'trading';
  return [
    ...(e.instruments.has(instrument) ? [`book ${instrument}: ${state}`] : []),
    `book ${instrument} asks (best first)`,
    table(bookSide(e, instrument, true) as never[]),
    `book ${instrument} bids (best first)`,
    table(bookSide(e, instrument, false) as never[]),
  ];
}
