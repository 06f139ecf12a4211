import test from 'ava';
import { areaId, sensorId } from '../source/model/ids.js';
import type { MoveAnswer, SensorPeer } from '../source/roles/sensor-peer.js';
import type { RoleEvent } from '../source/roles/events.js';
import { eventually, MemoryCluster } from './helpers/memory-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './helpers/tiny-mall.js';

/**
 * Permits of a dead sensor go back to its area (design.md §5, counting/lease.ts): only
 * what it held above its lease, taken by its granter, with the tracker's say-so.
 */
const shop = areaId('shop');

/** Admissions as they happen, with the most the store ever held. */
class Truth {
	inside = 0;
	peak = 0;

	async enter(door: SensorPeer): Promise<MoveAnswer> {
		const answer = await door.move('enter', 'visitor');
		if (answer.admitted) this.peak = Math.max(this.peak, ++this.inside);
		return answer;
	}
}

test('a partitioned peer: the others reclaim its permits and fill the area; healed, the area never went over capacity', async (t) => {
	t.timeout(40_000);
	const capacity = 60;
	const cluster = new MemoryCluster(await tinyMall({ store: capacity, sideDoor: true }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const events: RoleEvent[] = [];
	const front = await cluster.peer('shop-front', { events: (event) => events.push(event) });
	const back = await cluster.peer('shop-back', { events: (event) => events.push(event) });
	const side = await cluster.peer('shop-side');
	const ops = await cluster.observer();
	const doors = [front, back, side];
	await eventually(() => doors.every((door) => door.node.directory.size === 4), 5000, 'everyone knows everyone');
	// The side door holds a third of the store, and a lease from its granter for part of it.
	await eventually(() => Number.isFinite(side.counter.budget(shop)) && side.counter.budget(shop) > 0, 5000, 'the side door has a lease');
	t.is(side.counter.permits(shop), 20);
	t.is(side.counter.ledger(shop)!.assignmentOf(side.sensor)?.granter, sensorId('shop-front'));
	const lease = side.counter.budget(shop);
	t.true(lease < 20, `its lease (${lease}) covers only part of what it holds`);

	const truth = new Truth();
	cluster.partition(side, true);
	// Cut off from everyone, the side door still admits, but only within its lease, then says why it refuses.
	const sideAnswers: MoveAnswer[] = [];
	for (let n = 0; n < lease + 3; n++) sideAnswers.push(await truth.enter(side));
	const sideAdmitted = sideAnswers.filter((answer) => answer.admitted).length;
	t.is(sideAdmitted, lease);
	t.like(sideAnswers.at(-1), { admitted: false, reason: 'cut-off', area: 'shop' });

	// The others declare it dead, and its granter takes back what it held above its lease.
	await eventually(() => events.some((event) => event.type === 'reclaim' && event['from'] === 'shop-side'), 8000, 'the side door permits reclaimed');
	t.like(events.find((event) => event.type === 'reclaim'), { sensor: 'shop-front', area: 'shop', from: 'shop-side', permits: 20 - lease });
	// The back door's own granter was the side door: it moved to the front door.
	await eventually(() => events.some((event) => event.type === 'granter' && event['sensor'] === 'shop-back'), 8000, 'the back door has a new granter');

	// Together the front and back doors fill the store to the last place.
	let idleRounds = 0;
	for (let round = 0; round < 400 && idleRounds < 3; round++) {
		const answers = await Promise.all([truth.enter(front), truth.enter(back)]);
		idleRounds = answers.some((answer) => answer.admitted) ? 0 : idleRounds + 1;
	}
	t.is(truth.inside, capacity, 'the store filled: nothing stayed stuck at the cut-off door');
	t.true(truth.peak <= capacity);

	// Healed: everyone converges on the exact count, the side door learns what was taken.
	cluster.partition(side, false);
	await eventually(
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
	t.timeout(20_000);
	const cluster = new MemoryCluster(await tinyMall({ store: 10 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const events: RoleEvent[] = [];
	const back = await cluster.peer('shop-back', { events: (event) => events.push(event) }); // shop-front never joins
	await eventually(() => events.some((event) => event.type === 'reclaim'), 5000, 'the absent door share reclaimed');
	t.like(events.find((event) => event.type === 'reclaim'), { from: 'shop-front', permits: 5, total: 5 });
	const truth = new Truth();
	for (let n = 0; n < 10; n++) t.like(await truth.enter(back), { admitted: true });
	t.like(await truth.enter(back), { admitted: false, reason: 'full' });
});

test('a holder whose granter dies moves to the next sibling and goes on admitting past its first lease', async (t) => {
	t.timeout(20_000);
	const cluster = new MemoryCluster(await tinyMall({ store: 60, sideDoor: true }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const events: RoleEvent[] = [];
	const front = await cluster.peer('shop-front');
	const back = await cluster.peer('shop-back');
	const side = await cluster.peer('shop-side', { events: (event) => events.push(event) });
	await eventually(() => [front, back, side].every((door) => door.node.directory.size === 3), 5000);
	await eventually(() => Number.isFinite(side.counter.budget(shop)) && side.counter.budget(shop) > 0, 5000, 'the side door has a lease');
	const firstLease = side.counter.budget(shop);
	await front.crash(); // the side door's granter
	await eventually(() => events.some((event) => event.type === 'granter'), 5000, 'the side door moved to another granter');
	t.like(events.find((event) => event.type === 'granter'), { sensor: 'shop-side', area: 'shop', granter: 'shop-back', previous: 'shop-front' });
	const truth = new Truth();
	for (let n = 0; n < 30; n++) t.like(await truth.enter(side), { admitted: true }, `entry ${n + 1}`);
	t.true(truth.inside > firstLease && truth.inside > 20, 'past its first lease and past its own share');
});
