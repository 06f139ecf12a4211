import test from 'ava';
import type { Mutation } from '../source/simulator/mutations.js';
import { runScenario } from '../source/simulator/scenario.js';

// Serial: a mutation is put into shared code for the length of its run.
test.serial('the same seed gives the same trace, byte for byte', async (t) => {
	const first = await runScenario({ seed: 11, steps: 10 });
	const second = await runScenario({ seed: 11, steps: 10 });
	t.true(first.trace.length > 50, `a trace worth comparing (${first.trace.length} lines)`);
	t.is(second.trace.join('\n'), first.trace.join('\n'));
	t.deepEqual(second.moves, first.moves);
	const other = await runScenario({ seed: 12, steps: 10 });
	t.not(other.trace.join('\n'), first.trace.join('\n'), 'another seed, another history');
});

/**
 * Mutation testing of the simulator itself: a bug put in on purpose must break an
 * invariant within a few seeds, and the seed that found it must find it again.
 */
const findsMutation = test.macro<[Mutation, readonly string[], number, number?]>(async (t, mutation, invariants, seeds, steps = 20) => {
	for (let seed = 1; seed <= seeds; seed++) {
		const result = await runScenario({ seed, steps, mutation });
		const found = result.failures.find((failure) => invariants.includes(failure.invariant));
		if (!found) continue;
		t.log(`seed ${seed} found it: ${found.invariant} at ${(found.at / 1000).toFixed(3)} s: ${found.detail} — replay: npm run sim -- --seed ${seed} --steps ${steps} --mutation ${mutation}`);
		const replay = await runScenario({ seed, steps, mutation });
		t.deepEqual(replay.failures, result.failures, 'the replay fails the same way');
		const honest = await runScenario({ seed, steps });
		t.deepEqual(honest.failures, [], 'without the bug the same seed passes');
		return;
	}
	t.fail(`${mutation} went unnoticed for ${seeds} seeds`);
});

test.serial('doors that admit on room alone are caught: over capacity', findsMutation, 'endless-permits', ['never over capacity'], 10);
// Replicas refuse the rows of a door that spends past its lease: they never agree again.
test.serial('a door that ignores its lease cap is caught: its rows are refused', findsMutation, 'ignore-lease-cap', ['exact convergence once faults heal', 'never over capacity'], 10);
// A tracker restart must be followed within a minute: a run long enough for one to be due.
test.serial('members deaf to "log in again" are caught: they never follow a restarted tracker', findsMutation, 'deaf-to-hints', ['every member follows the tracker into its epoch'], 10, 120);
test.serial('a log that answers before the record is durable is caught: an answered admission is lost', findsMutation, 'answer-before-durable', ['no admission the gate answered is lost'], 10);
