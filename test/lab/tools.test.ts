import { describe, expect, it } from 'vitest';
import { requireTools } from './netns.js';

describe('lab tool check', () => {
  it('fails, naming the Debian package, when a tool is missing', () => {
    expect(() => requireTools({ 'nit-no-such-tool': 'nit-some-package' })).toThrow(/`nit-no-such-tool` \(Debian package nit-some-package\).*apt-get install -y nit-some-package/);
  });

  it('passes on this machine for nft and ip', () => {
    expect(() => requireTools()).not.toThrow();
  });
});
