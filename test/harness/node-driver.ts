/**
 * Drives a real node (workers, rings, LMDB) from a test: submits commands through the main
 * thread's input port and collects every durable event the publisher hands out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BourseNode, type NodeOptions } from '../../src/pipeline/node.js';
import { writeCommand, type CommandFields } from '../../src/protocol/command-writer.js';
import { readEvent, type EventRecord } from '../../src/protocol/event-reader.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { ProgressSlot } from '../../src/journal/journal-progress.js';

/** The folders tempDataDir made that this process has not removed (removeDir) yet. */
const madeDirs = new Set<string>();
let exitHooked = false;

/**
 * A new folder under the temporary directory, removed when the process exits if the test did
 * not remove it: a test that failed before its `finally` (a node that did not start, a set-up
 * step that threw) or that had none left it, and ~50 piled up in /tmp.
 */
export function tempDataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bourse-test-'));
  if (!exitHooked) process.once('exit', removeMadeDirs);
  exitHooked = true;
  madeDirs.add(dir);
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  madeDirs.delete(dir);
}

/** At exit: every folder still made; one that cannot go (a disk still mounted) stays. */
function removeMadeDirs(): void {
  for (const dir of madeDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // EBUSY: a small disk (small-disk.ts) its test did not release; its contents went.
    }
  }
  madeDirs.clear();
}

export class NodeDriver {
  readonly node: BourseNode;
  readonly durable: EventRecord[] = [];

  private constructor(node: BourseNode) {
    this.node = node;
    node.publisher.listen((records, slot, count) => {
      for (let i = 0; i < count; i++) {
        this.durable.push(readEvent(records.u32, (slot + i) * EventWord.size));
      }
    });
  }

  static async start(options: NodeOptions): Promise<NodeDriver> {
    return new NodeDriver(await BourseNode.start(options));
  }

  /** Submits commands in order (waiting for room as needed) and publishes them. */
  async submit(commands: readonly CommandFields[]): Promise<void> {
    const port = this.node.input;
    if (port === null) throw new Error('node has no main-thread producer');
    for (const fields of commands) {
      if (!port.hasRoom(1) && !(await port.waitRoom(1))) throw new Error('input ring halted');
      writeCommand(port.ring.records.u32, port.claim(), fields);
      port.commit();
    }
    port.publish();
  }

  /** Resolves once the journal is durable through `sequence` and the publisher has passed it. */
  async untilDurable(sequence: number, timeoutMs = 20_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const last = this.durable.length === 0 ? 0 : this.durable[this.durable.length - 1].sequence;
      if (this.node.progress.get(ProgressSlot.sequenceDurable) >= sequence && last >= sequence) {
        return;
      }
      if (this.node.failure !== null) throw this.node.failure;
      if (performance.now() > deadline) throw new Error(`sequence ${sequence} not durable in time`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  async stop(): Promise<void> {
    await this.node.stop();
  }
}
