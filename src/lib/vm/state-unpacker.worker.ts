/**
 * Downloads the shipped machine state and unpacks it on a thread of its own, while the VM
 * worker compiles and starts the emulator: on one thread the two took turns, and the
 * emulator waited ~1 s for the unpacking. The unpacked state is transferred, not copied.
 */
import { expose, transfer } from 'comlink';
import { streamUrl } from './browser-assets';
import { readState, type StateFile } from './state-file';

export interface StateUnpackerApi {
  unpack(url: string, file: StateFile, onProgress: (loaded: number) => void): Promise<Uint8Array>;
}

const api: StateUnpackerApi = {
  async unpack(url, file, onProgress) {
    const raw = await readState(file, async (onBytes, progress) => void (await streamUrl(url, onBytes, progress)), onProgress);
    return transfer(raw, [raw.buffer]);
  },
};

expose(api);
