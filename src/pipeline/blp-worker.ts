/**
 * Worker entry of the business-logic processor. Start-up: rebuild the engine from the newest
 * valid snapshot and the journal tail, then decide commands until the input ring is halted and
 * drained, then halt the output ring so the journal writer and publisher drain it too.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ringBatchMax, ringSleepMs, ringSpinCount, type EngineConfig } from '../constants.js';
import { assert } from '../stdx/assert.js';
import { RingBuffer } from '../ring/ring-buffer.js';
import { SequenceBarrier } from '../ring/sequence-barrier.js';
import { Sequencer } from '../ring/sequencer.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { closeJournalDb, openJournalDb } from '../journal/journal-db.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { awaitHandover, takeHandover } from './handover.js';
import { BusinessLogicProcessor } from './business-logic-processor.js';
import { ProcessorGc } from './processor-gc.js';
import { writeCapacityUse } from './capacity-use.js';
import { recover, Replica } from './replay.js';
import { refuseStateTooLarge } from './state-memory.js';

export interface BlpWorkerData {
  dataDir: string;
  config: EngineConfig;
  /** Capacities the folder does not keep yet: refused when too large (state-memory.ts). */
  newCapacities: boolean;
  inputRing: SharedArrayBuffer;
  outputRing: SharedArrayBuffer;
  progress: SharedArrayBuffer;
  /** Where the journal ends (checked by the node before starting workers). */
  tailSequence: number;
  /**
   * Follow mode (a hot standby, follower.ts): wait, and decide commands only once promoted,
   * from the state the snapshotter hands over. False: recover to the journal's end and decide
   * at once.
   */
  follow: boolean;
  /** Follow mode: where the snapshotter's page hints and handover come from (else null). */
  handover: MessagePort | null;
}

/** What the processor reports once recovered ('ready'), or once it took over ('promoted'). */
export interface BlpReady {
  type: 'ready' | 'promoted';
  sequence: number;
  timestamp: number;
  snapshotSequence: number;
  skippedSnapshots: { sequence: number; reason: string }[];
  eventsReplayed: number;
  recoveryMs: number;
  /** The recovered state's checksum (to compare with a full replay). */
  stateChecksum: string;
}

function report(type: BlpReady['type'], replica: Replica, replayed: number, ms: number): void {
  const ready: BlpReady = {
    type,
    sequence: replica.sequence,
    timestamp: replica.timestamp,
    snapshotSequence: replica.snapshot === null ? -1 : replica.snapshot.sequence,
    skippedSnapshots: replica.skipped,
    eventsReplayed: replayed,
    recoveryMs: ms,
    stateChecksum: replica.engine.checksum.hex(),
  };
  parentPort?.postMessage(ready);
}

/**
 * Brings the replica to where it decides from: the journal's end, or in follow mode the state
 * its snapshotter hands over on promotion (handover.ts). Returns the events applied, or -1 when
 * stopped unpromoted.
 */
async function rebuild(data: BlpWorkerData, replica: Replica, started: number): Promise<number> {
  if (data.follow) {
    assert(data.handover !== null, 'processor: a follower hears its snapshotter');
    report('ready', replica, 0, performance.now() - started);
    const input = RingBuffer.attach(data.inputRing);
    const handover = await awaitHandover(input, replica, data.handover);
    if (handover === null) return -1;
    takeHandover(replica, handover);
    return handover.eventsApplied;
  }
  const db = openJournalDb(data.dataDir, { create: false, readOnly: false });
  try {
    const replayed = await recover(replica, db, data.dataDir, data.tailSequence);
    assert(replica.sequence === data.tailSequence, 'processor: recovered to the journal end');
    return replayed;
  } finally {
    closeJournalDb(db);
  }
}

async function main(data: BlpWorkerData): Promise<void> {
  const started = performance.now();
  const replica = new Replica(data.config, false); // it decides; reads go to the snapshotter
  if (data.newCapacities) refuseStateTooLarge(replica.engine); // before the node keeps them
  const eventsReplayed = await rebuild(data, replica, started);
  const output = RingBuffer.attach(data.outputRing);
  if (eventsReplayed < 0) {
    output.halt(); // stopped as a standby: the journal writer waiting for promotion exits too
    parentPort?.postMessage({ type: 'stopped', commands: 0, gcPauses: 0, gcPauseMaxMs: 0 });
    return;
  }
  replica.engine.takeOver();
  const recoveryMs = performance.now() - started;
  const progress = new JournalProgress(data.progress);
  progress.set(ProgressSlot.recoveredEvents, eventsReplayed);
  progress.set(ProgressSlot.recoveryMs, recoveryMs);
  progress.set(ProgressSlot.sequencePublished, replica.sequence);
  report(data.follow ? 'promoted' : 'ready', replica, eventsReplayed, recoveryMs);
  const wait = new WaitStrategy(ringSpinCount, ringSleepMs);
  const input = RingBuffer.attach(data.inputRing);
  const processor = new BusinessLogicProcessor(
    replica.engine,
    new SequenceBarrier(input, 0, wait),
    new Sequencer(output, wait),
    progress,
    ringBatchMax,
  );
  collectStartupGarbage();
  // GC on this thread while it decides: V8's profiler records each pause (off the hot path),
  // sampled into the shared counters once a second for /metrics.
  // The tables' use for /metrics and the pipeline watch likewise, once a second.
  const gc = new ProcessorGc(progress);
  processor.onSecond = () => {
    gc.sample();
    writeCapacityUse(replica.engine, progress);
  };
  writeCapacityUse(replica.engine, progress);
  gc.start();
  processor.run();
  output.halt();
  gc.stop();
  parentPort?.postMessage({
    type: 'stopped',
    commands: processor.commandsProcessed,
    gcPauses: gc.pauses,
    gcPauseMaxMs: gc.pauseMaxUs / 1000,
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
