/**
 * `local-elb serve`: the load balancers, target groups and local pods of one config file, the
 * admin API beside them, until SIGINT/SIGTERM. Loaded only when that command runs.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { accessLogLine } from '../l7/access-log.ts';
import { connectionLogLine } from '../l7/connection-log.ts';
import { ApplicationLoadBalancer } from '../l7/application-load-balancer.ts';
import { nlbAccessLogLine } from '../l4/access-log.ts';
import { NetworkLoadBalancer } from '../l4/network-load-balancer.ts';
import { startAdminServer } from '../admin/server.ts';
import { startLocalElb, type LoadBalancer } from '../local-elb.ts';
import { loadConfigFile } from './config-file.ts';
import { cliLogger, type LogFormat } from './log.ts';
import { runUntilSignal } from './run.ts';
import { startElbv2ForCli } from './elbv2.ts';

export interface ServeOptions {
  /** Absent: start empty, for the ELBv2 API to fill. */
  readonly config?: string;
  /** Where the ELBv2 API listens; false for none; undefined for 127.0.0.1:4566 when it is free. */
  readonly elbv2Endpoint?: { address: string; port: number } | false;
  readonly admin: { address: string; port: number } | false;
  readonly accessLog?: string;
  /** ALB connection-log lines (spec 12.1.8) of load balancers whose connection_logs.s3.enabled is "true". */
  readonly connectionLog?: string;
  readonly shutdownGraceSeconds: number;
  readonly logLevel: string;
  readonly logFormat: LogFormat;
  readonly stateDir?: string;
}

export async function serve(opts: ServeOptions, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const logger = cliLogger(opts.logLevel, opts.logFormat);
  const config = opts.config !== undefined ? await loadConfigFile(opts.config) : {};
  const elb = await startLocalElb({ config, logger, ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}) });
  let accessLog: WriteStream | NodeJS.WriteStream | undefined;
  if (opts.accessLog !== undefined) {
    const log = opts.accessLog === '-' ? process.stdout : createWriteStream(opts.accessLog, { flags: 'a' });
    accessLog = log;
    const logTo = (lb: LoadBalancer) => {
      if (lb instanceof ApplicationLoadBalancer) lb.onRequest((r) => log.write(`${accessLogLine(r)}\n`));
      else if (lb instanceof NetworkLoadBalancer) lb.onTlsConnection((r) => log.write(`${nlbAccessLogLine(r)}\n`));
    };
    for (const lb of elb.loadBalancers()) logTo(lb);
    // Load balancers the ELBv2 API creates log there too.
    elb.runtime.onLoadBalancerAdded(logTo);
  }
  let connectionLog: WriteStream | NodeJS.WriteStream | undefined;
  if (opts.connectionLog !== undefined) {
    const log = opts.connectionLog === '-' ? process.stdout : createWriteStream(opts.connectionLog, { flags: 'a' });
    connectionLog = log;
    const logTo = (lb: LoadBalancer) => {
      if (lb instanceof ApplicationLoadBalancer) lb.onConnection((r) => log.write(`${connectionLogLine(r)}\n`));
    };
    for (const lb of elb.loadBalancers()) logTo(lb);
    elb.runtime.onLoadBalancerAdded(logTo);
  }
  let admin: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  let elbv2: { close(): Promise<void> } | undefined;
  // From here a signal, or stdout closing under a write below, shuts everything down in order.
  runUntilSignal(async () => {
    await elbv2?.close();
    await admin?.close();
    await elb.close(opts.shutdownGraceSeconds * 1000);
    if (accessLog && accessLog !== process.stdout) await new Promise<void>((r) => (accessLog as WriteStream).end(() => r()));
    if (connectionLog && connectionLog !== process.stdout) await new Promise<void>((r) => (connectionLog as WriteStream).end(() => r()));
  }, (m) => logger.info(m));
  try {
    if (opts.admin !== false) admin = await startAdminServer(elb, { ...opts.admin, logger });
    elbv2 = await startElbv2ForCli(elb.runtime, opts.elbv2Endpoint, logger, out, undefined, opts.stateDir);
  } catch (err) {
    await admin?.close();
    await elb.close();
    throw err;
  }
  for (const lb of elb.loadBalancers()) {
    lb.ports.forEach((_, i) => out.write(`local-elb: load balancer ${lb.name} listening on ${lb.url(i)}\n`));
  }
  if (admin) out.write(`local-elb: admin API on ${admin.url}\n`);
  if (admin) out.write(`local-elb: dashboard on ${admin.dashboardUrl}\n`);
}
