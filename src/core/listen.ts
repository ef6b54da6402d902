/**
 * Binding a listener, the same way everywhere: a failure to bind rejects with
 * `ELB_ERR_LISTEN_FAILED` naming what could not listen where; errors after that are logged,
 * never thrown. Takes the bind call as a function, so it opens no socket itself.
 */
import type { EventEmitter } from 'node:events';
import { ElbError, ErrorCodes } from './errors.ts';
import type { Logger } from './logger.ts';

/** `label` names the listener, e.g. `load balancer app on TCP 127.0.0.1:8080`. */
export function bindListener(emitter: EventEmitter, bind: (onListening: () => void) => void, label: string, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(new ElbError(ErrorCodes.LISTEN_FAILED, `cannot start ${label}: ${err.code ?? err.message}`, { cause: err }));
    emitter.once('error', onError);
    bind(() => {
      emitter.off('error', onError);
      emitter.on('error', (err: unknown) => log.error({ err }, `error on ${label}`));
      resolve();
    });
  });
}

/**
 * Where a listener that may bind elsewhere (one the ELBv2 API created: its `Port` on its load
 * balancer's own loopback address "where it can") tries next after `bindListener` failed:
 * `free-port` on the same address when the port is taken or privileged (EADDRINUSE, EACCES),
 * `loopback` (127.0.0.1, a free port) when this machine cannot bind the address at all
 * (EADDRNOTAVAIL: macOS has only 127.0.0.1 on lo), undefined for anything else.
 */
export function bindFallback(err: unknown): 'free-port' | 'loopback' | undefined {
  const code = ((err as { cause?: NodeJS.ErrnoException } | undefined)?.cause ?? (err as NodeJS.ErrnoException | undefined))?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') return 'free-port';
  if (code === 'EADDRNOTAVAIL') return 'loopback';
  return undefined;
}
