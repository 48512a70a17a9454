/**
 * The wire format between the `netintent-ipam` shim and the IPAM daemon: one request and
 * one reply per Unix-socket connection, length-prefixed (all integers u32 big-endian):
 *
 *   request  "NIP1" COUNT { LEN "NAME=VALUE" }×COUNT LEN STDIN
 *   reply    "NIP1" EXITCODE LEN STDOUT
 *
 * The names are the CNI variables the shim was given (an unset variable is not sent);
 * STDIN and STDOUT are the exact bytes. Lengths, not text lines, so that the config and
 * result need no escaping. Pure: no I/O here.
 */
import type { CniOutcome } from '../cni.js';

const MAGIC = Buffer.from('NIP1');
/** The environment of a CNI command, as the runtime passes it. */
const CNI_ENV_NAMES = ['CNI_COMMAND', 'CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_ARGS', 'CNI_PATH'] as const;
const MAX_ENV_VALUE = 64 * 1024;
const MAX_STDIN = 16 * 1024 * 1024;

export interface CniRequest {
  env: Partial<Record<(typeof CNI_ENV_NAMES)[number], string>>;
  stdin: Buffer;
}

export class ProtocolError extends Error {}

/** Reads a request from the bytes received so far; undefined while it is incomplete. */
export function decodeRequest(bytes: Buffer): CniRequest | undefined {
  let at = 0;
  const take = (n: number): Buffer | undefined => {
    if (bytes.length < at + n) return undefined;
    at += n;
    return bytes.subarray(at - n, at);
  };
  const u32 = (): number | undefined => take(4)?.readUInt32BE(0);
  const magic = take(MAGIC.length);
  if (!magic) return undefined;
  if (!magic.equals(MAGIC)) throw new ProtocolError('not a netintent-ipam request (bad magic)');
  const count = u32();
  if (count === undefined) return undefined;
  if (count > CNI_ENV_NAMES.length) throw new ProtocolError(`${count} environment entries (at most ${CNI_ENV_NAMES.length})`);
  const env: CniRequest['env'] = {};
  for (let i = 0; i < count; i++) {
    const length = u32();
    if (length === undefined) return undefined;
    if (length > MAX_ENV_VALUE) throw new ProtocolError(`environment entry of ${length} bytes`);
    const entry = take(length);
    if (!entry) return undefined;
    const text = entry.toString('utf8');
    const eq = text.indexOf('=');
    const name = CNI_ENV_NAMES.find((n) => n === text.slice(0, eq));
    if (eq < 0 || !name) throw new ProtocolError(`unexpected environment entry ${JSON.stringify(text.slice(0, 40))}`);
    env[name] = text.slice(eq + 1);
  }
  const length = u32();
  if (length === undefined) return undefined;
  if (length > MAX_STDIN) throw new ProtocolError(`stdin of ${length} bytes`);
  const stdin = take(length);
  if (!stdin) return undefined;
  if (at !== bytes.length) throw new ProtocolError('bytes after the request');
  return { env, stdin };
}

export function encodeReply(outcome: CniOutcome): Buffer {
  const stdout = Buffer.from(outcome.stdout, 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(outcome.exitCode, 0);
  head.writeUInt32BE(stdout.length, 4);
  return Buffer.concat([MAGIC, head, stdout]);
}

/** A request as the shim encodes it (its C twin is shim/netintent-ipam.c); for tests and tools. */
export function encodeRequest(request: CniRequest): Buffer {
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n, 0);
    return b;
  };
  const entries = CNI_ENV_NAMES.flatMap((name) => (request.env[name] === undefined ? [] : [Buffer.from(`${name}=${request.env[name]}`, 'utf8')]));
  return Buffer.concat([MAGIC, u32(entries.length), ...entries.flatMap((e) => [u32(e.length), e]), u32(request.stdin.length), request.stdin]);
}
