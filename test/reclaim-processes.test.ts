import test from 'ava';
import { join } from 'node:path';
import { ProcessCluster } from './helpers/process-cluster.js';
import type { FootfallProcess } from './helpers/footfall-process.js';

/**
 * Reclaim with real processes over UDP: the two doors of a store (capacity 25), one
 * killed with SIGKILL. Its granter takes back what it held above its lease;
 * restarted from its log it spends what is left of its lease, and not one permit twice.
 */
type Areas = Record<string, { occupancy: number; permits: number; budget: number | null; granter: string | null }>;

async function fashion(peer: FootfallProcess) {
	const status = await peer.command('status', 'status');
	return (status.areas as Areas)['fashion']!;
}

/** Enters until refused; returns how many got in and the refusal. */
async function fill(peer: FootfallProcess): Promise<{ admitted: number; refusal: Record<string, unknown> }> {
	for (let admitted = 0; admitted <= 25; admitted++) {
		const answer = await peer.command('enter', 'entry');
		if (answer.admitted !== true) return { admitted, refusal: answer };
	}
	throw new Error('more than the capacity got in');
}

test('kill -9 of a door: its granter reclaims what it held above its lease; restarted, it spends only the rest', async (t) => {
	t.timeout(90_000);
	const cluster = new ProcessCluster('reclaim');
	t.teardown(() => cluster.stop());
	const tracker = cluster.tracker();
	const address = String((await tracker.ready()).listen);
	const data = join(cluster.work, 'fashion-door');
	const start = () => cluster.member('peer', 'fashion-door', address, ['--data', data]);
	let door = start();
	const side = cluster.member('peer', 'fashion-side-door', address);
	await Promise.all([door.ready(), side.ready()]);
	// Both doors hold a lease from the other (each grants the other's).
	for (let attempt = 0; ; attempt++) {
		const [a, b] = await Promise.all([fashion(door), fashion(side)]);
		if ((a.budget ?? 0) > 0 && (b.budget ?? 0) > 0 && a.granter === 'fashion-side-door') break;
		if (attempt > 100) throw new Error(`no leases: ${JSON.stringify([a, b])}`);
		await new Promise((resolve) => setTimeout(resolve, 50)); // polling the status a person would read
	}
	for (let n = 0; n < 3; n++) t.like(await door.command('enter', 'entry'), { admitted: true });
	const lease = (await fashion(door)).budget!;
	t.true(lease > 0, `a lease of ${lease} left`);

	door.child.kill('SIGKILL');
	await door.exited;
	// Idle permits may have drifted between the doors meanwhile: the take is what the dead
	// door held above its lease, whatever that came to.
	const reclaim = await side.waitFor((line) => line.type === 'reclaim' && line.from === 'fashion-door', 20_000, 'the reclaim');
	t.like(reclaim, { sensor: 'fashion-side-door', area: 'fashion' });
	t.true(Number(reclaim.permits) > 0);

	// The side door fills what it can. The dead door's lease is stranded until it returns:
	// for all anyone knows, it might still be spending it.
	const sideFill = await fill(side);
	t.is(sideFill.admitted, 25 - 3 - lease);
	t.like(sideFill.refusal, { admitted: false, reason: 'no-permit' });

	// Restarted from its log, the door knows what it admitted and what was taken from it.
	door = start();
	t.true(Number((await door.ready()).incarnation) > 1);
	const doorFill = await fill(door);
	t.is(doorFill.admitted, lease, 'it spends the rest of its lease, nothing more');
	t.like(doorFill.refusal, { admitted: false, reason: 'full' });
	t.is(3 + sideFill.admitted + doorFill.admitted, 25, 'exactly the capacity, never more');
	// Once the door's last rows reach it, the side door sees the store full too.
	for (let attempt = 0; (await fashion(side)).occupancy !== 25; attempt++) {
		if (attempt > 100) throw new Error(`the side door never saw the store full: ${JSON.stringify(await fashion(side))}`);
		await new Promise((resolve) => setTimeout(resolve, 50)); // polling the status a person would read
	}
	t.like(await side.command('enter', 'entry'), { admitted: false, reason: 'full' });
});
