/**
 * L4 bench child: the floor for a Node TCP proxy, nothing but
 * `net.createServer(c => c.pipe(net.connect(target)).pipe(c))`, round robin over the given
 * targets (`node child-pipe.ts 4001,4002,4003`). Errors destroy both sockets and nothing more.
 */
import net, { type AddressInfo } from 'node:net';
import { exitWithParent, portsArg, reportReady } from '../l7/child.ts';

const ports = portsArg(process.argv[2]);
let next = 0;

const server = net.createServer((client) => {
  const port = ports[next]!;
  next = (next + 1) % ports.length;
  const upstream = net.connect(port, '127.0.0.1');
  const destroy = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', destroy);
  upstream.on('error', destroy);
  client.pipe(upstream).pipe(client);
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

exitWithParent(() => {
  server.close();
});
reportReady([(server.address() as AddressInfo).port]);
