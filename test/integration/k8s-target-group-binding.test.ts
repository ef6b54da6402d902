/**
 * TargetGroupBinding (spec 15.3) through `local-elb kind` (the real CLI, as a child process)
 * against the in-repo fake API server serving the elbv2.k8s.aws CRD, with pods as real local
 * servers (127.0.0.1 as pod IP): a user's binding fills a config-file target group with a
 * Service's endpoints (traffic through the config's own ALB listener), gets the finalizer and
 * status.observedGeneration, and on deletion its targets drain before the finalizer goes; a
 * binding by targetGroupName gets its ARN written; an API-created group is bindable (AWS SDK);
 * the controller keeps bindings for an Ingress's target groups, which kubectl lists.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateTargetGroupCommand, DescribeTargetGroupsCommand, DescribeTargetHealthCommand, ElasticLoadBalancingV2Client, RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { configTargetGroupArn } from '../../src/elbv2/catalog.ts';
import { startCli } from '../support/cli.ts';
import { TARGET_GROUP_BINDING_RESOURCES } from '../support/elbv2-crds.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer, type KubeObject } from '../support/fake-kube-apiserver.ts';
import { albClass, endpointSlice, ingress, lbService, namespace, node, pod } from '../support/k8s-fixtures.ts';
import { requirePeer } from '../support/peers.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { testAddressPrefix } from '../support/k8s-world.ts';

const kubectlBin = requirePeer('kubectl');
const TGB = 'elbv2.k8s.aws/v1beta1';
const DEFAULTS = { account: '000000000000', region: 'us-east-1' };

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

/** The config file the README's TargetGroupBinding example shows: an ALB and an ip target group with no targets. */
const CONFIG = `targetGroups:
  - name: web
    protocol: HTTP
    port: 80
    targetType: ip
    healthCheckPath: /healthz
    healthCheckIntervalSeconds: 5
    healthyThresholdCount: 2
    attributes:
      deregistration_delay.timeout_seconds: "3"
  - name: api
    protocol: HTTP
    port: 80
    targetType: ip
    healthCheckPath: /healthz
  - name: nodes
    protocol: HTTP
    port: 80
    targetType: instance
loadBalancers:
  - name: edge
    type: application
    listeners:
      - port: 0
        protocol: HTTP
        defaultActions: [ { type: forward, targetGroupName: web } ]
      - port: 0
        protocol: HTTP
        defaultActions: [ { type: forward, targetGroupName: api } ]
`;

async function world(options: { elbv2Endpoint?: boolean } = {}) {
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200, resources: TARGET_GROUP_BINDING_RESOURCES });
  cleanups.push(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'local-elb-tgb-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'kind.yaml');
  writeFileSync(config, CONFIG);
  const kubeconfig = api.writeKubeconfig(dir);
  const endpointArgs = options.elbv2Endpoint === false ? ['--no-elbv2-endpoint'] : ['--elbv2-endpoint', '127.0.0.1:0'];
  const cli = startCli(['kind', '--kubeconfig', kubeconfig, '--config', config, '--address-prefix', testAddressPrefix(), '--no-admin', ...endpointArgs, '--state-dir', join(dir, 'state')]);
  cleanups.push(() => cli.stop());
  // Without the endpoint the client is made but never called.
  const endpoint = options.elbv2Endpoint === false ? 'http://127.0.0.1:1' : (await cli.waitForStdout(/ELBv2 API on (http:\/\/\S+)/))[1]!;
  const [, webListener, apiListener] = (await cli.waitForStdout(/ALB edge on (http:\/\/\S+), (http:\/\/\S+)/)) as unknown as string[];
  await cli.waitForStdout(/watching /);
  const elbv2 = new ElasticLoadBalancingV2Client({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  cleanups.push(async () => elbv2.destroy());
  const kubectl = async (...args: string[]) => (await promisify(execFile)(kubectlBin!, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { encoding: 'utf8' })).stdout;
  return { api, cli, elbv2, webListener: webListener!, apiListener: apiListener!, kubectl };
}

/** A pod as a real local server behind a ClusterIP Service and its EndpointSlice, in `ns`. */
async function servedPod(api: FakeKubeApiServer, name: string, options: { namespace?: string; gates?: string[] } = {}) {
  const ns = options.namespace ?? 'default';
  const target = await startTarget(name);
  cleanups.push(() => target.close());
  api.create(pod(`${name}-1`, '127.0.0.1', { namespace: ns, containersReady: true, ...(options.gates ? { gates: options.gates } : {}) }), { keepStatus: true });
  api.create(lbService(name, { namespace: ns, type: 'ClusterIP', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: target.port }] }));
  api.create(endpointSlice(name, [{ ip: '127.0.0.1', pod: `${name}-1`, node: 'worker' }], { namespace: ns, port: target.port }));
  return target;
}

const binding = (name: string, spec: KubeObject, ns = 'default') => ({ apiVersion: TGB, kind: 'TargetGroupBinding', metadata: { name, namespace: ns }, spec });

async function body(url: string): Promise<string> {
  const res = await request(url);
  return res.body.text();
}

const health = async (elbv2: ElasticLoadBalancingV2Client, arn: string) =>
  ((await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))).TargetHealthDescriptions ?? []).map((d) => `${d.Target?.Id}:${d.Target?.Port}=${d.TargetHealth?.State}`);

const gateOf = (api: FakeKubeApiServer, ns: string, name: string, gate: string) =>
  ((api.get('v1', 'Pod', ns, name)?.status?.conditions ?? []) as KubeObject[]).find((c) => c.type === gate);

describe('TargetGroupBinding with local-elb kind and the fake API server', () => {
  it('binds a config-file target group by ARN: traffic through the config listener, finalizer, observedGeneration, readiness gate; deletion drains the targets', async () => {
    const { api, cli, elbv2, webListener } = await world();
    const arn = configTargetGroupArn(DEFAULTS, 'web');
    // The ARN is printed at startup, and is what DescribeTargetGroups shows.
    expect(cli.stdout()).toContain(`target group web (ip, HTTP:80): ${arn}`);
    const described = (await elbv2.send(new DescribeTargetGroupsCommand({ Names: ['web'] }))).TargetGroups ?? [];
    expect(described.map((g) => g.TargetGroupArn)).toEqual([arn]);
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    const web = await servedPod(api, 'web', { gates: ['target-health.elbv2.k8s.aws/web-tgb'] });
    expect(await body(webListener)).not.toBe('web'); // no targets yet: the ALB answers 503 itself

    api.create(binding('web-tgb', { targetGroupARN: arn, targetType: 'ip', serviceRef: { name: 'web', port: 80 }, networking: { ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ protocol: 'TCP' }] }] } }));
    await waitFor(async () => (await body(webListener)) === 'web', { what: 'traffic through the config listener to the bound pod' });
    expect(web.seen.some((r) => r.url === '/')).toBe(true);
    const bound = await waitFor(() => {
      const o = api.get(TGB, 'TargetGroupBinding', 'default', 'web-tgb');
      return o?.status?.observedGeneration === o?.metadata?.generation ? o : undefined;
    }, { what: 'status.observedGeneration' });
    expect(bound!.metadata.finalizers).toEqual(['elbv2.k8s.aws/resources']);
    const events = () => (api.list('v1', 'Event', 'default') as KubeObject[]).filter((e) => e.involvedObject?.kind === 'TargetGroupBinding' && e.involvedObject?.name === 'web-tgb');
    await waitFor(() => events().some((e) => e.reason === 'SuccessfullyReconciled' && e.message === 'Successfully reconciled'), { what: 'the SuccessfullyReconciled Event' });
    expect(events().some((e) => e.type === 'Normal' && e.reason === 'NetworkingWithoutLocalEffect')).toBe(true);
    const gate = await waitFor(() => (gateOf(api, 'default', 'web-1', 'target-health.elbv2.k8s.aws/web-tgb')?.status === 'True' ? gateOf(api, 'default', 'web-1', 'target-health.elbv2.k8s.aws/web-tgb') : undefined), {
      what: 'the readiness gate naming the binding to turn True (health checks every 5 s, 2 to be healthy)',
      timeoutMs: 30_000,
    });
    expect(gate!.message ?? '').toBe('');
    expect(await health(elbv2, arn)).toEqual([`127.0.0.1:${web.port}=healthy`]);

    // Deleting: the finalizer holds the object while the targets are deregistered; they drain
    // for the group's 3 s deregistration delay, then are gone, and the object with them.
    api.delete(TGB, 'TargetGroupBinding', 'default', 'web-tgb');
    await waitFor(async () => (await health(elbv2, arn)).join() === `127.0.0.1:${web.port}=draining`, { what: 'the target draining' });
    await waitFor(() => api.get(TGB, 'TargetGroupBinding', 'default', 'web-tgb') === undefined, { what: 'the finalizer removed and the binding deleted' });
    await waitFor(async () => (await health(elbv2, arn)).length === 0, { what: 'the drained target gone' });
    const after = gateOf(api, 'default', 'web-1', 'target-health.elbv2.k8s.aws/web-tgb');
    expect([after?.status, after?.message]).toEqual(['True', 'Target Group Binding is deleted']);
    // The target group itself stays (spec 15.3.4).
    expect(((await elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }))).TargetGroups ?? []).length).toBe(1);
  });

  it('writes spec.targetGroupARN (and the inferred fields) for a binding by targetGroupName, refuses a second binding on that ARN and an immutable change, binds nodes by nodeSelector and an API-created group', async () => {
    const { api, elbv2, apiListener } = await world();
    api.create(node('worker', '127.0.0.1', { labels: { pool: 'edge' } }), { keepStatus: true });
    api.create(node('batch', '127.0.0.2', { labels: { pool: 'batch' } }), { keepStatus: true });
    await servedPod(api, 'apisvc');
    api.create(binding('by-name', { targetGroupName: 'api', serviceRef: { name: 'apisvc', port: 'http' } }));
    const filled = await waitFor(() => api.get(TGB, 'TargetGroupBinding', 'default', 'by-name')?.spec?.targetGroupARN as string | undefined, { what: 'spec.targetGroupARN written' });
    expect(filled).toBe(configTargetGroupArn(DEFAULTS, 'api'));
    expect(api.get(TGB, 'TargetGroupBinding', 'default', 'by-name')!.spec).toMatchObject({ targetType: 'ip', ipAddressType: 'ipv4', targetGroupProtocol: 'HTTP', vpcID: 'vpc-00000000000000000' });
    await waitFor(async () => (await body(apiListener)) === 'apisvc', { what: 'traffic to the pod bound by name' });

    // The validating webhook's uniqueness rule, as a Warning Event on the later binding.
    api.create(binding('second', { targetGroupARN: filled, targetType: 'ip', serviceRef: { name: 'apisvc', port: 80 } }));
    await waitFor(
      () =>
        (api.list('v1', 'Event', 'default') as KubeObject[]).find(
          (e) => e.involvedObject?.name === 'second' && e.type === 'Warning' && e.message === `admission webhook "vtargetgroupbinding.elbv2.k8s.aws" denied the request: TargetGroup ${filled} is already bound to TargetGroupBinding default/by-name`,
        ),
      { what: 'the uniqueness Warning' },
    );
    expect(api.get(TGB, 'TargetGroupBinding', 'default', 'second')!.metadata.finalizers).toBeUndefined();

    // A group the ELBv2 API creates (random id) is bindable too; v1alpha1 is served beside v1beta1.
    const created = (await elbv2.send(new CreateTargetGroupCommand({ Name: 'made-by-sdk', Protocol: 'HTTP', Port: 80, TargetType: 'ip', VpcId: 'vpc-00000000000000000' }))).TargetGroups![0]!;
    const sdkArn = created.TargetGroupArn!;
    expect(sdkArn).not.toBe(configTargetGroupArn(DEFAULTS, 'made-by-sdk'));
    api.create({ ...binding('sdk', { targetGroupARN: sdkArn, targetType: 'ip', serviceRef: { name: 'apisvc', port: 80 } }), apiVersion: 'elbv2.k8s.aws/v1alpha1' });
    const pods = await waitFor(async () => {
      const h = await health(elbv2, sdkArn);
      return h.length === 1 ? h : undefined;
    }, { what: 'the Service endpoint registered in the API-created group' });
    // No listener forwards to it: registered, unused, as on AWS.
    expect(pods[0]).toMatch(/^127\.0\.0\.1:\d+=unused$/);

    // Immutable on update: a new targetType is refused and the admitted spec stays in effect.
    api.patch(TGB, 'TargetGroupBinding', 'default', 'by-name', { spec: { targetType: 'instance' } });
    await waitFor(
      () =>
        (api.list('v1', 'Event', 'default') as KubeObject[]).find(
          (e) => e.involvedObject?.name === 'by-name' && e.type === 'Warning' && /update may not change these fields: spec\.targetType/.test(e.message),
        ),
      { what: 'the immutable-field Warning' },
    );
    expect(await body(apiListener)).toBe('apisvc');

    // instance targets: the nodes nodeSelector picks, at the Service's NodePort (no listener uses the group: unused).
    api.create(lbService('nodesvc', { type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 31080 }] }));
    const nodesArn = configTargetGroupArn(DEFAULTS, 'nodes');
    api.create(binding('nodes', { targetGroupARN: nodesArn, targetType: 'instance', serviceRef: { name: 'nodesvc', port: 80 }, nodeSelector: { matchLabels: { pool: 'edge' } } }));
    await waitFor(async () => (await health(elbv2, nodesArn)).join() === '127.0.0.1:31080=unused', { what: 'only the edge node registered at the NodePort', intervalMs: 100 });

    // A name that matches no group: the mutating webhook's refusal, as a Warning Event.
    api.create(binding('missing', { targetGroupName: 'nope', targetType: 'ip', serviceRef: { name: 'apisvc', port: 80 } }));
    await waitFor(
      () => (api.list('v1', 'Event', 'default') as KubeObject[]).find((e) => e.involvedObject?.name === 'missing' && e.type === 'Warning' && /TargetGroupNotFound/.test(e.message)),
      { what: 'the TargetGroupNotFound Warning' },
    );
  });

  it('binds with --no-elbv2-endpoint too, and deregisters every target when the Service is deleted (BackendNotFound)', async () => {
    const { api, cli, webListener } = await world({ elbv2Endpoint: false });
    const arn = configTargetGroupArn(DEFAULTS, 'web');
    expect(cli.stdout()).toContain(`target group web (ip, HTTP:80): ${arn}`);
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    await servedPod(api, 'web');
    api.create(binding('web-tgb', { targetGroupARN: arn, targetType: 'ip', serviceRef: { name: 'web', port: 80 } }));
    await waitFor(async () => (await body(webListener)) === 'web', { what: 'traffic to the bound pod without the ELBv2 API' });
    api.delete('v1', 'Service', 'default', 'web');
    await waitFor(
      () => (api.list('v1', 'Event', 'default') as KubeObject[]).find((e) => e.involvedObject?.name === 'web-tgb' && e.reason === 'BackendNotFound' && e.message === 'backend not found: Service "web" not found'),
      { what: 'the BackendNotFound Warning' },
    );
    // Deregistered: the listener has no target left (the 3 s delay drains the old one first).
    await waitFor(async () => (await body(webListener)) !== 'web', { what: 'the target deregistered', timeoutMs: 15_000, intervalMs: 200 });
  });

  it('shares a group between multiClusterTargetGroup bindings: each tracks its targets in a ConfigMap and deregisters only those', async () => {
    const { api, elbv2 } = await world();
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    const arn = configTargetGroupArn(DEFAULTS, 'api');
    // Another cluster's target, registered out of band: a multi-cluster binding leaves it alone.
    const elsewhere = await startTarget('elsewhere');
    cleanups.push(() => elsewhere.close());
    await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: '127.0.0.1', Port: elsewhere.port }] }));
    const a = await servedPod(api, 'mca');
    const b = await servedPod(api, 'mcb');
    api.create(binding('mc-a', { targetGroupARN: arn, targetType: 'ip', serviceRef: { name: 'mca', port: 80 }, multiClusterTargetGroup: true }));
    api.create(binding('mc-b', { targetGroupARN: arn, targetType: 'ip', serviceRef: { name: 'mcb', port: 80 }, multiClusterTargetGroup: true }));
    const ports = (h: string[]) => h.filter((t) => !t.endsWith('=draining')).map((t) => Number(t.split(':')[1]!.split('=')[0])).sort((x, y) => x - y);
    const all = [a.port, b.port, elsewhere.port].sort((x, y) => x - y);
    await waitFor(async () => ports(await health(elbv2, arn)).join() === all.join(), { what: 'both bindings registered beside the other cluster', intervalMs: 100 });
    const cm = await waitFor(() => api.get('v1', 'ConfigMap', 'default', 'aws-lbc-targets-mc-a'), { what: 'the tracking ConfigMap' });
    expect(cm.data).toEqual({ targets: `127.0.0.1:${a.port}` });

    api.delete(TGB, 'TargetGroupBinding', 'default', 'mc-a');
    await waitFor(() => api.get(TGB, 'TargetGroupBinding', 'default', 'mc-a') === undefined, { what: 'mc-a deleted' });
    expect(ports(await health(elbv2, arn))).toEqual([b.port, elsewhere.port].sort((x, y) => x - y));
    expect(api.get('v1', 'ConfigMap', 'default', 'aws-lbc-targets-mc-a')).toBeUndefined();
  });

  it('keeps a TargetGroupBinding for the target groups of an Ingress and a Service (stack labels, the ARN DescribeTargetGroups shows, no ownerReferences), recreates a hand-deleted one, and kubectl lists it', async () => {
    const { api, elbv2, kubectl } = await world();
    api.create(namespace('shop'));
    api.create(node('worker', '127.0.0.1'), { keepStatus: true });
    api.create(albClass);
    await servedPod(api, 'cart', { namespace: 'shop' });
    api.create(
      ingress('cart', [{ paths: [{ path: '/', pathType: 'Prefix', service: 'cart', port: 80 }] }], {
        namespace: 'shop',
        annotations: { 'alb.ingress.kubernetes.io/target-type': 'ip', 'alb.ingress.kubernetes.io/listen-ports': '[{"HTTP": 18090}]' },
      }),
    );
    const made = await waitFor(() => (api.list(TGB, 'TargetGroupBinding', 'shop') as KubeObject[])[0], { what: 'the controller-made binding' });
    expect(made.metadata.name).toMatch(/^k8s-shop-cart-[0-9a-f]{10}$/);
    expect(made.metadata.labels).toEqual({ 'ingress.k8s.aws/stack-namespace': 'shop', 'ingress.k8s.aws/stack-name': 'cart' });
    expect(made.metadata.ownerReferences).toBeUndefined();
    const described = (await elbv2.send(new DescribeTargetGroupsCommand({ Names: [made.metadata.name] }))).TargetGroups![0]!;
    expect(made.spec).toEqual({ targetGroupARN: described.TargetGroupArn, targetType: 'ip', ipAddressType: 'ipv4', serviceRef: { name: 'cart', port: 80 } });
    await waitFor(() => api.get(TGB, 'TargetGroupBinding', 'shop', made.metadata.name)?.status?.observedGeneration === 1, { what: 'observedGeneration on the controller-made binding' });

    if (kubectlBin !== undefined) {
      const wide = await kubectl('get', 'targetgroupbindings', '-n', 'shop', '-o', 'wide');
      expect(wide.split('\n')[0]).toMatch(/^NAME\s+SERVICE-NAME\s+SERVICE-PORT\s+TARGET-TYPE\s+ARN\s+NAME\s+AGE$/);
      expect(wide).toMatch(new RegExp(`^${made.metadata.name}\\s+cart\\s+80\\s+ip\\s+${described.TargetGroupArn!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\s+`, 'm'));
    }

    // Deleted by hand (it has no finalizer): recreated at the next reconcile, with the same ARN.
    const uid = made.metadata.uid;
    api.delete(TGB, 'TargetGroupBinding', 'shop', made.metadata.name);
    const again = await waitFor(() => {
      const o = api.get(TGB, 'TargetGroupBinding', 'shop', made.metadata.name);
      return o !== undefined && o.metadata.uid !== uid ? o : undefined;
    }, { what: 'the binding recreated' });
    expect(again.spec.targetGroupARN).toBe(described.TargetGroupArn);
    // A LoadBalancer Service's NLB group gets one too, with the service.k8s.aws stack labels.
    api.create(lbService('echo', { namespace: 'shop', ports: [{ name: 'tcp', port: 18091, targetPort: 8080, nodePort: 31091 }] }));
    const svcBinding = await waitFor(() => (api.list(TGB, 'TargetGroupBinding', 'shop') as KubeObject[]).find((o) => o.metadata.labels?.['service.k8s.aws/stack-name'] === 'echo'), { what: "the Service's binding" });
    expect(svcBinding.metadata.labels).toEqual({ 'service.k8s.aws/stack-namespace': 'shop', 'service.k8s.aws/stack-name': 'echo' });
    expect(svcBinding.spec).toMatchObject({ targetType: 'instance', serviceRef: { name: 'echo', port: 18091 }, targetGroupARN: configTargetGroupArn(DEFAULTS, svcBinding.metadata.name) });
    api.delete('v1', 'Service', 'shop', 'echo');

    // Removed with the stack.
    api.delete('networking.k8s.io/v1', 'Ingress', 'shop', 'cart');
    await waitFor(() => (api.list(TGB, 'TargetGroupBinding', 'shop') as KubeObject[]).length === 0, { what: 'the binding deleted with its Ingress' });
  });
});
