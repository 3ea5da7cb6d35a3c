/**
 * bench:remote: the load of bench:e2e and bench:replicated against a node or cluster that is
 * already running (docker/compose.yml's bench service; any deployment): funded accounts, a
 * closed loop, an open loop, from client processes through the SDK, which finds the primary
 * among the members and follows it across a failover.
 *
 *   node dist/bench/macro/remote.bench.js --members ws://a:9001/,ws://b:9001/ [--small]
 *     [--rate N] [--clients-base N]
 *
 * Client ids start at --clients-base (by default a fresh range from the clock) so that runs
 * against the same cluster do not reuse one another's ids (a reused id's commands are answered
 * from the idempotency window). Prints a table and a last JSON line, like every bench. A node
 * it cannot reach, or an address that is none, is said in one line (exit 69, 64), not a stack.
 */
import { machine, machineLine, printTable } from '../lib/table.js';
import { closedThenOpen, fundAccounts, loadSize, summarise } from '../lib/e2e-load.js';
import { exportHistogram } from '../lib/report-out.js';
import { checkArgs } from '../lib/flags.js';
import { modeOfMembers, modeTitle } from '../lib/modes.js';

checkArgs({
  run: 'npm run bench:remote --',
  switches: { '--small': 'the CI size: 2 client processes, 2 s a phase' },
  values: {
    '--members': 'the addresses of the node or cluster, ws://host:port/, comma-separated',
    '--rate': 'open-loop rate, commands/s (100k; small 20k)',
    '--seconds': 'seconds a load phase (10; small 2; CI 1)',
    '--clients-base': 'first client id (default: from the clock, a fresh range each run)',
  },
  valueNames: { '--members': 'URL,...' },
});

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : process.argv[at + 1];
}

const membersText = flag('--members');
if (membersText === undefined || membersText === '') {
  console.error('bench:remote: --members ws://host:port/,... is required');
  process.exit(64);
}
const members = membersText.split(',');
const notAddress = members.find((m) => !isWsAddress(m));
if (notAddress !== undefined) {
  console.error(`bench:remote: --members: '${notAddress}' is not a ws:// or wss:// address`);
  process.exit(64);
}
const small = process.argv.includes('--small');
const size = loadSize(small);
// A fresh range per run (seconds since the epoch, in thousands): ids stay below 2^32.
const idBase = Number(flag('--clients-base') ?? (Math.floor(Date.now() / 1000) % 4_000_000) * 1000);
if (!Number.isSafeInteger(idBase) || idBase < 0 || idBase > 2 ** 32 - 1000) {
  console.error(`bench:remote: --clients-base must be a whole number below 2^32 - 1000`);
  process.exit(64);
}

/** ws://host:port/ or wss://… (the ws library threw a SyntaxError with a stack on others). */
function isWsAddress(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  // What a result waits for there (one node's disk, or a majority's): asked before the load.
  const probe = await modeOfMembers(members);
  const mode = 'mode' in probe ? probe.mode : `unknown (GET /health: ${probe.unreachable})`;
  try {
    await fundAccounts(members[0], size.accounts, members, idBase + 1);
  } catch (error) {
    // The SDK's message names the address and why ("nothing listens there (ECONNREFUSED)").
    console.error(`bench:remote: cannot start the load: ${(error as Error).message}`);
    process.exit(69); // EX_UNAVAILABLE
  }
  const load = summarise(await closedThenOpen(members[0], size, members, idBase), size);
  const host = await machine();
  const figures = {
    bench: 'remote',
    cpu_steal_pct: host.cpu_steal_pct,
    size: small ? 'small' : 'large',
    mode,
    members: members.length,
    connections: size.processes,
    ...load.figures,
    runner: host,
  };
  const against = `against ${members.join(', ')}`;
  printTable(
    `bench:remote (${figures.size}, ${modeTitle(mode)}) ${against}; runner ${machineLine(host)}`,
    [
      ...load.rows('durable results, closed loop'),
      { measure: 'rejected', value: figures.rejected, unit: '' },
    ],
  );
  exportHistogram(load.histogram, 'us', 'send → durable result, open loop');
  console.log(JSON.stringify(figures));
}

try {
  await main();
} catch (error) {
  // A client process that failed has said why on stderr; this says what it stopped.
  console.error(`bench:remote: the load stopped: ${(error as Error).message}`);
  process.exit(70);
}
