/**
 * The plugin's network configuration: the `ipam` section of the CNI config on stdin.
 *
 *   "ipam": {
 *     "type": "netintent-ipam",
 *     "plan": "/etc/netintent/ipam-plan.json",
 *     "store": { "type": "file", "dir": "/var/lib/cni/netintent" }
 *            | { "type": "etcd", "endpoints": ["http://10.0.0.1:2379"], "prefix": "/netintent/ipam" },
 *     "inventory": "/etc/netintent/inventory.yaml",          (optional: pod owners, annotations)
 *     "subnet": "10.10.0.0/16",                              (optional, or host-local style:)
 *     "ranges": [[{ "subnet": "10.10.0.0/16", "gateway": "10.10.0.1" }]],
 *     "gateway": "10.10.0.1",                                (optional; string or one per family)
 *     "routes": [{ "dst": "0.0.0.0/0" }],
 *     "gcGraceSeconds": 60                                   (optional)
 *   }
 *
 * Subnets and gateways decide the prefix length and gateway of the returned addresses
 * and which addresses are never handed out; they must be the same on every node, since
 * StatefulSet ordinals count the gateway out.
 */
import { canonicalIp, parseCidr, type Cidr } from './addresses.js';
import { CniCode, ipamError } from './errors.js';

export type StoreConfig =
  | { type: 'file'; dir: string }
  | { type: 'etcd'; endpoints: string[]; prefix: string; dialTimeoutMs: number };

export interface SubnetConfig {
  cidr: Cidr;
  gateway?: string;
}

export interface RouteConfig {
  dst: string;
  gw?: string;
}

export interface IpamConfig {
  /** The CNI network name: leases are kept per network. */
  network: string;
  cniVersion: string;
  plan: string;
  store: StoreConfig;
  inventory?: string;
  subnets: SubnetConfig[];
  gateways: string[];
  routes: RouteConfig[];
  /** CNI GC leaves leases and torn claims younger than this: their ADD may still run. */
  gcGraceMs: number;
}

export const DEFAULT_FILE_STORE_DIR = '/var/lib/cni/netintent';
export const DEFAULT_ETCD_PREFIX = '/netintent/ipam';
const DEFAULT_GC_GRACE_S = 60;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function invalid(reason: string): never {
  throw ipamError(CniCode.invalidConfig, 'NI8106', [reason]);
}

function cidrOf(text: unknown, where: string): Cidr {
  const cidr = typeof text === 'string' ? parseCidr(text) : undefined;
  return cidr ?? invalid(`${where} must be a CIDR, got ${JSON.stringify(text)}`);
}

function ipOf(text: unknown, where: string): string {
  const ip = typeof text === 'string' ? canonicalIp(text) : undefined;
  return ip ?? invalid(`${where} must be an IP address, got ${JSON.stringify(text)}`);
}

/** The `ipam.store` section (also the daemon's --store-config). */
export function readStoreConfig(value: unknown): StoreConfig {
  if (value === undefined) return { type: 'file', dir: DEFAULT_FILE_STORE_DIR };
  if (!isObj(value)) invalid('ipam.store must be an object');
  if (value.type === undefined || value.type === 'file') {
    if (value.dir !== undefined && typeof value.dir !== 'string') invalid('ipam.store.dir must be a path');
    return { type: 'file', dir: (value.dir as string | undefined) ?? DEFAULT_FILE_STORE_DIR };
  }
  if (value.type === 'etcd') {
    const endpoints = value.endpoints;
    if (!Array.isArray(endpoints) || endpoints.length === 0 || !endpoints.every((e) => typeof e === 'string')) {
      invalid('ipam.store.endpoints must be a non-empty list of URLs');
    }
    if (value.prefix !== undefined && typeof value.prefix !== 'string') invalid('ipam.store.prefix must be a string');
    const dial = value.dialTimeoutMs ?? 2000;
    if (typeof dial !== 'number' || dial <= 0) invalid('ipam.store.dialTimeoutMs must be a positive number');
    return { type: 'etcd', endpoints: endpoints as string[], prefix: (value.prefix as string | undefined) ?? DEFAULT_ETCD_PREFIX, dialTimeoutMs: dial };
  }
  return invalid(`ipam.store.type must be "file" or "etcd", got ${JSON.stringify(value.type)}`);
}

/** Reads the network config; `conf` is the parsed stdin JSON. */
export function readIpamConfig(conf: unknown): IpamConfig {
  if (!isObj(conf)) invalid('the network configuration must be a JSON object');
  const network = conf.name;
  if (typeof network !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(network)) {
    invalid(`"name" must be a network name (letters, digits, "_", ".", "-"), got ${JSON.stringify(network)}`);
  }
  if (typeof conf.cniVersion !== 'string') invalid('"cniVersion" is missing');
  const ipam = conf.ipam;
  if (!isObj(ipam)) invalid('the "ipam" section is missing');
  if (typeof ipam.plan !== 'string' || ipam.plan === '') invalid('ipam.plan must be the path of the IPAM plan (netintent compile --target ipam)');
  if (ipam.inventory !== undefined && typeof ipam.inventory !== 'string') invalid('ipam.inventory must be a path');

  const subnets: SubnetConfig[] = [];
  if (ipam.subnet !== undefined) subnets.push({ cidr: cidrOf(ipam.subnet, 'ipam.subnet') });
  if (ipam.ranges !== undefined) {
    if (!Array.isArray(ipam.ranges)) invalid('ipam.ranges must be a list of range sets');
    for (const [i, set] of (ipam.ranges as unknown[]).entries()) {
      for (const [j, range] of (Array.isArray(set) ? set : [set]).entries()) {
        if (!isObj(range)) invalid(`ipam.ranges[${i}][${j}] must be an object`);
        const where = `ipam.ranges[${i}][${j}]`;
        subnets.push({
          cidr: cidrOf(range.subnet, `${where}.subnet`),
          ...(range.gateway !== undefined ? { gateway: ipOf(range.gateway, `${where}.gateway`) } : {}),
        });
      }
    }
  }
  const gatewayList = ipam.gateway === undefined ? [] : Array.isArray(ipam.gateway) ? ipam.gateway : [ipam.gateway];
  const gateways = gatewayList.map((g, i) => ipOf(g, `ipam.gateway[${i}]`));

  const routes: RouteConfig[] = [];
  for (const [i, r] of (Array.isArray(ipam.routes) ? ipam.routes : ipam.routes === undefined ? [] : invalid('ipam.routes must be a list')).entries()) {
    if (!isObj(r)) invalid(`ipam.routes[${i}] must be an object`);
    cidrOf(r.dst, `ipam.routes[${i}].dst`);
    routes.push({ dst: r.dst as string, ...(r.gw !== undefined ? { gw: ipOf(r.gw, `ipam.routes[${i}].gw`) } : {}) });
  }
  const grace = ipam.gcGraceSeconds ?? DEFAULT_GC_GRACE_S;
  if (typeof grace !== 'number' || grace < 0) invalid('ipam.gcGraceSeconds must be a number >= 0');

  return {
    network,
    cniVersion: conf.cniVersion,
    plan: ipam.plan,
    store: readStoreConfig(ipam.store),
    ...(ipam.inventory !== undefined ? { inventory: ipam.inventory as string } : {}),
    subnets,
    gateways,
    routes,
    gcGraceMs: grace * 1000,
  };
}
