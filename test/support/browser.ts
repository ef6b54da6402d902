/**
 * A browser-like HTTP client for tests: a tough-cookie jar (Secure, HttpOnly, Path, Expires
 * as a browser keeps them), redirects followed one hop at a time with the jar consulted on
 * every hop (across origins: the load balancer on HTTPS, the local identity provider on HTTP),
 * and the forms of an HTML page submitted as a browser would. Trusts the local CA given.
 */
import { Agent, fetch } from 'undici';
import { CookieJar } from 'tough-cookie';

export interface Hop {
  readonly method: string;
  readonly url: string;
  readonly status: number;
  readonly location: string | undefined;
  readonly setCookies: readonly string[];
}

export interface Page {
  readonly url: string;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** Every response on the way, the last one included. */
  readonly hops: readonly Hop[];
}

export class Browser {
  readonly jar = new CookieJar();
  readonly #agent: Agent;

  constructor(caPem: string) {
    this.#agent = new Agent({ connect: { ca: caPem } });
  }

  /** GET `url`, following redirects unless `follow` is false. */
  get(url: string, options: { follow?: boolean; headers?: Record<string, string> } = {}): Promise<Page> {
    return this.#navigate('GET', url, undefined, options.follow ?? true, options.headers ?? {});
  }

  /**
   * Submits the page's form whose `data-identity` is `identity` (the local identity provider's
   * login page: one form per identity, `""` for "Deny"), hidden fields and all, and follows.
   */
  submit(page: Page, identity: string): Promise<Page> {
    const forms = [...page.body.matchAll(/<form method="post" action="([^"]*)" data-identity="([^"]*)">([\s\S]*?)<\/form>/g)];
    const form = forms.find((f) => unescape(f[2]!) === identity);
    if (form === undefined) throw new Error(`no form for ${JSON.stringify(identity)} on ${page.url}; forms: ${forms.map((f) => JSON.stringify(unescape(f[2]!))).join(', ')}`);
    const fields = new URLSearchParams();
    for (const input of form[3]!.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) fields.append(unescape(input[1]!), unescape(input[2]!));
    return this.#navigate('POST', new URL(unescape(form[1]!), page.url).href, fields.toString(), true, {});
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #navigate(method: string, url: string, form: string | undefined, follow: boolean, headers: Record<string, string>): Promise<Page> {
    const hops: Hop[] = [];
    let body = form;
    for (let i = 0; i < 10; i++) {
      const cookie = await this.jar.getCookieString(url);
      const res = await fetch(url, {
        method,
        redirect: 'manual',
        dispatcher: this.#agent,
        headers: { ...headers, ...(cookie ? { cookie } : {}), ...(body !== undefined ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      const setCookies = res.headers.getSetCookie();
      for (const c of setCookies) await this.jar.setCookie(c, url);
      const location = res.headers.get('location') ?? undefined;
      hops.push({ method, url, status: res.status, location, setCookies });
      const text = await res.text();
      if (!follow || location === undefined || res.status < 300 || res.status > 399) return { url, status: res.status, headers: res.headers as unknown as Headers, body: text, hops };
      url = new URL(location, url).href;
      method = 'GET';
      body = undefined;
    }
    throw new Error(`more than 10 redirects from ${hops[0]!.url}`);
  }
}

function unescape(s: string): string {
  return s.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"');
}
