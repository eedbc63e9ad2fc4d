// Ad-hoc probe (not committed): v86's JIT during docker runs under Node, and the cost of candidate warm-ups.
import { bootLocalGuest } from './src/lib/vm/node/boot';
import { measureCommand } from './bench/guest';
import { parseJitSettings } from './src/lib/vm/jit-settings';
const jit = parseJitSettings(process.env.JIT ?? '');
const guest = await bootLocalGuest({ jit });
console.log('settings', JSON.stringify(guest.jitSettings()), 'after boot', JSON.stringify(guest.jit()));
const warm = process.env.WARM;
if (warm) {
  const f = await measureCommand(guest, warm, Number(process.env.WARM_TIMES ?? 3));
  for (const r of f.runs) console.log('warm', r.seconds.toFixed(2), 's', r.minstr.toFixed(0), 'M', JSON.stringify(r.jit));
}
const f = await measureCommand(guest, process.env.CMD ?? 'docker run --rm debian true', Number(process.env.TIMES ?? 6));
for (const r of f.runs) console.log(r.seconds.toFixed(2), 's', r.minstr.toFixed(0), 'M', JSON.stringify(r.jit));
const loop = await measureCommand(guest, 'i=0; while [ $i -lt 50000 ]; do i=$((i+1)); done', 3);
console.log('loop MIPS', loop.runs.map((r) => (r.minstr / r.seconds).toFixed(0)).join(' '));
await guest.destroy();
process.exit(0);
