import test from 'ava';
import { areaId } from '../source/model/ids.js';
import { simulate } from './helpers/simulation.js';

const shop = areaId('shop');

test('members know every identity, role and area from the moment they join', async (t) => {
	const sim = await simulate(t);
	const north = await sim.peer('north');
	const front = await sim.peer('shop-front');
	const ops = await sim.observer();
	await sim.until(() => north.node.directory.size === 3, 3000, 'north sees three members');
	const seen = Object.fromEntries([...north.node.directory.members()].map((member) => [member.id, [member.role, member.sensor]]));
	t.deepEqual(seen, { north: ['sensor', 'north'], 'shop-front': ['sensor', 'shop-front'], ops: ['observer', null] });
	t.is(front.node.directory.get('ops')?.areas, null);
	t.is(ops.node.directory.get('north')?.incarnation, 1);
});

test('an entry at one door reaches the other door and the observer, exactly', async (t) => {
	const sim = await simulate(t);
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const ops = await sim.observer();
	t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	t.true((await sim.settle(front.move('enter', 'staff'))).admitted);
	await sim.until(() => back.counter.ledger(shop)!.occupancy() === 1 && ops.areas()['shop']?.occupancy === 1 && ops.areas()['shop']?.staff === 1, 3000, 'both replicas count them');
	t.is(back.counter.ledger(shop)!.staff(), 1);
});

test('a door with no permit left borrows one from its sibling within the bounded wait', async (t) => {
	const sim = await simulate(t, { capacities: { store: 2 } });
	const front = await sim.peer('shop-front');
	await sim.peer('shop-back');
	await sim.until(() => front.node.directory.get('shop-back') !== undefined, 3000, 'the front door knows the back door');
	t.is(front.counter.permits(shop), 1);
	t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	t.like(await sim.settle(front.move('enter', 'visitor')), { admitted: true });
	t.like(await sim.settle(front.move('enter', 'visitor')), { admitted: false, reason: 'full', area: 'shop' });
});

test('an entry past capacity is refused and the refusal is counted for observers', async (t) => {
	const sim = await simulate(t, { capacities: { store: 1 } });
	const front = await sim.peer('shop-front');
	const ops = await sim.observer();
	t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	t.like(await sim.settle(front.move('enter', 'visitor')), { type: 'entry', admitted: false, reason: 'full', area: 'shop', delta: {} });
	await sim.until(() => ops.areas()['shop']?.refused === 1, 3000, 'the observer counts the refusal');
	t.is(ops.areas()['shop']?.occupancy, 1);
});

test('permits held by a sensor that is not running are not borrowed from', async (t) => {
	const sim = await simulate(t, { capacities: { store: 2 } });
	const front = await sim.peer('shop-front'); // shop-back never joins and keeps its permit
	t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	t.like(await sim.settle(front.move('enter', 'visitor')), { admitted: false, reason: 'no-permit', area: 'shop' });
});

test('idle permits drift to the door where entries happen', async (t) => {
	const sim = await simulate(t, { capacities: { store: 10 } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	await sim.until(() => front.node.directory.get('shop-back') !== undefined && back.node.directory.get('shop-front') !== undefined, 3000, 'the doors know each other');
	for (let n = 0; n < 5; n++) t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	t.is(front.counter.permits(shop), 0);
	await sim.until(() => front.counter.permits(shop) > 0, 5000, 'a permit drifts to the front door');
	t.true(back.counter.permits(shop) < 5);
	t.is(front.counter.permits(shop) + back.counter.permits(shop), 5);
});

test('a second process logging in as the same sensor replaces the first, which stops deciding', async (t) => {
	const sim = await simulate(t);
	const first = await sim.peer('shop-front');
	// Another process with the same account, on another host, with keys of its own.
	const second = await sim.peer('shop-front', { host: 'another-box' });
	t.is(second.incarnation, first.incarnation + 1);
	await sim.settle(first.stopped, 3000, 'the first process stops');
	t.like(await sim.settle(first.move('enter', 'visitor')), { admitted: false, reason: 'stopped' });
	t.is(sim.tracker.book.members().filter((member) => member.id === 'shop-front').length, 1);
});
