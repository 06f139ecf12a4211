import test from 'ava';
import { MemoryNetwork } from '../source/network/memory-network.js';
import { Demo } from '../source/simulation/demo.js';
import { TEST_TIMINGS } from './helpers/memory-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './helpers/tiny-mall.js';

const faulty = test.macro(async (t, faults: { drop: number; duplicate: number; reorder: number }) => {
	const network = new MemoryNetwork({ ...faults, maxDelayMs: 30 }, 42);
	const demo = new Demo({
		mall: await tinyMall({ mall: 12, floor: 10, store: 4 }),
		passwords: TINY_PASSWORDS,
		rate: 400,
		durationMs: 2500,
		seed: 7,
		bind: async () => network.bind(),
		events: () => {},
		timings: TEST_TIMINGS,
		drainMs: 10_000,
	});
	t.teardown(() => demo.close());
	await demo.start();
	const summary = await demo.run();
	t.log(`moves ${summary.moves.tried}, admitted ${summary.moves.admitted}, refused ${summary.moves.refused}; network dropped ${network.dropped}, duplicated ${network.duplicated}, reordered ${network.reordered}; drained in ${summary.drainMs} ms`);
	t.is(summary.violations, 0);
	t.true(summary.converged);
	t.true(summary.moves.refused > 0, 'the mall filled up, so some moves were refused');
	t.true(network.dropped > 0 && network.duplicated > 0 && network.reordered > 0, 'the faults happened');
});

test('with 10% loss, 10% duplication and 20% reordering: no violation, exact convergence', faulty, { drop: 0.1, duplicate: 0.1, reorder: 0.2 });
test('with 30% loss: no violation, exact convergence', faulty, { drop: 0.3, duplicate: 0.05, reorder: 0.1 });
