import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Library code takes a logger and is silent by default; only the CLI picks a destination.
 * Event names are stable (`target.state_changed`, `target.draining`, `listener.started`):
 * they go in the `event` field so log readers can filter on them.
 */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
