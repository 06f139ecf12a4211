import test from 'ava';
import { FootfallProcess } from './helpers/footfall-process.js';

/** `footfall demo --headless --duration 10` as a new user would run it, on both shipped malls. */
const demo = test.macro(async (t, fixture: string) => {
	t.timeout(150_000);
	const child = new FootfallProcess(['demo', '--headless', '--duration', '10', '--fixture', fixture]);
	t.teardown(() => child.stop());
	const ready = await child.ready(90_000);
	t.log(`${fixture}: ${String(ready.peers)} sensor peers ready in ${String(ready.startupMs)} ms`);
	t.is(await child.exited, 0, child.stderr);
	const summary = child.lines.at(-1)!;
	t.is(summary.type, 'summary', 'the summary is the last line');
	const areas = summary.areas as Record<string, { capacity: number; peak: number; refused: number; occupancy: number }>;
	const datagrams = summary.datagrams as { sent: number; flood: number; saved: number; savedPercent: number };
	const moves = summary.moves as { tried: number; perSecond: number };
	t.log(`moves ${moves.tried} (${moves.perSecond}/s); datagrams sent ${datagrams.sent}, flooding ${datagrams.flood}, saved ${datagrams.saved} (${datagrams.savedPercent}%)`);
	t.is(summary.violations, 0);
	t.true(summary.converged);
	t.true(Object.values(areas).some((area) => area.refused > 0), 'some entry was refused');
	t.true(datagrams.saved > 0, 'hierarchy filtering saved datagrams');
	t.true(Object.values(areas).every((area) => area.peak <= area.capacity && area.occupancy <= area.capacity));
	t.true(Object.values(areas).some((area) => area.peak === area.capacity), 'some area was driven to capacity');
});

test.serial('the demo mall runs 10 s with no violation, converges, refuses and saves datagrams', demo, 'fixtures/malls/demo.json');
test.serial('the large mall runs 10 s with no violation, converges, refuses and saves datagrams', demo, 'fixtures/malls/large.json');
