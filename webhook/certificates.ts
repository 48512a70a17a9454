/**
 * The serving certificate, reloaded when its files change (cert-manager renewals,
 * Secret volume updates) without a restart: new handshakes get the new certificate,
 * open connections keep theirs.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createSecureContext } from 'node:tls';
import { watchDebounced, type DebouncedWatch } from './watch.js';

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export function readKeyPair(certPath: string, keyPath: string): KeyPair {
  return { cert: readFileSync(certPath), key: readFileSync(keyPath) };
}

export interface CertificateEvents {
  /** A new, valid pair: install it. */
  onChanged(pair: KeyPair): void;
  /** Unreadable or mismatched files (often mid-rotation): the old pair stays. */
  onRejected(reason: string): void;
}

export class CertificateWatcher {
  private watcher: DebouncedWatch | undefined;

  constructor(
    private current: KeyPair,
    private readonly certPath: string,
    private readonly keyPath: string,
    private readonly events: CertificateEvents,
  ) {}

  /** Rereads the files; true when a different valid pair was installed. */
  check(): boolean {
    let pair: KeyPair;
    try {
      pair = readKeyPair(this.certPath, this.keyPath);
      // Throws on unparsable PEM and on a key that does not match the certificate.
      createSecureContext(pair);
    } catch (e) {
      this.events.onRejected((e as Error).message);
      return false;
    }
    if (pair.cert.equals(this.current.cert) && pair.key.equals(this.current.key)) return false;
    this.current = pair;
    this.events.onChanged(pair);
    return true;
  }

  /** Watches the directories (Secret volumes swap a `..data` symlink, which a file watch misses). */
  watch(debounceMs: number): void {
    const dirs = [...new Set([dirname(this.certPath), dirname(this.keyPath)])].map((path) => ({ path, recursive: false }));
    this.watcher = watchDebounced(dirs, debounceMs, () => this.check());
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
