/**
 * End to end against a real kind cluster (opt-in: LOCAL_ELB_E2E_KIND=1; needs docker, kind,
 * kubectl, and root for the route to the pod network). Creates a cluster, deploys an echo
 * Deployment with a LoadBalancer Service (NLB, instance targets) and an ALB Ingress (ip
 * targets, readiness gates), runs `local-elb kind`, and checks EXTERNAL-IP, traffic to every
 * pod, the readiness gate, and a rollout under load with zero failed requests. With the Gateway
 * API CRDs (v1.6.0 standard channel) and the controller's gateway.k8s.aws CRDs installed, an ALB
 * Gateway with an HTTPRoute and an NLB Gateway with a TCPRoute to the same pods (ip targets by
 * TargetGroupConfiguration) get Programmed with an address `kubectl get gateway` shows, and
 * reach every pod.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLoad } from '../../src/harness/load.ts';
import { startCli, type RunningCli } from '../support/cli.ts';
import { waitFor } from '../support/wait.ts';

const enabled = process.env.LOCAL_ELB_E2E_KIND === '1';
const cluster = process.env.LOCAL_ELB_E2E_KIND_CLUSTER ?? 'local-elb-e2e';
const dir = mkdtempSync(join(tmpdir(), 'local-elb-kind-'));
const kubeconfig = join(dir, 'kubeconfig');

function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'inherit'] });
}
const kubectl = (...args: string[]) => sh('kubectl', ['--kubeconfig', kubeconfig, ...args]);
const GATEWAY_API_CRDS = process.env.LOCAL_ELB_E2E_GATEWAY_API_CRDS ?? 'https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.6.0/standard-install.yaml';
const LBC_GATEWAY_CRDS =
  process.env.LOCAL_ELB_E2E_LBC_GATEWAY_CRDS ?? 'https://raw.githubusercontent.com/kubernetes-sigs/aws-load-balancer-controller/refs/heads/main/config/crd/gateway/gateway-crds.yaml';
const apply = (yaml: string) => sh('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], yaml);

const manifests = `
apiVersion: v1
kind: Namespace
metadata:
  name: echo
  labels: { elbv2.k8s.aws/pod-readiness-gate-inject: enabled }
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: alb }
spec: { controller: ingress.k8s.aws/alb }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: echo }
spec:
  replicas: 3
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      readinessGates:
        - conditionType: target-health.elbv2.k8s.aws/echo
      terminationGracePeriodSeconds: 30
      containers:
        - name: echo
          image: registry.k8s.io/e2e-test-images/agnhost:2.45
          args: ["netexec", "--http-port=8080"]
          ports: [{ name: http, containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /readyz, port: 8080 }, periodSeconds: 1 }
          lifecycle: { preStop: { sleep: { seconds: 10 } } }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: echo }
spec:
  type: LoadBalancer
  loadBalancerClass: service.k8s.aws/nlb
  selector: { app: echo }
  ports: [{ name: http, port: 8080, targetPort: http }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
  namespace: echo
  annotations:
    alb.ingress.kubernetes.io/target-type: ip
    alb.ingress.kubernetes.io/listen-ports: '[{"HTTP": 8081}]'
    alb.ingress.kubernetes.io/healthcheck-path: /readyz
    alb.ingress.kubernetes.io/healthcheck-interval-seconds: "5"
    alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=15
spec:
  ingressClassName: alb
  rules:
    - http:
        paths: [{ path: /, pathType: Prefix, backend: { service: { name: echo, port: { name: http } } } }]
`;

// The Gateway API example: as on EKS with the controller's Gateway support (docs/guide/gateway).
const gatewayManifests = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: aws-alb }
spec: { controllerName: gateway.k8s.aws/alb }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: aws-nlb }
spec: { controllerName: gateway.k8s.aws/nlb }
---
apiVersion: gateway.k8s.aws/v1
kind: TargetGroupConfiguration
metadata: { name: echo, namespace: echo }
spec:
  targetReference: { name: echo }
  defaultConfiguration:
    targetType: ip
    healthCheckConfig: { healthCheckPath: /readyz, healthCheckInterval: 5 }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: web, namespace: echo }
spec:
  gatewayClassName: aws-alb
  listeners: [{ name: http, protocol: HTTP, port: 8082 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: echo, namespace: echo }
spec:
  parentRefs: [{ name: web, sectionName: http }]
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: echo, port: 8080 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: tcp, namespace: echo }
spec:
  gatewayClassName: aws-nlb
  listeners: [{ name: tcp, protocol: TCP, port: 8083 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TCPRoute
metadata: { name: echo, namespace: echo }
spec:
  parentRefs: [{ name: tcp }]
  rules: [{ backendRefs: [{ name: echo, port: 8080 }] }]
`;

describe.skipIf(!enabled)('local-elb kind against a real kind cluster', () => {
  let cli: RunningCli | undefined;

  beforeAll(() => {
    sh('kind', ['create', 'cluster', '--name', cluster, '--kubeconfig', kubeconfig, '--wait', '120s']);
    apply(manifests);
    sh('kubectl', ['--kubeconfig', kubeconfig, 'apply', '--server-side=true', '-f', GATEWAY_API_CRDS]);
    sh('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', LBC_GATEWAY_CRDS]);
    kubectl('wait', '--for=condition=established', '--timeout=60s', 'crd/gateways.gateway.networking.k8s.io', 'crd/httproutes.gateway.networking.k8s.io', 'crd/tcproutes.gateway.networking.k8s.io', 'crd/targetgroupconfigurations.gateway.k8s.aws');
    apply(gatewayManifests);
    // ip targets need a route from this host to the pod network through the node.
    const nodeIp = kubectl('get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}').trim();
    const podCidr = kubectl('get', 'nodes', '-o', 'jsonpath={.items[0].spec.podCIDR}').trim();
    try {
      sh('ip', ['route', 'replace', podCidr, 'via', nodeIp]);
    } catch {
      console.warn(`could not add a route to ${podCidr} via ${nodeIp}: ALB ip targets will be unreachable (run as root)`);
    }
    writeFileSync(join(dir, 'ready'), '');
    cli = startCli(['kind', '--kubeconfig', kubeconfig, '--log-format', 'json']);
  });

  afterAll(async () => {
    await cli?.stop('SIGTERM');
    if (process.env.LOCAL_ELB_E2E_KIND_KEEP !== '1') sh('kind', ['delete', 'cluster', '--name', cluster]);
  });

  it('gives the LoadBalancer Service an EXTERNAL-IP that reaches every pod', async () => {
    const ip = await waitFor(() => kubectl('get', 'svc', 'echo', '-n', 'echo', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}').trim(), { timeoutMs: 180_000, what: 'EXTERNAL-IP' });
    const pods = new Set(kubectl('get', 'pods', '-n', 'echo', '-l', 'app=echo', '-o', 'jsonpath={.items[*].metadata.name}').trim().split(/\s+/));
    const seen = new Set<string>();
    await waitFor(async () => {
      const res = await fetch(`http://${ip}:8080/hostname`);
      seen.add((await res.text()).trim());
      return [...pods].every((p) => seen.has(p));
    }, { timeoutMs: 180_000, what: 'every pod to answer through the NLB' });
  });

  it('flips the readiness gate to True when the ALB target turns healthy', async () => {
    await waitFor(() => {
      const json = JSON.parse(kubectl('get', 'pods', '-n', 'echo', '-l', 'app=echo', '-o', 'json')) as { items: Array<{ status: { conditions?: Array<{ type: string; status: string }> } }> };
      return json.items.length === 3 && json.items.every((p) => p.status.conditions?.some((c) => c.type === 'target-health.elbv2.k8s.aws/echo' && c.status === 'True'));
    }, { timeoutMs: 180_000, what: 'readiness gates True' });
  });

  it.each([
    ['an ALB Gateway with an HTTPRoute', 'web', 8082],
    ['an NLB Gateway with a TCPRoute', 'tcp', 8083],
  ])('gives %s an address kubectl get gateway shows, and reaches every pod', async (_name, name, port) => {
    const address = await waitFor(() => kubectl('get', 'gateway', name, '-n', 'echo', '-o', 'jsonpath={.status.addresses[0].value}').trim(), { timeoutMs: 180_000, what: `the address of Gateway ${name}` });
    expect(kubectl('get', 'gateway', name, '-n', 'echo')).toMatch(new RegExp(`${name}\\s+aws-(alb|nlb)\\s+${address.replace(/\./g, '\\.')}\\s+True`));
    const pods = new Set(kubectl('get', 'pods', '-n', 'echo', '-l', 'app=echo', '-o', 'jsonpath={.items[*].metadata.name}').trim().split(/\s+/));
    const seen = new Set<string>();
    await waitFor(async () => {
      const res = await fetch(`http://${address}:${port}/hostname`);
      seen.add((await res.text()).trim());
      return [...pods].every((p) => seen.has(p));
    }, { timeoutMs: 180_000, what: `every pod to answer through Gateway ${name}` });
    const route = name === 'web' ? 'httproute' : 'tcproute';
    expect(kubectl('get', route, 'echo', '-n', 'echo', '-o', 'jsonpath={.status.parents[0].conditions[?(@.type=="Accepted")].status}')).toBe('True');
  });

  it('rolls the Deployment out under load through the ALB with zero failed requests', async () => {
    const ip = kubectl('get', 'ingress', 'echo', '-n', 'echo', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}').trim();
    expect(ip).not.toBe('');
    const load = startLoad(`http://${ip}:8081/hostname`, { rps: 50 });
    // Asynchronously from here on: the load generator runs on this process's event loop, and a
    // blocking kubectl call would stop it sending for the whole rollout (1 request in 3 s).
    const kubectlAsync = (...args: string[]) => promisify(execFile)('kubectl', ['--kubeconfig', kubeconfig, ...args], { encoding: 'utf8' });
    await kubectlAsync('rollout', 'restart', 'deployment/echo', '-n', 'echo');
    const rolloutStartedMs = Date.now();
    await kubectlAsync('rollout', 'status', 'deployment/echo', '-n', 'echo', '--timeout=300s');
    const rolloutSeconds = (Date.now() - rolloutStartedMs) / 1000;
    const report = await load.stop();
    // The load ran through the whole rollout: at least 80% of 50 requests per second of it.
    expect(report.total).toBeGreaterThanOrEqual(Math.floor(50 * rolloutSeconds * 0.8));
    expect(report.total).toBeGreaterThan(100);
    expect(report.failed).toEqual([]);
  });
});
