/**
 * Errors of the IPAM runtime: a catalogue diagnostic plus the CNI error code the plugin
 * reports for it (CNI spec "Error" section; codes 100+ are plugin-specific).
 */
import { diag, type Diagnostic } from '../../diagnostics/diagnostic.js';
import type { Code } from '../../diagnostics/messages.js';

export const CniCode = {
  incompatibleVersion: 1,
  invalidEnvironment: 4,
  ioFailure: 5,
  decodingFailure: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  poolExhausted: 110,
  noPool: 111,
  requestRefused: 112,
  addressTaken: 113,
  checkFailed: 114,
} as const;

export class IpamError extends Error {
  constructor(
    readonly cniCode: number,
    readonly diagnostic: Diagnostic,
  ) {
    super(diagnostic.message);
  }
}

export function ipamError(cniCode: number, code: Code, args: readonly (string | number)[]): IpamError {
  return new IpamError(cniCode, diag(code, undefined, args));
}

/** The store cannot be reached now (etcd down, timeouts): the runtime should retry. */
export function storeUnavailable(reason: string): IpamError {
  return ipamError(CniCode.tryAgainLater, 'NI8105', [reason]);
}
