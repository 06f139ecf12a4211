import test from 'ava';
import { encodeMember } from '../source/protocol/frame.js';
import { encodeBody } from '../source/protocol/codec.js';
import { randomKey } from '../source/security/keys.js';
import { areaId } from '../source/model/ids.js';
import { MemoryCluster, eventually } from './helpers/memory-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './helpers/tiny-mall.js';
import { systemRandom } from '../source/runtime/random.js';

const refused = test.macro(async (t, user: string, overrides: { password?: string; sensor?: string }, reason: RegExp) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const error = await t.throwsAsync(cluster.peer(user, overrides));
	t.regex(error?.message ?? '', reason);
	t.is(cluster.tracker.book.members().length, 0, 'nobody was let in');
	t.is(cluster.tracker.refusals, 1, 'the tracker counted the refusal');
});

test('a wrong password is refused with the reason', refused, 'north', { password: 'guess' }, /refused the login: wrong password for user "north"/);
test('an unknown user is refused with the reason', refused, 'mallory', { password: 'x' }, /refused the login: unknown user "mallory"/);
test('an account claiming another sensor is refused with the reason', refused, 'north', { sensor: 'south' }, /account "north" speaks for sensor "north", not "south"/);
test('an observer account cannot join as a sensor', refused, 'ops', {}, /"ops" is an observer account, not a sensor/);

test('repeated bad logins are slowed down', async (t) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	for (let n = 0; n < 3; n++) await t.throwsAsync(cluster.peer('north', { password: 'guess' }), { message: /wrong password/ });
	await t.throwsAsync(cluster.peer('north'), { message: /too many failed logins for "north"/ });
});

test('datagrams from a non-member, garbled or replayed are dropped and counted, and change no count', async (t) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const back = await cluster.peer('shop-back');
	await eventually(() => back.node.directory.get('shop-front') !== undefined && front.node.directory.get('shop-back') !== undefined);
	const intruder = cluster.network.bind();
	const forged = encodeBody({ type: 'rows', rows: [{ a: 'shop', e: 99, x: 0, se: 0, sx: 0, r: 0, g: {} }] });
	const header = { epoch: front.node.welcome.epoch, incarnation: 1, seq: 1 };
	// Not a member at all.
	intruder.send(front.node.address, encodeMember(randomKey(systemRandom), { ...header, sender: 'mallory' }, forged));
	// Claims to be shop-back, but does not have its key.
	intruder.send(front.node.address, encodeMember(randomKey(systemRandom), { ...header, sender: 'shop-back' }, forged));
	// Garbage.
	intruder.send(front.node.address, Buffer.from('hello there'));
	// A real datagram from shop-back, replayed.
	const captured: Buffer[] = [];
	const original = cluster.network.carry.bind(cluster.network);
	cluster.network.carry = (from, to, bytes) => {
		if (from.port === back.node.address.port && to.port === front.node.address.port) captured.push(bytes);
		original(from, to, bytes);
	};
	t.true((await back.move('enter', 'visitor')).admitted);
	await eventually(() => captured.length > 0 && front.counter.ledger(areaId('shop'))!.occupancy() === 1);
	for (const bytes of captured) intruder.send(front.node.address, bytes);
	const dropped = front.node.link.traffic.dropped;
	await eventually(() => (dropped.get('unknown-sender') ?? 0) >= 1 && (dropped.get('auth-failed') ?? 0) >= 1 && (dropped.get('bad-magic') ?? 0) >= 1 && (dropped.get('replayed') ?? 0) >= 1);
	t.is(front.counter.ledger(areaId('shop'))!.occupancy(), 1);
});

test('an observer cannot change a count', async (t) => {
	const cluster = new MemoryCluster(await tinyMall(), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const ops = await cluster.observer();
	await eventually(() => ops.node.directory.get('shop-front') !== undefined && front.node.directory.get('ops') !== undefined);
	ops.node.send('shop-front', { type: 'rows', rows: [{ a: 'shop', e: 5, x: 0, se: 0, sx: 0, r: 0, g: {} }] });
	await eventually(() => (front.node.link.traffic.dropped.get('not-allowed') ?? 0) === 1);
	t.is(front.counter.ledger(areaId('shop'))!.occupancy(), 0);
});
