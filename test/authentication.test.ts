import test from 'ava';
import { areaId } from '../source/model/ids.js';
import { encodeMember } from '../source/protocol/frame.js';
import { encodeBody } from '../source/protocol/codec.js';
import { randomKey } from '../source/security/keys.js';
import { seededRandom } from '../source/runtime/random.js';
import type { SimCluster } from '../source/simulator/sim-cluster.js';
import { Attacker } from './helpers/attacker.js';
import { events, simulate } from './helpers/simulation.js';

const refused = test.macro(async (t, user: string, overrides: { password?: string; sensor?: string }, reason: RegExp, logged: RegExp) => {
	const sim = await simulate(t);
	const error = await t.throwsAsync(sim.peer(user, overrides));
	t.regex(error?.message ?? '', reason);
	t.is(sim.tracker.book.members().length, 0, 'nobody was let in');
	t.is(sim.tracker.refusals, 1, 'the tracker counted the refusal');
	t.regex(String(events(sim, 'login-refused', 'tracker')[0]?.['reason']), logged, "the tracker's own log says exactly why");
});

test('a wrong password is refused, and only the tracker says which part was wrong', refused, 'north', { password: 'guess' }, /refused the login: the user name or password was not accepted/, /wrong password for user "north"/);
test('an unknown user is refused in the same words', refused, 'mallory', { password: 'x' }, /refused the login: the user name or password was not accepted/, /unknown user "mallory"/);
test('an account claiming another sensor is refused with the reason', refused, 'north', { sensor: 'south' }, /account "north" speaks for sensor "north", not "south"/, /speaks for sensor/);
test('an observer account cannot join as a sensor', refused, 'ops', {}, /"ops" is an observer account, not a sensor/, /observer account/);

test('repeated bad logins are slowed down', async (t) => {
	const sim = await simulate(t);
	for (let n = 0; n < 3; n++) await t.throwsAsync(sim.peer('north', { password: 'guess' }), { message: /not accepted/ });
	await t.throwsAsync(sim.peer('north'), { message: /too many failed logins for "north"/ });
});

async function twoDoors(sim: SimCluster) {
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	await sim.until(() => back.node.directory.get('shop-front') !== undefined && front.node.directory.get('shop-back') !== undefined, 3000, 'the doors know each other');
	return { front, back };
}

test('datagrams from a non-member, garbled or replayed are dropped and counted, and change no count', async (t) => {
	const sim = await simulate(t);
	const { front, back } = await twoDoors(sim);
	const intruder = new Attacker(sim);
	const forged = encodeBody({ type: 'rows', rows: [{ a: 'shop', e: 99, x: 0, se: 0, sx: 0, r: 0, g: {}, s: Buffer.alloc(64).toString('base64') }] });
	const header = { epoch: front.node.welcome.epoch, incarnation: 1, seq: 1 };
	const random = seededRandom(5);
	// Not a member at all.
	intruder.send(front.address, encodeMember(randomKey(random), { ...header, sender: 'mallory' }, forged));
	// Claims to be shop-back, but does not have its key.
	intruder.send(front.address, encodeMember(randomKey(random), { ...header, sender: 'shop-back' }, forged));
	// Garbage.
	intruder.send(front.address, Buffer.from('hello there'));
	// A real datagram from shop-back, replayed.
	const captured: Buffer[] = [];
	sim.network.tap((from, to, bytes) => {
		if (from.host === 'shop-back' && to.host === 'shop-front') captured.push(Buffer.from(bytes));
	});
	t.true((await sim.settle(back.move('enter', 'visitor'))).admitted);
	await sim.until(() => captured.length > 0 && front.counter.ledger(areaId('shop'))!.occupancy() === 1, 3000, 'the entry reaches the front door');
	for (const bytes of captured) intruder.send(front.address, bytes);
	const dropped = front.node.traffic.dropped;
	await sim.until(() => (dropped.get('unknown-sender') ?? 0) >= 1 && (dropped.get('auth-failed') ?? 0) >= 1 && (dropped.get('bad-magic') ?? 0) >= 1 && (dropped.get('replayed') ?? 0) >= 1, 3000, 'every drop counted by reason');
	t.is(front.counter.ledger(areaId('shop'))!.occupancy(), 1);
});

test('an observer cannot change a count', async (t) => {
	const sim = await simulate(t);
	const front = await sim.peer('shop-front');
	const ops = await sim.observer();
	await sim.until(() => ops.node.directory.get('shop-front') !== undefined && front.node.directory.get('ops') !== undefined, 3000, 'they know each other');
	ops.node.send('shop-front', { type: 'rows', rows: [{ a: 'shop', e: 5, x: 0, se: 0, sx: 0, r: 0, g: {}, s: Buffer.alloc(64).toString('base64') }] });
	await sim.until(() => (front.node.traffic.dropped.get('not-allowed') ?? 0) === 1, 3000, 'the row is refused as not allowed');
	t.is(front.counter.ledger(areaId('shop'))!.occupancy(), 0);
});
