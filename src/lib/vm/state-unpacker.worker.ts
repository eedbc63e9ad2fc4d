/**
 * Downloads the shipped machine state and unpacks it on a thread of its own, while the VM
 * worker compiles and starts the emulator: on one thread the two took turns, and the
 * emulator waited ~1 s for the unpacking. Every second piece goes back to the VM worker,
 * idle by then, so two threads unpack. The state is transferred, not copied.
 */
import { expose, transfer } from 'comlink';
import { streamUrl } from './stream-url';
import { readState, type StateFile } from './state-file';

export interface StateUnpackerApi {
  /**
   * Resolves with the state once `unpackElsewhere` has finished with every piece it was
   * given; their places in the state are left for it to fill.
   */
  unpack(
    url: string,
    file: StateFile,
    onProgress: (loaded: number) => void,
    unpackElsewhere: (offset: number, piece: Uint8Array, expected: number) => Promise<void>,
  ): Promise<Uint8Array>;
}

const api: StateUnpackerApi = {
  async unpack(url, file, onProgress, unpackElsewhere) {
    const handedOver: Promise<void>[] = [];
    const raw = await readState(
      file,
      async (onBytes, progress) => void (await streamUrl(url, onBytes, progress)),
      onProgress,
      (offset, piece, expected) => {
        const own = piece.slice();
        handedOver.push(unpackElsewhere(offset, transfer(own, [own.buffer]), expected));
      },
    );
    await Promise.all(handedOver);
    return transfer(raw, [raw.buffer]);
  },
};

expose(api);
