import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { AWS_TIMING, parseRegistrationDelay, registrationDelays } from '../../../src/cli/kind-timing.ts';
import { parseConfig, type ConfigInput } from '../../../src/config/schema.ts';
import { withRegistrationDelay } from '../../../src/k8s/controller.ts';

describe('--registration-delay', () => {
  it.each([
    ['30', { application: 30, network: 30 }],
    ['0', { application: 0, network: 0 }],
    ['600', { application: 600, network: 600 }],
    ['nlb=120', { network: 120 }],
    ['alb=5', { application: 5 }],
    ['alb=5,nlb=120', { application: 5, network: 120 }],
    [' nlb = 90 , alb=0', { application: 0, network: 90 }],
  ])('reads %j as %j', (value, expected) => {
    expect(parseRegistrationDelay(value)).toEqual(expected);
  });

  it.each([
    ['nlb=x', 'nlb: "x" is not an integer 0–600'],
    ['x', '"x" is not an integer 0–600'],
    ['', '"" is not an integer 0–600'],
    ['601', '"601" is not an integer 0–600'],
    ['1.5', '"1.5" is not an integer 0–600'],
    ['-1', '"-1" is not an integer 0–600'],
    ['gwlb=5', '"gwlb" is not alb or nlb'],
    ['nlb=5,nlb=6', 'nlb is given twice'],
    ['nlb=', 'nlb: "" is not an integer 0–600'],
    ['alb=1,nlb', 'nlb: "" is not an integer 0–600'],
  ])('refuses %j, saying what is allowed (%s)', (value, why) => {
    let error: unknown;
    try {
      parseRegistrationDelay(value);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toBe(`expected seconds (an integer 0–600) for both types, or alb=SECONDS,nlb=SECONDS with either or both: got ${JSON.stringify(value)} (${why})`);
  });
});

describe('registration delays: --aws-timing and --registration-delay', () => {
  it.each([
    ['neither: 0 s for both', {}, { application: 0, network: 0 }],
    ['--aws-timing: NLB 120 s, ALB 0 s', { awsTiming: true }, { application: 0, network: 120 }],
    ['--registration-delay 30 alone', { registrationDelay: { application: 30, network: 30 } }, { application: 30, network: 30 }],
    ['--aws-timing --registration-delay nlb=10: the explicit type wins, the other keeps the preset', { awsTiming: true, registrationDelay: { network: 10 } }, { application: 0, network: 10 }],
    ['--aws-timing --registration-delay alb=20', { awsTiming: true, registrationDelay: { application: 20 } }, { application: 20, network: 120 }],
    ['--aws-timing --registration-delay 0: both explicit', { awsTiming: true, registrationDelay: { application: 0, network: 0 } }, { application: 0, network: 0 }],
    ['--registration-delay nlb=5 without the preset: ALB 0 s', { registrationDelay: { network: 5 } }, { application: 0, network: 5 }],
  ])('%s', (_, options, expected) => {
    expect(registrationDelays(options)).toEqual(expected);
  });

  it('presets the spec’s observed NLB registration time (spec 1.3: ~120 s)', () => {
    expect(AWS_TIMING).toEqual({ application: 0, network: 120 });
  });
});

describe('withRegistrationDelay (the controller applies it per stack type)', () => {
  const config: ConfigInput = {
    targetGroups: [
      { name: 'a', protocol: 'TCP' },
      { name: 'b', protocol: 'TCP', emulator: { registrationDelaySeconds: 7 } },
    ],
    loadBalancers: [{ name: 'nlb', type: 'network', listeners: [{ port: 0, protocol: 'TCP', defaultActions: [{ type: 'forward', targetGroupName: 'a' }] }] }],
  };

  it('sets every target group’s emulator.registrationDelaySeconds, keeping a group’s own', () => {
    const parsed = parseConfig(withRegistrationDelay(config, 120));
    expect(parsed.targetGroups.map((tg) => [tg.name, tg.emulator.registrationDelaySeconds])).toEqual([
      ['a', 120],
      ['b', 7],
    ]);
  });

  it.each([[undefined], [0]])('leaves the config as it is for %s (so the stack keeps its shape signature)', (seconds) => {
    expect(withRegistrationDelay(config, seconds)).toBe(config);
  });
});
