/**
 * Edge module: one long-lived `nft -i` session (see ../tool-session.ts) for element
 * transactions (pod churn). Every `nft -f` opens and closes a netlink socket, and closing it
 * after a delete waits for the kernel (about 15 ms on the development VMs, spent in
 * `close()`), which alone is most of the 20 ms budget of a pod update; one session pays
 * that once. A transaction is one input line of `;`-separated commands, which nft runs as
 * one batch: as atomic as `nft -f`. Its end marker lists a table that does not exist.
 */
import { ToolSession, type SessionDialect } from '../tool-session.js';
import type { NftRunOptions, NftRunResult } from './apply.js';

/** A line the session can carry: one element command (`add|delete element … { … }`). */
const ELEMENT_COMMAND = /^(?:add|delete) element [^\n{}]+\{[^\n{}]*\}$/;

function nftDialect(netns?: string): SessionDialect {
  return {
    argv: [...(netns ? ['ip', 'netns', 'exec', netns] : []), 'nft', '-i'],
    input: (commands, token) => `${commands.join('; ')}\nlist table inet ${token}\n`,
    markerAt(stderr, token) {
      const at = stderr.indexOf(token);
      // The marker's error ends with its caret line.
      if (at < 0 || !/\^+\s*\n/.test(stderr.slice(at))) return -1;
      return Math.max(0, stderr.lastIndexOf('Error:', at));
    },
    failures: (own) => own.match(/Error:/g)?.length ?? 0,
  };
}

export class NftSession {
  private readonly session: ToolSession;

  constructor(opts: Pick<NftRunOptions, 'netns'> = {}) {
    this.session = new ToolSession(nftDialect(opts.netns));
  }

  /** Whether `script` is only element commands (comments and blank lines aside). */
  static carries(script: string): boolean {
    const commands = script.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#'));
    return commands.length > 0 && commands.every((l) => ELEMENT_COMMAND.test(l.trim()));
  }

  /** Runs an element-only script (see `carries`) as one transaction. */
  run(script: string): Promise<NftRunResult> {
    return this.session.run(script.split('\n').filter((l) => l.trim() && !l.trimStart().startsWith('#')).map((l) => l.trim()));
  }

  close(): void {
    this.session.close();
  }
}
