/** The IPAM daemon the `netintent-ipam` shim talks to, and its wire format. */
export { serveIpam, DEFAULT_SOCKET_PATH, type IpamDaemon } from './server.js';
export { encodeRequest, decodeRequest, encodeReply, CNI_ENV_NAMES, type CniRequest } from './protocol.js';
