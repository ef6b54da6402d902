/**
 * Server-side printing for the fake API server: `kubectl get` asks for
 * `application/json;as=Table;v=v1;g=meta.k8s.io` and prints the `meta.k8s.io/v1` Table it gets
 * back (a plain list would print only NAME and AGE). The columns follow the real API server's
 * printers for the resources the fake serves; others get Name and Age.
 */

type Obj = Record<string, any>;

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

interface Printer {
  columns: TableColumn[];
  cells(obj: Obj, now: number): unknown[];
}

const col = (name: string, priority = 0, type: TableColumn['type'] = 'string', format = ''): TableColumn => ({
  name,
  type,
  format: name === 'Name' ? 'name' : format,
  description: name,
  priority,
});

/** kubectl's short duration ("12s", "5m", "3h", "4d"), as k8s.io/apimachinery duration.HumanDuration. */
export function humanAge(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

const age = (o: Obj, now: number) => humanAge(o.metadata?.creationTimestamp, now);
const none = (v: unknown) => (v === undefined || v === null || v === '' ? '<none>' : String(v));

function servicePorts(svc: Obj): string {
  const ports: Obj[] = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function serviceExternalIp(svc: Obj): string {
  const type = svc.spec?.type ?? 'ClusterIP';
  const external: string[] = svc.spec?.externalIPs ?? [];
  if (type === 'ExternalName') return none(svc.spec?.externalName);
  if (type === 'LoadBalancer') {
    const ingress: Obj[] = svc.status?.loadBalancer?.ingress ?? [];
    const addrs = [...ingress.map((i) => i.ip ?? i.hostname).filter(Boolean), ...external];
    return addrs.length > 0 ? addrs.join(',') : '<pending>';
  }
  return external.length > 0 ? external.join(',') : '<none>';
}

function selector(sel: Record<string, string> | undefined): string {
  if (!sel || Object.keys(sel).length === 0) return '<none>';
  return Object.entries(sel)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

function podStatus(pod: Obj): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  for (const cs of (pod.status?.containerStatuses ?? []) as Obj[]) {
    const reason = cs.state?.waiting?.reason ?? cs.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.reason ?? pod.status?.phase ?? 'Pending';
}

/** `.status.conditions[?(@.type=="<type>")].status`, as a CRD printer column reads it. */
const conditionStatus = (o: Obj, type: string) => String(((o.status?.conditions ?? []) as Obj[]).find((c) => c.type === type)?.status ?? '');
const hostnames = (o: Obj) => {
  const list: string[] = o.spec?.hostnames ?? [];
  return list.length > 0 ? JSON.stringify(list) : '';
};

const PRINTERS: Record<string, Printer> = {
  Pod: {
    columns: [col('Name'), col('Ready'), col('Status'), col('Restarts', 0, 'string'), col('Age'), col('IP', 1), col('Node', 1), col('Nominated Node', 1), col('Readiness Gates', 1)],
    cells: (p, now) => {
      const statuses: Obj[] = p.status?.containerStatuses ?? [];
      const total = (p.spec?.containers ?? []).length;
      const ready = statuses.filter((s) => s.ready).length;
      const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
      return [p.metadata?.name, `${ready}/${total}`, podStatus(p), String(restarts), age(p, now), none(p.status?.podIP), none(p.spec?.nodeName), none(p.status?.nominatedNodeName), '<none>'];
    },
  },
  Service: {
    columns: [col('Name'), col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), col('Age'), col('Selector', 1)],
    cells: (s, now) => [s.metadata?.name, s.spec?.type ?? 'ClusterIP', none(s.spec?.clusterIP), serviceExternalIp(s), servicePorts(s), age(s, now), selector(s.spec?.selector)],
  },
  Node: {
    columns: [col('Name'), col('Status'), col('Roles'), col('Age'), col('Version'), col('Internal-IP', 1), col('External-IP', 1)],
    cells: (n, now) => {
      const ready = ((n.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready');
      const roles = Object.keys(n.metadata?.labels ?? {})
        .filter((l) => l.startsWith('node-role.kubernetes.io/'))
        .map((l) => l.slice('node-role.kubernetes.io/'.length));
      const addr = (t: string) => none(((n.status?.addresses ?? []) as Obj[]).find((a) => a.type === t)?.address);
      const status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
      return [n.metadata?.name, n.spec?.unschedulable ? `${status},SchedulingDisabled` : status, roles.length ? roles.join(',') : '<none>', age(n, now), none(n.status?.nodeInfo?.kubeletVersion), addr('InternalIP'), addr('ExternalIP')];
    },
  },
  Namespace: {
    columns: [col('Name'), col('Status'), col('Age')],
    cells: (n, now) => [n.metadata?.name, n.status?.phase ?? 'Active', age(n, now)],
  },
  Ingress: {
    columns: [col('Name'), col('Class'), col('Hosts'), col('Address'), col('Ports'), col('Age')],
    cells: (i, now) => {
      const rules: Obj[] = i.spec?.rules ?? [];
      const hosts = rules.map((r) => r.host).filter(Boolean);
      const addrs = ((i.status?.loadBalancer?.ingress ?? []) as Obj[]).map((a) => a.ip ?? a.hostname).filter(Boolean);
      return [i.metadata?.name, none(i.spec?.ingressClassName), hosts.length ? hosts.join(',') : '*', addrs.join(','), (i.spec?.tls ?? []).length ? '80, 443' : '80', age(i, now)];
    },
  },
  IngressClass: {
    columns: [col('Name'), col('Controller'), col('Parameters'), col('Age')],
    cells: (c, now) => {
      const p = c.spec?.parameters;
      return [c.metadata?.name, none(c.spec?.controller), p ? `${p.kind}/${p.name}` : '<none>', age(c, now)];
    },
  },
  EndpointSlice: {
    columns: [col('Name'), col('AddressType'), col('Ports'), col('Endpoints'), col('Age')],
    cells: (e, now) => {
      const ports = ((e.ports ?? []) as Obj[]).map((p) => String(p.port ?? '<unset>'));
      const addrs = ((e.endpoints ?? []) as Obj[]).flatMap((ep) => (ep.addresses ?? []) as string[]);
      const shown = addrs.slice(0, 3).join(',') + (addrs.length > 3 ? ` + ${addrs.length - 3} more...` : '');
      return [e.metadata?.name, e.addressType, ports.length ? ports.join(',') : '<unset>', addrs.length ? shown : '<unset>', age(e, now)];
    },
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message'), col('Name', 1)],
    cells: (e, now) => [
      humanAge(e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp, now),
      e.type ?? '',
      e.reason ?? '',
      `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`,
      e.message ?? '',
      e.metadata?.name,
    ],
  },
};

// The Gateway API CRDs' additionalPrinterColumns (gateway.networking.k8s.io), and the AWS Load
// Balancer Controller's for its gateway.k8s.aws CRDs.
Object.assign(PRINTERS, {
  GatewayClass: {
    columns: [col('Name'), col('Controller'), col('Accepted'), col('Age'), col('Description', 1)],
    cells: (c: Obj, now: number) => [c.metadata?.name, c.spec?.controllerName ?? '', conditionStatus(c, 'Accepted'), age(c, now), c.spec?.description ?? ''],
  },
  Gateway: {
    columns: [col('Name'), col('Class'), col('Address'), col('Programmed'), col('Age')],
    cells: (g: Obj, now: number) => [g.metadata?.name, g.spec?.gatewayClassName ?? '', ((g.status?.addresses ?? []) as Obj[]).map((a) => a.value).join(' '), conditionStatus(g, 'Programmed'), age(g, now)],
  },
  HTTPRoute: { columns: [col('Name'), col('Hostnames'), col('Age')], cells: (r: Obj, now: number) => [r.metadata?.name, hostnames(r), age(r, now)] },
  GRPCRoute: { columns: [col('Name'), col('Hostnames'), col('Age')], cells: (r: Obj, now: number) => [r.metadata?.name, hostnames(r), age(r, now)] },
  TLSRoute: { columns: [col('Name'), col('Hostnames'), col('Age')], cells: (r: Obj, now: number) => [r.metadata?.name, hostnames(r), age(r, now)] },
  TargetGroupConfiguration: {
    columns: [col('Name'), col('Service-Name'), col('Age')],
    cells: (t: Obj, now: number) => [t.metadata?.name, t.spec?.targetReference?.name ?? '', age(t, now)],
  },
} satisfies Record<string, Printer>);

// The AWS Load Balancer Controller's TargetGroupBinding CRD (both versions): its additionalPrinterColumns.
Object.assign(PRINTERS, {
  TargetGroupBinding: {
    columns: [col('Name'), col('SERVICE-NAME'), col('SERVICE-PORT'), col('TARGET-TYPE'), col('ARN', 1), col('NAME', 1), col('AGE', 0, 'date')],
    cells: (t: Obj, now: number) => [t.metadata?.name, t.spec?.serviceRef?.name ?? '', t.spec?.serviceRef?.port === undefined ? '' : String(t.spec.serviceRef.port), t.spec?.targetType ?? '', t.spec?.targetGroupARN ?? '', t.spec?.targetGroupName ?? '', age(t, now)],
  },
} satisfies Record<string, Printer>);

const GENERIC: Printer = { columns: [col('Name'), col('Age')], cells: (o, now) => [o.metadata?.name, age(o, now)] };

/** A CRD's additionalPrinterColumn: a simple `.a.b.c` jsonPath into the object. */
export interface PrinterColumn {
  name: string;
  type: TableColumn['type'];
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** NAME, then the CRD's columns, as the real server prints a custom resource (a `date` column as an age). */
function crdPrinter(columns: readonly PrinterColumn[]): Printer {
  const at = (o: Obj, path: string): unknown => path.split('.').filter(Boolean).reduce<unknown>((v, k) => (v as Obj | undefined)?.[k], o);
  return {
    columns: [col('Name'), ...columns.map((c) => ({ ...col(c.name, c.priority ?? 0, c.type), description: c.description ?? c.name }))],
    cells: (o, now) => [o.metadata?.name, ...columns.map((c) => (c.type === 'date' ? humanAge(at(o, c.jsonPath) as string | undefined, now) : (at(o, c.jsonPath) ?? null)))],
  };
}

/**
 * A `meta.k8s.io/v1` Table of `objects`. `includeObject` is the request's query parameter:
 * `None`, `Object` (the whole object in each row) or `Metadata` (the default: PartialObjectMetadata).
 */
export function renderTable(kind: string, objects: Obj[], listMeta: Obj, includeObject: string | null, printerColumns?: readonly PrinterColumn[]): Obj {
  const printer = PRINTERS[kind] ?? (printerColumns ? crdPrinter(printerColumns) : GENERIC);
  const now = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: printer.columns,
    rows: objects.map((o) => {
      const row: Obj = { cells: printer.cells(o, now) };
      if (includeObject === 'Object') row.object = o;
      else if (includeObject !== 'None') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
      return row;
    }),
  };
}

/** Whether an Accept header asks for server-side printing. */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  return /;\s*as=Table/.test(first);
}
