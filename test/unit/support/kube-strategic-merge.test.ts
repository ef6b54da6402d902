import { describe, expect, it } from 'vitest';
import { strategicMergePatch, StrategicMergePatchError, type JsonObject } from '../../support/kube-strategic-merge.ts';
import { parseFieldSelector, parseLabelSelector } from '../../support/fake-kube-apiserver.ts';

describe('strategic merge patch (fake API server)', () => {
  const pod: JsonObject = {
    metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x'] },
    spec: {
      containers: [
        { name: 'main', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
        { name: 'side', image: 'envoy' },
      ],
      tolerations: [{ key: 't1' }],
    },
    status: { conditions: [{ type: 'Ready', status: 'False' }], loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } },
  };

  it('merges maps, deletes keys set to null and does not modify its input', () => {
    const before = structuredClone(pod);
    const out = strategicMergePatch(pod, { metadata: { labels: { a: null, c: '3' } } });
    expect(out.metadata).toEqual({ name: 'p', labels: { b: '2', c: '3' }, finalizers: ['x'] });
    expect(pod).toEqual(before);
  });

  it('merges lists by their patch merge key, nested too, and replaces atomic lists', () => {
    const out = strategicMergePatch(pod, {
      spec: {
        containers: [{ name: 'main', ports: [{ containerPort: 443 }], env: [{ name: 'A', value: '2' }] }, { name: 'new', image: 'busybox' }],
        tolerations: [{ key: 't2' }],
      },
      status: { conditions: [{ type: 'Synced', status: 'True' }], loadBalancer: { ingress: [{ hostname: 'h' }] } },
    }) as any;
    expect(out.spec.containers.map((c: any) => c.name)).toEqual(['main', 'side', 'new']);
    expect(out.spec.containers[0]).toEqual({ name: 'main', image: 'nginx', ports: [{ containerPort: 80 }, { containerPort: 443 }], env: [{ name: 'A', value: '2' }] });
    expect(out.spec.tolerations).toEqual([{ key: 't2' }]);
    expect(out.status.conditions).toEqual([{ type: 'Ready', status: 'False' }, { type: 'Synced', status: 'True' }]);
    expect(out.status.loadBalancer.ingress).toEqual([{ hostname: 'h' }]);
  });

  it('merges metadata.finalizers as a set and Service spec.ports by port', () => {
    expect((strategicMergePatch(pod, { metadata: { finalizers: ['x', 'y'] } }) as any).metadata.finalizers).toEqual(['x', 'y']);
    const svc: JsonObject = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    expect((strategicMergePatch(svc, { spec: { ports: [{ port: 80, nodePort: 30080 }] } }) as any).spec.ports).toEqual([{ port: 80, targetPort: 8080, nodePort: 30080 }, { port: 443 }]);
  });

  it('honours $patch (replace, delete), $retainKeys, $deleteFromPrimitiveList and $setElementOrder', () => {
    let out = strategicMergePatch(pod, { spec: { containers: [{ name: 'side', $patch: 'delete' }] } }) as any;
    expect(out.spec.containers.map((c: any) => c.name)).toEqual(['main']);
    out = strategicMergePatch(pod, { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } }) as any;
    expect(out.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
    out = strategicMergePatch(pod, { metadata: { labels: { $patch: 'replace', z: '9' } } }) as any;
    expect(out.metadata.labels).toEqual({ z: '9' });
    out = strategicMergePatch(pod, { status: { $patch: 'delete' } }) as any;
    expect(out.status).toBeUndefined();
    out = strategicMergePatch(pod, { spec: { $retainKeys: ['containers'] } }) as any;
    expect(Object.keys(out.spec)).toEqual(['containers']);
    out = strategicMergePatch(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['x'] } }) as any;
    expect(out.metadata.finalizers).toEqual([]);
    out = strategicMergePatch(pod, { spec: { '$setElementOrder/containers': [{ name: 'side' }, { name: 'main' }] } }) as any;
    expect(out.spec.containers.map((c: any) => c.name)).toEqual(['side', 'main']);
  });

  it('refuses items without the merge key and unknown directives', () => {
    expect(() => strategicMergePatch(pod, { spec: { containers: [{ image: 'x' }] } })).toThrow(StrategicMergePatchError);
    expect(() => strategicMergePatch(pod, { spec: { $patch: 'explode' } })).toThrow(StrategicMergePatchError);
    expect(() => strategicMergePatch(pod, [] as never)).toThrow(StrategicMergePatchError);
  });
});

describe('selectors (fake API server)', () => {
  it('parses label selectors of every form', () => {
    expect(parseLabelSelector('a=b,c==d,e!=f,g,!h,i in (j, k),l notin (m)')).toEqual([
      { key: 'a', op: '=', values: ['b'] },
      { key: 'c', op: '=', values: ['d'] },
      { key: 'e', op: '!=', values: ['f'] },
      { key: 'g', op: 'exists', values: [] },
      { key: 'h', op: '!exists', values: [] },
      { key: 'i', op: 'in', values: ['j', 'k'] },
      { key: 'l', op: 'notin', values: ['m'] },
    ]);
    expect(parseLabelSelector('kubernetes.io/service-name=web')).toEqual([{ key: 'kubernetes.io/service-name', op: '=', values: ['web'] }]);
    expect(parseLabelSelector('')).toEqual([]);
    expect(() => parseLabelSelector('a=b=c')).toThrow(/unable to parse/);
  });

  it('parses field selectors', () => {
    expect(parseFieldSelector('metadata.name=x,metadata.namespace!=y')).toEqual([
      { path: ['metadata', 'name'], negate: false, value: 'x' },
      { path: ['metadata', 'namespace'], negate: true, value: 'y' },
    ]);
    expect(() => parseFieldSelector('nonsense')).toThrow(/invalid selector/);
  });
});
