/**
 * The NT hash (MD4 of the UTF-16LE password) that a winpr SAM file holds for NLA. Node's OpenSSL 3
 * refuses MD4 without the legacy provider, so this is RFC 1320 written out; it only ever hashes
 * test and demo passwords.
 */

export function ntHash(password: string): string {
  return md4(Buffer.from(password, 'utf16le')).toString('hex');
}

export function md4(message: Buffer): Buffer {
  const bitLength = message.length * 8;
  const padded = Buffer.alloc(((message.length + 8) >> 6 << 6) + 64);
  message.copy(padded);
  padded[message.length] = 0x80;
  padded.writeUInt32LE(bitLength >>> 0, padded.length - 8);
  padded.writeUInt32LE(Math.floor(bitLength / 2 ** 32), padded.length - 4);

  let a = 0x67452301, b = 0xefcdab89, c = 0x98badcfe, d = 0x10325476;
  const rotl = (x: number, s: number) => (x << s) | (x >>> (32 - s));
  const F = (x: number, y: number, z: number) => (x & y) | (~x & z);
  const G = (x: number, y: number, z: number) => (x & y) | (x & z) | (y & z);
  const H = (x: number, y: number, z: number) => x ^ y ^ z;
  const X = new Array<number>(16);

  for (let offset = 0; offset < padded.length; offset += 64) {
    for (let i = 0; i < 16; i++) X[i] = padded.readUInt32LE(offset + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const round = (f: (x: number, y: number, z: number) => number, k: number[], s: number[], add: number) => {
      for (let i = 0; i < 16; i++) {
        const shift = s[i % 4]!;
        const t = (a + f(b, c, d) + X[k[i]!]! + add) | 0;
        [a, b, c, d] = [d, rotl(t, shift), b, c];
      }
    };
    round(F, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15], [3, 7, 11, 19], 0);
    round(G, [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15], [3, 5, 9, 13], 0x5a827999);
    round(H, [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15], [3, 9, 11, 15], 0x6ed9eba1);
    a = (a + aa) | 0; b = (b + bb) | 0; c = (c + cc) | 0; d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  [a, b, c, d].forEach((v, i) => out.writeInt32LE(v, i * 4));
  return out;
}
