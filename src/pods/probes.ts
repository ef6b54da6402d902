/**
 * Kubernetes container probes (readiness, liveness) on the load balancer's own probes
 * (targets/probes.ts): HTTP GET succeeds on 200–399 within the timeout; TCP succeeds when the
 * connection opens. Each probe is one connection. `PodProber` is the seam unit tests script.
 */
import type { PodProbeConfig } from '../config/schema.ts';
import { parseMatcher } from '../config/matcher.ts';
import { httpProbe, tcpProbe } from '../targets/probes.ts';

/** Runs one probe of a pod's container: true when it passed. */
export type PodProber = (probe: PodProbeConfig, ip: string, port: number, signal: AbortSignal) => Promise<boolean>;

const success = parseMatcher('200-399', 200, 399);
const tcp = tcpProbe();

export const networkProber: PodProber = async (probe, ip, podPort, signal) => {
  if (!success.ok) throw new Error(success.message);
  const result =
    probe.tcpSocket !== undefined
      ? await tcp({ id: ip, port: probe.tcpSocket.port ?? podPort }, signal)
      : await httpProbe({ path: probe.httpGet?.path ?? '/', matcher: success.matches, userAgent: 'kube-probe/local-elb' })({ id: ip, port: probe.httpGet?.port ?? podPort }, signal);
  return result.ok;
};
