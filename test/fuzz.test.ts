import test from 'ava';
import { areaId } from '../source/model/ids.js';
import type { Address } from '../source/network/address.js';
import type { TrafficCounters as Traffic } from '../source/network/traffic.js';
import { seededRandom, type Random } from '../source/runtime/random.js';
import { parseFrame } from '../source/protocol/frame.js';
import { TRACKER_ADDRESS } from '../source/simulator/sim-cluster.js';
import { Attacker } from './helpers/attacker.js';
import { simulate } from './helpers/simulation.js';

/**
 * Seeded fuzzing of the tracker and a peer (issue 8): random bytes, and datagrams the
 * network really carried, mutated — bits flipped, cut short, grown, spliced, headers
 * changed — or replayed as they were. Nothing may crash, no count may move, and every
 * datagram is either dropped and counted by reason or answered as what it is (a replayed
 * hello gets a challenge, a replayed login its answer again).
 */
const shop = areaId('shop');
const PER_TARGET = 50_000;
const BATCH = 500;

function dropsOf(traffic: Traffic): number {
	let sum = 0;
	for (const count of traffic.dropped.values()) sum += count;
	return sum;
}

function mutate(random: Random, pool: readonly Buffer[]): Buffer {
	const pick = (): Buffer => pool[Math.floor(random.fraction() * pool.length)]!;
	const roll = random.fraction();
	if (roll < 0.2) return random.bytes(Math.floor(random.fraction() * 1600));
	const bytes = Buffer.from(pick());
	if (roll < 0.35) return bytes; // replayed as it was
	if (roll < 0.6) {
		for (let flips = 1 + Math.floor(random.fraction() * 4); flips > 0; flips--) {
			const bit = Math.floor(random.fraction() * bytes.length * 8);
			bytes[bit >> 3]! ^= 1 << (bit & 7);
		}
		return bytes;
	}
	if (roll < 0.7) return bytes.subarray(0, Math.floor(random.fraction() * bytes.length));
	if (roll < 0.8) return Buffer.concat([bytes, random.bytes(1 + Math.floor(random.fraction() * 64))]);
	if (roll < 0.9) {
		const other = pick();
		return Buffer.concat([bytes.subarray(0, Math.floor(random.fraction() * bytes.length)), other.subarray(Math.floor(random.fraction() * other.length))]);
	}
	// The header: magic, version, kind, epoch, sender, incarnation, sequence number.
	const at = Math.floor(random.fraction() * Math.min(bytes.length, 48));
	if (bytes.length > 0) bytes[at] = Math.floor(random.fraction() * 256);
	return bytes;
}

test('100,000 random and mutated datagrams at the tracker and a peer: no crash, no count moves, every one dropped by reason or answered', async (t) => {
	t.timeout(120_000);
	const sim = await simulate(t, { seed: 8 });
	// Real traffic first, to have real datagrams to mutate: logins, rows, probes, loans.
	const pool: Buffer[] = [];
	sim.network.tap((_from, _to, bytes) => {
		if (pool.length < 2000) pool.push(Buffer.from(bytes));
	});
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const ops = await sim.observer();
	let inside = 0;
	for (let n = 0; n < 4; n++) if ((await sim.settle((n % 2 === 0 ? front : back).move('enter', 'visitor'))).admitted) inside++;
	if ((await sim.settle(back.move('exit', 'visitor'))).admitted) inside--;
	await sim.runFor(10_000);
	await sim.until(() => ops.areas()['shop']?.occupancy === inside, 5000, `the observer at ${inside}`);
	t.true(pool.length > 100, `${pool.length} real datagrams to start from`);

	const mallory = new Attacker(sim);
	const random = seededRandom(20261201);
	const answered = new Map<string, number>();
	let hints = 0;
	sim.network.tap((from, to, bytes) => {
		if (to.host !== mallory.host) return;
		// A frame of an old epoch is dropped (and counted) and also told to log in again: not a second answer.
		const frame = parseFrame(bytes);
		if (frame.ok && frame.value.kind === 'clear' && frame.value.body.toString().includes('"type":"rejoin"')) hints++;
		else answered.set(from.host, (answered.get(from.host) ?? 0) + 1);
	});
	// A replayed "log in again" hint is neither dropped nor answered: the peer asks the tracker whether it is true.
	const targets: [string, Address, Traffic, () => number][] = [
		['tracker', TRACKER_ADDRESS, sim.tracker.link.traffic, () => 0],
		['shop-front', front.address, front.node.traffic, () => front.node.hintsHeard],
	];
	for (const [name, address, traffic, checked] of targets) {
		const dropsBefore = dropsOf(traffic);
		const checkedBefore = checked();
		for (let sent = 0; sent < PER_TARGET; sent += BATCH) {
			for (let n = 0; n < BATCH; n++) mallory.send(address, mutate(random, pool));
			await sim.runFor(20);
		}
		await sim.runFor(500);
		const dropped = dropsOf(traffic) - dropsBefore;
		const answers = answered.get(name) ?? 0;
		const hintsChecked = checked() - checkedBefore;
		t.log(`${name}: ${PER_TARGET} datagrams, ${dropped} dropped (${JSON.stringify(Object.fromEntries(traffic.dropped))}), ${answers} answered, ${hintsChecked} hints checked with the tracker; ${hints} told to log in again so far`);
		t.is(dropped + answers + hintsChecked, PER_TARGET, `${name}: each one dropped and counted, or answered`);
	}

	// Everyone still runs and counts exactly as before.
	t.true(inside > 0);
	t.is(front.counter.ledger(shop)!.occupancy(), inside);
	t.is(back.counter.ledger(shop)!.occupancy(), inside);
	t.is(ops.areas()['shop']?.occupancy, inside);
	t.like(await sim.settle(back.move('exit', 'visitor')), { admitted: true }, 'the peers still decide');
	t.like(await sim.settle(front.move('enter', 'visitor')), { admitted: true }, 'the fuzzed peer too');
	await sim.until(() => ops.areas()['shop']?.occupancy === inside, 5000, 'and their rows still reach the observer');
	t.true(sim.tracker.logins >= 3);
});
