import test from 'ava';
import { areaId, sensorId } from '../source/model/ids.js';
import type { MoveAnswer, SensorPeer } from '../source/roles/sensor/sensor-peer.js';
import type { SimCluster } from '../source/simulator/sim-cluster.js';
import { events, simulate } from './helpers/simulation.js';

/**
 * Permits of a dead sensor go back to its area (design.md §5, counting/lease.ts): only
 * what it held above its lease, taken by its granter, with the tracker's say-so.
 */
const shop = areaId('shop');

/** Admissions as they happen, with the most the store ever held. */
class Truth {
	inside = 0;
	peak = 0;

	constructor(readonly sim: SimCluster) {}

	async enter(door: SensorPeer): Promise<MoveAnswer> {
		return (await this.enterAll([door]))[0]!;
	}

	/** People at several doors at once. */
	async enterAll(doors: readonly SensorPeer[]): Promise<MoveAnswer[]> {
		const answers = await this.sim.settle(Promise.all(doors.map((door) => door.move('enter', 'visitor').then((answer) => {
			if (answer.admitted) this.peak = Math.max(this.peak, ++this.inside);
			return answer;
		}))));
		return answers;
	}
}

test('a partitioned peer: the others reclaim its permits and fill the area; healed, the area never went over capacity', async (t) => {
	const capacity = 60;
	const sim = await simulate(t, { capacities: { store: capacity, sideDoor: true } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const side = await sim.peer('shop-side');
	const ops = await sim.observer();
	const doors = [front, back, side];
	await sim.until(() => doors.every((door) => door.node.directory.size === 4), 5000, 'everyone knows everyone');
	// The side door holds a third of the store, and a lease from its granter for part of it.
	await sim.until(() => Number.isFinite(side.counter.budget(shop)) && side.counter.budget(shop) > 0, 5000, 'the side door has a lease');
	t.is(side.counter.permits(shop), 20);
	t.is(side.counter.ledger(shop)!.assignmentOf(side.sensor)?.granter, sensorId('shop-front'));
	const lease = side.counter.budget(shop);
	t.true(lease < 20, `its lease (${lease}) covers only part of what it holds`);

	const truth = new Truth(sim);
	sim.partition('shop-side', true);
	// Cut off from everyone, the side door still admits, but only within its lease, then says why it refuses.
	const sideAnswers: MoveAnswer[] = [];
	for (let n = 0; n < lease + 3; n++) sideAnswers.push(await truth.enter(side));
	const sideAdmitted = sideAnswers.filter((answer) => answer.admitted).length;
	t.is(sideAdmitted, lease);
	t.like(sideAnswers.at(-1), { admitted: false, reason: 'cut-off', area: 'shop' });

	// The others declare it dead, and its granter takes back what it held above its lease.
	await sim.until(() => events(sim, 'reclaim').some((event) => event['from'] === 'shop-side'), 8000, 'the side door permits reclaimed');
	t.like(events(sim, 'reclaim')[0], { sensor: 'shop-front', area: 'shop', from: 'shop-side', permits: 20 - lease });
	// The back door's own granter was the side door: it moved to the front door.
	await sim.until(() => events(sim, 'granter', 'shop-back').length > 0, 8000, 'the back door has a new granter');

	// Together the front and back doors fill the store to the last place.
	let idleRounds = 0;
	for (let round = 0; round < 400 && idleRounds < 3; round++) {
		const answers = await truth.enterAll([front, back]);
		idleRounds = answers.some((answer) => answer.admitted) ? 0 : idleRounds + 1;
	}
	t.is(truth.inside, capacity, 'the store filled: nothing stayed stuck at the cut-off door');
	t.true(truth.peak <= capacity);

	// Healed: everyone converges on the exact count, the side door learns what was taken.
	sim.partition('shop-side', false);
	await sim.until(
		() => ops.areas()['shop']?.occupancy === capacity && doors.every((door) => door.counter.ledger(shop)!.occupancy() === capacity),
		10_000,
		'every replica counts the full store',
	);
	t.is(side.counter.permits(shop), 0, 'the side door knows its permits were taken');
	for (const door of doors) t.like(await truth.enter(door), { admitted: false, reason: 'full' });
	t.is(truth.peak, capacity, 'never over capacity');
	const permits = doors.reduce((sum, door) => sum + door.counter.ledger(shop)!.permitsOf(door.sensor), 0);
	t.is(permits, 0, 'no permit left anywhere: none was spent twice, none lost');
});

test('a sensor that never joined: its granter takes back its whole share, and the store fills', async (t) => {
	const sim = await simulate(t, { capacities: { store: 10 } });
	const back = await sim.peer('shop-back'); // shop-front never joins
	await sim.until(() => events(sim, 'reclaim').length > 0, 8000, 'the absent door share reclaimed');
	t.like(events(sim, 'reclaim')[0], { from: 'shop-front', permits: 5, total: 5 });
	const truth = new Truth(sim);
	for (let n = 0; n < 10; n++) t.like(await truth.enter(back), { admitted: true });
	t.like(await truth.enter(back), { admitted: false, reason: 'full' });
});

test('a holder whose granter dies moves to the next sibling and goes on admitting past its first lease', async (t) => {
	const sim = await simulate(t, { capacities: { store: 60, sideDoor: true } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const side = await sim.peer('shop-side');
	await sim.until(() => [front, back, side].every((door) => door.node.directory.size === 3), 5000, 'everyone knows everyone');
	await sim.until(() => Number.isFinite(side.counter.budget(shop)) && side.counter.budget(shop) > 0, 5000, 'the side door has a lease');
	const firstLease = side.counter.budget(shop);
	await sim.crash('shop-front'); // the side door's granter
	await sim.until(() => events(sim, 'granter', 'shop-side').length > 0, 5000, 'the side door moved to another granter');
	t.like(events(sim, 'granter', 'shop-side')[0], { sensor: 'shop-side', area: 'shop', granter: 'shop-back', previous: 'shop-front' });
	const truth = new Truth(sim);
	for (let n = 0; n < 30; n++) t.like(await truth.enter(side), { admitted: true }, `entry ${n + 1}`);
	t.true(truth.inside > firstLease && truth.inside > 20, 'past its first lease and past its own share');
});
