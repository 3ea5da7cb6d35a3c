/**
 * A node under load, as a child process for crash tests: starts a node on argv[2], submits the
 * deterministic workload of client argv[3] (argv[4] commands) in chunks, and prints
 * `ACK <client> <clientSeq>` whenever commands of that client become durable (each ack covers
 * every earlier clientSeq: one client's commands are decided in order). Runs until killed.
 * argv[5] `journal-log`: the node writes through its journal log (pipeline/journal-log.ts).
 */
import { BourseNode } from '../../src/pipeline/node.js';
import { writeCommand } from '../../src/protocol/command-writer.js';
import { EventWord } from '../../src/protocol/event-layout.js';
import { smallConfig } from './engine-driver.js';
import { workload } from './workload.js';

const [dataDir, client, total] = [
  process.argv[2],
  Number(process.argv[3]),
  Number(process.argv[4]),
];
// argv[5] 'journal-log': with the journal writer's log (1 MiB: it wraps, and a batch larger
// than a record may be goes to LMDB directly).
const journalLog = process.argv[5] === 'journal-log';
const node = await BourseNode.start({
  dataDir,
  config: smallConfig,
  snapshotIntervalEvents: 3_000,
  journalLog,
  journalLogBytes: 1 << 20,
});
let acked = 0;
node.publisher.listen((records, slot, count) => {
  const u32 = records.u32;
  for (let i = 0; i < count; i++) {
    const w = (slot + i) * EventWord.size;
    if (u32[w + EventWord.clientId] === client)
      acked = Math.max(acked, u32[w + EventWord.clientSeq]);
  }
  process.stdout.write(`ACK ${client} ${acked}\n`);
});
// The workload is made before READY: the test kills within a second of READY, and making a
// million commands took about that long on a slow machine (no round then saw an ack).
const commands = workload(client, total, client);
process.stdout.write(`READY ${node.recovery.sequence} ${node.recovery.stateChecksum}\n`);
const port = node.input!;
for (let at = 0; at < commands.length; at += 200) {
  for (const fields of commands.slice(at, at + 200)) {
    if (!port.hasRoom(1)) await port.waitRoom(1);
    writeCommand(port.ring.records.u32, port.claim(), fields);
    port.commit();
  }
  port.publish();
  await new Promise((resolve) => setTimeout(resolve, 1));
}
await node.stop();
process.stdout.write('DONE\n');
