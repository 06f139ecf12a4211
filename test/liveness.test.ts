import test from 'ava';
import { Liveness, type LivenessAction } from '../source/network/liveness.js';

const timings = { probeAfterMs: 200, indirectAfterMs: 260, suspectAfterMs: 300, deadAfterMs: 500 };
const kinds = (actions: LivenessAction[]) => actions.map((action) => (action.kind === 'changed' ? `${action.member}:${action.health}` : `${action.kind}:${'to' in action ? action.to : `${action.via}->${action.target}`}`));

test('a neighbour heard from stays alive', (t) => {
	const liveness = new Liveness(timings);
	liveness.watch('a', 0);
	for (let now = 100; now <= 1000; now += 100) {
		liveness.heard('a', now);
		t.deepEqual(liveness.tick(now), []);
	}
	t.is(liveness.health('a'), 'alive');
});

test('a silent neighbour is pinged, probed through others, suspected, then declared dead', (t) => {
	const liveness = new Liveness(timings);
	for (const id of ['a', 'b', 'c']) liveness.watch(id, 0);
	const heardOthers = (now: number) => ['b', 'c'].forEach((id) => liveness.heard(id, now));
	heardOthers(200);
	t.deepEqual(kinds(liveness.tick(200)), ['ping:a']);
	heardOthers(260);
	t.deepEqual(kinds(liveness.tick(260)), ['ping-req:b->a', 'ping-req:c->a']);
	heardOthers(300);
	t.deepEqual(kinds(liveness.tick(300)), ['a:suspect']);
	heardOthers(500);
	t.deepEqual(kinds(liveness.tick(500)), ['a:dead']);
	t.true(liveness.isDead('a'));
	heardOthers(900);
	t.deepEqual(kinds(liveness.tick(900)), [], 'dead stays dead without a word from it');
	heardOthers(1000);
	t.deepEqual(kinds(liveness.tick(1000)), ['ping:a'], 'but once per deadAfterMs it is pinged, in case a partition healed');
	heardOthers(1100);
	t.deepEqual(kinds(liveness.tick(1100)), []);
	heardOthers(1500);
	t.deepEqual(kinds(liveness.tick(1500)), ['ping:a']);
});

test('a suspect or dead neighbour heard again is alive at once', (t) => {
	const liveness = new Liveness(timings);
	liveness.watch('a', 0);
	liveness.tick(600);
	t.is(liveness.health('a'), 'dead');
	const version = liveness.version;
	t.like(liveness.heard('a', 700), { kind: 'changed', member: 'a', health: 'alive', silentMs: 700 });
	t.is(liveness.health('a'), 'alive');
	t.true(liveness.version > version, 'routing sees the change');
});
