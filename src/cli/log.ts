import { pino, type Logger } from 'pino';

export type LogFormat = 'pretty' | 'json';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/**
 * The CLI's logger: JSON lines (pino's own format) or one readable line per event, on stderr.
 * Library code never picks a destination; only the CLI does.
 */
export function cliLogger(level: string, format: LogFormat): Logger {
  if (format === 'json') return pino({ level }, pino.destination({ fd: 2, sync: true }));
  return pino(
    { level, base: undefined },
    {
      write(line: string) {
        const o = JSON.parse(line) as { time: number; level: number; msg?: string; err?: { message?: string } };
        const time = new Date(o.time).toISOString().slice(11, 23);
        process.stderr.write(`${time} ${LEVELS[o.level] ?? o.level} ${o.msg ?? ''}${o.err?.message ? `: ${o.err.message}` : ''}\n`);
      },
    },
  );
}
