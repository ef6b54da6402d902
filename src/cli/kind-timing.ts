/**
 * `local-elb kind --registration-delay` and `--aws-timing`: how long a newly registered target
 * stays `initial`/`Elb.RegistrationInProgress` before its first health check (spec 1.3), per load
 * balancer type. Parsing only; the controller applies the result to every target group of the
 * stacks it makes (Services, Ingresses, Gateways).
 */
import { InvalidArgumentError } from 'commander';

/** Seconds per load balancer type; a type left out keeps the default (0 s, or the preset's). */
export interface RegistrationDelays {
  readonly application?: number;
  readonly network?: number;
}

/** The range of a target group's `emulator.registrationDelaySeconds` (config/schema.ts). */
export const MAX_REGISTRATION_DELAY_SECONDS = 600;

/**
 * `--aws-timing`: AWS-like registration times. NLB: "it can take a few minutes for the
 * registration process to complete and health checks to start", observed ~120 s (spec 1.3,
 * [S-NLB-HC], [S-NLB-REG-PR]). ALB: AWS documents no registration time ("starts routing requests
 * to the target as soon as the registration process completes and the target passes the initial
 * health checks"), and users see ALB targets healthy as soon as the pod is ready
 * (aws-load-balancer-controller#1834), so 0 s: the first health check decides. The controller's
 * own lag from an endpoint change to RegisterTargets is not documented and stays 0.
 */
export const AWS_TIMING: Required<RegistrationDelays> = { application: 0, network: 120 };

const TYPES: Record<string, keyof RegistrationDelays> = { alb: 'application', nlb: 'network' };
const ALLOWED = `seconds (an integer 0–${MAX_REGISTRATION_DELAY_SECONDS}) for both types, or alb=SECONDS,nlb=SECONDS with either or both`;

function seconds(raw: string): number | undefined {
  const n = Number(raw);
  return /^\s*\d+\s*$/.test(raw) && n <= MAX_REGISTRATION_DELAY_SECONDS ? n : undefined;
}

/** `30` → both types; `nlb=120` or `alb=0,nlb=120` → those types. Throws commander's error naming the value and what is allowed. */
export function parseRegistrationDelay(value: string): RegistrationDelays {
  const fail = (why: string): never => {
    throw new InvalidArgumentError(`expected ${ALLOWED}: got ${JSON.stringify(value)} (${why})`);
  };
  if (!value.includes('=')) {
    const both = seconds(value);
    if (both === undefined) fail(`${JSON.stringify(value)} is not an integer 0–${MAX_REGISTRATION_DELAY_SECONDS}`);
    return { application: both!, network: both! };
  }
  const out: { application?: number; network?: number } = {};
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    const type = TYPES[name];
    if (type === undefined) fail(`${JSON.stringify(name)} is not alb or nlb`);
    if (out[type!] !== undefined) fail(`${name} is given twice`);
    const raw = eq < 0 ? '' : part.slice(eq + 1);
    const n = seconds(raw);
    if (n === undefined) fail(`${name}: ${JSON.stringify(raw.trim())} is not an integer 0–${MAX_REGISTRATION_DELAY_SECONDS}`);
    out[type!] = n!;
  }
  return out;
}

/** The delays to run with: `--aws-timing`'s preset (or 0 s), then each type `--registration-delay` names over it. */
export function registrationDelays(options: { readonly awsTiming?: boolean; readonly registrationDelay?: RegistrationDelays }): Required<RegistrationDelays> {
  const base = options.awsTiming ? AWS_TIMING : { application: 0, network: 0 };
  return {
    application: options.registrationDelay?.application ?? base.application,
    network: options.registrationDelay?.network ?? base.network,
  };
}
