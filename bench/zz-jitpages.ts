import { bootLocalGuest } from '../src/lib/vm/node/boot';
const pages = Number(process.argv[2] ?? 3);
const g: any = await bootLocalGuest();
const ex = g.emulator.v86.cpu.wm.exports;
console.log('MAX_PAGES was', ex.get_jit_config(1), 'loop safety', ex.get_jit_config(2), 'extra blocks', ex.get_jit_config(3));
ex.set_jit_config(1, pages); if (process.argv[3]) ex.set_jit_config(3, Number(process.argv[3]));
for (let i = 0; i < 7; i++) {
  const t = performance.now();
  const r = await g.exec('docker run --rm debian true', { timeoutMs: 600000 });
  console.log(`pages=${pages} extra=${process.argv[3] ?? 250} run ${i} ${((performance.now() - t) / 1000).toFixed(1)} s exit ${r.exitCode} free ${ex.jit_get_wasm_table_index_free_list_count()}`);
}
process.exit(0);
