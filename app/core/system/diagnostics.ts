/**
 * "Why can't this kiosk reach its controller?" answered one layer at a time, so the technician sees
 * the first thing that is wrong and what to do about it: the network link, the name lookup, the TCP
 * connection, the certificate, whether it is a thinkiosk controller at all, and the clock (a wrong
 * clock makes good certificates look expired or not yet valid).
 *
 * Each layer is checked on its own terms: the certificate is examined without trusting it, and the
 * controller is asked who it is even when its certificate is not trusted (only GET /v1/identity,
 * which carries nothing secret), so one failure does not hide what the next layers would say.
 */
import { lookup } from 'node:dns/promises';
import { readdir, readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, isIP } from 'node:net';
import { join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { z } from 'zod';
import { Identity, PRODUCT } from '../../../contract/api.js';
import { ROUTES } from '../../../contract/routes.js';
import { DiagnosticCheck } from '../kiosk-api.js';

export type DiagnosticCheck = z.infer<typeof DiagnosticCheck>;

export interface DiagnosticsOptions {
  controllerUrl: string;
  /** PEM file of the CA the kiosk trusts for its controller (besides the system's). */
  caFile?: string;
  /** Per step. */
  timeoutMs?: number;
  /** Where the network interfaces are listed (sysfs). */
  netClassDir?: string;
  now?: () => Date;
}

export const CHECK = {
  link: 'Network link',
  address: 'Controller address',
  dns: 'Name lookup (DNS)',
  tcp: 'Connection',
  tls: 'Secure connection (TLS)',
  controller: 'Controller',
  clock: 'Clock',
} as const;

/** Clocks further apart than this are reported: certificates and sessions start to misbehave. */
const MAX_SKEW_SECONDS = 120;
/** A certificate ending sooner than this is reported while it still works. */
const EXPIRY_WARNING_DAYS = 14;

export async function runDiagnostics(options: DiagnosticsOptions): Promise<DiagnosticCheck[]> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const now = options.now ?? (() => new Date());
  const checks: DiagnosticCheck[] = [await checkLink(options.netClassDir ?? '/sys/class/net')];

  const target = parseTarget(options.controllerUrl);
  if (typeof target === 'string') {
    checks.push({ name: CHECK.address, ok: false, detail: target });
    return checks;
  }

  const dns = await resolve(target.host, timeoutMs);
  checks.push(dns.check);
  const skip = (name: string, because: string) => checks.push({ name, ok: false, detail: `Not checked: ${because}.` });
  if (!dns.addresses.length) {
    for (const name of [CHECK.tcp, ...(target.tls ? [CHECK.tls] : []), CHECK.controller, CHECK.clock]) skip(name, 'the name could not be looked up');
    return checks;
  }

  const tcp = await reach(target, dns.addresses, timeoutMs);
  checks.push(tcp.check);
  if (!tcp.address) {
    for (const name of [...(target.tls ? [CHECK.tls] : []), CHECK.controller, CHECK.clock]) skip(name, 'no connection to the controller');
    return checks;
  }

  let ca: Buffer | undefined;
  let caProblem: string | null = null;
  if (options.caFile) {
    try {
      ca = await readFile(options.caFile);
    } catch (error) {
      caProblem = `The CA file ${options.caFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). Fix caFile in the kiosk configuration.`;
    }
  }

  const tls = target.tls ? await examineCertificate(target, tcp.address, ca, timeoutMs) : null;
  const answer = await askIdentity(target, tcp.address, ca, timeoutMs);
  const skew = answer.serverDate ? (now().getTime() - answer.serverDate.getTime()) / 1000 : null;

  if (target.tls) {
    checks.push(caProblem ? { name: CHECK.tls, ok: false, detail: caProblem } : tlsCheck(target.host, tls!, skew, now()));
  } else {
    checks.push({ name: CHECK.tls, ok: true, detail: 'Not used: the address starts with http://, so passwords travel unencrypted. Use https:// outside a lab.' });
  }
  checks.push(answer.check);
  checks.push(clockCheck(skew, answer.serverDate, now()));
  return checks;
}

/** Up if any interface but loopback is up; "unknown" with a carrier counts (tun, some Wi-Fi drivers). */
export async function checkLink(netClassDir: string): Promise<DiagnosticCheck> {
  let names: string[];
  try {
    names = (await readdir(netClassDir)).filter((n) => n !== 'lo').sort();
  } catch (error) {
    return { name: CHECK.link, ok: false, detail: `The network interfaces cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}).` };
  }
  if (names.length === 0) return { name: CHECK.link, ok: false, detail: 'This kiosk has no network interface. It needs a network adapter (cable or Wi-Fi).' };
  const up: string[] = [];
  const down: string[] = [];
  for (const name of names) {
    const operstate = await readSys(join(netClassDir, name, 'operstate'));
    // Reading "carrier" of an interface that is administratively down fails with EINVAL: no carrier.
    const carrier = await readSys(join(netClassDir, name, 'carrier'));
    (operstate === 'up' || (operstate === 'unknown' && carrier === '1') ? up : down).push(name);
  }
  if (up.length === 0) {
    return { name: CHECK.link, ok: false, detail: `No network interface is up (${names.join(', ')} down). Plug in the network cable, or join a Wi-Fi network.` };
  }
  return { name: CHECK.link, ok: true, detail: `Up: ${up.join(', ')}${down.length ? `; down: ${down.join(', ')}` : ''}.` };
}

async function readSys(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

interface Target {
  url: URL;
  /** Without IPv6 brackets. */
  host: string;
  port: number;
  tls: boolean;
  identityPath: string;
}

function parseTarget(input: string): Target | string {
  const trimmed = input.trim();
  if (!trimmed) return 'No controller address is set. Enter it on the setup screen.';
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`);
  } catch {
    return `“${trimmed}” is not a valid address. Use a form like https://desktops.example.org`;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `The address must start with https:// (not ${url.protocol}//).`;
  const tls = url.protocol === 'https:';
  // Same rule as the kiosk's controller client: the API lives under the address's path, at v1/.
  const base = url.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  return { url, host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port) || (tls ? 443 : 80), tls, identityPath: `${base}${ROUTES.identity.path}` };
}

async function resolve(host: string, timeoutMs: number): Promise<{ check: DiagnosticCheck; addresses: string[] }> {
  if (isIP(host)) return { check: { name: CHECK.dns, ok: true, detail: `Not needed: ${host} is an IP address.` }, addresses: [host] };
  try {
    const found = await withTimeout(lookup(host, { all: true, verbatim: true }), timeoutMs, 'ETIMEOUT');
    const addresses = found.map((a) => a.address);
    return { check: { name: CHECK.dns, ok: true, detail: `${host} is ${addresses.join(', ')}.` }, addresses };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const detail =
      code === 'ENOTFOUND' || code === 'ENODATA'
        ? `The name ${host} does not exist in DNS. Check the controller address for typos; if it is right, the DNS server does not know it.`
        : code === 'ETIMEOUT' || code === 'EAI_AGAIN'
          ? `No DNS server answered for ${host}. Check the network connection and the DNS server (from DHCP or the network settings).`
          : `Looking up ${host} failed (${code ?? String(error)}).`;
    return { check: { name: CHECK.dns, ok: false, detail }, addresses: [] };
  }
}

async function reach(target: Target, addresses: string[], timeoutMs: number): Promise<{ check: DiagnosticCheck; address: string | null }> {
  const problems: string[] = [];
  let lastCode = '';
  for (const address of addresses.slice(0, 3)) {
    const started = Date.now();
    try {
      await tcpConnect(address, target.port, timeoutMs);
      const via = address === target.host ? '' : ` (${address})`;
      return { check: { name: CHECK.tcp, ok: true, detail: `${target.host}${via} accepts connections on port ${target.port} (${Date.now() - started} ms).` }, address };
    } catch (error) {
      lastCode = (error as NodeJS.ErrnoException).code ?? String(error);
      problems.push(`${address}: ${lastCode}`);
    }
  }
  const where = `port ${target.port} of ${target.host}`;
  const detail =
    lastCode === 'ECONNREFUSED'
      ? `Nothing accepts connections on ${where} (refused). Is the controller running, and is the port in the address right?`
      : lastCode === 'ETIMEOUT'
        ? `No answer from ${where} within ${Math.round(timeoutMs / 1000)} s. A firewall may be dropping the connection, or the host is off.`
        : lastCode === 'EHOSTUNREACH' || lastCode === 'ENETUNREACH'
          ? `There is no route to ${target.host}. Check the kiosk's network (gateway), or whether the controller is on another network.`
          : `Connecting to ${where} failed (${problems.join('; ')}).`;
  return { check: { name: CHECK.tcp, ok: false, detail }, address: null };
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error('timeout'), { code: 'ETIMEOUT' }));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end();
      resolvePromise();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

interface CertificateFindings {
  /** Set when no certificate could be had at all. */
  failure: string | null;
  authorizationError: string | null;
  certificate: PeerCertificate | null;
  hostnameError: string | null;
}

function examineCertificate(target: Target, address: string, ca: Buffer | undefined, timeoutMs: number): Promise<CertificateFindings> {
  return new Promise((resolvePromise) => {
    const socket = tlsConnect({
      host: address,
      port: target.port,
      servername: isIP(target.host) ? undefined : target.host,
      // Trust is judged below from what the handshake reports, so that an untrusted certificate can
      // still be described (issuer, names, dates); nothing is sent over this connection.
      rejectUnauthorized: false,
      ...(ca ? { ca: [ca] } : {}),
    });
    const done = (findings: CertificateFindings) => {
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(findings);
    };
    const timer = setTimeout(() => done({ failure: `No TLS handshake within ${Math.round(timeoutMs / 1000)} s.`, authorizationError: null, certificate: null, hostnameError: null }), timeoutMs);
    socket.once('secureConnect', () => {
      const certificate = socket.getPeerCertificate();
      const present = certificate && Object.keys(certificate).length > 0 ? certificate : null;
      const authorizationError = socket.authorized ? null : String(socket.authorizationError ?? 'UNKNOWN');
      const hostnameError = present ? (checkServerIdentity(target.host, present)?.message ?? null) : null;
      done({ failure: present ? null : 'The controller sent no certificate.', authorizationError, certificate: present, hostnameError });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const plainHttp = /wrong version number|packet length too long|http request/i.test(error.message);
      done({
        failure: plainHttp
          ? `${target.host} does not speak TLS on port ${target.port}. If the controller runs without a certificate, its address starts with http://.`
          : `The TLS handshake failed (${error.code ?? error.message}).`,
        authorizationError: null,
        certificate: null,
        hostnameError: null,
      });
    });
  });
}

function tlsCheck(host: string, findings: CertificateFindings, skewSeconds: number | null, now: Date): DiagnosticCheck {
  const name = CHECK.tls;
  if (findings.failure || !findings.certificate) return { name, ok: false, detail: findings.failure ?? 'No certificate.' };
  const cert = findings.certificate;
  const issuer = distinguishedName(cert.issuer);
  const validTo = new Date(cert.valid_to);
  const validFrom = new Date(cert.valid_from);
  const facts = `Issued to ${certificateNames(cert)} by ${issuer}, valid ${day(validFrom)} to ${day(validTo)}.`;
  const clockWrong = skewSeconds !== null && Math.abs(skewSeconds) > MAX_SKEW_SECONDS;
  const clockHint = clockWrong ? ' This kiosk\'s clock is wrong (see Clock): fix the time first, then check again.' : '';
  const untrusted = 'Give the kiosk the CA certificate that issued it (caFile in the kiosk configuration), or use a certificate from a public CA.';
  switch (findings.authorizationError) {
    case null:
    case 'ERR_TLS_CERT_ALTNAME_INVALID': // Node's own name check; worded below
      break;
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return { name, ok: false, detail: `Not trusted: the certificate is self-signed. ${facts} ${untrusted}` };
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return { name, ok: false, detail: `Not trusted: this kiosk does not trust ${issuer}, which issued the certificate (or the server leaves out its intermediate certificate). ${facts} ${untrusted}` };
    case 'CERT_HAS_EXPIRED':
      return { name, ok: false, detail: `The certificate expired on ${day(validTo)}. ${facts}${clockHint || ' Renew the controller\'s certificate.'}` };
    case 'CERT_NOT_YET_VALID':
      return { name, ok: false, detail: `The certificate is only valid from ${day(validFrom)}. ${facts}${clockHint || ' Check this kiosk\'s clock.'}` };
    default:
      return { name, ok: false, detail: `Not trusted (${findings.authorizationError}). ${facts}${clockHint}` };
  }
  if (findings.hostnameError || findings.authorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { name, ok: false, detail: `The certificate is for ${certificateNames(cert)}, not for ${host}. Use the address the certificate names, or get a certificate that includes ${host}.` };
  }
  const daysLeft = Math.floor((validTo.getTime() - now.getTime()) / 86_400_000);
  const soon = daysLeft < EXPIRY_WARNING_DAYS ? ` It expires in ${daysLeft} day${daysLeft === 1 ? '' : 's'}: renew it soon.` : '';
  return { name, ok: true, detail: `Trusted. ${facts}${soon}` };
}

async function askIdentity(target: Target, address: string, ca: Buffer | undefined, timeoutMs: number): Promise<{ check: DiagnosticCheck; serverDate: Date | null }> {
  const name = CHECK.controller;
  let response: { status: number; headers: IncomingMessage['headers']; body: string };
  try {
    response = await get(target, address, ca, timeoutMs);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { check: { name, ok: false, detail: `${target.host} did not answer GET ${target.identityPath} (${code}).` }, serverDate: null };
  }
  const date = response.headers.date ? new Date(response.headers.date) : null;
  const serverDate = date && !Number.isNaN(date.getTime()) ? date : null;
  if (response.status >= 300 && response.status < 400 && response.headers.location) {
    return { check: { name, ok: false, detail: `${target.host} redirects to ${response.headers.location}. Use that address as the controller address.` }, serverDate };
  }
  let body: unknown = null;
  try {
    body = JSON.parse(response.body);
  } catch {
    // An ordinary web server's HTML: reported below as "not a controller".
  }
  const identity = response.status === 200 ? Identity.safeParse(body) : null;
  if (!identity?.success) {
    const product = (body as { product?: unknown } | null)?.product;
    const what = typeof product === 'string' && product !== PRODUCT ? `it says it is “${product.slice(0, 60)}”` : `GET ${target.identityPath} gave HTTP ${response.status}`;
    return { check: { name, ok: false, detail: `${target.host} answers, but not as a thinkiosk controller (${what}). Check the address, including any path.` }, serverDate };
  }
  const { data } = identity;
  return { check: { name, ok: true, detail: `“${data.name}”, thinkiosk controller ${data.version} (${data.backend}).` }, serverDate };
}

function get(target: Target, address: string, ca: Buffer | undefined, timeoutMs: number): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const common = {
      host: address,
      port: target.port,
      path: target.identityPath,
      method: ROUTES.identity.method,
      headers: { host: target.url.host, accept: 'application/json', 'user-agent': 'thinkiosk-kiosk-diagnostics' },
      signal: AbortSignal.timeout(timeoutMs),
    };
    const onResponse = (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= 64 * 1024) chunks.push(chunk); // an identity is small; a web page is not needed whole
      });
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    };
    const req = target.tls
      ? // Trust is the TLS check's finding; here only the answer and its Date matter (see top).
        httpsRequest({ ...common, servername: isIP(target.host) ? undefined : target.host, rejectUnauthorized: false, ...(ca ? { ca: [ca] } : {}) }, onResponse)
      : httpRequest(common, onResponse);
    req.on('error', reject);
    req.end();
  });
}

function clockCheck(skewSeconds: number | null, serverDate: Date | null, now: Date): DiagnosticCheck {
  const name = CHECK.clock;
  if (skewSeconds === null || !serverDate) return { name, ok: false, detail: 'Not checked: the controller sent no time to compare with.' };
  if (Math.abs(skewSeconds) <= MAX_SKEW_SECONDS) {
    return { name, ok: true, detail: `The kiosk's clock agrees with the controller's (within ${Math.max(1, Math.round(Math.abs(skewSeconds)))} s).` };
  }
  const direction = skewSeconds > 0 ? 'ahead of' : 'behind';
  return {
    name,
    ok: false,
    detail: `This kiosk's clock is ${duration(Math.abs(skewSeconds))} ${direction} the controller's (kiosk ${now.toISOString()}, controller ${serverDate.toISOString()}). Secure connections fail when the clock is wrong: check that the kiosk can reach a time server (NTP).`,
  };
}

function duration(seconds: number): string {
  const units: Array<[number, string]> = [[365 * 86_400, 'year'], [86_400, 'day'], [3600, 'hour'], [60, 'minute'], [1, 'second']];
  const parts: string[] = [];
  let rest = Math.round(seconds);
  for (const [size, unit] of units) {
    const n = Math.floor(rest / size);
    if (n > 0 && parts.length < 2) parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
    rest -= n * size;
  }
  return parts.join(' ') || '0 seconds';
}

function certificateNames(cert: PeerCertificate): string {
  const alt = (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim().replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  const names = alt.length ? alt : [firstValue(cert.subject?.CN)].filter((n): n is string => !!n);
  return names.length ? names.join(', ') : '(no name)';
}

function distinguishedName(dn: PeerCertificate['issuer'] | undefined): string {
  const cn = firstValue(dn?.CN);
  const o = firstValue(dn?.O);
  if (cn && o && cn !== o) return `“${cn}” (${o})`;
  return cn || o ? `“${cn ?? o}”` : 'an unnamed issuer';
}

/** Node gives a repeated attribute as an array. */
function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function day(date: Date): string {
  return Number.isNaN(date.getTime()) ? 'an unreadable date' : date.toISOString().slice(0, 10);
}

function withTimeout<T>(promise: Promise<T>, ms: number, code: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`timed out after ${ms} ms`), { code })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
