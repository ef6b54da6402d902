/**
 * A Kubernetes node's kube-proxy, stood in for by a small HTTP proxy in a process of its own,
 * for the double hop of a real lab run: the ALB's target is the node (its NodePort), and the
 * node sends each request to a pod picked by kube-proxy's random chain (spec 10.3, the
 * `kube_proxy_random` picker with the seed's `kube-proxy/<node>` stream, as the simulator
 * does). `externalTrafficPolicy: Local` picks among the node's own pods, `Cluster` among all;
 * a pod on another node is reached after `hopLatencyMs`.
 *
 * As in the simulator, the pick is per request (as if every ELB-to-node request opened a
 * connection), not per connection as conntrack keeps it. A node with no pod to send to under
 * Local holds the request, so the ALB answers 504 at its idle timeout (the simulator: after
 * the 10 s connect timeout).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeProxyRandomPicker } from '../../algorithms/kube-proxy-random.ts';
import { stream } from '../../lab/workload.ts';
import { asChild, type Message } from './processes.ts';
import { HEALTH_PATH, type KubeProxyInit } from './protocol.ts';

interface Pod {
  readonly name: string;
  readonly port: number;
  readonly node: number;
  readonly outstanding: number;
}

const server = http.createServer({ keepAliveTimeout: 600_000, requestTimeout: 0 });
server.keepAliveTimeout = 600_000;
const upstream = new http.Agent({ keepAlive: true, maxSockets: Infinity });
const parent = asChild(
  () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);

parent.onMessage(async (m: Message) => {
  if (m.type !== 'init') return;
  const init = m as KubeProxyInit;
  const all: Pod[] = init.pods.map((p) => ({ ...p, outstanding: 0 }));
  const endpoints = init.policy === 'Local' ? all.filter((p) => p.node === init.node) : all;
  const picker = new KubeProxyRandomPicker<Pod>({ random: stream(init.seed, `kube-proxy/${init.node}`) });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url === HEALTH_PATH) {
      req.resume();
      res.writeHead(endpoints.length > 0 ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(endpoints.length > 0 ? 'ok\n' : 'no endpoints\n');
      return;
    }
    const pod = picker.pick(endpoints);
    if (pod === undefined) return; // dropped: nothing answers
    const forward = () => {
      const out = http.request({ host: '127.0.0.1', port: pod.port, method: req.method, path: req.url, headers: req.headers, agent: upstream }, (answer) => {
        const { connection: _connection, 'keep-alive': _keepAlive, ...headers } = answer.headers;
        res.writeHead(answer.statusCode ?? 502, headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      res.on('close', () => {
        if (!res.writableFinished) out.destroy();
      });
      req.pipe(out);
    };
    if (pod.node !== init.node && init.hopLatencyMs > 0) setTimeout(forward, init.hopLatencyMs);
    else forward();
  });

  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  parent.send({ type: 'ready', port: (server.address() as AddressInfo).port });
});
