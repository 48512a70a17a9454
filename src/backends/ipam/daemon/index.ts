/** The IPAM daemon the `netintent-ipam` shim talks to, and its wire format. */
export { serveIpam, DEFAULT_SOCKET_PATH, type IpamDaemon } from './server.js';
export { encodeRequest, decodeRequest, encodeReply } from './protocol.js';
