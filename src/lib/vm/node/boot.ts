/**
 * Booting the local build (public/vm/) under Node: the one entry the CLI, the guest tests
 * and the benchmarks share. v86 reports its own failures by throwing from a timer, so the
 * process-wide handler turns those into a fault on the running guest.
 */
import { Guest, type BootOptions } from '../guest';
import { DEFAULT_VM_DIR, loadLocalManifest, localAssets } from './assets';

let current: Guest | undefined;
let handlerInstalled = false;

function installEmulatorErrorHandler(): void {
  if (handlerInstalled) return;
  handlerInstalled = true;
  process.on('uncaughtException', (error) => {
    if (!current) throw error;
    current.reportEmulatorError(error);
  });
}

export async function bootLocalGuest(options: Partial<BootOptions> = {}, vmDir = DEFAULT_VM_DIR): Promise<Guest> {
  installEmulatorErrorHandler();
  const manifest = await loadLocalManifest(vmDir);
  const guest = await Guest.boot(manifest, localAssets(vmDir), { from: 'state', ...options });
  current = guest;
  return guest;
}
