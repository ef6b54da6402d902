/**
 * What a load balancer is told when its listeners change at runtime (the ELBv2 API's
 * CreateListener, ModifyListener, DeleteListener and rule calls, through ElbRuntime.apply):
 * the listeners it has afterwards, in order, each saying where it came from. The runtime works
 * the list out (a pure diff, src/runtime/diff.ts); the ALB and the NLB carry it out without
 * touching the listeners it keeps.
 */
import type { ListenerConfig } from './schema.ts';

export interface ListenerChange {
  readonly config: ListenerConfig;
  /** The listener's index before the change; absent for a new listener. */
  readonly from?: number;
  /**
   * The socket must be bound again (its port, address, protocol, security policy, certificates
   * or ALPN policy changed): the old listener closes, its connections with it. Otherwise a kept
   * listener takes its new rules, actions and attributes in place, connections untouched.
   */
  readonly rebind?: boolean;
  /**
   * When the port or address cannot be bound, take a free port on the same address, or
   * 127.0.0.1 (core/listen.ts bindFallback). For listeners the ELBv2 API creates, whose `Port`
   * binds on the load balancer's own loopback address "where it can".
   */
  readonly fallback?: boolean;
}
