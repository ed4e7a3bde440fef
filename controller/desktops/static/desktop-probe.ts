/**
 * Asks a remote-desktop server "are you there?" the way a well-mannered client of its protocol
 * would, and ends the conversation cleanly, so the server's defences never count the question as
 * an attack. A bare TCP connect-and-close is what TigerVNC and x11vnc count as a failed login:
 * TigerVNC blacklists the asking address after five of them (measured here: the sixth connection
 * is refused with "Too many security failures"), and that address is the controller — the same one
 * its console relay comes from. So:
 *   VNC   — the RFB handshake up to a *successful* authentication with the inventory's password (or
 *           security type None), then close: a success also clears any earlier failure mark.
 *           A server that only offers what the probe cannot complete is not probed again.
 *   RDP   — an X.224 Connection Request with an RDP negotiation request, read the Connection
 *           Confirm, close: no credentials are ever sent, so no failed logon is logged or counted.
 *   SPICE — the SPICE link message for the main channel, read the link reply's magic, close
 *           (QEMU keeps no failure count; the ticket is never sent).
 */
import net from 'node:net';
import { createCipheriv } from 'node:crypto';

export type ProbeOutcome =
  /** The server answered as its protocol should (and, for VNC, accepted the probe's login). */
  | { state: 'up' }
  /** Nothing answered: refused, unreachable, or silent until the timeout. */
  | { state: 'down'; reason: 'refused' | 'unreachable' | 'timeout' | 'closed' }
  /** It answered but refuses this controller for now (e.g. TigerVNC's blacklist), with its words. */
  | { state: 'refusing'; reason: string }
  /** It answered, but the probe cannot ask again without counting as a failed login (wrong inventory password, unknown security types). */
  | { state: 'unprobeable'; reason: string };

export interface ProbeTarget { host: string; port: number; password?: string | undefined }

export function probeDesktop(protocol: 'vnc' | 'rdp' | 'spice', target: ProbeTarget, timeoutMs: number): Promise<ProbeOutcome> {
  const conversation = protocol === 'vnc' ? vncConversation(target.password) : protocol === 'rdp' ? rdpConversation() : spiceConversation();
  return converse(target, timeoutMs, conversation);
}

/** A probe reads what the server says and decides; `answer` returns bytes to send, an outcome to end with, or null to wait for more. */
interface Conversation {
  opening?: Buffer;
  answer(received: Buffer): { send?: Buffer; consumed: number } | { outcome: ProbeOutcome } | null;
}

function converse(target: ProbeTarget, timeoutMs: number, conversation: Conversation): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    let received = Buffer.alloc(0);
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // end(): a FIN after the last message, as a client that is done would close (not a reset).
      socket.end();
      setTimeout(() => socket.destroy(), 1000).unref();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ state: 'down', reason: 'timeout' }), timeoutMs);
    socket.once('connect', () => { if (conversation.opening) socket.write(conversation.opening); });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      for (;;) {
        const step = conversation.answer(received);
        if (!step) return;
        if ('outcome' in step) return finish(step.outcome);
        received = received.subarray(step.consumed);
        if (step.send) socket.write(step.send);
      }
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'ECONNREFUSED' ? 'refused' : error.code === 'ETIMEDOUT' ? 'timeout' : 'unreachable';
      finish({ state: 'down', reason });
    });
    socket.once('close', () => finish({ state: 'down', reason: 'closed' }));
  });
}

const RFB_NONE = 1;
const RFB_VNC_AUTH = 2;

function vncConversation(password: string | undefined): Conversation {
  let stage: 'version' | 'types' | 'type33' | 'challenge' | 'result' | 'reason' = 'version';
  let legacy = false;
  return {
    answer(buf) {
      switch (stage) {
        case 'version': {
          if (buf.length < 12) return null;
          const match = /^RFB (\d{3})\.(\d{3})\n$/.exec(buf.subarray(0, 12).toString('latin1'));
          if (!match) return { outcome: { state: 'unprobeable', reason: 'it does not speak RFB (VNC)' } };
          // 3.3 servers (and TigerVNC while it blacklists someone) choose the security type themselves.
          legacy = Number(match[1]) === 3 && Number(match[2]) < 7;
          stage = legacy ? 'type33' : 'types';
          return { send: Buffer.from(legacy ? 'RFB 003.003\n' : 'RFB 003.008\n'), consumed: 12 };
        }
        case 'types': {
          if (buf.length < 1) return null;
          const count = buf[0]!;
          if (count === 0) { stage = 'reason'; return { consumed: 1 }; }
          if (buf.length < 1 + count) return null;
          const offered = [...buf.subarray(1, 1 + count)];
          const choice = password && offered.includes(RFB_VNC_AUTH) ? RFB_VNC_AUTH : offered.includes(RFB_NONE) ? RFB_NONE : null;
          if (choice === null) {
            return { outcome: { state: 'unprobeable', reason: `its security types (${offered.join(', ')}) need more than the inventory's password` } };
          }
          stage = choice === RFB_VNC_AUTH ? 'challenge' : 'result';
          return { send: Buffer.from([choice]), consumed: 1 + count };
        }
        case 'type33': {
          if (buf.length < 4) return null;
          const type = buf.readUInt32BE(0);
          if (type === 0) { stage = 'reason'; return { consumed: 4 }; }
          if (type === RFB_NONE) return { outcome: { state: 'up' } }; // 3.3 has no result message for None
          if (type === RFB_VNC_AUTH && password) { stage = 'challenge'; return { consumed: 4 }; }
          return { outcome: { state: 'unprobeable', reason: `its security type ${type} needs more than the inventory's password` } };
        }
        case 'challenge': {
          if (buf.length < 16) return null;
          stage = 'result';
          return { send: vncAuthResponse(password ?? '', buf.subarray(0, 16)), consumed: 16 };
        }
        case 'result': {
          if (buf.length < 4) return null;
          if (buf.readUInt32BE(0) === 0) return { outcome: { state: 'up' } };
          return { outcome: { state: 'unprobeable', reason: 'it refuses the VNC password in the inventory' } };
        }
        case 'reason': {
          if (buf.length < 4) return null;
          const length = Math.min(buf.readUInt32BE(0), 1024);
          if (buf.length < 4 + length) return null;
          return { outcome: { state: 'refusing', reason: buf.subarray(4, 4 + length).toString('utf8') || 'no reason given' } };
        }
      }
    },
  };
}

/** VncAuth: the challenge DES-encrypted with the password (8 bytes, each byte's bits reversed) as key. */
export function vncAuthResponse(password: string, challenge: Buffer): Buffer {
  const key = Buffer.alloc(8);
  Buffer.from(password, 'latin1').copy(key, 0, 0, 8);
  for (let i = 0; i < 8; i++) {
    let b = key[i]!;
    b = ((b & 0xf0) >> 4) | ((b & 0x0f) << 4);
    b = ((b & 0xcc) >> 2) | ((b & 0x33) << 2);
    b = ((b & 0xaa) >> 1) | ((b & 0x55) << 1);
    key[i] = b;
  }
  // Single DES as triple DES with three equal keys: OpenSSL 3 keeps plain DES in its legacy provider only.
  const cipher = createCipheriv('des-ede3', Buffer.concat([key, key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

/** TPKT + X.224 Connection Request + RDP_NEG_REQ asking for TLS or CredSSP (what every current client asks). */
const RDP_CONNECTION_REQUEST = Buffer.from([
  0x03, 0x00, 0x00, 0x13, // TPKT, length 19
  0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00, 0x00, // X.224 CR TPDU
  0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, // RDP_NEG_REQ: PROTOCOL_SSL | PROTOCOL_HYBRID
]);

function rdpConversation(): Conversation {
  return {
    opening: RDP_CONNECTION_REQUEST,
    answer(buf) {
      if (buf.length < 11) return null;
      // TPKT version 3, then an X.224 Connection Confirm (0xd0): an RDP server, whatever it negotiated.
      if (buf[0] === 0x03 && (buf[5]! & 0xf0) === 0xd0) return { outcome: { state: 'up' } };
      return { outcome: { state: 'unprobeable', reason: 'it does not answer as an RDP server' } };
    },
  };
}

const SPICE_MAGIC = Buffer.from('REDQ', 'latin1');

function spiceConversation(): Conversation {
  // SpiceLinkHeader (magic, major 2, minor 2, size) + SpiceLinkMess for the main channel, no caps.
  const message = Buffer.alloc(18);
  message.writeUInt32LE(0, 0); // connection_id: a new session
  message.writeUInt8(1, 4); // channel_type: main
  message.writeUInt8(0, 5); // channel_id
  message.writeUInt32LE(0, 6); // num_common_caps
  message.writeUInt32LE(0, 10); // num_channel_caps
  message.writeUInt32LE(18, 14); // caps_offset
  const header = Buffer.alloc(16);
  SPICE_MAGIC.copy(header, 0);
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(2, 8);
  header.writeUInt32LE(message.length, 12);
  return {
    opening: Buffer.concat([header, message]),
    answer(buf) {
      if (buf.length < 4) return null;
      if (buf.subarray(0, 4).equals(SPICE_MAGIC)) return { outcome: { state: 'up' } };
      return { outcome: { state: 'unprobeable', reason: 'it does not answer as a SPICE server' } };
    },
  };
}
