/**
 * How the CLI's long-running commands (serve, demo, kind) end, and what any command does when
 * its stdout is closed under it (`local-elb … | head -2`).
 */

let stopRunning: ((why: string) => void) | undefined;

/**
 * Runs until SIGINT or SIGTERM (or stdout closing), then `stop()` and exit 0; a second signal
 * exits at once (130). An uncaught error also stops (children included) and exits 1.
 */
export function runUntilSignal(stop: () => Promise<void>, log: (msg: string) => void): void {
  let stopping = false;
  const onStop = (why: string) => {
    if (stopping) {
      log(`${why} again: exiting now`);
      process.exit(130);
    }
    stopping = true;
    log(`${why}: shutting down`);
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error while shutting down: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  stopRunning = onStop;
  process.on('SIGINT', () => onStop('SIGINT'));
  process.on('SIGTERM', () => onStop('SIGTERM'));
  process.on('uncaughtException', (err) => {
    log(`fatal: ${err.stack ?? String(err)}`);
    stop().finally(() => process.exit(1));
  });
}

/**
 * Ends the process quietly when the reader of stdout goes away (EPIPE): a one-shot command
 * exits 0 at once; a running load balancer shuts down as on SIGTERM, pods and targets included.
 */
export function quietOnClosedStdout(): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    if (stopRunning !== undefined) {
      const stop = stopRunning;
      stopRunning = undefined;
      stop('stdout closed');
    } else process.exit(0);
  });
}
