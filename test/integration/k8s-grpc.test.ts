/**
 * `alb.ingress.kubernetes.io/backend-protocol-version: GRPC` end to end (spec 12.7.1, 12.4),
 * against the in-repo fake API server with the real @kubernetes/client-node: a real grpc-js
 * server is the pod behind a NodePort Service, the Ingress's HTTPS listener gets a certificate
 * from the local CA (in a temporary state directory), the target group is checked by a gRPC call
 * to /AWS.ALB/healthcheck answered 12 UNIMPLEMENTED, and a grpc-js client trusting only that CA
 * makes unary calls through the load balancer. An Ingress that puts the GRPC group behind an HTTP
 * listener gets AWS's InvalidLoadBalancerAction as a Warning Event.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { loadEcho, startGrpcTarget, type EchoResponse } from '../support/grpc.ts';
import { albClass, ingress, lbService, node } from '../support/k8s-fixtures.ts';
import { waitFor } from '../support/wait.ts';
import { testController } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';
const HEALTH_PATH = '/AWS.ALB/healthcheck';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

async function world() {
  const stateDir = await mkdtemp(join(tmpdir(), 'local-elb-k8s-grpc-'));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200 });
  cleanups.push(() => api.close());
  const controller = testController(api, {
    stateDir,
  });
  cleanups.push(() => controller.stop());
  // The pod: a grpc-js server whose /AWS.ALB/healthcheck records the checks and answers as any
  // gRPC server answers a method it does not have.
  const pod = await startGrpcTarget({ methods: { [HEALTH_PATH]: { code: grpc.status.UNIMPLEMENTED } } });
  cleanups.push(() => pod.close());
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(albClass);
  api.create(lbService('greeter', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'grpc', port: 50051, nodePort: pod.port }] }));
  return { api, controller, pod, stateDir };
}

const ingressIp = (api: FakeKubeApiServer, name: string) =>
  waitFor(() => (api.get('networking.k8s.io/v1', 'Ingress', 'default', name) as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } }).status?.loadBalancer?.ingress?.[0]?.ip, {
    what: `the address of Ingress ${name}`,
  });

const events = (api: FakeKubeApiServer) => api.list('v1', 'Event', 'default') as Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>;

type EchoClient = grpc.Client & { Say: (req: object, callback: (err: grpc.ServiceError | null, res: EchoResponse) => void) => void };

function say(client: EchoClient, text: string): Promise<EchoResponse> {
  return new Promise((resolve, reject) => client.Say({ text }, (err, res) => (err ? reject(err) : resolve(res))));
}

describe('backend-protocol-version GRPC through the controller and the fake API server', () => {
  it('serves unary calls from a grpc-js client over the HTTPS listener to a grpc-js pod checked by gRPC (healthy on code 12)', async () => {
    const { api, controller, pod, stateDir } = await world();
    api.create(
      ingress('greeter', [{ host: 'greeter.example.com', paths: [{ path: '/', pathType: 'Prefix', service: 'greeter', port: 50051 }] }], {
        annotations: { [`${ING}listen-ports`]: '[{"HTTPS": 8443}]', [`${ING}backend-protocol-version`]: 'GRPC' },
      }),
    );
    await controller.start();
    const ip = await ingressIp(api, 'greeter');

    const running = controller.stacks().get('ingress/default/greeter')!;
    const group = running.elb.targetGroups()[0]!;
    expect(group.describe()).toMatchObject({ protocol: 'HTTP', protocolVersion: 'GRPC', healthCheckProtocol: 'HTTP', healthCheckPath: HEALTH_PATH, matcher: { grpcCode: '12' } });
    const health = await waitFor(() => {
      const [one] = group.describeTargetHealth();
      return one?.targetHealth.state === 'healthy' ? one : undefined;
    }, { what: 'the gRPC pod healthy by its gRPC health check' });
    expect(health).toEqual({ target: { id: '127.0.0.1', port: pod.port }, healthCheckPort: String(pod.port), targetHealth: { state: 'healthy' } });
    // The check was a gRPC call (grpc-js dispatched it to the method) to the default path, from
    // the health checker, and the pod answered it 12 UNIMPLEMENTED.
    expect(pod.calls.map((c) => c.path)).toContain(HEALTH_PATH);
    expect(pod.calls[0]!.metadata).toMatchObject({ 'user-agent': 'ELB-HealthChecker/2.0' });

    const caPem = await waitFor(async () => (existsSync(join(stateDir, 'ca', 'ca.pem')) ? readFile(join(stateDir, 'ca', 'ca.pem'), 'utf8') : undefined), { what: 'the local CA in the state directory' });
    const { Echo } = loadEcho();
    const client = new Echo(`${ip}:8443`, grpc.credentials.createSsl(Buffer.from(caPem)), {
      'grpc.ssl_target_name_override': 'greeter.example.com',
      'grpc.default_authority': 'greeter.example.com',
    }) as unknown as EchoClient;
    cleanups.push(async () => client.close());
    expect(await say(client, 'hello through the ALB')).toEqual({ text: 'hello through the ALB' });
    expect(await say(client, 'again')).toEqual({ text: 'again' });
    // Both went through the ALB as gRPC requests (GrpcRequestCount), and none was its own answer.
    const counters = controller.metrics.loadBalancerCounters(running.stack.config.loadBalancers![0]!.name);
    expect(counters.grpcRequests).toBe(2);
    expect(counters.elbStatus.reduce((n, c) => n + c, 0)).toBe(0);
  });

  it('reports an Ingress that puts the GRPC group behind an HTTP listener with AWS’s InvalidLoadBalancerAction, and serves nothing', async () => {
    const { api, controller } = await world();
    api.create(ingress('plain', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'greeter', port: 50051 }] }], { annotations: { [`${ING}backend-protocol-version`]: 'GRPC' } }));
    await controller.start();
    const warning = await waitFor(() => events(api).find((e) => e.reason === 'LoadBalancerNotServed' && e.involvedObject.name === 'plain'), { what: 'the LoadBalancerNotServed Event' });
    expect(warning.type).toBe('Warning');
    expect(warning.message).toContain("InvalidLoadBalancerAction: Listener protocol 'HTTP' is not supported with a target group with the protocol-version 'GRPC'");
    expect(controller.stacks().size).toBe(0);
  });
});
