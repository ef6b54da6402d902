/**
 * IngressClassParams end to end (spec 15.4): the controller against the in-repo fake API server
 * serving the elbv2.k8s.aws CRD, with the real @kubernetes/client-node and pods as real local
 * servers (instance targets on a node at 127.0.0.1). An IngressClass whose parameters name
 * IngressClassParams with group.name makes two Ingresses in two namespaces, without group
 * annotations, one load balancer; the params' certificate, SSL policy, load balancer and listener
 * attributes are in effect on an HTTPS listener; a conflicting annotation follows the controller's
 * precedence (overridden inside the class, a FailedBuildModel from another class that leaves the
 * running ALB as it was); params changed at runtime are applied. Every CA lives in a temporary
 * state directory.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { DescribeLoadBalancersCommand, DescribeTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { request } from 'undici';
import { parseAllDocuments } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { startElbv2Endpoint } from '../../src/elbv2/server.ts';
import { startLocalElb } from '../../src/local-elb.ts';
import { ELBV2_RESOURCES, INGRESS_CLASS_PARAMS_RESOURCE } from '../support/elbv2-crds.ts';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../support/fake-kube-apiserver.ts';
import { albClass, ingress, lbService, namespace, node } from '../support/k8s-fixtures.ts';
import { REPO } from '../support/machine-node.ts';
import { requirePeer } from '../support/peers.ts';
import { startTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';
import { testController } from '../support/k8s-world.ts';

const ING = 'alb.ingress.kubernetes.io/';
const CERT = 'arn:aws:acm:eu-west-1:111122223333:certificate/team';
const kubectlBin = requirePeer('kubectl');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) await c().catch((err: unknown) => errors.push(err));
  if (errors.length > 0) throw errors[0];
});

/** The manifests of the README's example (section "IngressClassParams on kind"), as kubectl apply would send them. */
async function readmeExample(): Promise<Array<Record<string, any>>> {
  const readme = await readFile(join(REPO, 'README.md'), 'utf8');
  const at = readme.indexOf('### IngressClassParams on kind');
  const open = readme.indexOf('\n```yaml\n', at);
  const close = readme.indexOf('\n```\n', open + 1);
  return parseAllDocuments(readme.slice(open + '\n```yaml\n'.length, close)).map((d) => d.toJS() as Record<string, any>);
}

/** An IngressClass and IngressClassParams like the README's. */
const teamClass = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name: 'team' },
  spec: { controller: 'ingress.k8s.aws/alb', parameters: { apiGroup: 'elbv2.k8s.aws', kind: 'IngressClassParams', name: 'team-params' } },
};
const teamParams = (spec: Record<string, unknown>) => ({ apiVersion: 'elbv2.k8s.aws/v1beta1', kind: 'IngressClassParams', metadata: { name: 'team-params' }, spec });

/** The fake API server with the CRD, a node at 127.0.0.1, namespaces team-a and team-b, each with a Service whose NodePort is a real server. */
async function world(options: { crd?: boolean } = {}) {
  const api = await startFakeKubeApiServer({ bookmarkIntervalMs: 200, resources: options.crd === false ? [] : ELBV2_RESOURCES });
  cleanups.push(() => api.close());
  const stateDir = await mkdtemp(join(tmpdir(), 'local-elb-k8s-params-'));
  cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
  const controller = testController(api, {
    stateDir,
  });
  cleanups.push(() => controller.stop());
  api.create(node('worker', '127.0.0.1'), { keepStatus: true });
  api.create(albClass);
  for (const team of ['a', 'b']) {
    const pod = await startTarget(`web-${team}`);
    cleanups.push(() => pod.close());
    api.create(namespace(`team-${team}`, { team }));
    api.create(lbService('web', { namespace: `team-${team}`, type: 'NodePort', loadBalancerClass: null, ports: [{ name: 'http', port: 80, nodePort: pod.port }] }));
  }
  return { api, controller, stateDir };
}

function teamIngress(team: 'a' | 'b', annotations: Record<string, string>, className = 'team') {
  return ingress(`shop-${team}`, [{ host: `${team}.example`, paths: [{ path: `/${team}`, pathType: 'Prefix', service: 'web', port: 80 }] }], { namespace: `team-${team}`, className, annotations });
}

const statusIp = (api: FakeKubeApiServer, ns: string, name: string) =>
  (api.get('networking.k8s.io/v1', 'Ingress', ns, name) as { status?: { loadBalancer?: { ingress?: Array<{ ip?: string }> } } } | undefined)?.status?.loadBalancer?.ingress?.[0]?.ip;

const events = (api: FakeKubeApiServer, ns: string) => api.list('v1', 'Event', ns) as Array<{ reason: string; message: string; type: string; involvedObject: { name: string } }>;

async function get(url: string, host: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const res = await request(url, { headers: { host } });
  return { status: res.statusCode, body: await res.body.text(), headers: res.headers };
}

/** A TLS handshake with only `version` allowed, trusting `ca`: the protocol negotiated, or the error. */
function handshake(ip: string, port: number, servername: string, ca: string, version: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: ip, port, servername, ca, minVersion: version, maxVersion: version }, () => {
      resolve(socket.getProtocol() ?? 'none');
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
  });
}

function httpsGet(ip: string, port: number, servername: string, ca: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: ip, port, path, servername, ca, headers: { host: servername }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

describe('IngressClassParams through the controller and the fake API server', () => {
  it('makes two Ingresses of the class in two namespaces, without group annotations, one load balancer that reaches both pods', async () => {
    const { api, controller } = await world();
    api.create(teamClass);
    api.create(teamParams({ group: { name: 'team-alb' }, scheme: 'internal' }));
    api.create(teamIngress('a', { [`${ING}listen-ports`]: '[{"HTTP":8080}]' }));
    api.create(teamIngress('b', { [`${ING}listen-ports`]: '[{"HTTP":8080}]' }));
    await controller.start();

    const ip = await waitFor(() => statusIp(api, 'team-a', 'shop-a'), { what: 'the address of shop-a' });
    expect(await waitFor(() => statusIp(api, 'team-b', 'shop-b'), { what: 'the address of shop-b' })).toBe(ip);
    expect([...controller.stacks().keys()]).toEqual(['ingress/team-alb']);
    expect(await waitFor(async () => ((await get(`http://${ip}:8080/a`, 'a.example')).body === 'web-a' ? 'web-a' : undefined), { what: 'team a through the ALB' })).toBe('web-a');
    expect(await waitFor(async () => ((await get(`http://${ip}:8080/b`, 'b.example')).body === 'web-b' ? 'web-b' : undefined), { what: 'team b through the ALB' })).toBe('web-b');
    expect((await get(`http://${ip}:8080/b`, 'a.example')).status).toBe(404);
    // scheme has no local meaning: a Normal Event on each Ingress says so.
    await waitFor(() => events(api, 'team-b').find((e) => e.reason === 'IngressClassParams' && e.type === 'Normal' && e.message.includes('spec.scheme "internal" is accepted with no local meaning')), {
      what: 'the Normal IngressClassParams Event on shop-b',
    });

    if (kubectlBin !== undefined) {
      const dir = await mkdtemp(join(tmpdir(), 'local-elb-kubectl-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const out = (await promisify(execFile)(kubectlBin, ['--kubeconfig', api.writeKubeconfig(dir), '--cache-dir', join(dir, 'cache'), 'get', 'ingressclassparams'], { encoding: 'utf8' })).stdout;
      expect(out).toMatch(/NAME\s+GROUP-NAME\s+SCHEME\s+IP-ADDRESS-TYPE\s+AGE/);
      // A column whose jsonPath finds nothing is a null cell, which kubectl prints blank.
      expect(out).toMatch(/team-params\s+team-alb\s+internal\s+\d+s/);
    }
  });

  it('serves the README example: HTTPS with the params’ certificate and SSL policy, and their load balancer and listener attributes, over the annotations', async () => {
    const { api, controller, stateDir } = await world();
    const [ingressClass, classParams, shop] = await readmeExample();
    expect([ingressClass!.kind, classParams!.kind, shop!.kind]).toEqual(['IngressClass', 'IngressClassParams', 'Ingress']);
    expect(classParams!.spec.certificateArn).toEqual([CERT]);
    api.create(ingressClass!);
    api.create(classParams!);
    // The example's Ingress, with the annotations the params override (certificate, policy) and merge with (attributes).
    Object.assign(shop!.metadata.annotations, {
      [`${ING}certificate-arn`]: 'arn:aws:acm:eu-west-1:111122223333:certificate/ignored',
      [`${ING}ssl-policy`]: 'ELBSecurityPolicy-2016-08',
      [`${ING}load-balancer-attributes`]: 'idle_timeout.timeout_seconds=30,routing.http.drop_invalid_header_fields.enabled=true',
      [`${ING}listener-attributes.HTTPS-8443`]: 'routing.http.response.x_frame_options.header_value=SAMEORIGIN,routing.http.response.x_content_type_options.header_value=nosniff',
    });
    api.create(shop!);
    await controller.start();

    const ip = await waitFor(() => statusIp(api, 'team-a', 'shop-a'), { what: 'the address of shop-a' });
    const caPem = await waitFor(async () => (existsSync(join(stateDir, 'ca', 'ca.pem')) ? readFile(join(stateDir, 'ca', 'ca.pem'), 'utf8') : undefined), { what: 'the local CA' });
    const r = await waitFor(async () => {
      const res = await httpsGet(ip, 8443, 'a.example', caPem, '/a').catch(() => undefined);
      return res?.body === 'web-a' ? res : undefined;
    }, { what: 'HTTPS through the ALB' });
    // listenerAttributes merged: the params' value wins a key, the annotation's other key stays.
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
    // ELBSecurityPolicy-TLS13-1-3-2021-06 offers TLS 1.3 only.
    expect(await handshake(ip, 8443, 'a.example', caPem, 'TLSv1.3')).toBe('TLSv1.3');
    expect(await handshake(ip, 8443, 'a.example', caPem, 'TLSv1.2')).toMatch(/^error /);

    const lb = controller.stacks().get('ingress/team-alb')!.elb.loadBalancers()[0]!;
    expect(lb.config.attributes['idle_timeout.timeout_seconds']).toBe('120');
    expect(lb.config.attributes['routing.http.drop_invalid_header_fields.enabled']).toBe('true');
    expect(lb.config.listeners[0]).toMatchObject({ sslPolicy: 'ELBSecurityPolicy-TLS13-1-3-2021-06', certificates: [{ certificateArn: CERT }] });
  });

  it('follows the precedence: the params beat the class’s own annotations; a conflicting Ingress of another class fails the group and the ALB stays as it was', async () => {
    const { api, controller } = await world();
    api.create(teamClass);
    api.create(teamParams({ group: { name: 'team-alb' }, scheme: 'internal' }));
    // group.name and scheme annotations of an Ingress of the class are overridden: no conflict.
    api.create(teamIngress('a', { [`${ING}listen-ports`]: '[{"HTTP":8080}]', [`${ING}group.name`]: 'elsewhere', [`${ING}scheme`]: 'internet-facing' }));
    await controller.start();
    const ip = await waitFor(() => statusIp(api, 'team-a', 'shop-a'), { what: 'the address of shop-a' });
    await waitFor(async () => ((await get(`http://${ip}:8080/a`, 'a.example')).body === 'web-a' ? true : undefined), { what: 'team a through the ALB' });

    // An Ingress of class alb joins the group by annotation and asks for another scheme.
    api.create(teamIngress('b', { [`${ING}listen-ports`]: '[{"HTTP":8080}]', [`${ING}group.name`]: 'team-alb', [`${ING}scheme`]: 'internet-facing' }, 'alb'));
    const message = 'Failed build model due to conflicting scheme: map[internal:{} internet-facing:{}]';
    for (const [ns, name] of [['team-a', 'shop-a'], ['team-b', 'shop-b']] as const) {
      await waitFor(() => events(api, ns).find((e) => e.reason === 'FailedBuildModel' && e.type === 'Warning' && e.involvedObject.name === name && e.message === message), { what: `FailedBuildModel on ${name}` });
    }
    // All or nothing: b gets nothing, and the running ALB keeps serving a as before.
    expect(statusIp(api, 'team-b', 'shop-b')).toBeUndefined();
    expect((await get(`http://${ip}:8080/a`, 'a.example')).body).toBe('web-a');
    expect((await get(`http://${ip}:8080/b`, 'b.example')).status).toBe(404);

    // Without the conflicting annotation the group builds again, with both.
    api.patch('networking.k8s.io/v1', 'Ingress', 'team-b', 'shop-b', { metadata: { annotations: { [`${ING}scheme`]: null } } });
    expect(await waitFor(() => statusIp(api, 'team-b', 'shop-b'), { what: 'the address of shop-b' })).toBe(ip);
    await waitFor(async () => ((await get(`http://${ip}:8080/b`, 'b.example')).body === 'web-b' ? true : undefined), { what: 'team b through the ALB' });
  });

  it('applies params changed at runtime: a new listener attribute, then another group', async () => {
    const { api, controller } = await world();
    api.create(teamClass);
    api.create(teamParams({ group: { name: 'team-alb' } }));
    api.create(teamIngress('a', { [`${ING}listen-ports`]: '[{"HTTP":8080}]' }));
    await controller.start();
    const ip = await waitFor(() => statusIp(api, 'team-a', 'shop-a'), { what: 'the address of shop-a' });
    const first = await waitFor(async () => {
      const r = await get(`http://${ip}:8080/a`, 'a.example').catch(() => undefined);
      return r?.body === 'web-a' ? r : undefined;
    }, { what: 'team a through the ALB' });
    expect(first.headers['x-frame-options']).toBeUndefined();

    api.patch('elbv2.k8s.aws/v1beta1', 'IngressClassParams', undefined, 'team-params', {
      spec: { listeners: [{ protocol: 'HTTP', port: 8080, listenerAttributes: [{ key: 'routing.http.response.x_frame_options.header_value', value: 'DENY' }] }] },
    });
    await waitFor(async () => {
      const r = await get(`http://${ip}:8080/a`, 'a.example').catch(() => undefined);
      return r?.headers['x-frame-options'] === 'DENY' && r.body === 'web-a' ? true : undefined;
    }, { what: 'the new listener attribute in effect' });

    api.patch('elbv2.k8s.aws/v1beta1', 'IngressClassParams', undefined, 'team-params', { spec: { group: { name: 'moved' } } });
    await waitFor(() => ([...controller.stacks().keys()].join() === 'ingress/moved' ? true : undefined), { what: 'the group renamed' });
    const moved = await waitFor(() => {
      const now = statusIp(api, 'team-a', 'shop-a');
      return now !== undefined && now !== ip ? now : undefined;
    }, { what: 'the new address of shop-a' });
    await waitFor(async () => ((await get(`http://${moved}:8080/a`, 'a.example').catch(() => undefined))?.body === 'web-a' ? true : undefined), { what: 'team a through the moved ALB' });
  });

  it('refuses what the CRD refuses, and reports a bad reference or a namespaceSelector mismatch on the Ingress (FailedLoadGroupID)', async () => {
    const { api, controller } = await world();
    expect(() => api.create(teamParams({ scheme: 'public' }))).toThrow(/spec\.scheme: Unsupported value: "public": supported values: "internal", "internet-facing"/);
    api.create(teamClass);
    api.create(teamParams({ namespaceSelector: { matchLabels: { team: 'a' } } }));
    api.create(teamIngress('b', { [`${ING}listen-ports`]: '[{"HTTP":8080}]' }));
    await controller.start();
    await waitFor(
      () =>
        events(api, 'team-b').find(
          (e) => e.reason === 'FailedLoadGroupID' && e.type === 'Warning' && e.message === 'failed load groupID due to invalid ingress class: namespaceSelector of IngressClassParams team-params mismatch',
        ),
      { what: 'FailedLoadGroupID on shop-b' },
    );
    expect(controller.stacks().size).toBe(0);
    // Params deleted: not found.
    api.delete('elbv2.k8s.aws/v1beta1', 'IngressClassParams', undefined, 'team-params');
    await waitFor(
      () => events(api, 'team-b').find((e) => e.reason === 'FailedLoadGroupID' && e.message === 'failed load groupID due to invalid ingress class: ingressclassparams.elbv2.k8s.aws "team-params" not found'),
      { what: 'FailedLoadGroupID (not found) on shop-b' },
    );
  });

  it('starts no IngressClassParams watch on a cluster without the CRD, and finds the CRD installed later at a resync', async () => {
    const { api, controller } = await world({ crd: false });
    api.create(teamClass);
    api.create(teamIngress('a', { [`${ING}listen-ports`]: '[{"HTTP":8080}]' }));
    await controller.start();
    await waitFor(() => events(api, 'team-a').find((e) => e.reason === 'FailedLoadGroupID' && e.message.endsWith('ingressclassparams.elbv2.k8s.aws "team-params" not found')), {
      what: 'FailedLoadGroupID (not found) on shop-a',
    });
    expect(api.requests.some((r) => r.path.includes('ingressclassparams'))).toBe(false);

    api.installResource(INGRESS_CLASS_PARAMS_RESOURCE);
    api.create(teamParams({ group: { name: 'team-alb' } }));
    const ip = await waitFor(() => statusIp(api, 'team-a', 'shop-a'), { what: 'the address of shop-a once the CRD is served' });
    expect([...controller.stacks().keys()]).toEqual(['ingress/team-alb']);
    await waitFor(async () => ((await get(`http://${ip}:8080/a`, 'a.example').catch(() => undefined))?.body === 'web-a' ? true : undefined), { what: 'team a through the ALB' });
  });

  it('describes the group’s scheme, IP address type and merged tags on the ELBv2 API (DescribeLoadBalancers, DescribeTags), and follows a change', async () => {
    const { api, controller } = await world();
    api.create(teamClass);
    api.create(teamParams({ group: { name: 'team-alb' }, loadBalancerName: 'team-alb', ipAddressType: 'dualstack', tags: [{ key: 'team', value: 'platform' }, { key: 'env', value: 'dev' }] }));
    api.create(teamIngress('a', { [`${ING}listen-ports`]: '[{"HTTP":8080}]', [`${ING}tags`]: 'team=web,cost-center=42', [`${ING}ip-address-type`]: 'ipv4' }));
    await controller.start();
    await waitFor(() => statusIp(api, 'team-a', 'shop-a'), { what: 'the address of shop-a' });

    // local-elb kind's ELBv2 API: an empty runtime of its own, the controller's load balancers beside it.
    const own = await startLocalElb({ config: {}, waitForPodsMs: 0 });
    cleanups.push(() => own.close());
    const endpoint = await startElbv2Endpoint(own.runtime, { port: 0, managed: controller.view() });
    cleanups.push(() => endpoint.close());
    const client = new ElasticLoadBalancingV2Client({ endpoint: endpoint.url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
    cleanups.push(async () => client.destroy());

    const [lb] = (await client.send(new DescribeLoadBalancersCommand({ Names: ['team-alb'] }))).LoadBalancers!;
    expect(lb).toMatchObject({ LoadBalancerName: 'team-alb', Type: 'application', Scheme: 'internal', IpAddressType: 'dualstack' });
    const tags = async () => {
      const described = (await client.send(new DescribeTagsCommand({ ResourceArns: [lb!.LoadBalancerArn!] }))).TagDescriptions![0]!.Tags!;
      return Object.fromEntries(described.filter((t) => !t.Key!.startsWith('local-elb:')).map((t) => [t.Key, t.Value]));
    };
    expect(await tags()).toEqual({ team: 'platform', env: 'dev', 'cost-center': '42' });

    api.patch('elbv2.k8s.aws/v1beta1', 'IngressClassParams', undefined, 'team-params', { spec: { scheme: 'internet-facing', tags: [{ key: 'team', value: 'payments' }] } });
    await waitFor(async () => ((await tags()).team === 'payments' ? true : undefined), { what: 'the new tags described' });
    expect(await tags()).toEqual({ team: 'payments', 'cost-center': '42' });
    expect((await client.send(new DescribeLoadBalancersCommand({ Names: ['team-alb'] }))).LoadBalancers![0]).toMatchObject({ Scheme: 'internet-facing' });
  });
});
