/**
 * A bench's load process whose connection the node closes for reading too slowly (4008) says
 * so, and its bench goes on to report the run as not kept up. Under a load average of 20-30 on
 * two cores, `replicated.bench.js --small --rate 100000` ended with the SDK's rejection
 * ("connection closed (4008): reading too slowly: sent, not answered") as an unhandled
 * rejection's stack in the client process (bench/macro/e2e-client.ts), then the bench's own
 * ("client exited with 1"): a client starved of CPU left more than 4 MB of answers unread.
 * Here the client's answers come through a proxy that reads one chunk per 100 ms until the
 * node has closed the session.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNode } from '../harness/gateway-node.js';
import { FreezableProxy } from '../harness/freezable-proxy.js';
import { until } from '../harness/wait.js';
import { fundAccounts, loadSize, runClients, summarise } from '../../bench/lib/e2e-load.js';

test('a load process closed for reading too slowly reports why, not a stack', async () => {
  await withNode(async (node, url) => {
    const gateway = node.gateway!;
    await fundAccounts(url, 10);
    await until('the funding session is gone', () => gateway.sessionCount() === 0);
    const proxy = await FreezableProxy.start(gateway.port);
    try {
      proxy.throttleMs = 100;
      // One process, an open loop of 100,000 transfers/s for 2 s (and 0.5 s of warm-up): its
      // answers (~150 bytes each) far outrun the proxy's reads. By transfer(), whose answers
      // are events (the bench's --open-events): submitStatus's 24-byte results kept up, and
      // the loop ran to its end (250,000 answered in 9.8 s).
      process.env.BOURSE_BENCH_OPEN_EVENTS = '1'; // read by the load process (fork's env)
      const load = runClients(proxy.url, 1, 'open', 2, 10, 100_000, 500);
      delete process.env.BOURSE_BENCH_OPEN_EVENTS;
      await until('the load process is in', () => gateway.sessionCount() === 1, 60_000);
      await until('the node closes it', () => gateway.sessionCount() === 0, 60_000);
      proxy.unthrottle(); // the answers held, then the close
      const [result] = await load; // old code: rejected, "client exited with 1"
      assert.match(result.stopped ?? '', /^connection closed \(4008\): reading too slowly/);
      assert.ok(result.done < 250_000, `${result.done} answered before the close`);
      assert.equal(result.reconnects, 0, 'closed by the node, not dropped');
      // The bench's JSON line says the run did not keep up, and which process was cut off.
      const loads = { closed: [result], batch: [result], open: [result], openBatch: [result] };
      const { figures } = summarise(loads, loadSize(true));
      assert.equal(figures.kept_up, false);
      assert.match(figures.cut_off, /^open 500: connection closed \(4008\): reading too slowly/);
    } finally {
      proxy.close();
    }
  });
});
