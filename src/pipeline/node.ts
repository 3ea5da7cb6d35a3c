/**
 * The composition root of one node: rings, workers and the consumer graph.
 *
 *   main thread                 worker: processor          worker: journal writer
 *   ┌───────────┐  input ring   ┌──────────────┐ output    ┌───────────────┐   LMDB
 *   │ InputPort ├──────────────►│ engine       ├──ring────►│ consumer 0    ├──► journal.mdb
 *   └───────────┘  (commands)   └──────────────┘ (events)  └───────────────┘
 *   ┌───────────┐                       │                  worker: snapshotter
 *   │ Publisher │◄── consumer 1 (behind 0: durable only)   follows journal.mdb ──► snapshots.mdb
 *   └───────────┘
 *
 * Start-up: lock the data folder, check the journal's tail, start the journal writer, let the
 * processor rebuild its state (snapshot + replay), start the snapshotter. Shutdown: halt the
 * input ring; each stage drains what it has and halts the next, so everything accepted is
 * journaled before the workers exit.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  assertConstants,
  assertEngineConfig,
  clusterFileName,
  engineConfigDefault,
  engineV8Flags,
  journalLogOn,
  pipelineWatchMs,
  ringSleepMs,
  ringSpinCount,
  snapshotAtStopSequencesMin,
  snapshotIntervalEvents,
  snapshotIntervalMs,
  snapshotStopWaitMs,
  snapshotTimeSequencesMin,
  workerStopMs,
  type EngineConfig,
} from '../constants.js';
import type { NodeRole } from '../gateway/gateway.js';
import type { RingBuffer } from '../ring/ring-buffer.js';
import { WaitStrategy } from '../ring/wait-strategy.js';
import { DataLock } from '../journal/data-lock.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { type Capacities } from './engine-config.js';
import { closeJournalDb, storeConfig, storedConfig } from '../journal/journal-db.js';
import type { JournalDb } from '../journal/journal-db.js';
import { closeStorage, configOf, lostThen, openStorage } from './node-storage.js';
import { refuseEmptyJournal, replayNodeLog } from './node-storage.js';

export { closeStorage, configOf, openStorage } from './node-storage.js';
import { journalTail } from '../journal/journal-reader.js';
import { journalFileLost, refuseLostJournal } from '../journal/lost-journal.js';
import { singleNodeRefusal } from '../journal/member-folder.js';
import { JournalProgress, ProgressSlot } from '../journal/journal-progress.js';
import { Gateway } from '../gateway/gateway.js';
import {
  KeyRing,
  keyFileWarnings,
  keyFilePath,
  readKeyFile,
  watchKeyFile,
  type KeyFile,
} from '../gateway/api-keys.js';
import { LoginFailures } from '../gateway/login-failures.js';
import type { JournalTail } from '../journal/journal-writer.js';
import type { BlpReady } from './blp-worker.js';
import { InputPort } from './input-port.js';
import { ExpiryTicker } from './expiry-ticker.js';
import { journalQueries } from './queries.js';
import { capacitiesAsked } from './state-memory.js';
import { CounterCarry, nodeMetrics, type NodeMetrics } from './node-metrics.js';
import { Publisher } from './publisher.js';
import { NodeRings } from './node-rings.js';
import { DiskWatch } from './disk-watch.js';
import { ReadClient } from './read-client.js';
import { PipelineWatch } from './pipeline-watch.js';
import { SnapshotStats, type SnapshotTaken } from './snapshot-stats.js';
import { clockMs } from './logical-time.js';

export interface NodeOptions {
  dataDir: string;
  /** The whole engine config (tests); otherwise the folder's, with `capacities` on top. */
  config?: EngineConfig;
  /** Capacities an operator asked for (engine-config.ts: they may grow, never shrink). */
  capacities?: Capacities;
  snapshotIntervalEvents?: number;
  snapshotIntervalMs?: number;
  /** Commands a snapshot due by time needs since the last (snapshotTimeSequencesMin). Tests. */
  snapshotTimeSequencesMin?: number;
  /** Commands a clean stop's snapshot needs since the last (snapshotAtStopSequencesMin). Tests. */
  snapshotAtStopSequencesMin?: number;
  /** How long a stop lets a snapshot being written finish (snapshotStopWaitMs). Tests. */
  snapshotStopWaitMs?: number;
  /** When false, the caller feeds the input ring from its own thread (benches). */
  mainThreadProducer?: boolean;
  /** Input ring slots (a power of two); `inputRingSlotCount` by default. Tests make it small. */
  inputRingSlots?: number;
  /**
   * Rings lent by the caller (a cluster member's, for each node it starts: node-rings.ts),
   * whose last node has stopped; the node allocates its own when absent.
   */
  rings?: NodeRings;
  /**
   * Serve clients (binary WebSocket + HTTP) here; no gateway when absent. Port 0: any.
   * `cancelGraceMs`: the cancel-on-disconnect grace after taking commands (default
   * cancelOnDisconnectGraceMs; gateway/cancel-on-disconnect.ts).
   */
  gateway?: { host: string; port: number; cancelGraceMs?: number };
  /**
   * Storage owned by the caller (a cluster node keeps its folder locked and its journal open
   * across role changes): the node neither opens nor closes it.
   */
  storage?: { db: JournalDb; lock: DataLock };
  /** The term its journal batches carry from now on (a cluster's primary); the tail's if unset. */
  term?: number;
  /**
   * The journal writer's log in front of LMDB (journal-log.ts): constants.ts journalLogOn by
   * default on a single node; a cluster member's says (its standby log is the file). Its size.
   */
  journalLog?: boolean;
  journalLogBytes?: number;
  /**
   * Called with a line for the operator (snapshots taken, snapshots skipped) and how much it
   * matters ('info' when absent); the CLI writes them as JSON log lines (src/cli/logger.ts).
   */
  log?: NodeLog;
  /**
   * Follow mode, for a cluster's hot standby (follower.ts): the snapshotter starts from the
   * newest snapshot at or before `notAfter` and applies the journal up to `follow()`'s limit;
   * after `promote()` it hands its state to the processor (handover.ts), and commands flow. The
   * gateway serves reads meanwhile.
   */
  follow?: { notAfter: number };
  /** The role the gateway reports and obeys; a single node is a primary that always accepts. */
  role?: NodeRole;
  /** What the cluster member's earlier nodes counted: /metrics' counters go on from there. */
  counters?: CounterCarry;
  /**
   * Called on the main thread with each journal batch as soon as it is encoded, before it is
   * durable here (journal-writer.ts `SealedBatch`; the bytes are the callee's to keep), with
   * when its writer took it from the ring and sealed it (wall clock, ms).
   */
  sealed?: (firstSequence: number, bytes: Uint8Array, at: SealedAt) => void;
}

/** When a journal batch was taken from the ring by its writer, and sealed (wall clock, ms). */
export interface SealedAt {
  takenMs: number;
  sealedMs: number;
}

/** What a worker posts to the main thread (its `type` says which fields it has). */
interface WorkerMessage {
  type: string;
  sequence?: number;
  ms?: number;
  bytes?: Uint8Array;
  text?: string;
  /** A sealed batch's: when its writer took it from the ring and sealed it (SealedAt). */
  takenAtMs?: number;
  sealedAtMs?: number;
}

/** How much a log line matters. */
export type LogLevel = 'info' | 'warn' | 'error';
/** Where a node and a cluster member write lines for the operator. */
export type NodeLog = (line: string, level?: LogLevel) => void;

export class BourseNode {
  readonly dataDir: string;
  readonly config: EngineConfig;
  readonly progress = new JournalProgress();
  /** Its rings: its own, or lent (NodeOptions.rings); `inputRing` and `outputRing` are theirs. */
  readonly rings: NodeRings;
  readonly inputRing: RingBuffer;
  readonly outputRing: RingBuffer;
  readonly publisher: Publisher;
  /** Null when the input ring is fed from another thread. */
  readonly input: InputPort | null;
  recovery!: BlpReady; // the processor's recovery report
  tail!: JournalTail;
  /** What the processor reported when it stopped (commands, GC pauses on its thread). */
  processorStats: { commands: number; gcPauses: number; gcPauseMaxMs: number } | null = null;
  /** The client gateway, when the options asked for one. */
  gateway: Gateway | null = null;
  /** Stops watching keys.json (a no-op until the gateway opens). */
  private unwatchKeys: () => void = () => {};
  /** The gateway's API keys (null: development mode, until keys.json appears). */
  private keys: KeyRing | null = null;
  private metrics: NodeMetrics | null = null;
  /** The pipeline watch and its timer, once the workers have started. */
  private watch: PipelineWatch | null = null;
  private watchTimer: ReturnType<typeof setInterval> | undefined;
  /** Sends a Tick when pending transfers are due (null: the input is fed from elsewhere). */
  expiryTicker: ExpiryTicker | null = null;
  /** The first fatal error of any worker; the node stops taking commands. */
  failure: Error | null = null;
  private reportFailure: (error: Error) => void = () => {};
  /**
   * Resolves with that error, once: the node has stopped taking commands and closed its
   * sessions; whoever runs it stops it (`bourse start` and `member` exit, code 74 for a disk).
   */
  readonly failed = new Promise<Error>((resolve) => (this.reportFailure = resolve));
  private readonly lock: DataLock;
  private readonly ownsStorage: boolean;
  private readonly db: JournalDb;
  private readonly log: NodeLog;
  private readonly sealed: NodeOptions['sealed'];
  private stopping = false;
  private readonly snapshotControl = new SharedArrayBuffer(4);
  private readonly disk: DiskWatch;
  private workers: Worker[] = [];
  /** Queries and book views, answered by the snapshot worker's replica (durable state). */
  private reads: ReadClient | null = null;
  private exits: Promise<unknown>[] = [];
  /**
   * Follow mode: resolved when each of the journal writer, the processor and the snapshotter
   * (which hands its state to the processor: handover.ts) has taken over.
   */
  private promotions: Promise<unknown>[] = [];
  private readonly following: boolean;
  private readonly role: NodeRole;
  private readonly counters: CounterCarry;
  /** The snapshots taken since the start, for the log and /metrics. */
  readonly snapshots = new SnapshotStats(clockMs());
  private publishing: Promise<void> = Promise.resolve();

  private constructor(options: NodeOptions, db: JournalDb, lock: DataLock) {
    this.dataDir = options.dataDir;
    this.config = options.config ?? engineConfigDefault;
    this.db = db;
    this.lock = lock;
    this.ownsStorage = options.storage === undefined;
    this.log = options.log ?? (() => {});
    this.disk = new DiskWatch(options.dataDir, this.log);
    this.sealed = options.sealed;
    this.following = options.follow !== undefined;
    this.role = options.role ?? this.singleNode();
    this.counters = options.counters ?? new CounterCarry();
    const wait = new WaitStrategy(ringSpinCount, ringSleepMs);
    this.rings = options.rings ?? new NodeRings(this.config, options.inputRingSlots);
    this.rings.lendTo(this.config);
    this.inputRing = this.rings.input;
    this.outputRing = this.rings.output;
    this.publisher = new Publisher(this.outputRing);
    this.input = options.mainThreadProducer === false ? null : new InputPort(this.inputRing, wait);
  }

  /** A single node: a primary that always accepts, and is ready until it fails or stops. */
  private singleNode(): NodeRole {
    return {
      accepting: () => true,
      describe: () => ({ role: 'primary' }),
      notReady: () => {
        if (this.failure !== null) return `failed: ${this.failure.message}`;
        return this.stopping ? 'stopping' : null;
      },
    };
  }

  /**
   * Starts a node on `options.dataDir` (created if missing).
   * @throws StorageError when the folder is unusable, locked, of another schema, or its journal
   *   tail is damaged; nothing is written in that case.
   */
  static async start(options: NodeOptions): Promise<BourseNode> {
    assertConstants();
    assertEngineConfig(options.config ?? engineConfigDefault);
    setFlagsFromString(engineV8Flags.join(' '));
    if (options.storage === undefined && existsSync(join(options.dataDir, clusterFileName))) {
      // A single node started there would make a new, empty exchange beside the members'.
      throw new StorageError(
        StorageCode.ClusterMember,
        `data folder ${options.dataDir} holds a cluster (${clusterFileName}): run it with ` +
          `\`bourse cluster --data ${options.dataDir}\`; a single node needs a folder of its own`,
      );
    }
    const lost = options.storage === undefined ? journalFileLost(options.dataDir) : null;
    if (lost !== null) refuseLostJournal(options.dataDir, `is ${lost}`, lostThen);
    const { db, lock } = options.storage ?? openStorage(options.dataDir);
    const member = options.storage === undefined ? singleNodeRefusal(db, options.dataDir) : null;
    if (options.storage === undefined && member === null) await replayNodeLog(db, lock, options);
    if (options.storage === undefined) await refuseEmptyJournal(options.dataDir, db, lock);
    if (member !== null) {
      await closeStorage(db, lock);
      throw member;
    }
    const config = await configOf(db, lock, options);
    const node = new BourseNode({ ...options, config }, db, lock);
    try {
      await node.boot(options);
    } catch (error) {
      await node.abort();
      throw outOfMemory.test(String(error)) ? tooLarge(config, error) : error;
    }
    return node;
  }

  private async boot(options: NodeOptions): Promise<void> {
    this.tail = journalTail(this.db);
    if (options.term !== undefined && options.term < this.tail.term) {
      throw new Error(`node: term ${options.term} is older than the journal's ${this.tail.term}`);
    }
    // The journal is durable to its tail: /health, /ready, /metrics and Welcome said 0 after a
    // restart until the first new batch. (A standby's is what its primary committed: follow.)
    if (options.follow === undefined) {
      this.progress.set(ProgressSlot.sequenceDurable, this.tail.sequence);
      this.progress.set(ProgressSlot.sequenceCommitted, this.tail.sequence); // in LMDB too
    }
    this.progress.set(ProgressSlot.durableAtMs, clockMs()); // the age counts from the start
    // Checked against the memory only when not kept yet: a folder already kept must start.
    const newCapacities = JSON.stringify(storedConfig(this.db)) !== JSON.stringify(this.config);
    this.recovery = await this.startWorkers(options, newCapacities);
    // Kept once the workers hold the state: capacities that failed to start are not kept.
    storeConfig(this.db, this.config);
    for (const s of this.recovery.skippedSnapshots) {
      this.log(`snapshot skipped: ${s.reason}`, 'warn');
    }
    const applied = (): number => this.progress.get(ProgressSlot.readModelSequence);
    // The snapshotter (worker 2) holds the read model.
    this.reads = new ReadClient(this.workers[2], this.config.instrumentCountMax, applied);
    this.startWatch();
    this.publisher.listen(this.counters.results.listener);
    this.publishing = this.publisher.run();
    this.startExpiryTicker();
    this.disk.start();
    if (options.gateway !== undefined) await this.openGateway(options.gateway);
  }

  /**
   * Starts the three workers at once: each loads its modules and rebuilds its own state, and
   * none needs another until events flow (the rings hold them). A failover waits for this.
   * Resolves with the processor's recovery report.
   */
  private async startWorkers(options: NodeOptions, newCapacities: boolean): Promise<BlpReady> {
    // A standby's snapshotter hands its state to the processor on this channel (handover.ts).
    // Not through this thread: the state's buffer (up to the whole state's size) would be
    // reachable here until this thread's next full collection, which a SharedArrayBuffer does
    // not hasten, and this thread collects seldom (its heap is small): a member kept every
    // stopped node's copy, resident as far as it was touched, long after its workers ended.
    const handover = this.following ? new MessageChannel() : null;
    const [, recovery] = await Promise.all([
      this.spawn('journal-worker.js', {
        dataDir: this.dataDir,
        outputRing: this.outputRing.buffer,
        progress: this.progress.buffer,
        tailSequence: this.tail.sequence,
        tailHash: this.tail.hash,
        term: options.term ?? this.tail.term,
        follow: this.following,
        shareSealed: options.sealed !== undefined,
        journalLog: options.journalLog ?? (options.storage === undefined && journalLogOn),
      }),
      this.spawn(
        'blp-worker.js',
        {
          dataDir: this.dataDir,
          config: this.config,
          newCapacities,
          inputRing: this.inputRing.buffer,
          outputRing: this.outputRing.buffer,
          progress: this.progress.buffer,
          tailSequence: this.tail.sequence,
          follow: this.following,
          handover: handover?.port2 ?? null,
        },
        handover === null ? [] : [handover.port2],
      ),
      this.spawn(
        'snapshot-worker.js',
        {
          dataDir: this.dataDir,
          config: this.config,
          newCapacities,
          outputRing: this.outputRing.buffer,
          control: this.snapshotControl,
          intervalEvents: options.snapshotIntervalEvents ?? snapshotIntervalEvents,
          intervalMs: options.snapshotIntervalMs ?? snapshotIntervalMs,
          timeSequencesMin: options.snapshotTimeSequencesMin ?? snapshotTimeSequencesMin,
          atStopSequencesMin: options.snapshotAtStopSequencesMin ?? snapshotAtStopSequencesMin,
          stopWaitMs: options.snapshotStopWaitMs ?? snapshotStopWaitMs,
          tailSequence: this.tail.sequence,
          progress: this.progress.buffer,
          follow:
            options.follow === undefined || handover === null
              ? null
              : {
                  notAfter: options.follow.notAfter,
                  progress: this.progress.buffer,
                  handover: handover.port1,
                },
        },
        handover === null ? [] : [handover.port1],
      ),
    ]);
    return recovery as BlpReady;
  }

  /**
   * Starts the pipeline watch (pipeline-watch.ts): a look at the rings and the progress words
   * every pipelineWatchMs, which logs stalls, full rings and tables and read timeouts, and
   * holds /ready for commands at 503 while the pipeline is stalled. Quiet once the node failed
   * or is stopping (that is said already).
   */
  private startWatch(): void {
    const watch = new PipelineWatch(
      {
        progress: this.progress,
        input: this.inputRing,
        output: this.outputRing,
        config: this.config,
        reads: this.reads,
        log: this.log,
      },
      clockMs(),
    );
    this.watch = watch;
    this.watchTimer = setInterval(() => {
      if (this.failure === null && !this.stopping) watch.tick(clockMs());
    }, pipelineWatchMs);
    this.watchTimer.unref();
  }

  /** Expiries on an idle node (expiry-ticker.ts): only while it takes commands. */
  private startExpiryTicker(): void {
    if (this.input === null) return;
    const may = (): boolean => this.failure === null && !this.stopping && this.role.accepting();
    this.expiryTicker = new ExpiryTicker(this.input, this.progress, may);
    this.expiryTicker.start();
  }

  private async openGateway(where: NonNullable<NodeOptions['gateway']>): Promise<void> {
    if (this.input === null) throw new Error('node: the gateway needs the main-thread producer');
    const keyFile = readKeyFile(this.dataDir);
    if (keyFile === null) {
      this.log(
        `no API keys in ${keyFilePath(this.dataDir)}: development mode, every session is ` +
          'admin; create keys with `bourse keys create`',
        'warn',
      );
    }
    if (keyFile !== null) this.warnKeyFile(keyFile);
    const keys = keyFile === null ? null : new KeyRing(keyFile);
    this.keys = keys;
    // Watched with or without keys: the first key made while the node runs takes effect too.
    this.unwatchKeys = watchKeyFile(this.dataDir, () => this.reloadKeys());
    const loginFailures = new LoginFailures(this.log);
    const metrics = nodeMetrics({
      progress: this.progress,
      inputRing: this.inputRing,
      outputRing: this.outputRing,
      connections: () => this.gateway?.connections() ?? null,
      cancelsOnDisconnect: () => this.gateway?.cancels.counts ?? null,
      gatewayCounts: () => this.gateway?.counts ?? null,
      role: this.role,
      diskFree: () => this.disk.free(),
      carried: this.counters,
      snapshots: this.snapshots,
      config: this.config,
      reads: this.reads ?? undefined,
      watch: this.watch ?? undefined,
      loginFailures,
      kept: {
        eventsPublished: () => this.publisher.eventsPublished,
        expiryTicks: () => this.expiryTicker?.ticks ?? 0,
        cancelReportsDropped: () => this.gateway?.cancels.reports.dropped ?? 0,
      },
    });
    this.metrics = metrics;
    this.gateway = new Gateway({
      keys,
      loginFailures,
      idempotencyWindow: this.config.idempotencyWindow,
      host: where.host,
      port: where.port,
      sink: this.input,
      events: this.publisher,
      reads: this.reads,
      journal: journalQueries(
        this.db,
        this.progress,
        this.role,
        () => metrics.scrape(),
        () => (this.watch === null ? null : this.watch.stalled()),
        () => this.disk.freeAtLastCheck(),
      ),
      role: this.role,
      log: this.log,
      cancelGraceMs: where.cancelGraceMs,
    });
    await this.gateway.listen(); // a single node takes over here: its grace starts
  }

  /** Says how keys.json is badly kept (keyFileWarnings: its mode, version 1), at each read. */
  private warnKeyFile(file: KeyFile): void {
    for (const warning of keyFileWarnings(this.dataDir, file)) this.log(warning, 'warn');
  }

  /**
   * keys.json changed (`bourse keys create` or `revoke`): new keys log in from now on, and the
   * sessions of a revoked key are closed; the first keys end development mode, closing the
   * sessions opened without one. A file that cannot be read, or is gone, leaves the keys as
   * they were: losing it must never open the node to everyone.
   */
  private reloadKeys(): void {
    const path = keyFilePath(this.dataDir);
    try {
      const file = readKeyFile(this.dataDir);
      if (file === null) return this.log(`${path} is gone: keys kept as they were`, 'warn');
      // A ring replaced in place: the gateway holds it.
      if (this.keys === null) this.keys = new KeyRing(file);
      else this.keys.replace(file);
      const closed = this.gateway?.useKeys(this.keys) ?? 0;
      this.log(`keys reloaded from ${path}: ${file.keys.length}; ${closed} sessions closed`);
      this.warnKeyFile(file);
    } catch (error) {
      const why = (error as Error).message;
      if (this.keys !== null) return this.log(`${path} unreadable, keys kept: ${why}`, 'error');
      // The first keys.json, damaged: keys were meant, so none is taken until it is mended (as
      // a start with it refuses to run), rather than the node staying open to everyone.
      this.keys = new KeyRing({ version: 2, keys: [] });
      const closed = this.gateway?.useKeys(this.keys) ?? 0;
      this.log(
        `${path} unreadable: every login refused until it is mended (${why}); ${closed} ` +
          'sessions closed',
        'error',
      );
    }
  }

  /**
   * Starts a worker and resolves with its 'ready' message (rejects if it fails first). `ports`,
   * found in `workerData`, are moved to it.
   */
  private spawn(file: string, workerData: unknown, ports: MessagePort[] = []): Promise<unknown> {
    const url = new URL(`./${file}`, import.meta.url);
    const worker = new Worker(url, { workerData, transferList: ports });
    this.workers.push(worker);
    this.exits.push(new Promise((resolve) => worker.once('exit', resolve)));
    let promoted = (_message: unknown): void => {};
    const promotion = new Promise((resolve, reject) => {
      promoted = resolve;
      worker.once('error', reject);
    });
    promotion.catch(() => {}); // awaited by promote(); a failure is reported through fail()
    this.promotions.push(promotion);
    return new Promise((resolve, reject) => {
      const sealed = this.sealed;
      worker.on('message', (message: WorkerMessage) => {
        if (message.type === 'sealed' && sealed !== undefined) {
          const at = {
            takenMs: message.takenAtMs as number,
            sealedMs: message.sealedAtMs as number,
          };
          sealed(message.sequence as number, message.bytes as Uint8Array, at);
          return;
        }
        if (message.type === 'ready') resolve(message);
        if (message.type === 'promoted') promoted(message);
        if (message.type === 'stopped' && file === 'blp-worker.js') {
          this.processorStats = message as unknown as BourseNode['processorStats'];
        }
        if (message.type === 'snapshot') {
          this.log(this.snapshots.onTaken(message as unknown as SnapshotTaken, clockMs()));
        }
        if (message.type === 'snapshot-failed') {
          this.snapshots.failed += 1;
          this.log(`${message.text}`, 'error');
        }
      });
      worker.once('error', (thrown) => {
        const error = fromWorker(thrown);
        this.fail(error);
        reject(error);
      });
    });
  }

  private fail(error: Error): void {
    if (this.failure !== null) return;
    this.failure = error;
    // Said at once: a hot standby whose worker failed looks alive otherwise (it answers
    // /health; only /ready and its applied sequence show it stands still).
    this.log(`node failed: ${error.message}`, 'error');
    this.inputRing.halt();
    this.outputRing.halt();
    // What is durable is answered; what is not never will be (its clients send it again).
    this.publisher.abandon = true;
    // Closed, not left hanging: clients reconnect (to another member) and resend, or fail with
    // the reason. (A WebSocket close reason holds at most 123 bytes.)
    this.gateway?.close(1011, `node failed: ${error.message}`.slice(0, 120));
    this.reportFailure(error);
  }

  /**
   * Stops taking commands, lets every stage drain (so everything accepted is durable), stops
   * the workers and releases the data folder.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watchTimer);
    this.expiryTicker?.stop();
    this.unwatchKeys();
    this.disk.stop();
    this.gateway?.close();
    this.reads?.close();
    this.input?.retire(); // what it took is published; it takes nothing more
    this.inputRing.halt();
    await Promise.all(this.exits.slice(0, 2));
    await this.publishing;
    Atomics.store(new Int32Array(this.snapshotControl), 0, 1);
    await Promise.all(this.exits);
    await this.close();
  }

  /** Tears down after a failed start. */
  private async abort(): Promise<void> {
    clearInterval(this.watchTimer);
    this.expiryTicker?.stop();
    this.unwatchKeys();
    this.disk.stop();
    this.gateway?.close();
    this.input?.retire();
    this.inputRing.halt();
    this.outputRing.halt();
    Atomics.store(new Int32Array(this.snapshotControl), 0, 1);
    // Each worker ends on its own once it sees the halt: one terminated while inside LMDB's
    // native open (the snapshotter, still starting when the processor found a damaged batch)
    // aborted the whole process ("FATAL ERROR: ... napi_throw", seen once in 12 test runs).
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), workerStopMs);
    });
    const ended = Promise.all(this.exits).then(() => false);
    if (await Promise.race([ended, late])) {
      await Promise.all(this.workers.map((w) => w.terminate()));
    }
    clearTimeout(timer);
    await this.close();
  }

  /** The folder is released once the storage is closed (its queued writes done). */
  private async close(): Promise<void> {
    this.metrics?.retire();
    if (this.ownsStorage) {
      await closeJournalDb(this.db);
      this.lock.release();
    }
  }

  /** Follow mode: `events` more stored durably here (a standby's journal writer is its own). */
  countStored(events: number): void {
    this.progress.set(
      ProgressSlot.eventsWritten,
      this.progress.get(ProgressSlot.eventsWritten) + events,
    );
  }

  /**
   * Follow mode: the workers may apply the journal up to `sequence` (committed on a majority
   * and stored here). Reads on this node see that far.
   */
  follow(sequence: number): void {
    if (!this.following || this.progress.get(ProgressSlot.promotedTerm) > 0) return;
    if (sequence <= this.progress.get(ProgressSlot.followLimit)) return;
    this.progress.set(ProgressSlot.followLimit, sequence);
    this.progress.set(ProgressSlot.sequenceDurable, sequence);
    this.progress.set(ProgressSlot.sequenceCommitted, sequence); // the standby's LMDB holds it
    this.progress.set(ProgressSlot.durableAtMs, clockMs());
    this.progress.bump();
  }

  /**
   * Follow mode: takes over in `term`. The caller has stored every batch it holds; the workers
   * apply the journal to its end, the journal writer starts there, and commands flow.
   */
  async promote(term: number): Promise<void> {
    if (!this.following) throw new Error('node: promote() needs follow mode');
    this.db.root.resetReadTxn(); // see what the member stored just now
    this.tail = journalTail(this.db);
    this.db.root.resetReadTxn();
    if (term < this.tail.term) {
      throw new Error(`node: term ${term} is older than the journal's ${this.tail.term}`);
    }
    this.progress.set(ProgressSlot.followLimit, this.tail.sequence);
    this.progress.set(ProgressSlot.promotedTerm, term);
    this.progress.bump(); // the snapshotter, following
    this.progress.bumpPromotion(); // the journal writer, waiting for this alone
    const [, processor] = await Promise.all(this.promotions);
    this.recovery = processor as BlpReady;
  }

  /** Free bytes on the data folder's disk (disk-watch.ts). */
  diskFree(): number {
    return this.disk.free();
  }

  /** The journal's storage (shared with a cluster node that owns it). */
  get journalDb(): JournalDb {
    return this.db;
  }
}

/**
 * An error thrown in a worker arrives as a copy that lost its class; a storage error gets its
 * class back (code and sequence survive the copy), so callers can map it to an exit code.
 */
function fromWorker(error: Error): Error {
  const copy = error as Error & { code?: unknown; sequence?: unknown };
  if (copy.code === 'BOURSE_CAPACITY') {
    // A member with smaller capacities than its primary's: mended by its operator, not a bug.
    return new StorageError(
      StorageCode.ConfigRefused,
      `this node's capacities are smaller than those its journal's events were decided with ` +
        `(${copy.message}): run every member with the same capacities (the cluster file's ` +
        `"capacities", or the same --*-max flags), or larger ones`,
    );
  }
  if (copy.name !== 'StorageError' || typeof copy.code !== 'string') return error;
  const sequence = typeof copy.sequence === 'number' ? copy.sequence : -1;
  return new StorageError(copy.code, copy.message, sequence);
}

/**
 * What V8 says of an array too large to allocate: past the heap or the machine ("allocation
 * failed"), or past a typed array's or buffer's length limit (a worker's state, or the
 * snapshotter's copy of it: `--orders-max 50000000` ended in exit 70 with the latter). A state
 * that allocates but is too large for the memory is refused by state-memory.ts.
 */
const outOfMemory = /allocation failed|Invalid (typed )?array (buffer )?length/;

/**
 * Capacities whose tables could not be allocated, said as what happened: one table longer
 * than V8 allows a typed array (whatever the memory), or an allocation the machine refused.
 * Both were said as "does not fit in this machine's memory".
 */
function tooLarge(config: EngineConfig, error: unknown): StorageError {
  const asked = capacitiesAsked(config);
  const what = /Invalid/.test(String(error))
    ? "an array for these capacities (a table, or the snapshotter's buffer for all of them) " +
      "is longer than V8's typed array length limit"
    : "the engine's state for these capacities could not be allocated (out of memory)";
  return new StorageError(
    StorageCode.ConfigRefused,
    `${what} (${asked}; ${String(error)}): ask for less`,
  );
}
