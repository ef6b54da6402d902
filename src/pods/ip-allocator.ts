/**
 * Pod IPs on this machine: every address in 127.0.0.0/8 is local, so each pod gets its own
 * (as in Kubernetes) and all listen on the same port without racing for ports. The /16 is
 * chosen at random per process so parallel test workers do not collide; addresses are not
 * reused while this process lives.
 */
import { randomInt } from 'node:crypto';

export class PodIpAllocator {
  readonly #second: number;
  #next = 0;

  constructor(second = randomInt(16, 250)) {
    this.#second = second;
  }

  allocate(): string {
    const n = this.#next++;
    const third = Math.floor(n / 254) % 256;
    const fourth = (n % 254) + 1;
    return `127.${this.#second}.${third}.${fourth}`;
  }
}
