/**
 * Worker entry of the business-logic processor. Start-up: rebuild the engine from the newest
 * valid snapshot and the journal tail, then decide commands until the input ring is halted and
 * drained, then halt the output ring so the journal writer and publisher drain it too.
 */
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData } from 'node:worker_threads';
import { ringBatchMax, ringSleepMs, ringSpinCount, type EngineConfig } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { RingBuffer } from '../ring/ring-buffer.js';
import { SequenceBarrier } from '../ring/sequence-barrier.js';
import { Sequencer } from '../ring/sequencer.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { closeJournalDb, openJournalDb } from '../journal/journal-db.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { BusinessLogicProcessor } from './business-logic-processor.js';
import { recover, Replica } from './replay.js';

export interface BlpWorkerData {
  dataDir: string;
  config: EngineConfig;
  inputRing: SharedArrayBuffer;
  outputRing: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  /** Where the journal ends (checked by the node before starting workers). */
  tailSequence: number;
}

/** What the processor reports once recovered. */
export interface BlpReady {
  type: 'ready';
  sequence: number;
  timestamp: number;
  snapshotSequence: number;
  skippedSnapshots: { sequence: number; reason: string }[];
  eventsReplayed: number;
  recoveryMs: number;
  /** The recovered state's checksum (to compare with a full replay). */
  stateChecksum: string;
}

async function main(data: BlpWorkerData): Promise<void> {
  const started = performance.now();
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false });
  const replica = new Replica(data.config);
  let eventsReplayed: number;
  try {
    eventsReplayed = await recover(replica, db, data.dataDir, data.tailSequence);
  } finally {
    closeJournalDb(db);
  }
  assert(replica.sequence === data.tailSequence, 'processor: recovered to the journal end');
  replica.engine.takeOver();
  const recoveryMs = performance.now() - started;
  const progress = new JournalProgress(data.progress);
  progress.set(ProgressSlot.recoveredEvents, eventsReplayed);
  progress.set(ProgressSlot.recoveryMs, recoveryMs);
  progress.set(ProgressSlot.sequencePublished, replica.sequence);
  const ready: BlpReady = {
    type: 'ready',
    sequence: replica.sequence,
    timestamp: replica.timestamp,
    snapshotSequence: replica.snapshot === null ? -1 : replica.snapshot.sequence,
    skippedSnapshots: replica.skipped,
    eventsReplayed,
    recoveryMs,
    stateChecksum: replica.engine.checksum.hex(),
  };
  parentPort?.postMessage(ready);
  const wait = new WaitStrategy(ringSpinCount, ringSleepMs);
  const input = RingBuffer.attach(data.inputRing);
  const output = RingBuffer.attach(data.outputRing);
  const processor = new BusinessLogicProcessor(
    replica.engine,
    new SequenceBarrier(input, 0, wait),
    new Sequencer(output, wait),
    progress,
    ringBatchMax,
  );
  collectStartupGarbage();
  // GC on this thread while it decides: V8's profiler records each pause (off the hot path).
  const gc = new GCProfiler();
  gc.start();
  processor.run();
  output.halt();
  const pauses = gc.stop()?.statistics ?? [];
  let gcPauseMaxMs = 0;
  for (const p of pauses) gcPauseMaxMs = Math.max(gcPauseMaxMs, p.cost / 1000);
  parentPort?.postMessage({
    type: 'stopped',
    commands: processor.commandsProcessed,
    gcPauses: pauses.length,
    gcPauseMaxMs,
  });
}

/**
 * Recovery leaves garbage (replay buffers, decoded batches). Collecting it now, before the first
 * command, keeps that collection out of the command path. `gc` is not exposed to workers by
 * default; this is the documented way to reach it at run time (start-up only).
 */
function collectStartupGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options?: { type: string }) => void;
  gc({ type: 'major' });
}

await main(workerData as BlpWorkerData);
