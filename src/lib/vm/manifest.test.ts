import { describe, expect, it } from 'vitest';
import { validateManifest } from './manifest';
import { testManifest } from './test-manifest';

const manifest = testManifest;

const refusal = (value: unknown) => {
  try {
    validateManifest(value);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('accepted');
};

describe('validateManifest', () => {
  it('takes a manifest as save-state writes it', () => {
    expect(validateManifest(JSON.parse(JSON.stringify(manifest())))).toEqual(manifest());
  });

  it("reads a catalog from before images had an origin as Berth's own builds", () => {
    const older = manifest();
    const images = older.images.map(({ origin: _origin, ...rest }) => rest);
    expect(validateManifest({ ...older, images }).images[0].origin).toBe('built');
  });

  it('says what is wrong, and how to get a good one', () => {
    expect(refusal(null)).toMatch(/not a JSON object.*npm run vm:build/);
    expect(refusal({ ...manifest(), version: 7 })).toMatch(/it has version 7, this code reads version 1/);
    expect(refusal({ ...manifest(), disk: { ...manifest().disk, size: 4096 } })).toMatch(/disk: its chunks do not cover the disk size/);
    const { kernel: _, ...files } = manifest().files;
    expect(refusal({ ...manifest(), files })).toMatch(/files\.kernel/);
    expect(refusal({ ...manifest(), emulator: { ...manifest().emulator, memorySize: 0 } })).toMatch(/emulator\.memorySize/);
  });
});
