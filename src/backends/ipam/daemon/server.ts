/**
 * The node-local IPAM daemon: a Unix socket server running each request through the
 * same `runCni` as the plugin process, with stores kept open across requests. Requests
 * are handled concurrently (the stores are safe for concurrent allocators).
 */
import * as fs from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { runCni } from '../cni.js';
import { KeptLeaseStores } from '../store/index.js';
import { decodeRequest, encodeReply, ProtocolError } from './protocol.js';

export const DEFAULT_SOCKET_PATH = '/run/netintent/ipam.sock';

export interface IpamDaemon {
  socketPath: string;
  stores: KeptLeaseStores;
  /** Stops accepting, waits for the requests in flight, closes the stores, removes the socket. */
  close(): Promise<void>;
}

/** True when a daemon answers on `path` (a socket file left by a killed daemon refuses). */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

function handle(socket: Socket, stores: KeptLeaseStores, inFlight: Set<Promise<void>>, onError: (message: string) => void): void {
  let received = Buffer.alloc(0);
  socket.on('error', () => socket.destroy()); // the shim went away: nothing to answer
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    let request;
    try {
      request = decodeRequest(received);
    } catch (e) {
      // Closing without a reply makes the shim fall back to the plugin process.
      if (e instanceof ProtocolError) onError(`bad request: ${e.message}`);
      socket.destroy();
      return;
    }
    if (!request) return;
    socket.removeAllListeners('data');
    const work = runCni(request.env, request.stdin.toString('utf8'), stores).then((outcome) => {
      if (!socket.destroyed) socket.end(encodeReply(outcome));
    });
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  });
}

export async function serveIpam(socketPath: string, onError: (message: string) => void): Promise<IpamDaemon> {
  if (fs.existsSync(socketPath)) {
    if (!fs.statSync(socketPath).isSocket()) throw new Error(`${socketPath} exists and is not a socket`);
    if (await socketAnswers(socketPath)) throw new Error(`a daemon already serves ${socketPath}`);
    fs.rmSync(socketPath, { force: true });
  }
  fs.mkdirSync(dirname(socketPath), { recursive: true });
  const stores = new KeptLeaseStores();
  const inFlight = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handle(socket, stores, inFlight, onError);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  // The socket hands out addresses: only the owner (root on a node) may use it.
  fs.chmodSync(socketPath, 0o600);
  return {
    socketPath,
    stores,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(inFlight);
      for (const socket of sockets) socket.destroy(); // connected, but never sent a request
      await stores.closeAll();
      await closed;
      fs.rmSync(socketPath, { force: true });
    },
  };
}
