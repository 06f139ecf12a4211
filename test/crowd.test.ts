import test from 'ava';
import { areaId, sensorId } from '../source/model/ids.js';
import { Crowd, type PlannedMove } from '../source/simulation/crowd.js';
import { falseRefusals } from '../source/simulation/demo-summary.js';
import { LatencyRecorder } from '../source/simulation/latency.js';
import { tinyLayout } from './helpers/tiny-layout.js';

const ground = areaId('ground');
const shop = areaId('shop');
const arrive = (sensor = 'north'): PlannedMove => ({ person: null, kind: 'visitor', sensor: sensorId(sensor), direction: 'enter', to: { floor: ground, store: null } });
const intoShop: PlannedMove = { person: null, kind: 'visitor', sensor: sensorId('shop-front'), direction: 'enter', to: { floor: ground, store: shop } };
const outOfShop: PlannedMove = { person: null, kind: 'visitor', sensor: sensorId('shop-back'), direction: 'exit', to: { floor: ground, store: null } };

test('false refusals: refused with room by the truth, or an exit refused at all — by reason; refused when full is no false one', (t) => {
	// A shop of 2 in a mall of 10.
	const crowd = new Crowd(tinyLayout({ store: 2 }), () => 0.5);
	crowd.settle(arrive(), true, null, null);
	crowd.settle(arrive('south'), true, null, null);
	// The shop is empty by the truth: a refusal there is the network's doing.
	crowd.settle(intoShop, false, shop, 'no-permit');
	crowd.settle(intoShop, false, shop, 'full');
	crowd.settle(intoShop, true, null, null);
	crowd.settle(intoShop, true, null, null);
	// Now it is full by the truth: refusing is right, whatever the reason given.
	crowd.settle(intoShop, false, shop, 'full');
	crowd.settle(intoShop, false, shop, 'no-permit');
	// A person inside who is not let out is always a false refusal.
	crowd.settle(outOfShop, false, shop, 'stopped');
	// A move no gate was asked about (its sensor was down) is no refusal at all.
	crowd.settle(arrive(), false, null, null);
	t.deepEqual(crowd.falseRefusals, { 'no-permit': 1, full: 1, stopped: 1 });
	t.deepEqual(falseRefusals(crowd, 12), { total: 3, percent: 25, by: { 'no-permit': 1, full: 1, stopped: 1 } });
	t.is(crowd.truth.get(shop)!.visitors, 2);
});

test('staff always have room: a refused staff move is a false refusal', (t) => {
	const crowd = new Crowd(tinyLayout({ mall: 1, floor: 1 }), () => 0.5);
	crowd.settle(arrive(), true, null, null);
	t.false(crowd.hadRoom(arrive()), 'the mall is full for visitors');
	t.true(crowd.hadRoom({ ...arrive('staff'), kind: 'staff' }));
});

test('decision latency: nearest-rank percentiles over every sample', (t) => {
	const latency = new LatencyRecorder();
	t.deepEqual(latency.summary(), { p50: 0, p99: 0, max: 0 });
	for (let ms = 1; ms <= 2000; ms++) latency.record(ms / 10);
	t.is(latency.count, 2000);
	t.deepEqual(latency.summary(), { p50: 100, p99: 198, max: 200 });
});

test('staff come for a shift, one per store and floor, not in an endless stream', (t) => {
	// Three areas below the mall's root: a shift of two. Every move is let through.
	let seed = 7;
	const crowd = new Crowd(tinyLayout({ mall: 1000, floor: 1000, store: 1000 }), () => ((seed = (seed * 16807) % 2147483647) / 2147483647));
	let staffArrivals = 0;
	for (let step = 0; step < 20_000; step++) {
		const move = crowd.plan();
		if (!move) continue;
		if (move.kind === 'staff' && move.person === null) staffArrivals++;
		crowd.settle(move, true, null, null);
		t.true(crowd.truth.get(areaId('mall'))!.staff <= 2);
	}
	t.true(staffArrivals >= 2, 'the shift came');
	t.true(crowd.truth.get(areaId('mall'))!.visitors > 0);
});
