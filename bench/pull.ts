/**
 * A registry image's first pull under Node (`npm run bench -- --only-pull`), both ways in one
 * boot: first as the build leaves nginx and redis (their layers kept in Docker's store, every
 * layer "Already exists"), then, after `docker rmi` released those layers, the same pull
 * fetching and unpacking them, as every first pull did before. The kept pull runs first, on
 * the colder JIT, so its seconds are if anything the worse side; instructions are not.
 */
import { bootLocalGuest } from '../src/lib/vm/node/boot';

export interface PullFigures {
  image: string;
  kept: { seconds: number; minstr: number };
  unpacked: { seconds: number; minstr: number };
}

export async function measurePull(log: (line: string) => void, images = ['nginx', 'redis']): Promise<PullFigures[]> {
  const guest = await bootLocalGuest({ from: 'state' });
  const timed = async (command: string, expect: RegExp) => {
    const instrBefore = guest.instructions();
    const started = performance.now();
    const { exitCode, output } = await guest.exec(command, { timeoutMs: 10 * 60_000 });
    const figure = { seconds: (performance.now() - started) / 1000, minstr: (guest.instructions() - instrBefore) / 1e6 };
    if (exitCode !== 0 || !expect.test(output)) throw new Error(`pull bench: \`${command}\` did not go as expected (exit ${exitCode}):\n${output}`);
    return figure;
  };
  try {
    const figures: PullFigures[] = [];
    for (const image of images) {
      const kept = await timed(`docker pull ${image}`, /^(?![\s\S]*Pull complete)[\s\S]*Already exists/);
      const rmi = await guest.exec(`docker rmi ${image}`);
      if (rmi.exitCode !== 0) throw new Error(`pull bench: docker rmi ${image}: ${rmi.output}`);
      const unpacked = await timed(`docker pull ${image}`, /Pull complete/);
      log(
        `pull ${image}: layers kept ${kept.minstr.toFixed(0)} M instr, ${kept.seconds.toFixed(1)} s; unpacked ${unpacked.minstr.toFixed(0)} M, ${unpacked.seconds.toFixed(1)} s`,
      );
      figures.push({ image, kept, unpacked });
    }
    return figures;
  } finally {
    await guest.destroy();
  }
}
