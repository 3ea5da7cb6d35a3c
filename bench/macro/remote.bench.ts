/**
 * bench:remote: the load of bench:e2e and bench:replicated against a node or cluster that is
 * already running (docker/compose.yml's bench service; any deployment): funded accounts, a
 * closed loop, an open loop, from client processes through the SDK, which finds the primary
 * among the members and follows it across a failover.
 *
 *   node dist/bench/macro/remote.bench.js --members ws://a:9001/,ws://b:9001/ [--small]
 *     [--rate N] [--clients-base N]
 *
 * Client ids start at --clients-base (default 1000) so that runs against the same cluster do
 * not reuse one another's ids (a reused id's commands are answered from the idempotency
 * window). Prints a table and a last JSON line, like every bench.
 */
import { machine, printTable } from '../lib/table.js';
import { closedThenOpen, fundAccounts, loadSize, summarise } from '../lib/e2e-load.js';
import { exportHistogram } from '../lib/report-out.js';
import { checkArgs } from '../lib/flags.js';

checkArgs({
  run: 'npm run bench:remote --',
  switches: { '--small': 'the CI size: 2 client processes, 2 s a phase' },
  values: {
    '--members': 'the addresses of the node or cluster, ws://host:port/, comma-separated',
    '--rate': 'open-loop rate, commands/s (100k; small 20k)',
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
const small = process.argv.includes('--small');
const size = loadSize(small);
// A fresh range per run (seconds since the epoch, in thousands): ids stay below 2^32.
const idBase = Number(flag('--clients-base') ?? (Math.floor(Date.now() / 1000) % 4_000_000) * 1000);
if (!Number.isSafeInteger(idBase) || idBase < 0 || idBase > 2 ** 32 - 1000) {
  console.error(`bench:remote: --clients-base must be a whole number below 2^32 - 1000`);
  process.exit(64);
}

async function main(): Promise<void> {
  await fundAccounts(members[0], size.accounts, members, idBase + 1);
  const load = summarise(await closedThenOpen(members[0], size, members, idBase), size);
  const host = await machine();
  const figures = {
    bench: 'remote',
    cpu_steal_pct: host.cpu_steal_pct,
    size: small ? 'small' : 'large',
    members: members.length,
    connections: size.processes,
    ...load.figures,
    runner: host,
  };
  printTable(`bench:remote (${figures.size}) against ${members.join(', ')}`, [
    ...load.rows('durable results, closed loop'),
    { measure: 'rejected', value: figures.rejected, unit: '' },
  ]);
  exportHistogram(load.histogram, 'us', 'send → durable result, open loop');
  console.log(JSON.stringify(figures));
}

await main();
