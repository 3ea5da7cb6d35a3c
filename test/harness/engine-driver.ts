/**
 * Drives an Engine one command at a time and decodes what it wrote: the test harness's view of
 * the business-logic processor. Allocates freely (tests only).
 */
import { Engine } from '../../src/engine/engine.js';
import { engineConfigDefault, type EngineConfig } from '../../src/constants.js';
import { RecordBuffer } from '../../src/stdx/records.js';
import {
  stampCommand,
  writeCommand,
  type CommandFields,
} from '../../src/protocol/command-writer.js';
import { readEvent, type EventRecord } from '../../src/protocol/event-reader.js';
import { SequencedWord } from '../../src/protocol/command-layout.js';
import { EventWord } from '../../src/protocol/event-layout.js';

export const smallConfig: EngineConfig = Object.freeze({
  ...engineConfigDefault,
  accountCountMax: 256,
  orderCountMax: 1024,
  levelCountMax: 512,
  levelsPerSideMax: 128,
  pendingCountMax: 128,
  clientCountMax: 64,
  idempotencyWindow: 16,
  chainLengthMax: 8,
  fillsPerCommandMax: 64,
  expiriesPerCommandMax: 4,
});

export class EngineDriver {
  readonly engine: Engine;
  readonly commands = RecordBuffer.allocate(1, SequencedWord.size * 4);
  readonly out: RecordBuffer;
  /** Every event written so far, raw, so a replica can replay them. */
  readonly journal: Uint32Array[] = [];
  sequence = 0;
  /** Logical time in microseconds; each command advances it by one millisecond. */
  timestamp = 1_700_000_000_000_000;
  clientId = 1;
  clientSeq = 0;

  constructor(config: EngineConfig = smallConfig) {
    this.engine = new Engine(config);
    this.out = RecordBuffer.allocate(this.engine.eventsPerCommandMax, EventWord.size * 4);
  }

  /** Executes one command; clientId and clientSeq default to this driver's running values. */
  submit(
    fields: Omit<CommandFields, 'clientId' | 'clientSeq'> & Partial<CommandFields>,
  ): EventRecord[] {
    const full: CommandFields = {
      clientId: this.clientId,
      clientSeq: ++this.clientSeq,
      ...fields,
    };
    writeCommand(this.commands.u32, 0, full);
    return this.executeRaw(this.commands.u32, 0);
  }

  /** Executes a command with the given stamp (to mirror another driver exactly). */
  submitAt(fields: CommandFields, sequence: number, timestamp: number): EventRecord[] {
    this.sequence = sequence - 1;
    this.timestamp = timestamp - 1_000;
    return this.submit(fields);
  }

  /** Stamps and executes the command already written at word `w` of `u32`. */
  executeRaw(u32: Uint32Array, w: number): EventRecord[] {
    this.sequence++;
    this.timestamp += 1_000;
    stampCommand(u32, w, this.sequence, this.timestamp);
    const n = this.engine.execute(u32, w, this.out, 0);
    const events: EventRecord[] = [];
    for (let i = 0; i < n; i++) {
      const e = i * EventWord.size;
      events.push(readEvent(this.out.u32, e));
      this.journal.push(this.out.u32.slice(e, e + EventWord.size));
    }
    return events;
  }

  /** Moves logical time forward by `us` microseconds before the next command. */
  advance(us: number): void {
    this.timestamp += us;
  }

  balance(account: number, asset: number): { available: number; held: number } {
    const slot = this.engine.accounts.slotOf(account);
    if (slot === -1) return { available: 0, held: 0 };
    return {
      available: this.engine.accounts.available(slot, asset),
      held: this.engine.accounts.held(slot, asset),
    };
  }

  /** Builds a fresh engine from this driver's journal: the replica path. */
  replay(config: EngineConfig = this.engine.config): Engine {
    const replica = new Engine(config);
    const one = RecordBuffer.allocate(1, EventWord.size * 4);
    for (const words of this.journal) {
      one.u32.set(words);
      replica.apply(one, 0);
    }
    return replica;
  }
}
