import { SignJWT, decodeJwt, importJWK } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTokenIssuer, generateSigningKey } from '@meshca/tokens';
import { eventually } from '@meshca/test/eventually';
import { CLOSE } from '../src/index.js';
import { cleanup, createEnv, hello, mesh, rawPeer, startGlobal, startZone, type Env } from './fixture.js';

let env: Env;
beforeAll(async () => {
  env = await createEnv();
});
afterEach(async () => {
  await cleanup(env);
});

async function expiredToken(zone: string): Promise<string> {
  const key = env.keys[0];
  if (key === undefined) throw new Error('no key');
  const exp = Math.floor(Date.now() / 1000) - 60;
  return new SignJWT({ kind: 'zone', zone })
    .setProtectedHeader({ alg: 'Ed25519', kid: key.kid })
    .setIssuer('meshca')
    .setIssuedAt(exp - 60)
    .setExpirationTime(exp)
    .setJti('expired-1')
    .sign(await importJWK(key.jwk, 'Ed25519'));
}

describe('zone identity', () => {
  const cases: [string, () => Promise<string>, number, RegExp][] = [
    ['missing', async () => '', CLOSE.unauthenticated, /no token was presented/],
    [
      'forged',
      async () => createTokenIssuer({ keys: [await generateSigningKey()] }).issueZoneToken({ zone: 'east', validFor: 60 }),
      CLOSE.unauthenticated,
      /forged/,
    ],
    ['expired', () => expiredToken('east'), CLOSE.unauthenticated, /expired at \d{4}-\d\d-\d\dT/],
    [
      'revoked',
      async () => {
        const t = await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 });
        env.revoked.add(decodeJwt(t).jti ?? '');
        return t;
      },
      CLOSE.unauthenticated,
      /revoked/,
    ],
    [
      'of the wrong kind',
      () => env.issuer.issueDataplaneToken({ mesh: 'default', name: 'web', validFor: 60 }),
      CLOSE.forbidden,
      /dataplane token; a zone token is required/,
    ],
    [
      'for another zone',
      () => env.issuer.issueZoneToken({ zone: 'west', validFor: 60 }),
      CLOSE.forbidden,
      /token is for zone "west", not "east"/,
    ],
  ];

  for (const [label, make, code, reason] of cases) {
    it(`refuses a ${label} token with ${code}, logged on both sides, and keeps retrying`, async () => {
      const global = await startGlobal(env);
      await global.store.create(mesh('default'));
      const token = await make();
      const zone = await startZone(env, global, 'east', { token });
      await eventually(() => {
        const s = zone.client.status();
        expect(s.lastError).toMatch(new RegExp(`global refused this zone \\(${code}\\)`));
        expect(s.lastError).toMatch(reason);
        expect(s.failures).toBeGreaterThanOrEqual(2);
      });
      expect(zone.client.status().connected).toBe(false);
      expect(await zone.store.list('Mesh')).toEqual([]);
      expect(global.lines.some((l) => l.code === code && reason.test(l.msg))).toBe(true);
      expect(zone.lines.some((l) => l.code === code && reason.test(String(l.reason)))).toBe(true);
      // The token itself never reaches a log line.
      if (token !== '') {
        for (const l of [...global.lines, ...zone.lines]) expect(JSON.stringify(l)).not.toContain(token);
      }
      expect(global.kds.zone('east')?.online ?? false).toBe(false);
    });
  }

  it('connects once the operator fixes the token, without a restart', async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('default'));
    let token = await expiredToken('east');
    const zone = await startZone(env, global, 'east', { token: () => token });
    await eventually(() => expect(zone.client.status().lastError).toMatch(/expired/));
    token = await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 });
    await eventually(async () => expect((await zone.store.list('Mesh')).map((m) => m.meta.name)).toEqual(['default']));
    expect(zone.client.status()).toMatchObject({ connected: true, failures: 0 });
    expect(zone.client.status().lastError).toBeUndefined();
  });

  it('refuses a second connection under a zone name already connected', async () => {
    const global = await startGlobal(env);
    const first = await startZone(env, global, 'east');
    await eventually(() => expect(first.client.status().connected).toBe(true));
    const second = await startZone(env, global, 'east');
    await eventually(() => expect(second.client.status().lastError).toMatch(/\(4409\).*zone "east" is already connected/));
    expect(first.client.status().connected).toBe(true);
    expect(global.kds.zones().filter((z) => z.online)).toHaveLength(1);
  });

  it("refuses a client that does not trust global's certificate, unless insecure is set", async () => {
    const global = await startGlobal(env);
    await global.store.create(mesh('default'));
    const untrusting = await startZone(env, global, 'east', { ca: (await createEnv()).caPem });
    await eventually(() => expect(untrusting.client.status().lastError).toMatch(/cannot reach global.*(certificate|self.signed)/i));
    await untrusting.client.stop();
    const insecure = await startZone(env, global, 'west', { ca: undefined, insecure: true });
    await eventually(async () => expect((await insecure.store.list('Mesh')).length).toBe(1));
  });
});

describe('what a zone may push', () => {
  it('NACKs a Mesh pushed by a zone, logs it, and never applies it', async () => {
    const global = await startGlobal(env);
    const peer = await rawPeer(env, global, await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 }));
    peer.send(hello('east'));
    await peer.next((m) => m.type === 'welcome');
    peer.send({
      type: 'delta',
      version: 7,
      since: 0,
      changes: [
        {
          op: 'upsert',
          resource: {
            meta: { type: 'Dataplane', mesh: 'default', name: 'ok' },
            spec: { networking: { address: '10.0.0.1', inbound: [] } },
          },
        },
        { op: 'upsert', resource: mesh('evil') },
      ],
    });
    const nack = await peer.next((m) => m.type === 'nack');
    expect(nack).toMatchObject({ version: 7 });
    expect(nack.type === 'nack' && nack.reason).toMatch(/Mesh "evil": type Mesh may not be sent in this direction/);
    expect(await global.store.list('Mesh')).toEqual([]);
    // All or nothing: the valid Dataplane of the same version was not applied either.
    expect(await global.store.list('Dataplane')).toEqual([]);
    expect(global.kds.zone('east')?.refused[0]).toMatchObject({ revision: 7 });
    expect(global.lines.some((l) => l.zone === 'east' && l.version === 7 && /NACK/.test(l.msg))).toBe(true);

    // Another zone's ZoneInsight name is refused too.
    peer.send({
      type: 'delta',
      version: 8,
      since: 7,
      changes: [{ op: 'upsert', resource: { meta: { type: 'ZoneInsight', name: 'west' }, spec: {} } }],
    });
    const nack2 = await peer.next((m) => m.type === 'nack' && m.version === 8);
    expect(nack2.type === 'nack' && nack2.reason).toMatch(/only its own ZoneInsight, named "east"/);
  });

  it('closes a stream that speaks another protocol version with 4400', async () => {
    const global = await startGlobal(env);
    const peer = await rawPeer(env, global, await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 }));
    peer.send({ type: 'hello', protocol: 99, zone: 'east', lastRevision: 0, software: { name: 't', version: '0' } });
    expect(await peer.closed).toEqual({ code: 4400, reason: 'unsupported KDS protocol 99; this global speaks 1' });
  });
});

describe('zone token expiry on an open stream', () => {
  it('ends the stream when the zone token expires, with the reason on both sides', async () => {
    const global = await startGlobal(env);
    const zone = await startZone(env, global, 'east', { token: await env.issuer.issueZoneToken({ zone: 'east', validFor: 2 }) });
    await eventually(() => expect(zone.client.status().connected).toBe(true));
    await eventually(
      () =>
        expect(zone.client.status().lastError).toMatch(
          /global refused this zone \(4401\): zone token expired at .*; give the zone a new token file/,
        ),
      5000,
    );
    expect(global.kds.zone('east')?.online).toBe(false);
    expect(global.lines.some((l) => l.msg === 'zone token expired: ending its stream')).toBe(true);
  });
});
