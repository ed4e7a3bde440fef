import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrustedProxies } from '../../controller/http/client-address.js';

test('client address: X-Forwarded-For is ignored unless the peer is a configured proxy', () => {
  const none = new TrustedProxies([]);
  assert.equal(none.clientAddress('198.51.100.7', '10.9.9.9'), '198.51.100.7', 'a client cannot choose its own address');
  const proxies = new TrustedProxies(['10.0.0.5', '10.1.0.0/16']);
  assert.equal(proxies.clientAddress('198.51.100.7', '10.9.9.9'), '198.51.100.7', 'not from a proxy: not believed');
  assert.equal(proxies.clientAddress('10.0.0.5', '203.0.113.9'), '203.0.113.9');
  assert.equal(proxies.clientAddress('::ffff:10.0.0.5', '203.0.113.9'), '203.0.113.9', 'IPv4-mapped peers count');
});

test('client address: the rightmost address that is not a proxy wins, whatever the client wrote first', () => {
  const proxies = new TrustedProxies(['10.0.0.5', '10.1.0.0/16']);
  // The client sent "1.2.3.4" itself; the outer proxy 10.1.2.3 saw 203.0.113.9; the inner 10.0.0.5 saw 10.1.2.3.
  assert.equal(proxies.clientAddress('10.0.0.5', '1.2.3.4, 203.0.113.9, 10.1.2.3'), '203.0.113.9');
  assert.equal(proxies.clientAddress('10.0.0.5', ['1.2.3.4', '10.1.2.3']), '1.2.3.4', 'header lines join');
  assert.equal(proxies.clientAddress('10.0.0.5', 'garbage, 203.0.113.9'), '203.0.113.9');
  assert.equal(proxies.clientAddress('10.0.0.5', 'garbage'), '10.0.0.5', 'a garbled entry: the last good address stands');
  assert.equal(proxies.forwardedValue('10.0.0.5', 'http, https'), 'https');
  assert.equal(proxies.forwardedValue('198.51.100.7', 'https'), '');
});
