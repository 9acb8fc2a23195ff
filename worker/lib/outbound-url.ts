// Which URLs the server may call with a tenant's credentials or on a tenant's say-so (integration
// base URLs, OIDC issuers and the endpoints their discovery documents name). A tenant admin
// chooses these URLs, so without a rule they could point the server's own requests at cloud
// metadata services or at the private network it runs in (SSRF), or send a stored token in the
// clear. Only the address written in the URL is judged: a Worker cannot resolve names, and a
// deployed Worker's fetch cannot reach private addresses anyway; the rule keeps `wrangler dev`
// and other hosts honest.

/** What a deployment allows besides public https hosts. */
export interface OutboundPolicy {
  /** Loopback and private addresses, over http too: local development and tests only. */
  allowPrivate: boolean;
}

/** `ALLOW_PRIVATE_NETWORK=true` (set by `npm start` and the tests); off in any real deployment. */
export function outboundPolicy(env: { ALLOW_PRIVATE_NETWORK?: string }): OutboundPolicy {
  return { allowPrivate: env.ALLOW_PRIVATE_NETWORK === 'true' };
}

type HostKind = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'reserved';

/** Names of instance metadata services (GCP, Azure's and AWS's aliases) and their suffixes. */
const METADATA_NAMES = ['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal'];

function ipv4Kind(a: number, b: number, c: number, d: number): HostKind {
  if (a === 169 && b === 254) return c === 169 && d === 254 ? 'metadata' : 'link-local';
  if (a === 100 && b === 100 && c === 100 && d === 200) return 'metadata'; // Alibaba Cloud
  if (a === 127 || a === 0) return 'loopback'; // 0.0.0.0 reaches the local host on Linux
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
  if (a >= 224 || (a === 192 && b === 0 && c === 0) || (a === 198 && (b === 18 || b === 19))) return 'reserved';
  return 'public';
}

function ipv6Kind(host: string): HostKind {
  const h = host.toLowerCase();
  if (h === '::1' || h === '::') return 'loopback';
  // IPv4-mapped and -translated addresses (::ffff:a.b.c.d, written by the URL parser as hex).
  const mapped = /^(?:::ffff:|::ffff:0:|64:ff9b::|::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return ipv4Kind(hi >> 8, hi & 255, lo >> 8, lo & 255);
  }
  if (h === 'fd00:ec2::254') return 'metadata'; // AWS over IPv6
  if (/^fe[89ab][0-9a-f]:/.test(h)) return 'link-local';
  if (/^f[cd][0-9a-f]{2}:/.test(h)) return 'private';
  if (/^ff[0-9a-f]{2}:/.test(h)) return 'reserved';
  return 'public';
}

/** What the host of a parsed URL is. `URL` has already normalised IPv4 forms (`0x7f.1`, `2130706433`). */
export function hostKind(hostname: string): HostKind {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  if (host.startsWith('[') && host.endsWith(']')) return ipv6Kind(host.slice(1, -1));
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (v4) return ipv4Kind(Number(v4[1]), Number(v4[2]), Number(v4[3]), Number(v4[4]));
  if (METADATA_NAMES.includes(host) || host.endsWith('.metadata.google.internal')) return 'metadata';
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (host.endsWith('.internal') || host.endsWith('.local') || host.endsWith('.home.arpa') || host.endsWith('.lan') || !host.includes('.')) return 'private';
  return 'public';
}

/**
 * Why the server must not call `url` under `policy`, or undefined when it may. Link-local and
 * metadata addresses are refused in every deployment; loopback and private ones (and plain http,
 * which only they may use) only where the deployment allows them.
 */
export function refuseOutboundUrl(url: string, policy: OutboundPolicy): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return 'must be an https URL';
  if (parsed.username || parsed.password) return 'must not carry a user name or password (credentials go in their own fields)';
  const kind = hostKind(parsed.hostname);
  if (kind === 'metadata' || kind === 'link-local') return `must not point at a ${kind === 'metadata' ? 'cloud metadata' : 'link-local'} address (${parsed.hostname})`;
  if (kind === 'reserved') return `must not point at a reserved or multicast address (${parsed.hostname})`;
  const local = kind === 'loopback' || kind === 'private';
  if (local && !policy.allowPrivate) return `must not point at a ${kind} address (${parsed.hostname}); this deployment allows only public hosts`;
  if (parsed.protocol === 'http:' && !(local && policy.allowPrivate)) return 'must be an https URL: credentials are never sent in the clear';
  return undefined;
}
