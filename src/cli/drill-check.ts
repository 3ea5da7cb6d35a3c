/**
 * The drill's history checker, run on the members' data folders once they have stopped: the
 * same hash chain and state checksum on every replica, every acknowledged command present
 * exactly once, and the assets conserved (the sum of every balance, available and held).
 */
import { closeJournalDb } from '../journal/journal-db.js';
import { EventFlag, EventKind, EventWord } from '../protocol/event-layout.js';
import { readEvent } from '../protocol/event-reader.js';
import { Replica } from '../pipeline/replay.js';
import { balances } from '../pipeline/state-view.js';
import { openData } from './open-data.js';
import { SeqCounts } from './seq-counts.js';

export interface ReplicaCheck {
  identical: boolean;
  lost: number;
  duplicated: number;
  conserved: boolean;
  lastSequence: number;
}

interface Replayed {
  tail: string;
  checksum: string;
  lastSequence: number;
  /** Commands of the drill's client applied (head events, not Duplicate answers), by seq. */
  applied: SeqCounts;
  total: number;
}

function replayMember(dir: string, clientId: number): Replayed {
  const { db, config, tail } = openData(dir);
  try {
    const replica = new Replica(config);
    const applied = new SeqCounts();
    replica.replay(db, tail.sequence, (view) => {
      const words = new Uint32Array(view.count * EventWord.size);
      new Uint8Array(words.buffer).set(view.events.subarray(0, words.byteLength));
      for (let i = 0; i < view.count; i++) {
        const e = readEvent(words, i * EventWord.size);
        if (e.clientId !== clientId || (e.flags & EventFlag.Head) === 0) continue;
        if (e.kind === EventKind.Duplicate) continue;
        applied.add(e.clientSeq);
      }
    });
    const total = balances(replica.engine).reduce((sum, b) => sum + b.available + b.held, 0);
    return {
      tail: `${tail.sequence}:${Buffer.from(tail.hash).toString('hex')}`,
      checksum: replica.engine.checksum.hex(),
      lastSequence: tail.sequence,
      applied,
      total,
    };
  } finally {
    closeJournalDb(db);
  }
}

/** Checks every member's data against the acknowledged commands (their client seqs). */
export function checkReplicas(
  dirs: readonly string[],
  acked: SeqCounts,
  expectedTotal: number,
  clientId = 9,
): ReplicaCheck {
  const all = dirs.map((dir) => replayMember(dir, clientId));
  const first = all[0];
  const identical = all.every((r) => r.tail === first.tail && r.checksum === first.checksum);
  let lost = 0;
  let duplicated = 0;
  for (const [seq] of acked.entries()) if (first.applied.count(seq) === 0) lost++;
  for (const [, times] of first.applied.entries()) if (times > 1) duplicated++;
  return {
    identical,
    lost,
    duplicated,
    conserved: all.every((r) => r.total === expectedTotal),
    lastSequence: first.lastSequence,
  };
}
