import test from 'ava';
import { areaId } from '../source/model/ids.js';
import { events, simulate } from './helpers/simulation.js';

const shop = areaId('shop');

test('a peer killed and restarted from its log comes back as itself with its own counts', async (t) => {
	const sim = await simulate(t, { capacities: { store: 4 } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const ops = await sim.observer();
	await sim.until(() => front.node.directory.size === 3 && back.node.directory.size === 3, 3000, 'everyone knows everyone');
	for (let n = 0; n < 3; n++) t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	await sim.crash('shop-front'); // as kill -9: no leave, no flush, and the disk keeps only what was fsynced
	const again = await sim.peer('shop-front');
	t.is(again.incarnation, front.incarnation + 1);
	t.is(again.counter.ledger(shop)!.occupancy(), 3, 'it serves knowing all three');
	const recovery = events(sim, 'recovery', 'shop-front').at(-1);
	t.like(recovery, { type: 'recovery', sensor: 'shop-front', incarnation: 2 });
	t.true((recovery?.['replayed'] as number) >= 3, 'three admissions, and the leases it granted, replayed');
	// The store holds 4: one more fits, and no permit is spent twice.
	t.true((await sim.settle(again.move('enter', 'visitor'))).admitted);
	t.like(await sim.settle(again.move('enter', 'visitor')), { admitted: false, reason: 'full' });
	await sim.until(() => ops.areas()['shop']?.occupancy === 4, 3000, 'the observer counts four');
	t.is([...ops.node.directory.members()].filter((member) => member.id === 'shop-front').length, 1, 'one identity in the table');
});

test('a peer whose log is gone gets its own counts back from the replicas of its areas', async (t) => {
	const sim = await simulate(t, { capacities: { store: 4 } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	await sim.until(() => front.node.directory.get('shop-back') !== undefined, 3000, 'the doors know each other');
	for (let n = 0; n < 2; n++) t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	await sim.until(() => back.counter.ledger(shop)!.row(front.sensor).entries === 2, 3000, 'the back door counts both');
	await sim.crash('shop-front');
	sim.host('shop-front').disk.wipe(); // a new box: no keys, no log
	const again = await sim.peer('shop-front');
	t.is(again.counter.ownRow(shop).entries, 2);
	t.like(events(sim, 'recovery', 'shop-front').at(-1), { fetched: 1, replayed: 0 });
	// Store of 4 with 2 inside: whatever the doors do, at most 2 more get in.
	const answers = await sim.settle(Promise.all([0, 1, 2].flatMap(() => [again.move('enter', 'visitor'), back.move('enter', 'visitor')])));
	t.is(answers.filter((answer) => answer.admitted).length, 2);
});

test('a restarted peer decides on a complete view: its status is never negative after its ready line', async (t) => {
	const sim = await simulate(t, { capacities: { store: 3 } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	await sim.until(() => back.node.directory.get('shop-front') !== undefined && front.node.directory.get('shop-back') !== undefined, 3000, 'the doors know each other');
	// People come in by the front and leave by the back: the back door's own row is all exits.
	for (let round = 0; round < 6; round++) {
		t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
		await sim.until(() => back.counter.ledger(shop)!.occupancy() > 0, 3000, 'the back door sees them');
		t.true((await sim.settle(back.move('exit', 'visitor'))).admitted);
	}
	await sim.crash('shop-back');
	const again = await sim.peer('shop-back');
	const status = again.status();
	t.like(status.areas['shop'], { occupancy: 0 });
	t.true(status.areas['shop']!.permits >= 0, `permits ${status.areas['shop']!.permits}`);
	t.true((await sim.settle(again.move('enter', 'visitor'))).admitted, 'it decides again, on the counts the truth has');
});

test('the tracker restarted: counting goes on meanwhile, and members move to the new epoch by themselves, keeping their incarnation', async (t) => {
	const sim = await simulate(t, { capacities: { store: 6 } });
	const front = await sim.peer('shop-front');
	const back = await sim.peer('shop-back');
	const ops = await sim.observer();
	await sim.until(() => front.node.directory.size === 3 && back.node.directory.size === 3 && ops.node.directory.size === 3, 3000, 'everyone knows everyone');
	t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	const oldEpoch = sim.tracker.epoch;
	await sim.crashTracker();
	// The tracker is down: the sensors still decide and tell each other.
	t.like(await sim.settle(back.move('enter', 'visitor')), { admitted: true });
	await sim.until(() => ops.areas()['shop']?.occupancy === 2, 3000, 'counts move while the tracker is down');
	await sim.runFor(10_000);
	t.true([front, back, ops].every((member) => member.node.welcome.epoch === oldEpoch), 'silence alone makes nobody log in again');
	const tracker = await sim.restartTracker();
	t.not(tracker.epoch, oldEpoch);
	await sim.until(() => [front, back, ops].every((member) => member.node.welcome.epoch === tracker.epoch), 8000, 'everyone on the new epoch');
	await sim.until(() => front.node.directory.size === 3 && back.node.directory.size === 3, 3000, 'directories rebuilt');
	t.is(ops.areas()['shop']?.occupancy, 2, 'counts unchanged');
	t.like(await sim.settle(front.move('enter', 'visitor')), { admitted: true });
	await sim.until(() => ops.areas()['shop']?.occupancy === 3 && back.counter.ledger(shop)!.occupancy() === 3, 3000, 'counting on the new epoch');
	t.is(front.incarnation, 1, 'the same process: the same incarnation');
	t.true(events(sim, 'rejoined', 'shop-front').length >= 1, 'the re-login printed a line');
	t.like(events(sim, 'member-joined', 'tracker').filter((event) => event['id'] === 'shop-front').at(-1), { via: 'device key', continuing: true });
});

test('a crashed peer is declared dead within 3 s and is sent nothing more', async (t) => {
	const sim = await simulate(t, { capacities: { store: 6 } });
	const front = await sim.peer('shop-front');
	await sim.peer('shop-back');
	await sim.observer();
	await sim.until(() => front.node.directory.size === 3 && front.node.liveness.health('shop-back') === 'alive', 3000, 'front watches back');
	const stoppedAt = sim.now;
	await sim.crash('shop-back');
	await sim.until(() => front.node.liveness.isDead('shop-back'), 4000, 'shop-back declared dead');
	const detectedMs = sim.now - stoppedAt;
	t.log(`declared dead ${Math.round(detectedMs)} ms after the crash`);
	t.true(detectedMs < 3000);
	t.false(front.router.recipients(shop, front.node.directory, front.node.liveness).includes('shop-back'));
	const sent = front.node.link.sentTo.get('shop-back') ?? 0;
	for (let n = 0; n < 3; n++) t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	await sim.runFor(2000); // two anti-entropy rounds: nothing to the dead but a revival ping
	t.true((front.node.link.sentTo.get('shop-back') ?? 0) <= sent + 1);
});

test('a flipped byte in a log record costs nothing: replay steps over it to the next copy, and says where it was', async (t) => {
	const sim = await simulate(t, { capacities: { store: 8 } });
	const front = await sim.peer('shop-front');
	await sim.observer();
	await sim.until(() => front.node.directory.size === 2, 3000, 'front knows the observer');
	for (let n = 0; n < 4; n++) t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	await sim.crash('shop-front');
	// The door is cut off now: whatever its log lost, no replica could give back.
	sim.partition('shop-front', true);
	const disk = sim.host('shop-front').disk;
	const wal = disk.files().find((name) => name.includes('/log/wal-'))!;
	let last = 0;
	disk.tamper(wal, (bytes) => {
		// The last record: nothing after it would cover it, but for its copy.
		for (let at = 0; at < bytes.length; at += 8 + bytes.readUInt32BE(at)) if (at + 8 + bytes.readUInt32BE(at) < bytes.length) last = at;
		bytes[last + 8 + 3]! ^= 0xff;
	});
	sim.partition('shop-front', false);
	const again = await sim.peer('shop-front');
	t.like(events(sim, 'recovery', 'shop-front').at(-1), { fetched: 0, damage: { kind: 'corrupt', offset: last, steppedOver: 1 } });
	t.is(again.counter.ownRow(shop).entries, 4, 'every admission answered is still in the log');
	t.is(again.counter.permits(shop), 0, 'none is spent twice');
	t.like(await sim.settle(again.move('enter', 'visitor')), { admitted: false });
});

test('the newest snapshot corrupt with the earlier log deleted: damage reported, the peer waits for a replica, spends nothing twice', async (t) => {
	// A store of 12, two doors: the front door's share is 6, and it spends all of it.
	const sim = await simulate(t, { capacities: { store: 12 } });
	const front = await sim.peer('shop-front');
	const ops = await sim.observer();
	await sim.until(() => front.node.directory.size === 2, 3000, 'front knows the observer');
	for (let n = 0; n < 6; n++) t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	await sim.until(() => ops.areas()['shop']?.occupancy === 6, 3000, 'the observer counts six');
	await sim.crash('shop-front');
	// As after a compaction: the state in a snapshot that the disk then corrupted, the log before it deleted.
	const disk = sim.host('shop-front').disk;
	const wal = disk.files().find((name) => name.includes('/log/wal-'))!;
	const directory = wal.slice(0, wal.lastIndexOf('/'));
	const { encodeFrame } = await import('../source/recovery/record-framing.js');
	const state = await sim.settle(disk.readFile(wal));
	await sim.settle(disk.rename(wal, `${directory}/snapshot-0000000000000001`));
	disk.tamper(`${directory}/snapshot-0000000000000001`, (bytes) => {
		const frame = encodeFrame(state.subarray(8));
		frame.copy(bytes, 0, 0, Math.min(frame.length, bytes.length));
		bytes[12]! ^= 0x20;
	});
	await sim.settle(disk.open(`${directory}/wal-0000000000000001.log`, 'w').then((handle) => handle.close()));
	const again = await sim.peer('shop-front');
	t.like(events(sim, 'recovery', 'shop-front').at(-1), { complete: false, damage: { kind: 'corrupt' } });
	t.is(again.counter.ownRow(shop).entries, 6, 'its rows came back from the observer');
	t.is(again.counter.permits(shop), 0, 'nothing to spend twice');
	t.like(await sim.settle(again.move('enter', 'visitor')), { admitted: false });
});

test('a peer whose disk fills up stops deciding, and closing it still ends', async (t) => {
	const sim = await simulate(t, { capacities: { store: 8 } });
	const front = await sim.peer('shop-front');
	t.true((await sim.settle(front.move('enter', 'visitor'))).admitted);
	const disk = sim.host('shop-front').disk;
	disk.faults = { ...disk.faults, capacityBytes: 0 };
	// Closed while an admission is still being saved: the close waits for that save, which fails.
	const answer = front.move('enter', 'visitor');
	await sim.settle(front.close(), 5000, 'the close');
	t.like(await answer, { admitted: false, reason: 'stopped' }, 'an admission it could not save is refused');
	t.true(events(sim, 'error', 'shop-front').some((event) => /cannot be written/.test(String(event['message']))));
});
