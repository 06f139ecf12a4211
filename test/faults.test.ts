import test from 'ava';
import { runScenario } from '../source/simulator/scenario.js';
import type { LinkFaults } from '../source/simulator/sim-network.js';

/**
 * The whole network in the simulator (source/simulator/scenario.ts) on links that stay
 * faulty for the whole run, with crashes, partitions and tracker restarts drawn from the
 * seed on top: the referee's invariants must all hold, and the mall must have filled up.
 */
const faulty = test.macro(async (t, seed: number, links: LinkFaults) => {
	const result = await runScenario({ seed, steps: 20, links });
	t.log(`${result.moves.tried} moves (${result.moves.admitted} admitted, ${result.moves.refused} refused); datagrams ${result.datagrams.delivered} delivered, ${result.datagrams.dropped} dropped, ${result.datagrams.duplicated} duplicated; faults ${JSON.stringify(result.faults)}; ${(result.virtualMs / 1000).toFixed(1)} s simulated`);
	for (const failure of result.failures) t.log(`${failure.invariant} at ${(failure.at / 1000).toFixed(3)} s: ${failure.detail}`);
	if (result.failures.length > 0) t.log(`replay: npm run sim -- --seed ${seed} --steps 20 (with these links)`);
	t.deepEqual(result.failures, []);
	t.true(result.moves.refused > 0, 'the mall filled up, so some moves were refused');
	t.true(result.datagrams.dropped > 0, 'datagrams were lost');
	if (links.duplicate > 0) t.true(result.datagrams.duplicated > 0, 'datagrams were duplicated');
});

test('10 % loss, 10 % duplication, 20 % reordering: never over capacity, exact convergence', faulty, 7, { loss: 0.1, duplicate: 0.1, reorder: 0.2, maxDelayMs: 30 });
test('30 % loss: never over capacity, exact convergence', faulty, 8, { loss: 0.3, duplicate: 0.05, reorder: 0.1, maxDelayMs: 30 });
