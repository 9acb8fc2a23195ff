import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { K8S_TOOLS } from '../contract/k8s-tools';
import { ACTIONS, assertCatalogMatches } from '../src/actions';
import { jsonLogger } from '../src/log';
import { K8S_ACTIONS, canonicalJson, deriveSigningKey, hubMessage, relayMessage, signCancel, signRequest, signingPayload, verifyCancel, verifyRequest } from '../contract/protocol';
import type { UnsignedRequest } from '../contract/protocol';
import { RELAY_VERSION } from '../src/version';

const unsigned: UnsignedRequest = {
  type: 'request',
  id: 'req_1',
  idempotency_key: 'run_1:drain:1',
  action: 'k8s.drain_node',
  args: { node: 'node-1', cluster: 'prod-eu', timeout: '10m' },
  deadline_ms: 1_900_000_000_000,
};

describe('the protocol', () => {
  it('lists exactly the tools of the contract, and the relay implements each', () => {
    expect([...K8S_ACTIONS].sort()).toEqual(Object.keys(K8S_TOOLS).sort());
    expect([...ACTIONS.keys()].sort()).toEqual([...K8S_ACTIONS].sort());
    expect(() => assertCatalogMatches()).not.toThrow();
  });

  it('signs requests so that any change to a signed field, or another cluster, fails verification', async () => {
    const key = await deriveSigningKey('arc_token');
    const signed = await signRequest(key, 'prod-eu', unsigned);
    expect(signed.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(hubMessage.parse(signed)).toEqual(signed);
    expect(await verifyRequest(key, 'prod-eu', signed)).toBe(true);
    expect(await verifyRequest(key, 'prod-us', signed)).toBe(false);
    expect(await verifyRequest(await deriveSigningKey('arc_other'), 'prod-eu', signed)).toBe(false);
    for (const change of [{ id: 'req_2' }, { idempotency_key: 'x' }, { action: 'k8s.get_node' }, { dry_run: true }, { deadline_ms: 1 }, { args: { ...unsigned.args, node: 'node-2' } }]) {
      expect(await verifyRequest(key, 'prod-eu', { ...signed, ...change })).toBe(false);
    }
  });

  it('signs a canonical form: key order does not matter, field boundaries do', async () => {
    const key = await deriveSigningKey('arc_token');
    const a = await signRequest(key, 'prod-eu', unsigned);
    const b = await signRequest(key, 'prod-eu', { ...unsigned, args: { timeout: '10m', cluster: 'prod-eu', node: 'node-1' } });
    expect(a.signature).toBe(b.signature);
    expect(signingPayload('prod-eu', unsigned)).toBe(
      '["v1","prod-eu","req_1","run_1:drain:1","k8s.drain_node",false,1900000000000,{"cluster":"prod-eu","node":"node-1","timeout":"10m"}]',
    );
    expect(canonicalJson({ b: [1, { d: 2, c: undefined }], a: null })).toBe('{"a":null,"b":[1,{"d":2}]}');
  });

  it("signs a request's effect key when it has one, and signs one without it exactly as before", async () => {
    const key = await deriveSigningKey('arc_token');
    const withKey = { ...unsigned, effect_key: 'run_1:drain' };
    expect(signingPayload('prod-eu', withKey)).toBe(`${signingPayload('prod-eu', unsigned).slice(0, -1)},"run_1:drain"]`);
    const signed = await signRequest(key, 'prod-eu', withKey);
    expect(hubMessage.parse(signed)).toEqual(signed);
    expect(await verifyRequest(key, 'prod-eu', signed)).toBe(true);
    expect(await verifyRequest(key, 'prod-eu', { ...signed, effect_key: 'run_1:other' })).toBe(false);
    // Dropped in transit, it no longer verifies: a relay never acts under the attempt key by mistake.
    const { effect_key: _, ...stripped } = signed;
    expect(await verifyRequest(key, 'prod-eu', stripped)).toBe(false);
  });

  it('signs cancels apart from requests: a request signature never passes for a cancel', async () => {
    const key = await deriveSigningKey('arc_token');
    const cancel = await signCancel(key, 'prod-eu', { type: 'cancel', id: 'req_1', idempotency_key: 'run_1:drain:1' });
    expect(hubMessage.parse(cancel)).toEqual(cancel);
    expect(await verifyCancel(key, 'prod-eu', cancel)).toBe(true);
    expect(await verifyCancel(key, 'prod-us', cancel)).toBe(false);
    expect(await verifyCancel(key, 'prod-eu', { ...cancel, id: 'req_2' })).toBe(false);
    const request = await signRequest(key, 'prod-eu', unsigned);
    expect(await verifyCancel(key, 'prod-eu', { type: 'cancel', id: request.id, idempotency_key: request.idempotency_key, signature: request.signature })).toBe(false);
  });

  it('derives a stable signing key from the token (the hub stores this, never the token)', async () => {
    expect(await deriveSigningKey('arc_token')).toBe(await deriveSigningKey('arc_token'));
    expect(await deriveSigningKey('arc_token')).toMatch(/^[0-9a-f]{64}$/);
    expect(await deriveSigningKey('arc_token')).not.toBe(await deriveSigningKey('arc_token2'));
  });

  it('parses what each side sends and refuses unknown message types', () => {
    expect(relayMessage.safeParse({ type: 'response', id: 'a', idempotency_key: 'k', ok: false, error: { code: 'busy', message: 'x', retryable: true }, replayed: false }).success).toBe(true);
    expect(relayMessage.safeParse({ type: 'response', id: 'a', idempotency_key: 'k', ok: false, error: { code: 'oops', message: 'x', retryable: true }, replayed: false }).success).toBe(false);
    expect(hubMessage.safeParse({ type: 'hello' }).success).toBe(false);
    expect(hubMessage.safeParse({ type: 'ping' }).success).toBe(true);
  });
});

describe('packaging', () => {
  it("reports package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(RELAY_VERSION).toBe(pkg.version);
  });

  it('logs JSON lines without secrets', () => {
    const lines: string[] = [];
    const log = jsonLogger('info', (l) => lines.push(l));
    log.debug('hidden');
    log.warn('hub connection error', { error: 'Unexpected server response: 401 (Bearer arc_abcdefghijklmnopqrstuvwxyz)', token: 'arc_x' });
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as Record<string, string>;
    expect(entry).toMatchObject({ level: 'warn', msg: 'hub connection error', token: '[REDACTED]' });
    expect(lines[0]).not.toContain('arc_abcdefghijklmnopqrstuvwxyz');
  });
});
