import { describe, expect, it } from 'vitest';
import { offlineFiles, strategyFor } from './cache-policy';

describe('the offline cache policy', () => {
  it('asks the network first for entry points and the cache first for hashed files', () => {
    expect(strategyFor('', 'GET')).toBe('network-first');
    expect(strategyFor('index.html', 'GET')).toBe('network-first');
    expect(strategyFor('vm/manifest.json', 'GET')).toBe('network-first');
    expect(strategyFor('offline.json', 'GET')).toBe('network-first');
    expect(strategyFor('assets/index-B8gPnVWS.js', 'GET')).toBe('cache-first');
    expect(strategyFor('vm/state-428da0c3335146ac.bin.bzp', 'GET')).toBe('cache-first');
    expect(strategyFor('vm/chunks/0a1b2c.zst', 'GET')).toBe('cache-first');
  });

  it('leaves previews, the worker itself and writes alone', () => {
    expect(strategyFor('preview/5001/', 'GET')).toBe('pass');
    expect(strategyFor('service-worker.js', 'GET')).toBe('pass');
    expect(strategyFor('assets/x.js', 'POST')).toBe('pass');
  });

  it('lists one build: shell, entry points, machine files and each distinct chunk once', () => {
    const { paths, bytes } = offlineFiles(
      {
        version: 'v',
        files: [
          { path: 'index.html', size: 10 },
          { path: 'assets/a.js', size: 20 },
        ],
      },
      {
        files: { state: { path: 'state-1.bin.bzp', size: 300 }, bios: { path: 'bios-2.bin', size: 4 } },
        disk: { chunks: ['c1', null, 'c2', 'c1'], storedBytes: 50 },
      },
    );
    expect(paths).toEqual([
      '',
      'index.html',
      'assets/a.js',
      'vm/manifest.json',
      'offline.json',
      'vm/state-1.bin.bzp',
      'vm/bios-2.bin',
      'vm/chunks/c1.zst',
      'vm/chunks/c2.zst',
    ]);
    expect(bytes).toBe(10 + 20 + 300 + 4 + 50);
  });

  it("keeps the offline Debian mirror's folder as fetched on demand, never downloaded for offline use", () => {
    const manifest = { files: {}, disk: { chunks: [], storedBytes: 0 } };
    const index = { version: 'v', files: [] };
    expect(offlineFiles(index, manifest).onDemand).toEqual([]);
    const withMirror = offlineFiles(index, { ...manifest, aptMirror: { path: 'apt-81c9' } });
    expect(withMirror.onDemand).toEqual(['vm/apt-81c9/']);
    expect(withMirror.paths.some((p) => p.includes('apt-'))).toBe(false);
    expect(strategyFor('vm/apt-81c9/debian/dists/bookworm/InRelease', 'GET')).toBe('cache-first');
  });
});
