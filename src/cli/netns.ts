/**
 * Network namespaces for `bourse drill partition`: each member runs in a namespace of its own,
 * joined by a veth pair to a bridge in the drill's, so that partitions are real ones (the
 * kernel drops the packets), not the transport's own fault injection. Needs root and iproute2.
 *
 *   the drill's namespace: its SDK client, bridge <tag>b at 10.77.X.254/24
 *     ├── veth <tag>h1 ═══ eth0 10.77.X.1   namespace bourse-<tag>-1: member 1
 *     ├── veth <tag>h2 ═══ eth0 10.77.X.2   namespace bourse-<tag>-2: member 2
 *     └── veth <tag>h3 ═══ eth0 10.77.X.3   namespace bourse-<tag>-3: member 3
 *
 * Three cuts: `cutLink` sets a member's veth down (it is cut off from everyone, clients
 * included); `cutMembers` adds blackhole routes between it and the other members only (its
 * clients still reach it: a primary that must stop answering them, as it can commit nothing);
 * `cutTowards` adds them in the other members' namespaces only, one way: it still reaches
 * them, they no longer reach it (a primary whose heartbeats arrive and whose acks do not).
 * `destroy` removes everything made (a namespace's removal takes its end of the veth along).
 */
import { execFileSync } from 'node:child_process';
import { ExitError, UsageError } from './output.js';
import { signalExitCode } from './signals.js';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export class NetNamespaces {
  private readonly made: string[] = [];
  private readonly subnet: string;

  private constructor(
    private readonly tag: string,
    octet: number,
    private readonly ids: readonly number[],
  ) {
    this.subnet = `10.77.${octet}`;
  }

  /** Makes the bridge and a namespace per member id. @throws UsageError without root or ip */
  static create(ids: readonly number[], random: number): NetNamespaces {
    if (process.getuid?.() !== 0) {
      throw new UsageError('drill partition: needs root (it makes network namespaces)');
    }
    try {
      execFileSync('ip', ['-V'], { stdio: 'ignore' });
    } catch {
      throw new UsageError('drill partition: needs iproute2 (apt-get install iproute2)');
    }
    const tag = `bp${(random % 10_000).toString().padStart(4, '0')}`;
    const ns = new NetNamespaces(tag, 1 + (random % 250), ids);
    try {
      ns.build();
    } catch (error) {
      ns.destroy();
      // Ctrl-C signals the process group: the `ip` running then dies of it.
      const signal = (error as { signal?: NodeJS.Signals | null }).signal;
      if (signal !== 'SIGINT' && signal !== 'SIGTERM') throw error;
      const why = `interrupted (${signal}) while making its network namespaces; none is left`;
      throw new ExitError(`drill partition: ${why}`, signalExitCode(signal));
    }
    return ns;
  }

  hostOf(id: number): string {
    return `${this.subnet}.${id}`;
  }

  /** The command prefix that runs a program in member `id`'s namespace. */
  execPrefix(id: number): string[] {
    return ['ip', 'netns', 'exec', this.nsOf(id)];
  }

  cutLink(id: number): void {
    ip('link', 'set', `${this.tag}h${id}`, 'down');
  }

  healLink(id: number): void {
    ip('link', 'set', `${this.tag}h${id}`, 'up');
  }

  cutMembers(id: number): void {
    this.routes(id, 'add', true);
  }

  healMembers(id: number): void {
    this.routes(id, 'del', true);
  }

  cutTowards(id: number): void {
    this.routes(id, 'add', false);
  }

  healTowards(id: number): void {
    this.routes(id, 'del', false);
  }

  destroy(): void {
    for (const name of this.made.reverse()) {
      try {
        if (name.startsWith('ns:')) ip('netns', 'del', name.slice(3));
        else ip('link', 'del', name);
      } catch {
        // gone already: go on removing the rest
      }
    }
    this.made.length = 0;
  }

  private nsOf(id: number): string {
    return `bourse-${this.tag}-${id}`;
  }

  private build(): void {
    const bridge = `${this.tag}b`;
    ip('link', 'add', bridge, 'type', 'bridge');
    this.made.push(bridge);
    ip('addr', 'add', `${this.subnet}.254/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    for (const id of this.ids) {
      const ns = this.nsOf(id);
      const host = `${this.tag}h${id}`;
      const peer = `${this.tag}p${id}`;
      ip('netns', 'add', ns);
      this.made.push(`ns:${ns}`);
      ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer);
      this.made.push(host);
      ip('link', 'set', peer, 'netns', ns);
      ip('link', 'set', host, 'master', bridge);
      ip('link', 'set', host, 'up');
      ip('-n', ns, 'link', 'set', peer, 'name', 'eth0');
      ip('-n', ns, 'addr', 'add', `${this.hostOf(id)}/24`, 'dev', 'eth0');
      ip('-n', ns, 'link', 'set', 'eth0', 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  }

  /** Blackhole routes from every other member to member `id`, and back too when `both`. */
  private routes(id: number, op: 'add' | 'del', both: boolean): void {
    for (const other of this.ids) {
      if (other === id) continue;
      if (both) ip('-n', this.nsOf(id), 'route', op, 'blackhole', `${this.hostOf(other)}/32`);
      ip('-n', this.nsOf(other), 'route', op, 'blackhole', `${this.hostOf(id)}/32`);
    }
  }
}
