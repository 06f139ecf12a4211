import test from 'ava';
import { DEFAULT_LIVENESS, Liveness, type LivenessAction } from '../source/network/liveness.js';

const timings = { ...DEFAULT_LIVENESS, probeAfterMs: 200, probeEveryMs: 20, indirectAfterMs: 260, indirectEveryMs: 50, indirectProbes: 2, suspectAfterMs: 300, deadAfterMs: 500, stallMs: 100 };
const TICK = 10;
const kinds = (actions: LivenessAction[]) => actions.map((action) => (action.kind === 'changed' ? `${action.member}:${action.health}` : `${action.kind}:${'to' in action ? action.to : `${action.via}->${action.target}`}`));

/** Ticks every TICK ms from `from` to `to`, others heard all along; returns every action, with its time. */
function run(liveness: Liveness, from: number, to: number, others: readonly string[]): [number, string][] {
	const seen: [number, string][] = [];
	for (let now = from; now <= to; now += TICK) {
		for (const id of others) liveness.heard(id, now);
		for (const kind of kinds(liveness.tick(now, TICK))) seen.push([now, kind]);
	}
	return seen;
}

test('a neighbour heard from stays alive and is never probed', (t) => {
	const liveness = new Liveness(timings);
	liveness.watch('a', 0);
	for (let now = 0; now <= 2000; now += TICK) {
		if (now % 100 === 0) liveness.heard('a', now);
		t.deepEqual(liveness.tick(now, TICK), []);
	}
	t.is(liveness.health('a'), 'alive');
});

test('a silent neighbour is pinged again and again, probed through others, suspected, then declared dead', (t) => {
	const liveness = new Liveness(timings);
	for (const id of ['a', 'b', 'c']) liveness.watch(id, 0);
	const seen = run(liveness, 0, 600, ['b', 'c']);
	const at = (kind: string) => seen.filter(([, each]) => each === kind).map(([now]) => now);
	t.deepEqual(at('ping:a'), [200, 220, 240, 260, 280, 300, 320, 340, 360, 380, 400, 420, 440, 460, 480], 'a ping every probeEveryMs from probeAfterMs until dead');
	t.deepEqual(at('ping-req:b->a').length + at('ping-req:c->a').length, 10, 'two others asked every indirectEveryMs');
	t.true(at('ping-req:b->a')[0]! >= 260);
	t.deepEqual(at('a:suspect'), [300]);
	t.deepEqual(at('a:dead'), [500]);
	t.true(liveness.isDead('a'));
	t.deepEqual(at('ping:a').filter((now) => now > 500), [], 'dead: no probing');
	const later = run(liveness, 610, 1010, ['b', 'c']);
	t.deepEqual(later, [[1000, 'ping:a']], 'but once per deadAfterMs it is pinged, in case a partition healed');
});

test('a suspect or dead neighbour heard again is alive at once: that is its refutation', (t) => {
	const liveness = new Liveness(timings);
	liveness.watch('a', 0);
	liveness.tick(600, 600);
	t.is(liveness.health('a'), 'dead');
	const version = liveness.version;
	t.like(liveness.heard('a', 700), { kind: 'changed', member: 'a', health: 'alive', silentMs: 700 });
	t.is(liveness.health('a'), 'alive');
	t.true(liveness.version > version, 'routing sees the change');
});

test('time this member itself was stalled is not held against its neighbours', (t) => {
	const liveness = new Liveness(timings);
	liveness.watch('a', 0);
	liveness.heard('a', 0);
	liveness.tick(10, TICK);
	// Our event loop stopped for 2 s: nothing could have been heard meanwhile.
	t.deepEqual(liveness.tick(2010, TICK), []);
	t.is(liveness.health('a'), 'alive');
	t.deepEqual(kinds(liveness.tick(2020, TICK)), [], 'its silence counts from where we woke');
});
