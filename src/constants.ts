/** Every limit of bourse (STYLE rule 1), units last; assertConstants() checks their relations. */
import { assert } from './stdx/assert.js';

/** Bytes of one Command struct (native-layouts/commands.fbs). */
export const commandSizeBytes = 64;
/** Bytes of one Event struct (native-layouts/events.fbs). */
export const eventSizeBytes = 128;
/** Highest maker or taker fee, in basis points (10%). Keeps seller proceeds positive. */
export const feeBpsMax = 1_000;
/** Highest decimal scale of an asset. */
export const assetScaleMax = 18;
/**
 * Ids of the last pending transfers that expired: a post or void after the timeout is told
 * `LedgerPendingExpired`, not `LedgerPendingUnknown` (32 KB + 128 KB table, pending-transfers.ts).
 */
export const pendingExpiredRemembered = 4096;
/**
 * Client ids the node keeps for its own commands (protocol/client-ids.ts). The client table has
 * a slot for each beyond `clientCountMax`: the node's commands (expiry Ticks, cancel-on-disconnect
 * rounds, a term's first Tick) are never refused for a full table, nor take a customer's slot.
 */
export const nodeClientIdCount = 3;
/** Schema version written into every journal batch. */
export const schemaVersion = 1;
/**
 * Version of the engine state's layout, in every snapshot: another layout's is skipped (the
 * journal replays). 2: u53-map blocks of 16. 3: idempotency rings, expired pending ids kept. 4:
 * fingerprints. 5: nodeClientIdCount slots more. 6: an order holds its client's slot. 7:
 * cancel-on-disconnect marks (engine/cancel-cover.ts). 8: 7 stored sparsely (snapshot-runs.ts);
 * snapshots of 6 still load (snapshot-store.ts layoutReadable; 7's marks start empty).
 */
export const stateLayoutVersion = 8;
/** Costly self-checks (full checksum, holds re-derived) when BOURSE_VERIFY=1; read at load. */
export const verify: boolean = process.env.BOURSE_VERIFY === '1';

/**
 * V8 flags for processes that run the engine, set before their workers start: a larger inlining
 * budget, 16 MB semi-spaces, a full GC only at 5x the live heap and no memory reducer. Each
 * one's reason and measurements: docs/TUNING.md.
 */
export const engineV8Flags: readonly string[] = [
  '--max-inlined-bytecode-size-cumulative=4000',
  '--min-semi-space-size=16',
  '--heap-growing-percent=400',
  '--no-memory-reducer',
];

/**
 * Node flags recommended for processes that stream through the SDK (README), and given to the
 * benches' clients: 16 MB semi-spaces, for the young objects of thousands of commands in flight
 * (docs/TUNING.md). Not allowed in NODE_OPTIONS: pass it to `node` (or a fork's `execArgv`).
 */
export const clientV8Flags: readonly string[] = ['--min-semi-space-size=16'];
/** Slots of the input ring (commands waiting for the business-logic processor). */
export const inputRingSlotCount = 1 << 16;
/** Slots of the output ring (events waiting for the journal and the publisher). */
export const outputRingSlotCount = 1 << 17;
/** Loads a waiting party spins before it sleeps (two cores: keep it short). */
export const ringSpinCount = 256;
/** Longest single sleep of a waiting party, so it re-checks for halt (ms). */
export const ringSleepMs = 50;
/** Slots a consumer takes in one batch before releasing them. */
export const ringBatchMax = 4096;
/**
 * Commands the processor reads ahead at a time (engine/prefetch.ts) before deciding them: their
 * accounts' and cancelled orders' lines are then fetched together, not one miss per command.
 * Measured (bench:engine's mix, 100k accounts, one process alternating): 16 commands -24%,
 * 64 -26%, 128 -27%, 512 -24%, 2,048 -9% (what is fetched first is evicted before use).
 */
export const prefetchCommandsMax = 128;
/** Entries (16 bytes each) of the client table's cache of recent ids (engine/idempotency.ts). */
export const clientSlotCacheSize = 256;
/** Longest logical time between two entries of the journal's time index (microseconds). */
export const timeIndexIntervalUs = 100_000;
/**
 * Upper bounds (microseconds) of the buckets of `bourse_journal_flush_seconds`, the time one
 * journal batch takes to encode, commit and fsync; one more bucket holds the rest (+Inf).
 */
export const journalFlushBucketsUs: readonly number[] = [
  100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 1_000_000,
];
/** Journal batches whose commit times the writer keeps for benches (journal-progress.ts). */
export const journalBatchLogCount = 1_024;
/**
 * Upper bounds (µs) of `bourse_result_latency_seconds`'s buckets: from a command's sequencing to
 * its durable result reaching the gateway (result-latency.ts). Up to 60 s: a soak's stalls held
 * results 30-40 s, and a histogram that tops out below that would hide them in +Inf.
 */
export const resultLatencyBucketsUs: readonly number[] = [
  250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
  2_500_000, 5_000_000, 10_000_000, 30_000_000, 60_000_000,
];
/**
 * The pipeline watch (pipeline-watch.ts), every pipelineWatchMs: no batch durable for
 * pipelineStallMs while commands wait is a stall (logged; /ready for commands 503 until it
 * moves); a ring at ringFullPercent for as long is logged with its holder, as are tables at
 * capacityWarnPercent or full, reads timed out and a clock clockBehindWarnMs behind logical
 * time, each kind once per watchLogEveryMs.
 */
export const pipelineWatchMs = 1_000;
export const pipelineStallMs = 5_000;
export const ringFullPercent = 95;
export const capacityWarnPercent = 90;
export const clockBehindWarnMs = 1_000;
export const watchLogEveryMs = 30_000;
/**
 * Expiry of pending transfers runs only before a command (engine.ts expire()), at most
 * expiriesPerCommandMax per command. The node that takes commands looks every expiryTickMs at
 * the engine's next expiry (published by the processor) and sends a Tick once it is due, so
 * an idle node releases due holds within about this long; a backlog gets bursts of Ticks, up to
 * the max a turn (4,096 holds; one Tick a turn freed 640 a second: 65,536 due took 103 s).
 */
export const expiryTickMs = 100;
export const expiryTicksPerTurnMax = 64;
/** A standby further behind than this in applying committed events is not ready for reads. */
export const readyLagEventsMax = 65_536;
/** Status codes are below this (src/protocol/status.ts); rejections are counted per code. */
export const statusCodeCountMax = 512;
/** TCP port of the gateway (binary WebSocket and HTTP) by default. */
export const gatewayPortDefault = 9001;
/** Commands in one Commands frame. */
export const commandsPerFrameMax = 4096;
/** WebSockets open at once on / and /read, logged in or not; one more is answered 503. */
export const sessionCountMax = 10_000;
/**
 * ...of which not logged in yet: one more upgrade is answered 503. A login takes one round trip
 * (two for a challenge), so a thousand at once is a burst of reconnects; 12,000 sockets that
 * never sent Hello were taken above sessionCountMax, and 20,000 used up the file descriptors.
 */
export const loginsPendingMax = 1_000;
/**
 * ...of which from one address: one more upgrade is answered 503 (alone, the global pool let one
 * address re-opening ~1,000 silent sockets lock every keyed client out; NAT: 64 at a time).
 * Either 503 asks it back in loginRetryAfterMs, up to the max while it sheds more (admission.ts).
 */
export const loginsPendingPerAddressMax = 64;
export const loginRetryAfterMs = 1_000;
export const loginRetryAfterMaxMs = 8_000;
/**
 * A socket not logged in this long after opening is closed, 4001 (ms; looked for every
 * loginSweepMs): far above a login's round trips; 10 s held a silent one's place twice as long.
 */
export const loginTimeoutMs = 5_000;
/** A client id's session silent this long since a login pinged it yields it (silent-holder.ts). */
export const sessionHolderSilenceMs = 2_000;
export const loginSweepMs = 1_000;
/** Refused logins are summed up in one warn line at most this often (ms; login-failures.ts). */
export const loginFailureLogMs = 10_000;
/** Addresses one such line counts apart (the rest together): bounds its map per interval. */
export const loginFailureAddressesMax = 1_024;
/**
 * Read sessions (/read) one client id may hold; one more is closed with 4009. A key belongs to
 * one client id: one non-admin key took all sessionCountMax places and locked everyone out.
 */
export const readSessionsPerClientMax = 64;
/**
 * Subscriptions one session may hold (topics of trades, account and book streams, and journal
 * streams): each topic costs uWS memory, and a session subscribing to millions of instruments
 * grew a node by 1 GB. Far above what a client watches (the SDK asks once per stream).
 */
export const subscriptionsPerSessionMax = 1_024;
/**
 * Client ids whose highest accepted client seq the gateway holds for Welcome (client-seqs.ts);
 * past it the table starts over from the engine's; a failed load retries after clientSeqsRetryMs.
 */
export const acceptedSeqClientsMax = 100_000;
export const clientSeqsRetryMs = 1000;
/** How long a promotion waits for that table before it serves anyway (ms). */
export const clientSeqsPromotionWaitMs = 50;
/** Frames refused as Busy a session may have outstanding before it is closed (4008). */
export const refusedFramesMax = 4096;
/** Bytes a slow client may leave unread before it is closed (CloseCode.SlowConsumer). */
export const sessionBackpressureMaxBytes = 4 << 20;
/**
 * uWS's own limit, past which it drops a send (silently, for pub/sub): far above ours, which
 * the gateway enforces itself (gateway/slow-consumers.ts), so that it is never reached.
 */
export const sessionBackpressureDropBytes = 64 << 20;
/** How often every session's unread bytes are checked against the limit (ms). */
export const slowConsumerSweepMs = 10;
/** Seconds without any message before a connection is closed (pings keep it open). */
export const sessionIdleTimeoutSeconds = 120;
/**
 * Bytes of one WebSocket message the gateway sends. uWebSockets.js v20.30 drops the payload of
 * one of 16 KiB or more sent while nothing is buffered if the kernel takes only its header: a
 * corrupt stream (fixed upstream in uWebSockets#1662, not in this build). We stay below it.
 */
export const wsMessageBytesMax = 16 * 1024 - 1;
/**
 * Events sent to one session in one Events frame (and results in one Results frame): a frame
 * of 8 bytes of header, 8 of count and this many events is at most wsMessageBytesMax.
 */
export const eventsPerFrameMax = Math.floor((wsMessageBytesMax - 16) / eventSizeBytes);
/** Answer runs held from a delivery, then sent corked by session (gateway/delivery-runs.ts). */
export const deliveryRunsMax = 1_024;
/**
 * ResultsOnly frames of one session whose results are still to come (4 KB per session that
 * uses the flag, allocated at its first such frame). Past it, further frames of the session are
 * answered with Events, as frames without the flag are: nothing is lost, it costs bandwidth.
 */
export const resultRangesPerSessionMax = 256;
/**
 * Clients whose cancels on disconnect are under way at once (waiting for ring room, or for a
 * round's answer), a chain per lost session's client id. Past it, a lost session's orders are
 * not canceled and the node says so (logged, and counted on /metrics): a node serves at most
 * sessionCountMax sessions, and a chain ends within seconds.
 */
export const cancelOnDisconnectPendingMax = 65_536;
/** Cancel reports kept for clients' next Welcome (gateway/cancel-reports.ts): > chains. */
export const cancelReportsMax = 2 * cancelOnDisconnectPendingMax;
/** How soon cancels on disconnect that found the input ring full are tried again (ms). */
export const cancelOnDisconnectRetryMs = 10;
/** How long a node taking commands waits for marked clients to log in again (ms; a flag's). */
export const cancelOnDisconnectGraceMs = 5_000;
/** ...held open by logins it sheds up to this in all (ms): the longest an SDK client tries. */
export const cancelOnDisconnectGraceHeldMaxMs = 120_000;
/** ...while clients come back: ends after this many holds with none back (a full node's aren't). */
export const cancelOnDisconnectHoldsIdleMax = 1;
/** A session with the flag heard from not at all this long (pinged meanwhile) is lost (ms). */
export const cancelOnDisconnectSilenceMs = 10_000;
/** How often sessions with the flag are looked at, and the quiet ones pinged (ms). */
export const cancelOnDisconnectSweepMs = 1_000;
/** Bytes of a POST /commands body. */
export const httpBodyMaxBytes = 4096;
/** Events one GET /events returns. */
export const httpEventsMax = 1000;
/**
 * Times a reader may give (replay --to-time, GET /events?from-time), in µs since 1970: 0, or
 * 2000-01-01 (15 digits) to 2255-01-01, within 2^53; 13 digits are ms read as µs (1970-01-21).
 */
export const readTimeUsMin = 946_684_800_000_000;
export const readTimeUsMax = 8_993_721_600_000_000;
/**
 * Journal events one GET /events?account=N looks at: a page stops there and names where to go
 * on (`next`). Read on the consensus thread: 100,000 took 36 ms a page (loaded 2-core machine),
 * and paging stalled a primary long enough to be deposed; 10,000 take about 2 ms.
 */
export const httpAccountScanEventsMax = 10_000;
/** HTTP commands waiting for their durable answer. */
export const httpPendingMax = 10_000;
/**
 * How often a node with keys looks at keys.json (ms): a key made or revoked with `bourse keys`
 * takes effect within this, a revoked key's sessions closed.
 */
export const keysReloadPollMs = 500;
/**
 * Draws `bourse keys create` makes for a key id not in keys.json (32 bits: with a million keys,
 * all 8 clash 1 time in 10^29: the random source is broken, and no key is made).
 */
export const keyIdDrawsMax = 8;
/** Levels per side in a depth stream's Book frame. */
export const bookDepthLevels = 20;
/** Levels per side one GET /book may ask for. */
export const bookQueryDepthMax = 1000;
/** Book views are conflated: each watched book is sent at most this often (ms). */
export const bookPublishIntervalMs = 10;
/** Dashboard pages (GET /dashboard, WebSocket /dashboard/live) connected at one time. */
export const dashboardViewersMax = 16;
/**
 * ...of which from one remote address: 16 idle sockets from one host (no key needed) locked
 * operators out for as long as they stayed open.
 */
export const dashboardViewersPerAddressMax = 4;
/** A dashboard page gets a snapshot this often (ms). */
export const dashboardTickMs = 1000;
/** Book levels per side in a dashboard snapshot. */
export const dashboardBookLevels = 10;
/** Bytes of one message from a dashboard page (it only names an instrument). */
export const dashboardRequestBytesMax = 256;
/**
 * Bytes of one dashboard snapshot (JSON). Its parts are bounded: the role's description, at
 * most clusterMembersMax members and dashboardBookLevels levels per side (asserted below).
 */
export const dashboardMessageBytesMax = wsMessageBytesMax;
/** Bytes a dashboard page may leave unread; past it, its snapshots and trades are dropped. */
export const dashboardBackpressureMaxBytes = 1 << 20;
/** Longest result latency the dashboard tells apart (µs); a longer one counts as this. */
export const dashboardLatencyUsMax = 60_000_000;
/**
 * The main thread's event-loop delay on /metrics (process-metrics.ts): sampled every
 * eventLoopResolutionMs (taken off each sample: an idle loop read as it), over the last whole
 * window of eventLoopWindowMs, so that two scrapes close together read the same values.
 */
export const eventLoopResolutionMs = 10;
export const eventLoopWindowMs = 60_000;
/**
 * GET /metrics answers a scrape this recent (ms); scrapes during one wait for it. Each read all
 * anew: 50 connections scraping (1,200/s) took a client's transfer p99 from 5 to 275 ms.
 */
export const metricsCacheMs = 1000;
/**
 * Events all catching-up readers read and send in one event-loop turn (catch-up-turns.ts), a
 * chunk of at most journalCatchUpChunkEvents each: 1,024 subscriptions from sequence 1 each
 * looping moved 7 GB in 10 s on the gateway's thread (p99 1.9 s). A turn: ~1 MB, a few ms.
 */
export const journalCatchUpEventsPerTurnMax = 8192;
export const journalCatchUpChunkEvents = 1024;
/** Queries (HTTP balances, orders, book) waiting for the read model. */
export const readQueriesPendingMax = 1000;
/** ...of which waiting for an `at=`, from one address: 503 READ_BUSY past it (read-at.ts). */
export const readAtWaitsPerAddressMax = 64;
/** A query the read model has not answered (or, asked `at=`, reached) by then is 503 (ms). */
export const readQueryTimeoutMs = 5000;
/** How often reads asked `at=` a sequence look at the read model's (ms; only while some wait). */
export const readAtPollMs = 1;
/** Longest the read model applies events without turning to queries and book views (ms). */
export const readModelYieldMs = 5;
/**
 * Longest the read model goes on starting queries in one turn before the replica applies
 * again (ms; one query may run past it). Queries served back to back without it held the
 * replica off the output ring until the ring filled and the processor stopped.
 */
export const readModelQueryBudgetMs = 5;
/**
 * LMDB page size of a new journal (journal.mdb; an existing one keeps the size it was made with).
 * Each commit writes whole pages: the batch's overflow pages, and a new copy of the leaf, branch
 * and free-list pages it touched. With 64 KB pages a 33 KB batch wrote ~370 KB a commit, and
 * copying that into the page cache took a tenth of a standby's CPU; 16 KB pages write ~140 KB.
 * 4 KB pages write least (~60 KB), but a batch then needs a run of 8-32 contiguous free pages,
 * and after a long-lived reader LMDB's search for them costs the most CPU per commit
 * (bench:journal --reader-commits 1500: 785 us at 4 KB, 690 at 16 KB, 578 at 64 KB).
 */
export const journalPageSizeBytes = 16_384;
/**
 * A node refuses to start on a disk with less free space than this: it could journal only a few
 * batches, and LMDB crashes the process (SIGSEGV, seen with 12 KB free) creating an environment.
 */
export const dataFreeBytesMin = 8 * 2 ** 20;
/** Below this much free space the node warns (disk-watch.ts): 1 GiB, ~8M events. */
export const dataFreeBytesWarn = 2 ** 30;
/** How often the free space is looked at (ms), and how often at most a warning is logged. */
export const diskCheckMs = 10_000;
export const diskWarnEveryMs = 60_000;
/** LMDB page size of a new snapshots.mdb: its values are 1 MB chunks, written rarely. */
export const snapshotPageSizeBytes = 65_536;
/** Bytes of one stored snapshot chunk (an LMDB value, written in its own transaction). */
export const snapshotChunkSizeBytes = 1 << 20;
/** Pause between two snapshot chunk writes, so their fsyncs interleave with the journal's (ms). */
export const snapshotWritePaceMs = 5;
/**
 * Submissions (calls; a batch is one) the SDK holds waiting for room in flight; one
 * more is refused at once (QueueFull). A waiting call holds ~0.7 KB (its fields, closure and
 * promise): the queue stays under ~70 MB. A caller that awaits its calls never reaches it.
 */
export const sdkQueueMax = 100_000;
/** The SDK drops the submissions it has sent from its waiting queue this many at a time. */
export const sdkWaitingCompactAt = 1024;
/**
 * The SDK's connect to a cluster whose members answer 503 (none primary yet: starting, or
 * electing): how long it goes on looking, and the pause between its rounds over the members.
 * A restarted cluster took 0.2-2 s to elect and promote here (2 s serving a wiped member).
 */
export const sdkConnectWaitMs = 10_000;
export const sdkConnectRoundMs = 100;
/**
 * A connection (or session being opened) silent this long is dropped, the SDK reconnects (ms;
 * silenceMs). Above a loaded member's longest loop stalls (~1 s): a slow primary is kept.
 */
export const sdkSilenceMs = 2_000;
/**
 * How long the SDK tries to open the connection again after a drop (ms; reconnectWaitMs), in
 * jittered rounds (client/backoff.ts): above a lost quorum's or a restarted cluster's seconds.
 * A 503 that sheds a login renews it, up to sdkReconnectShedWaitsMax of it after the drop.
 */
export const sdkReconnectWaitMs = 30_000;
export const sdkReconnectShedWaitsMax = 4;
/** The SDK's pause before each round of reconnect tries, doubling to the cap (backoff.ts). */
export const sdkReconnectClusterFirstMs = 5;
export const sdkReconnectClusterCapMs = 100;
export const sdkReconnectNodeFirstMs = 25;
export const sdkReconnectNodeCapMs = 1_000;
/** The SDK's wait before it sends a frame refused Busy again (ms; busy-resend.ts), doubling. */
export const sdkBusyRetryMs = 1;
export const sdkBusyRetryMsMax = 100;
/** Refused Busy this long (ms; busyTimeoutMs), the SDK's calls fail BusyTimeout, not applied. */
export const sdkBusyTimeoutMs = 10_000;
/** The longest wait a shed login's 503 may ask that the SDK takes (ms; more is ignored). */
export const sdkRetryAfterMsMax = 60_000;
/** Commands the SDK has in flight at most, unless its options say (inFlightMax). */
export const sdkInFlightMax = 100_000;
/** How often the SDK looks at a connection it heard nothing from, and pings it (ms). */
export const sdkPingMs = 250;
/**
 * Quiet this long (ms), the SDK also asks the other members' /health, every look, whether one is
 * a primary (primary-probe.ts), each within `sdkProbeTimeoutMs`: a cut-off one is left at once.
 */
export const sdkProbeAfterMs = 500;
export const sdkProbeTimeoutMs = 200;
/** Journal batches a primary keeps read for sending (each goes to every standby). */
export const replicaPayloadCacheEntries = 32;
/**
 * Compacted entries' metadata a primary keeps read back for a standby far behind (~300 bytes
 * each): four windows (`replicationWindowEntries`), each entry read from disk once.
 */
export const replicaMetaCacheEntries = 1_024;
/** How long a stopping node lets a snapshot being written finish before it cuts it short (ms). */
export const snapshotStopWaitMs = 2_000;
/**
 * Pages a due snapshot touches per turn of the snapshotter before it copies (PageToucher): a
 * first access costs a fault (12-27 µs on this VM), and a copy that faulted 186 MB in at once
 * held the output ring, so the pipeline, for a second. 64 pages: about 1-2 ms per turn.
 */
export const snapshotTouchPagesPerTurn = 64;
/** Nice value of the snapshot worker's thread (19: it runs on otherwise idle CPU). */
export const snapshotThreadNice = 19;
/**
 * A clean stop takes a snapshot when the newest is this many commands old or more, so that the
 * next start loads it instead of replaying them: after a whole-cluster restart, the member
 * elected waited 0.5-4 s for that replay before it took over. (~0.1-0.3M events: 20-60 ms of
 * replay, below which the snapshot's write, 0.2-1.3 s, is not worth the stop's wait.)
 */
export const snapshotAtStopSequencesMin = 100_000;
/** Snapshots kept; older ones are dropped once a newer one is written. */
export const snapshotKeepCount = 3;
/** A snapshot is taken after this many journaled events... */
export const snapshotIntervalEvents = 2_000_000;
/**
 * ...or after this long (ms) with this many new commands (snapshotAtStopSequencesMin's reason):
 * with any, one command a minute wrote a whole snapshot a minute (before layout 8: 863 MB, 43 s
 * of writing, for 2 deposits). A snapshot still costs a copy, a scan of the state, its fsyncs.
 */
export const snapshotIntervalMs = 60_000;
export const snapshotTimeSequencesMin = snapshotAtStopSequencesMin;
/** Events applied per replay step (one journal batch at most is the output ring's size). */
export const replayBatchEventsMax = 1 << 17;
/** Journal batches recovery applies between turns of the event loop (see replay.ts recover). */
export const recoveryStepBatches = 4;
/** A hot standby's workers (src/pipeline/follower.ts): journal batches applied a turn. */
export const followStepBatches = 64;
export const followWaitMs = 50; // the longest wait for the commit limit to move, then a stop look
/**
 * A hot standby maps in, ahead, the pages a promotion's handover writes (src/pipeline/
 * handover.ts): its snapshotter names the sizes in use this often (ms), and the processor
 * touches that many pages per turn, pausing between turns (ms). 128 pages: up to 2-3 ms.
 */
export const handoverHintMs = 1_000;
export const handoverTouchPagesPerTurn = 128;
export const handoverTouchPauseMs = 4;
/**
 * Node flags for piscina's threads: its require() of a task file loads ES modules on Node 20.19+,
 * which in a pool thread aborted the process (V8 "IsGraphAsync ..."); without, it uses import().
 */
export const piscinaExecArgv: readonly string[] = ['--no-experimental-require-module'];
/** Threads that check the hash chain in parallel (verify, recovery); segments per thread. */
export const chainCheckThreadsMax = 4;
export const chainCheckSegmentsPerThread = 4; // so that work evens out and progress moves
/** A member's log in front of LMDB (replication/standby-log.ts; off: LMDB alone), its size. */
export const standbyLogOn = true; // a standby's (RESULTS.md, forty-third session)
export const journalLogOn = false; // the journal writer's (pipeline/journal-log.ts)
export const standbyLogBytes = 64 << 20;
export const standbyLogRecordBytesMax = 16 << 20; // a group larger goes to LMDB directly
/** Replication: one tick of the consensus clock (ms). Timeouts below are in ticks. */
export const replicationTickMs = 10;
/** A primary sends at least this often (heartbeats; they also resend what is unacked). */
export const heartbeatTicks = 3;
/** A primary resends what a standby has not acknowledged when its match stands still this long. */
export const resendTicks = 30;
/** An idle primary writes an entry for a recovering standby at most once per this many ticks. */
export const recoveryEntryTicks = 50;
/**
 * A standby that hears no primary for a random time in [min, max) ticks stands (after a
 * majority's pre-votes); a primary that hears no majority for `min` steps down. Probes find a
 * dead one sooner; these outlast a live one's stalls (100-800 ms under 3x overload here, where
 * 150-300 ms elected many times a second; etcd: 100 ms heartbeats, a 1 s election timeout).
 */
export const electionTimeoutTicksMin = 50;
export const electionTimeoutTicksMax = 100;
/**
 * A standby quiet for this many ticks probes its primary's port; a refusal (the process is
 * gone: ICMP port unreachable) makes it stand after 1 + rank × stagger + [0, jitter) ticks,
 * where rank is its place by id among the standbys: two standbys never stand at once (which
 * would split the vote and cost a whole election timeout).
 */
export const probeQuietTicks = 6;
/** A member logs a consensus tick that came this many ticks late (its event loop stalled). */
export const stallTicksLogged = 10;
/**
 * A standby this many entries behind its primary's commit logs its catch-up progress every
 * `catchUpLogTicks` (a member's log is its progress bar: it runs as a daemon).
 */
export const catchUpLogEntriesMin = 64;
export const catchUpLogTicks = 200;
/**
 * Events a primary sends per turn of its event loop to standbys a window or more behind (read
 * back from disk and packed: ~2 MB, a few ms); the rest wait for the next turn.
 */
export const catchUpEventsPerTurn = 16_384;
/** A --bootstrap member waits this long (ms) for each other's /health (formation-check.ts). */
export const bootstrapPeerCheckMs = 300;
/** A member of another cluster is logged at most this often (ms), each. */
export const foreignLogMs = 10_000;
/**
 * Messages in a row from one member, all of the same other cluster (or member list), before
 * a member says so in its log: the advice that follows (empty a folder) destroys data, so one
 * message, which a damaged datagram could have been before checksums, never concludes it.
 * Heartbeats (every heartbeatTicks, 30 ms) bring this many in a fraction of a second.
 */
export const foreignMessagesMin = 8;
/**
 * Datagrams (or messages) from one member that say the same other transport or replication
 * version before a member logs that it speaks it (see foreignMessagesMin).
 */
export const otherVersionDatagramsMin = 8;
/**
 * After a failed start, a node waits this long for its workers to end on their own before it
 * terminates them (ms): a worker terminated inside a native call, such as LMDB opening its
 * environment, can abort the whole process.
 */
export const workerStopMs = 30_000;
/**
 * A member asked to stop by `bourse cluster`, a drill or a bench is killed after this (ms); one
 * still starting when its supervisor is gone exits after it. --member-stop-ms (cluster) and
 * --stop-ms (member) give another, at most memberStopMsMax: a timer past 2^31 - 1 ms fires at once.
 */
export const memberStopMs = 20_000;
export const memberStopMsMax = 3_600_000;
/**
 * A primary's clean stop hands the cluster over (ClusterNode.transferLeadership): it waits at
 * most this long (ms) for the commands it took in to be committed and answered, then at most
 * `transferVoteWaitMs` for the standby it named to stand. Either past its bound, the stop goes
 * on: the others then find the primary gone as after a crash.
 */
export const transferDrainMs = 500;
export const transferVoteWaitMs = 100;
export const suspectStaggerTicks = 3;
export const suspectJitterTicks = 2;
/** A candidate that stood on a suspicion stands again after this (plus its stagger) if it lost. */
export const splitRetryTicks = 10;
/**
 * A member that has heard no primary since it started stands once quiet this many ticks (in
 * order of ids), not after a whole election timeout: a cluster starting at once waited 0.5-1 s
 * for nothing. A member joining hears the primary long before; pre-votes keep others calm.
 */
export const startQuietTicks = 20;
/** Entries one append message carries. */
export const appendEntriesMax = 64;
/** Entries a primary sends past what a standby holds durably (the flow-control window). */
export const replicationWindowEntries = 256;
/**
 * Committed entries (journal batches) kept in memory; older ones are read back from the journal
 * for a standby far behind. 4,096 entries' metadata is ~1 MB, 16 windows (a standby keeping up).
 */
export const logRetainEntries = 4_096;
/** ...and events (128 bytes each): 64k events is 8 MB, about 30 ms of paced sending. */
export const replicationWindowEvents = 65_536;
/** Events one append message carries (at least one entry, however large). */
export const appendEventsMax = 8_192;
/** Replicas in one cluster; member ids are 1 to this (messages name their sender by it). */
export const clusterMembersMax = 7;
/** The highest consensus term: far below 2^53, `term + 1` stays exact (see consensus.ts). */
export const termMax = 2 ** 48 - 1;
/** Bytes of a replication datagram's chunk by default: within a 1,500-byte MTU, on any path; */
export const udpPayloadBytesDefault = 1384;
/** ...a member's, at most (65,507 of UDP less the 40-byte header: loopback, jumbo frames). */
export const udpPayloadBytesMax = 65_467;
/** Pacing: datagrams of the default size per ms, at most (200k/s loses ~0.1% on loopback). */
export const udpDatagramsPerMsMax = 200;
/** ...and at most this many at once, after a late timer (a 8 MB receive buffer holds 5,000). */
export const udpBurstMax = 800;
/** Datagrams waiting to be sent; past it a message is dropped (consensus resends it). */
export const udpSendQueueMax = 1 << 16;
/** Bytes of sent messages kept to answer NAKs. */
export const udpRetainedBytesMax = 32 << 20;
/** Messages being reassembled at once. */
export const udpReassemblyMax = 256;
/** Gaps in a message are NAKed this long after a fragment past them came (ms)... */
export const udpNakDelayMs = 2;
/** ...its tail too once it has made no progress for this long (ms)... */
export const udpNakTailMs = 20;
/** ...again after this long without progress, doubled per NAK up to the max (nak-pacing.ts)... */
export const udpNakRetryMs = 8;
export const udpNakRetryMsMax = 128;
/** ...and dropped when it has made none for this long (ms): consensus resends it. */
export const udpReassemblyTimeoutMs = 500;
/** NAKs to one peer per udpNakRetryMs, at most; and the time a fragment resent lingers (ms). */
export const udpNakPeerMax = 64;
export const udpResendLingerMs = 4;
/** Each member's message ids kept to take each once; ms between Renews asked of it. */
export const udpReplayWindowIds = 1 << 17;
export const udpRenewAskMs = 100;
/** A peer's name not resolved yet (containers), or its connect failed: tried again after (ms). */
export const udpConnectRetryMs = 250;
/** Refused replication datagrams are logged at most this often (ms), counted meanwhile. */
export const refusedLogMs = 10_000;
/** A lookup of a member's host name: each DNS query's timeout (ms) and tries. */
export const hostLookupTimeoutMs = 1000;
export const hostLookupTries = 2;
/** A stopped member, all it took journaled, waits this long (ms) for handles such as a lookup. */
export const memberExitWaitMs = 500;
/** Free ports (clusters, drills, tests): tries at random below Linux's ephemeral 32768-60999. */
export const localPortMin = 20_000;
export const localPortCount = 10_000;
export const localPortTries = 64;
export const localPortsGivenMax = 256; // the last handed out: not again (cli/ports.ts)
/**
 * `bourse cluster` starts a member that exited again after memberRestartDelayMs, the wait
 * doubling (up to its max) while each run fails within memberUpStableMs of its start, and
 * says at the memberCrashLoopCount-th such failure in a row that it is crash-looping (one
 * crashing at once was restarted every second for ever). One that exits with an error code
 * within memberRestartQuickMs (a corrupt folder) is left down: a restart would repeat the fault.
 */
export const memberRestartDelayMs = 1000;
export const memberRestartDelayMsMax = 60_000;
export const memberUpStableMs = 60_000;
export const memberCrashLoopCount = 5;
export const memberRestartQuickMs = 5000;
/**
 * ...unless its cause may clear (a port taken, a disk full or not writable, a folder in use:
 * exit 69, 73, 74, 75): tried again after this long (ms), doubling up to the max, it is back
 * once the operator frees the disk or the port, without restarting the whole cluster.
 */
export const memberRetryDownMs = 10_000;
export const memberRetryDownMsMax = 300_000;
/** File in the data folder that holds the running node's pid (one node per folder). */
export const dataLockFileName = 'bourse.lock';
/** util-linux's flock(1), which takes the data folder's lock for us (journal/data-lock.ts). */
export const dataLockTool = 'flock';
/** Tries to lock the data folder's lock file while its holders keep unlinking it (data-lock.ts). */
export const dataLockAttemptsMax = 100;
export const keysLockWaitMs = 30_000; // a `bourse keys` change waits for another's (keys-lock.ts)
/** The file that makes a folder a local cluster's (`bourse cluster`): members in member-N. */
export const clusterFileName = 'cluster.json';
/** Beside it, the cluster's replication secret (cli/cluster-secret.ts), mode 0600. */
export const clusterSecretFileName = 'replication.key';
/** Bytes of that secret (written as twice as many hex digits): replication/datagram-mac.ts. */
export const replicationSecretBytes = 32;
/**
 * Copies of the engine's state a node holds, every table at full size: the processor's, the
 * snapshotter's (its read model), and the buffer it copies its state into to write a snapshot
 * (snapshot-worker.ts SnapshotWriter, also a handover's). Together they may take this share (%)
 * of the machine's memory (os.totalmem(), or the cgroup's limit when lower): capacities beyond
 * are refused before they are kept (V8 allocates lazily: a state larger than the memory started
 * and failed once it filled up). The rest is for the heap, the rings and LMDB's pages.
 */
export const stateCopiesCount = 3;
export const stateMemoryPercentMax = 75;
/**
 * glibc's mmap threshold (bytes) for members (MALLOC_MMAP_THRESHOLD_, set by `bourse cluster`,
 * drills, benches and the image unless set already). glibc raises its threshold to each large
 * block freed, so the 4-16 MB tables of workers a demotion ended stayed in malloc's arenas: 60
 * failovers took members' RssAnon to 623-733 MB, growing; fixed, each table is a mapping of its
 * own, returned as its worker ends (323-392 MB; 320-370 without role changes).
 */
export const memberMallocMmapThresholdBytes = 128 * 1024;
/**
 * Capacities of the engine's preallocated state. All memory is sized from these at start-up;
 * reaching one is a business rejection with a status code, never growth.
 */
export interface EngineConfig {
  /** Accounts, ever (accounts are never deleted). */
  readonly accountCountMax: number;
  /** Asset ids run 1 .. assetCountMax - 1; every account has a balance slot for each. */
  readonly assetCountMax: number;
  /** Instrument ids run 1 .. instrumentCountMax - 1. */
  readonly instrumentCountMax: number;
  /** Resting orders, across all books. */
  readonly orderCountMax: number;
  /** Price levels in use, across all books. */
  readonly levelCountMax: number;
  /** Price levels on one side of one book. */
  readonly levelsPerSideMax: number;
  /** Pending (two-phase) transfers not yet posted, voided or expired. */
  readonly pendingCountMax: number;
  /**
   * Distinct client ids, ever. The node's own ids (nodeClientIdCount) have slots of their own
   * beyond these: customers get all of them.
   */
  readonly clientCountMax: number;
  /** Recent outcomes kept per client for idempotent retries; a power of two. */
  readonly idempotencyWindow: number;
  /** Commands in one linked chain. */
  readonly chainLengthMax: number;
  /** Trades plus self-trade cancellations one order may cause. */
  readonly fillsPerCommandMax: number;
  /** Pending transfers expired before one command. */
  readonly expiriesPerCommandMax: number;
}

/** Sizes for `bourse start` on a developer machine: about 120 MB of state. */
export const engineConfigDefault: EngineConfig = Object.freeze({
  accountCountMax: 1 << 18,
  assetCountMax: 16,
  instrumentCountMax: 256,
  orderCountMax: 1 << 18,
  levelCountMax: 1 << 16,
  levelsPerSideMax: 4096,
  pendingCountMax: 1 << 16,
  clientCountMax: 1 << 14,
  idempotencyWindow: 128,
  chainLengthMax: 128,
  fillsPerCommandMax: 1024,
  expiriesPerCommandMax: 64,
});

/**
 * Orders one CancelAll or CancelClientOrders cancels: as many as an order may fill, so that its
 * events (a head, an OrderCanceled each) fit the room an order's take (eventsPerCommandMax), and
 * one command costs the engine about what the largest sweep does. More: send it again.
 */
export function cancelAllPerCommandMax(config: EngineConfig): number {
  return config.fillsPerCommandMax;
}

/**
 * Resting orders of its account one CancelAll looks at, canceled or passed over (another
 * instrument's), as a multiple of what it cancels. A look reads one order record; bounding the
 * looks bounds a command that filters one instrument out of many of the account's orders, and
 * the head event names where to go on (`other_id`), so that sending it again makes progress.
 */
export const cancelAllLooksPerCancel = 4;
/**
 * The most events one call to `Engine.execute` can write, so that callers reserve that much
 * room first. Terms: expirations that run before the command; a linked chain rejected because
 * this command did not continue it; then the command's own events, the largest of a closing
 * chain (one event per member), an order (accepted + fills + one expiry) and a CancelAll (its
 * head + one per order canceled). */
export function eventsPerCommandMax(config: EngineConfig): number {
  const order = config.fillsPerCommandMax + 2;
  const own = Math.max(config.chainLengthMax, order, cancelAllPerCommandMax(config) + 1);
  return config.expiriesPerCommandMax + config.chainLengthMax + own;
}

export function assertEngineConfig(config: EngineConfig): void {
  const problem = engineConfigProblem(config);
  assert(problem === null, `config: ${problem}`);
}
/** What makes a config unusable, or null (operators' capacities are checked with it). */
export function engineConfigProblem(config: EngineConfig): string | null {
  // Every capacity, named as the defaults name them (all of EngineConfig's fields).
  const names = Object.keys(engineConfigDefault) as (keyof EngineConfig)[];
  if (!names.every((name) => Number.isSafeInteger(config[name]) && config[name] > 0)) {
    return 'capacities are whole numbers of 1 or more';
  }
  const window = config.idempotencyWindow;
  const clientSlots = config.clientCountMax + nodeClientIdCount;
  const idsMax = Math.max(config.accountCountMax, config.pendingCountMax, clientSlots);
  const problems: [boolean, string][] = [
    [config.assetCountMax < 2, 'at least one asset id (assets 2 or more)'],
    [config.assetCountMax > 65_536, 'asset ids fit the event ref field (assets at most 65536)'],
    [config.instrumentCountMax < 2, 'at least one instrument id (instruments 2 or more)'],
    [(window & (window - 1)) !== 0, 'the idempotency window is a power of two'],
    [config.levelCountMax > config.orderCountMax, 'levels at most orders (a level holds one)'],
    [config.levelsPerSideMax > config.levelCountMax, `levels at least ${config.levelsPerSideMax}`],
    [config.accountCountMax * config.assetCountMax >= 2 ** 31, 'accounts x assets below 2^31'],
    [config.instrumentCountMax * 2 * config.levelsPerSideMax >= 2 ** 31, 'side index below 2^31'],
    [clientSlots * window >= 2 ** 31, 'clients x idempotency window below 2^31'],
    [idsMax > 2 ** 29, 'accounts, pending transfers and clients at most 2^29 each (id maps)'],
    [config.orderCountMax > 2 ** 27, 'orders at most 2^27 (Orders indexes (slot << 4) | field)'],
  ];
  // Every problem at once: told one at a time, a fix for one met the next on the next start.
  const broken = problems.filter(([is]) => is).map(([, why]) => why);
  return broken.length === 0 ? null : broken.join('; ');
}

export function assertConstants(): void {
  for (const slots of [inputRingSlotCount, outputRingSlotCount, clientSlotCacheSize]) {
    assert((slots & (slots - 1)) === 0, 'constants: rings and caches are powers of 2');
  }
  assert(ringBatchMax < inputRingSlotCount, 'constants: a batch fits the ring');
  assert(cancelReportsMax > cancelOnDisconnectPendingMax, 'constants: an ended report to drop');
  assert(Number.isSafeInteger(termMax + 1), 'constants: a term past termMax is still exact');
  assert(pipelineStallMs >= 2 * pipelineWatchMs, 'constants: a stall spans watch ticks');
  assert(capacityWarnPercent < 100, 'constants: a table is warned of before it is full');
  assert(ringFullPercent < 100, 'constants: a ring near full counts as full');
  for (const b of [resultLatencyBucketsUs, journalFlushBucketsUs]) {
    for (let i = 1; i < b.length; i++) assert(b[i] > b[i - 1], 'constants: buckets ascend');
  }
  assert(statusCodeCountMax <= 1 << 16, 'constants: status codes fit the event status field');
  assert(commandSizeBytes % 8 === 0, 'constants: command size is a multiple of 8');
  assert(eventSizeBytes % 8 === 0, 'constants: event size is a multiple of 8');
  assert(feeBpsMax <= 10_000, 'constants: fees never exceed the notional');
  assert(readTimeUsMin < readTimeUsMax, 'constants: a time range to read');
  assert(Number.isSafeInteger(readTimeUsMax), 'constants: read times are safe integers');
  assert(clusterMembersMax <= 8, 'constants: member ids fit a replication header byte');
  assert(udpNakRetryMsMax * 1.5 < udpReassemblyTimeoutMs, 'constants: NAK retries before drop');
  assert(udpResendLingerMs < udpNakRetryMs, 'constants: a linger ends before a NAK retries');
  assert(memberRestartQuickMs < memberUpStableMs, 'constants: a quick exit is a failed run');
  assert(memberStopMs <= memberStopMsMax, 'constants: the default stop wait within its bound');
  assert(memberStopMsMax < 2 ** 31, 'constants: a stop wait fits a timer');
  assert(journalCatchUpChunkEvents <= journalCatchUpEventsPerTurnMax, 'constants: chunk in turn');
  assert(loginsPendingPerAddressMax <= loginsPendingMax, 'constants: an address within the pool');
  assert(loginRetryAfterMs <= loginRetryAfterMaxMs, 'constants: a shed login waits within bounds');
  assert(loginRetryAfterMaxMs <= sdkRetryAfterMsMax, 'constants: the SDK takes a shed wait');
  assert(sdkReconnectClusterFirstMs <= sdkReconnectClusterCapMs, 'constants: backoff to its cap');
  assert(sdkReconnectNodeFirstMs <= sdkReconnectNodeCapMs, 'constants: backoff to its cap');
  assert(sdkBusyRetryMs <= sdkBusyRetryMsMax, 'constants: backoff to its cap');
  assert(sdkBusyRetryMsMax < sdkBusyTimeoutMs, 'constants: Busy frames sent again before');
  const sdkTriesMs = sdkReconnectShedWaitsMax * sdkReconnectWaitMs;
  assert(cancelOnDisconnectGraceHeldMaxMs === sdkTriesMs, 'constants: held while the SDK tries');
  assert(dashboardViewersPerAddressMax <= dashboardViewersMax, 'constants: an address within');
  assert(readAtWaitsPerAddressMax <= readQueriesPendingMax, 'constants: an address within');
  assert(dashboardBookLevels <= bookQueryDepthMax, 'constants: dashboard book is a query');
  // A book level is at most ~70 bytes of JSON, a member ~100, the rest ~2 KB.
  const dashboardBytes = dashboardBookLevels * 2 * 70 + clusterMembersMax * 100 + 2048;
  assert(dashboardBytes <= dashboardMessageBytesMax, 'constants: a dashboard snapshot fits');
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  assert(littleEndian, 'constants: typed arrays must be little-endian like FlatBuffers');
  assertEngineConfig(engineConfigDefault);
}
