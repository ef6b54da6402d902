/**
 * The child side of the L7 bench: a child tells its parent it is ready over IPC, and exits
 * when the parent goes away (the IPC channel closes) or asks it to stop (SIGTERM/SIGINT).
 */
/** What every target answers (Node and nginx targets alike): 100 bytes, a small API response. */
export const TARGET_BODY = `ok ${'x'.repeat(96)}\n`;

export interface ReadyMessage {
  readonly type: 'ready';
  /** Ports the child listens on, in the order its parent needs them. */
  readonly ports: readonly number[];
}

export function reportReady(ports: readonly number[]): void {
  if (process.send === undefined) {
    // Run by hand: print instead.
    console.log(JSON.stringify({ type: 'ready', ports }));
    return;
  }
  process.send({ type: 'ready', ports } satisfies ReadyMessage);
}

/** Runs `close` (best effort, bounded) and exits when the parent disconnects or signals. */
export function exitWithParent(close: () => Promise<void> | void = () => {}): void {
  let exiting = false;
  const exit = () => {
    if (exiting) return;
    exiting = true;
    const timer = setTimeout(() => process.exit(0), 2000);
    timer.unref();
    void Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  };
  process.on('disconnect', exit);
  process.on('SIGTERM', exit);
  process.on('SIGINT', exit);
}

/** Target ports from argv: `node child.ts 4001,4002,4003`. */
export function portsArg(value: string | undefined): number[] {
  const ports = (value ?? '').split(',').map(Number);
  if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) {
    throw new Error(`expected comma-separated target ports: got ${JSON.stringify(value)}`);
  }
  return ports;
}
