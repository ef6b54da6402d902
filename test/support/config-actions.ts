/** What the config tests of listener actions share: a one-listener ALB around some actions, and the issues its parse reports. */
import { parseConfig, type ConfigInput } from '../../src/config/schema.ts';
import { ConfigError } from '../../src/core/errors.ts';

/** One ALB, `app`, whose listener on 443 (HTTPS unless said) has `actions` as its default actions, before target group `web`. */
export function actionsConfig(actions: unknown[], options: { protocol?: 'HTTP' | 'HTTPS'; emulator?: Record<string, unknown> } = {}): ConfigInput {
  return {
    targetGroups: [{ name: 'web', protocol: 'HTTP', port: 80 }],
    loadBalancers: [{ name: 'app', ...(options.emulator ? { emulator: options.emulator } : {}), listeners: [{ port: 443, protocol: options.protocol ?? 'HTTPS', defaultActions: actions }] }],
  } as ConfigInput;
}

/** The issues parseConfig reports for `input` (none: an empty list). */
export function configIssues(input: ConfigInput): Array<{ path: string; message: string }> {
  try {
    parseConfig(input);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.issues];
    throw err;
  }
  return [];
}
