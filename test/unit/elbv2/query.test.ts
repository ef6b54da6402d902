import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/elbv2/errors.ts';
import { decodeForm, Members } from '../../../src/elbv2/query.ts';

const members = (body: string) => new Members(decodeForm(body));

function refusal(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('the Query protocol: form decoding (spec 14.1.2)', () => {
  it('builds nested members: structures, lists of structures and lists inside lists', () => {
    const m = members(
      'Action=CreateListener&Version=2015-12-01&LoadBalancerArn=arn%3Aaws%3Aelasticloadbalancing%3Aus-east-1%3A123456789012%3Aloadbalancer%2Fapp%2Fweb%2F0123456789abcdef' +
        '&DefaultActions.member.1.Type=forward' +
        '&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=blue&DefaultActions.member.1.ForwardConfig.TargetGroups.member.1.Weight=80' +
        '&DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.TargetGroupArn=green&DefaultActions.member.1.ForwardConfig.TargetGroups.member.2.Weight=20' +
        '&DefaultActions.member.1.ForwardConfig.TargetGroupStickinessConfig.Enabled=true&Matcher.HttpCode=200-299',
    );
    expect(m.string('LoadBalancerArn')).toBe('arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/0123456789abcdef');
    expect(m.structure('Matcher')?.string('HttpCode')).toBe('200-299');
    const [action] = m.structures('DefaultActions')!;
    const groups = action!.structure('ForwardConfig')!.structures('TargetGroups')!;
    expect(groups.map((g) => [g.string('TargetGroupArn'), g.integer('Weight')])).toEqual([['blue', 80], ['green', 20]]);
    expect(action!.structure('ForwardConfig')!.structure('TargetGroupStickinessConfig')!.boolean('Enabled')).toBe(true);
  });

  it.each([
    ['numeric N, not text order', 'Names.member.10=j&Names.member.2=b&Names.member.1=a&Names.member.9=i', ['a', 'b', 'i', 'j']],
    ['a bare key as the empty list (both SDKs send it)', 'Names=', []],
    ["botocore's + for a space", 'Names.member.1=a+b', ['a b']],
    ["SDK v3's %20 and escaped !'()*", 'Names.member.1=a%20b%21%27%28%29%2A', ["a b!'()*"]],
  ])('orders and decodes list members: %s', (_name, body, expected) => {
    expect(members(body).strings('Names')).toEqual(expected);
  });

  it('leaves an absent list undefined and an absent scalar undefined', () => {
    const m = members('Action=DescribeLoadBalancers');
    expect(m.strings('Names')).toBeUndefined();
    expect(m.string('Marker')).toBeUndefined();
  });

  it('decodes a map as entry.N.key / entry.N.value', () => {
    const node = decodeForm('P.entry.1.key=prompt&P.entry.1.value=login&P.entry.2.key=x&P.entry.2.value=');
    expect(node).toEqual({ P: { entry: { '1': { key: 'prompt', value: 'login' }, '2': { key: 'x', value: '' } } } });
  });

  it.each([
    ['a missing required member', () => members('').string('Name', { required: true }), "Value null at 'name' failed to satisfy constraint: Member must not be null"],
    ['an integer above its maximum', () => members('PageSize=401').integer('PageSize', { min: 1, max: 400 }), "Value '401' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400"],
    ['text where an integer belongs', () => members('Port=eighty').integer('Port'), "Value 'eighty' at 'port' failed to satisfy constraint: Member must be an integer"],
    ['a value outside an enum', () => members('Scheme=public').choice('Scheme', ['internet-facing', 'internal']), "Value 'public' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: [internet-facing, internal]"],
    ['a string over its length', () => members(`Name=${'x'.repeat(33)}`).string('Name', { max: 32 }), 'Member must have length less than or equal to 32'],
    ['a nested member, named by its path', () => members('Targets.member.1.Port=0').structures('Targets')![0]!.integer('Port', { min: 1 }), "at 'targets.member.1.Port'"],
    ['a list index that is not a number', () => members('Names.member.x=a').strings('Names'), 'Member must be a list index counting from 1'],
    ['a required list given empty', () => members('Targets=').list('Targets', { required: true }), 'Member must have length greater than or equal to 1'],
    ['a list over its length', () => members('Names.member.1=a&Names.member.2=b').strings('Names', { max: 1 }), 'Member must have length less than or equal to 1'],
    ['a boolean that is not true or false', () => members('Enabled=yes').boolean('Enabled'), 'Member must be a boolean'],
  ])('answers ValidationError in AWS phrasing for %s', (_name, fn, message) => {
    const error = refusal(fn);
    expect(error.code).toBe('ValidationError');
    expect(error.message).toContain('1 validation error detected');
    expect(error.message).toContain(message);
  });

  it('refuses a key that is both a value and a structure as MalformedQueryString', () => {
    expect(refusal(() => decodeForm('A=1&A.B=2')).code).toBe('MalformedQueryString');
    expect(refusal(() => decodeForm('A.B=2&A=1')).code).toBe('MalformedQueryString');
  });
});
