/**
 * A guest disk backed by a raw image file, read and written in place (Node only).
 * Provisioning boots with it so whatever the guest writes (Docker's image store) lands
 * in the image that is then cut into chunks. Same buffer interface as ChunkedDisk.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

export class FileDisk {
  readonly byteLength: number;
  onload: ((e: object) => void) | undefined;
  onprogress: ((e: object) => void) | undefined;
  private readonly fd: number;

  constructor(path: string, { writable = true } = {}) {
    this.fd = openSync(path, writable ? 'r+' : 'r');
    this.byteLength = fstatSync(this.fd).size;
    if (this.byteLength % 512 !== 0) throw new Error(`${path} is not a whole number of 512-byte sectors`);
  }

  load(): void {
    this.onload?.(Object.create(null));
  }

  get(offset: number, length: number, done: (data: Uint8Array) => void): void {
    const data = new Uint8Array(length);
    readSync(this.fd, data, 0, length, offset);
    done(data);
  }

  get_and_cache(offset: number, length: number, done: (data: Uint8Array) => void): void {
    this.get(offset, length, done);
  }

  get_from_cache(offset: number, length: number): Uint8Array {
    const data = new Uint8Array(length);
    readSync(this.fd, data, 0, length, offset);
    return data;
  }

  set(start: number, data: Uint8Array, done: () => void): void {
    writeSync(this.fd, data, 0, data.length, start);
    done();
  }

  get_buffer(done: () => void): void {
    done();
  }

  get_state(): [[number, Uint8Array][]] {
    return [[]];
  }

  set_state(): void {
    throw new Error('A FileDisk guest cannot be restored from a state');
  }

  close(): void {
    closeSync(this.fd);
  }
}
