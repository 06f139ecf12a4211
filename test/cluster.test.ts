import test from 'ava';
import { areaId } from '../source/model/ids.js';
import { MemoryCluster, eventually } from './helpers/memory-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './helpers/tiny-mall.js';

const shop = areaId('shop');

test('members know every identity, role and area from the moment they join', async (t) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const north = await cluster.peer('north');
	const front = await cluster.peer('shop-front');
	const ops = await cluster.observer();
	await eventually(() => north.node.directory.size === 3, 3000, 'north sees three members');
	const seen = Object.fromEntries([...north.node.directory.members()].map((member) => [member.id, [member.role, member.sensor]]));
	t.deepEqual(seen, { north: ['sensor', 'north'], 'shop-front': ['sensor', 'shop-front'], ops: ['observer', null] });
	t.is(front.node.directory.get('ops')?.areas, null);
	t.is(ops.node.directory.get('north')?.incarnation, 1);
});

test('an entry at one door reaches the other door and the observer, exactly', async (t) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const back = await cluster.peer('shop-back');
	const ops = await cluster.observer();
	t.true((await front.move('enter', 'visitor')).admitted);
	t.true((await front.move('enter', 'staff')).admitted);
	await eventually(() => back.counter.ledger(shop)!.occupancy() === 1 && ops.areas()['shop']?.occupancy === 1 && ops.areas()['shop']?.staff === 1);
	t.is(back.counter.ledger(shop)!.staff(), 1);
});

test('a door with no permit left borrows one from its sibling within the bounded wait', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 2 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	await cluster.peer('shop-back');
	await eventually(() => front.node.directory.get('shop-back') !== undefined, 3000, 'the front door knows the back door');
	t.is(front.counter.permits(shop), 1);
	t.true((await front.move('enter', 'visitor')).admitted);
	const second = await front.move('enter', 'visitor');
	t.like(second, { admitted: true });
	const third = await front.move('enter', 'visitor');
	t.like(third, { admitted: false, reason: 'full', area: 'shop' });
});

test('an entry past capacity is refused and the refusal is counted for observers', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 1 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const ops = await cluster.observer();
	t.true((await front.move('enter', 'visitor')).admitted);
	const refused = await front.move('enter', 'visitor');
	t.like(refused, { type: 'entry', admitted: false, reason: 'full', area: 'shop', delta: {} });
	await eventually(() => ops.areas()['shop']?.refused === 1);
	t.is(ops.areas()['shop']?.occupancy, 1);
});

test('permits held by a sensor that is not running are not borrowed from', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 2 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front'); // shop-back never joins and keeps its permit
	t.true((await front.move('enter', 'visitor')).admitted);
	t.like(await front.move('enter', 'visitor'), { admitted: false, reason: 'no-permit', area: 'shop' });
});

test('idle permits drift to the door where entries happen', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 10 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const back = await cluster.peer('shop-back');
	await eventually(() => front.node.directory.get('shop-back') !== undefined && back.node.directory.get('shop-front') !== undefined);
	for (let n = 0; n < 5; n++) t.true((await front.move('enter', 'visitor')).admitted);
	t.is(front.counter.permits(shop), 0);
	await eventually(() => front.counter.permits(shop) > 0, 5000, 'a permit drifts to the front door');
	t.true(back.counter.permits(shop) < 5);
	t.is(front.counter.permits(shop) + back.counter.permits(shop), 5);
});

test('a second process logging in as the same sensor replaces the first, which stops deciding', async (t) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const first = await cluster.peer('shop-front');
	const second = await cluster.peer('shop-front');
	t.is(second.incarnation, first.incarnation + 1);
	await first.stopped;
	t.like(await first.move('enter', 'visitor'), { admitted: false, reason: 'stopped' });
	t.is(cluster.tracker.book.members().filter((member) => member.id === 'shop-front').length, 1);
});
