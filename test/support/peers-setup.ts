/**
 * vitest globalSetup: checks the test peers once per run. Under CI=true a missing peer fails
 * the run before any test, naming every missing package; elsewhere one warning lists what will
 * be skipped and why (the test files then skip without repeating it).
 */
import { inCi, missingPeers } from './peers.ts';

export default function setup(): void {
  const missing = missingPeers();
  if (missing.length === 0) return;
  if (inCi()) throw new Error(`CI=true and test peers are missing (scripts/ensure-peers installs them):\n  ${missing.join('\n  ')}`);
  console.warn(`test peers missing (scripts/ensure-peers installs them as root):\n  ${missing.join('\n  ')}`);
}
