#!/usr/bin/env node
/**
 * `netintent-ipam` as a Node process: the CNI IPAM plugin the native shim falls back to
 * when no IPAM daemon answers. It runs `runCni`, as the daemon does for each request.
 * Kept to the CNI edge so that a cold start loads little: no CLI framework, the etcd
 * client and the YAML parser only when needed.
 */
import { readFileSync } from 'node:fs';
import { runCni } from './cni.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return ''; // no stdin (a terminal, or closed): VERSION needs none
  }
}

const outcome = await runCni(process.env, readStdin());
process.stdout.write(outcome.stdout);
process.exitCode = outcome.exitCode;
