import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { AccessTokenSigner } from '../src/providers/access-tokens.js';

const config = {
  accountSid: 'AC' + 'a'.repeat(32),
  authToken: 'auth-token-auth-token-0123456789',
  phoneNumber: '+61491571266',
  apiKeySid: 'SK' + 'b'.repeat(32),
  apiKeySecret: 'api-key-secret-api-key-secret-01',
  twimlAppSid: 'AP' + 'c'.repeat(32),
};

function decode(jwt: string, secret: string) {
  const [header, payload, signature] = jwt.split('.');
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  assert.equal(signature, expected, 'signed with the expected secret');
  return { header: JSON.parse(Buffer.from(header!, 'base64url').toString()), payload: JSON.parse(Buffer.from(payload!, 'base64url').toString()) };
}

test('video tokens: API key signing, one room, opaque identity, TTL', () => {
  const signer = new AccessTokenSigner(config);
  const { header, payload } = decode(signer.video({ identity: 'p-7f3a', room: 'rm-123', ttlSeconds: 7200 }), config.apiKeySecret);
  assert.equal(header.cty, 'twilio-fpa;v=1');
  assert.equal(payload.iss, config.apiKeySid);
  assert.equal(payload.sub, config.accountSid);
  assert.equal(payload.exp - payload.iat, 7200);
  assert.deepEqual(payload.grants, { identity: 'p-7f3a', video: { room: 'rm-123' } });
});

test('voice tokens: outgoing grant for the TwiML app with our call id, no incoming', () => {
  const signer = new AccessTokenSigner(config);
  const jwt = signer.voice({ identity: 'u-1', ttlSeconds: 3600, outgoingApplicationSid: config.twimlAppSid, outgoingApplicationParams: { callId: 'c-1' } });
  const { payload } = decode(jwt, config.apiKeySecret);
  assert.equal(payload.grants.identity, 'u-1');
  assert.deepEqual(payload.grants.voice, { outgoing: { application_sid: config.twimlAppSid, params: { callId: 'c-1' } } });
});

test('falls back to the account SID and auth token without an API key', () => {
  const signer = new AccessTokenSigner({ ...config, apiKeySid: null, apiKeySecret: null });
  const { payload } = decode(signer.video({ identity: 'x', room: 'r', ttlSeconds: 60 }), config.authToken);
  assert.equal(payload.iss, config.accountSid);
});
