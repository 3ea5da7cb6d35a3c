/**
 * A client of the node at `url` and a second one, the watcher, connected through a proxy that
 * a test can drop and bring back on its port: the watcher's connection is lost and the SDK
 * reconnects, as after a network fault.
 */
import { BourseClient } from '../../src/client/client.js';
import { freePort } from '../../src/cli/ports.js';
import { FreezableProxy } from './freezable-proxy.js';
import { until } from './wait.js';

export interface ProxiedWatcher {
  root: BourseClient;
  watcher: BourseClient;
  /** Drops the watcher's connection, lets it through again, and waits for its reconnect. */
  dropAndReturn(): Promise<void>;
  /** Closes both clients and the proxy. */
  close(): Promise<void>;
}

export async function proxiedWatcher(
  url: string,
  rootId: number,
  watcherId: number,
): Promise<ProxiedWatcher> {
  const port = Number(new URL(url).port);
  let proxy = await FreezableProxy.start(port, await freePort('tcp'));
  const proxyPort = Number(new URL(proxy.url).port);
  const root = await BourseClient.connect(url, { clientId: rootId });
  let reconnects = 0;
  const watcher = await BourseClient.connect(proxy.url, {
    clientId: watcherId,
    reconnectWaitMs: 30_000,
    onReconnect: () => void reconnects++,
  });
  return {
    root,
    watcher,
    async dropAndReturn() {
      const before = reconnects;
      proxy.close();
      proxy = await FreezableProxy.start(port, proxyPort);
      await until('the watcher reconnected', () => reconnects === before + 1, 20_000);
    },
    async close() {
      await Promise.all([root.close(), watcher.close()]);
      proxy.close();
    },
  };
}
