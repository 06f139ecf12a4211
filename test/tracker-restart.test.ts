import test from 'ava';
import { join } from 'node:path';
import type { FootfallProcess } from './helpers/footfall-process.js';
import { ProcessCluster } from './helpers/process-cluster.js';

/**
 * The tracker killed (kill -9) and restarted on the same address and data directory:
 * peers that pinned its key keep counting while it is down, then log in again on the new
 * epoch by themselves, and no count changes.
 */
test('the tracker killed and restarted: counting goes on, peers re-authenticate on the new epoch, counts unchanged', async (t) => {
	t.timeout(90_000);
	const cluster = new ProcessCluster('tracker');
	t.teardown(() => cluster.stop());
	const startTracker = (listen: string) => cluster.tracker(listen, ['--data', join(cluster.work, 'tracker')]);
	let tracker = startTracker('127.0.0.1:0');
	const ready = await tracker.ready();
	const address = String(ready.listen);
	const key = String(ready.key);
	const member = (user: string) => cluster.member('peer', user, address, ['--tracker-key', key]);
	const front = member('fashion-door');
	const side = member('fashion-side-door');
	await Promise.all([front.ready(), side.ready()]);
	const occupancy = async (peer: FootfallProcess) => ((await peer.command('status', 'status')).areas as Record<string, { occupancy: number }>).fashion!.occupancy;
	const epochOf = async (peer: FootfallProcess) => Number((await peer.command('status', 'status')).epoch);
	t.like(await front.command('enter', 'entry'), { admitted: true }, 'an entry before the restart');

	tracker.child.kill('SIGKILL');
	await tracker.exited;
	// Down: the sensors still decide and tell each other.
	t.like(await side.command('enter', 'entry'), { admitted: true }, 'an entry while the tracker is down');
	const oldEpoch = Number(ready.epoch);

	tracker = startTracker(address);
	const again = await tracker.ready();
	t.is(again.key, key, 'same keys from its data directory, so the pinned key still holds');
	t.not(Number(again.epoch), oldEpoch, 'a restart is a new epoch');
	t.is(again.knownMembers, 2, 'it remembers the members it had');
	await Promise.all(
		[front, side].map((peer) => peer.waitFor((line) => line.type === 'rejoined' && line.epoch === again.epoch, 20_000, 'rejoined on the new epoch')),
	);
	t.is(await epochOf(front), Number(again.epoch));
	// Rows cross within an anti-entropy round; poll the doors' own answers, bounded.
	const deadline = Date.now() + 10_000;
	let counts = [await occupancy(front), await occupancy(side)];
	while (counts.some((count) => count !== 2) && Date.now() < deadline) {
		await new Promise((resolve) => setTimeout(resolve, 200));
		counts = [await occupancy(front), await occupancy(side)];
	}
	t.deepEqual(counts, [2, 2], 'both doors count 2, as before the restart');
	t.like(await front.command('enter', 'entry'), { admitted: true }, 'counting on the new epoch');
	const rejoin = front.lines.find((line) => line.type === 'rejoined');
	// The same process logging in again stays the same incarnation: its siblings drop nothing it sends as stale.
	t.is(Number(rejoin?.incarnation), 1, 'the same incarnation as before the restart');
	t.is(front.lines.filter((line) => line.type === 'rejoining').length, 1, 'the re-login printed its line');
});
