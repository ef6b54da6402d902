/**
 * When ports below 1024 cannot be bound, the controller listens on free ports; a redirect to a
 * moved port of the same load balancer (ssl-redirect to 443) must follow it.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../../src/config/schema.ts';
import { withRedirectsFollowing } from '../../../src/k8s/controller.ts';

const redirect = (port: string, host?: string) => ({ type: 'redirect' as const, redirectConfig: { protocol: 'HTTPS', port, statusCode: 'HTTP_301' as const, ...(host ? { host } : {}) } });

function config(actions: ReturnType<typeof redirect>[], ruleActions: ReturnType<typeof redirect>[] = []): ConfigInput {
  return {
    loadBalancers: [
      {
        name: 'alb',
        type: 'application',
        listeners: [
          { port: 80, protocol: 'HTTP', defaultActions: actions, rules: ruleActions.map((a, i) => ({ priority: i + 1, conditions: [{ field: 'path-pattern', values: ['/*'] }], actions: [a] })) },
          { port: 443, protocol: 'HTTPS', defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404' } }] },
          { port: 8443, protocol: 'HTTPS', defaultActions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '404' } }] },
        ],
      },
    ],
  };
}

const bound = new Map([
  [80, 40080],
  [443, 40443],
  [8443, 8443],
]);

describe('withRedirectsFollowing', () => {
  it('points an ssl-redirect to 443 at the port 443 now listens on, and keeps every listener on its bound port', () => {
    const out = withRedirectsFollowing(config([redirect('443')], [redirect('443')]), bound)!;
    const listeners = out.loadBalancers![0]!.listeners;
    expect(listeners.map((l) => l.port)).toEqual([40080, 40443, 8443]);
    expect(listeners[0]!.defaultActions).toEqual([redirect('40443')]);
    expect(listeners[0]!.rules![0]!.actions).toEqual([redirect('40443')]);
  });

  it.each([
    ['a redirect to a port that did not move', [redirect('8443')]],
    ['a redirect to another host', [redirect('443', 'example.com')]],
    ['no redirect', []],
  ])('changes nothing for %s', (_name, actions) => {
    expect(withRedirectsFollowing(config(actions), bound)).toBeUndefined();
  });

  it('follows a redirect that keeps the host (#{host})', () => {
    const out = withRedirectsFollowing(config([redirect('443', '#{host}')]), bound)!;
    expect(out.loadBalancers![0]!.listeners[0]!.defaultActions).toEqual([redirect('40443', '#{host}')]);
  });
});
