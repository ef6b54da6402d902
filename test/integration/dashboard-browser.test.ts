/**
 * The dashboard in a real browser: headless Chromium (the Debian package, driven by
 * playwright-core; never a downloaded browser build) opens the dashboard of a running
 * `local-elb serve` with three real targets and two local pods, and watches it live: three
 * healthy targets; one killed, its row turning `unhealthy` with `Target.FailedHealthChecks`;
 * one deregistered from the dashboard (with its confirmation), `draining` with a countdown;
 * a rollout started from the dashboard, old pods Terminating while new ones become Ready.
 * Each step leaves a screenshot in test/artifacts/dashboard/ (the README shows the rollout's).
 * The load put on the pods during the rollout ends as a report whose standalone HTML page
 * (`report.html()`) the browser opens too, lanes and all.
 * Skipped, with the reason, when chromium is missing outside CI (test/support/peers.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startLoad, type LoadRun } from '../../src/harness/load.ts';
import { startCli, type RunningCli } from '../support/cli.ts';
import { requirePeer } from '../support/peers.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';

const chromiumPath = requirePeer('chromium');
const ARTIFACTS = fileURLToPath(new URL('../artifacts/dashboard/', import.meta.url));
const GRACEFUL_APP = fileURLToPath(new URL('../../examples/apps/graceful-server.mjs', import.meta.url));

describe.skipIf(!chromiumPath)('the dashboard in headless Chromium', () => {
  const targets: TestTarget[] = [];
  let dir: string;
  let cli: RunningCli | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let dashboardUrl: string;
  let albUrl: string;
  let load: LoadRun | undefined;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), 'local-elb-dashboard-'));
    for (const name of ['target-1', 'target-2', 'target-3']) targets.push(await startTarget(name));
    const config = {
      targetGroups: [
        {
          name: 'web',
          protocol: 'HTTP',
          port: 80,
          healthCheckPath: '/healthz',
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 2,
          healthyThresholdCount: 2,
          unhealthyThresholdCount: 2,
          attributes: { 'deregistration_delay.timeout_seconds': '120' },
          targets: targets.map((t) => ({ id: '127.0.0.1', port: t.port })),
        },
        {
          name: 'pods',
          protocol: 'HTTP',
          healthCheckPath: '/ready',
          healthCheckIntervalSeconds: 5,
          healthCheckTimeoutSeconds: 2,
          attributes: { 'deregistration_delay.timeout_seconds': '2' },
          pods: {
            command: [process.execPath, GRACEFUL_APP],
            replicas: 2,
            port: 8080,
            readinessProbe: { httpGet: { path: '/ready' }, periodSeconds: 0.5, failureThreshold: 1 },
            lifecycle: { preStop: { sleep: { seconds: 3 } } },
            terminationGracePeriodSeconds: 15,
            strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          },
          propagation: { endpointsDelaySeconds: 0.5, registrationDelaySeconds: 0, deregistrationLagSeconds: 0 },
        },
      ],
      loadBalancers: [
        {
          name: 'app',
          listeners: [
            {
              port: 0,
              defaultActions: [{ type: 'forward', targetGroupName: 'web' }],
              rules: [
                {
                  priority: 10,
                  conditions: [{ field: 'path-pattern', values: ['/pods/*'] }],
                  actions: [{ type: 'forward', targetGroupName: 'pods' }],
                  transforms: [{ type: 'url-rewrite', urlRewriteConfig: { rewrites: [{ regex: '^/pods/(.*)$', replace: '/$1' }] } }],
                },
              ],
            },
          ],
        },
      ],
    };
    const file = join(dir, 'elb.json');
    writeFileSync(file, JSON.stringify(config, null, 2));
    cli = startCli(['serve', '--config', file, '--admin', '127.0.0.1:0', '--log-level', 'warn'], { LOCAL_ELB_STATE_DIR: dir });
    dashboardUrl = `${(await cli.waitForStdout(/admin API on (http:\/\/\S+)/, 60_000))[1]!}/`;
    albUrl = (await cli.waitForStdout(/load balancer app listening on (http:\/\/\S+)/))[1]!;
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath!, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(dashboardUrl);
  }, 90_000);

  afterAll(async () => {
    await load?.stop();
    await browser?.close();
    await cli?.stop();
    for (const t of targets) await t.close().catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const row = (t: TestTarget) => page.locator(`tr[data-target="web|127.0.0.1:${t.port}"]`);
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

  it('shows the load balancer with its rules and three healthy targets', async () => {
    await page.locator('body[data-connected="true"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('tr[data-target^="web|"][data-state="healthy"]').count(), { timeout: 20_000 }).toBe(3);
    const lb = page.locator('.card[data-lb="app"]');
    await expect.poll(() => lb.textContent()).toContain('path-pattern /pods/*');
    expect(await lb.textContent()).toContain('forward pods');
    expect(await lb.textContent()).toContain('rewriting url-rewrite ^/pods/(.*)$ → /$1');
    await shot('1-three-healthy-targets');
  }, 60_000);

  it('turns a killed target’s row unhealthy with Target.FailedHealthChecks', async () => {
    await targets[0]!.close();
    await expect.poll(() => row(targets[0]!).getAttribute('data-state'), { timeout: 30_000, interval: 250 }).toBe('unhealthy');
    expect(await row(targets[0]!).locator('.reason').textContent()).toContain('Target.FailedHealthChecks');
    await shot('2-killed-target-unhealthy');
  }, 60_000);

  it('deregisters a target from the dashboard (after a confirmation): draining, with a countdown', async () => {
    await row(targets[1]!).locator('button[data-action="deregister"]').click();
    await expect.poll(() => row(targets[1]!).getAttribute('data-state'), { timeout: 10_000 }).toBe('draining');
    expect(await row(targets[1]!).locator('.reason').textContent()).toContain('Target.DeregistrationInProgress');
    const first = await row(targets[1]!).locator('.timer').textContent();
    expect(first).toMatch(/drain ends in (1[01]\d|120)\.\ds|drain ends in 1m \d\ds/);
    await expect.poll(() => row(targets[1]!).locator('.timer').textContent(), { timeout: 5_000 }).not.toBe(first);
    await shot('3-deregistered-target-draining');
  }, 30_000);

  it('rolls out the local pods from the dashboard: old pods go Terminating while new ones become Ready', async () => {
    const pods = page.locator('.card[data-deployment="pods"]');
    await expect.poll(() => pods.locator('tr[data-phase="Ready"]').count(), { timeout: 30_000 }).toBe(2);
    load = startLoad(`${albUrl}/pods/`, { rps: 40 });
    await expect.poll(() => page.locator('.card[data-target-group="pods"] svg.spark polyline').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await pods.locator('button[data-action="rollout"]').click();
    await expect
      .poll(async () => (await pods.locator('tr[data-revision="1"][data-phase="Terminating"]').count()) > 0 && (await pods.locator('tr[data-revision="2"][data-phase="Ready"]').count()) > 0, {
        timeout: 30_000,
        interval: 100,
      })
      .toBe(true);
    expect(await pods.locator('tr[data-revision="1"][data-phase="Terminating"] .timer').first().textContent()).toMatch(/preStop ends in|SIGKILL in|grace/);
    await shot('4-rollout-in-progress');
    await expect
      .poll(async () => (await pods.locator('tr[data-revision="2"][data-phase="Ready"]').count()) === 2 && (await pods.locator('tr[data-revision="1"]').count()) === 0, { timeout: 60_000 })
      .toBe(true);
    const lanes = page.locator('#lanes g[data-kind="pod"]');
    expect(await lanes.count()).toBeGreaterThanOrEqual(4);
    await shot('5-rollout-done');

    // The load's report, as the standalone page report.html() writes: lanes with the requests' row.
    const report = await load!.stop();
    load = undefined;
    expect(report.total).toBeGreaterThan(50);
    const file = join(dir, 'report.html');
    writeFileSync(file, report.html({ title: 'load on the pods during the rollout' }));
    const reportPage = await browser!.newPage({ viewport: { width: 1200, height: 700 } });
    await reportPage.goto(`file://${file}`);
    expect(await reportPage.locator('#lanes-0 svg').count()).toBe(1);
    expect(await reportPage.locator('#lanes-0 svg text', { hasText: /^requests \(\d+ failed\)$/ }).count()).toBe(1);
    expect(await reportPage.locator('#lanes-0 svg path.ok-rate').count()).toBe(1);
    await reportPage.screenshot({ path: join(ARTIFACTS, '6-load-report.png'), fullPage: true });
    await reportPage.close();
  }, 120_000);
});
