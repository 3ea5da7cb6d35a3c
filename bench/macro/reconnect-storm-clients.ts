/**
 * SDK clients for bench:reconnect-storm: connects `count` clients (ids from `first`) with cancel
 * on disconnect, tells the parent when all are open, then lets the SDK reconnect them on its
 * own; on 'count' it reports how many have reconnected, on 'close' it exits (a drop for each).
 *
 *   argv: url first count
 */
import { BourseClient } from '../../src/client/client.js';
import { loginsPendingPerAddressMax } from '../../src/constants.js';
import { endWithParent } from '../lib/bench-exit.js';

endWithParent();

const [url, firstText, countText] = process.argv.slice(2);
const first = Number(firstText);
const count = Number(countText);
const clients: BourseClient[] = [];

// In waves: one address may have loginsPendingPerAddressMax (64) logins pending at once, and
// two of these processes connect from the same address.
const wave = loginsPendingPerAddressMax / 2;
for (let i = 0; i < count; i += wave) {
  const ids = Array.from({ length: Math.min(wave, count - i) }, (_, j) => first + i + j);
  const opened = ids.map((clientId) =>
    BourseClient.connect(url, { clientId, cancelOnDisconnect: true, members: [url] }),
  );
  clients.push(...(await Promise.all(opened)));
}
process.send?.({ open: clients.length });
process.on('message', (m) => {
  if (m === 'count') {
    let back = 0;
    for (const c of clients) if (c.reconnects > 0) back++;
    return process.send?.({ back });
  }
  process.exit(0);
});
