import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { areaId } from '../source/model/ids.js';
import { PeerJournal } from '../source/recovery/peer-journal.js';
import type { RoleEvent } from '../source/roles/events.js';
import { MemoryCluster, eventually } from './helpers/memory-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './helpers/tiny-mall.js';

const shop = areaId('shop');

function scratch(t: { teardown: (fn: () => void) => void }): string {
	const directory = mkdtempSync(join(tmpdir(), 'footfall-recovery-'));
	t.teardown(() => rmSync(directory, { recursive: true, force: true }));
	return directory;
}

test('a peer killed and restarted from its log comes back as itself with its own counts', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 4 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const directory = scratch(t);
	const first = await PeerJournal.open(directory);
	const front = await cluster.peer('shop-front', { journal: first.journal });
	const back = await cluster.peer('shop-back');
	const ops = await cluster.observer();
	await eventually(() => front.node.directory.size === 3 && back.node.directory.size === 3);
	for (let n = 0; n < 3; n++) t.true((await front.move('enter', 'visitor')).admitted);
	await front.crash(); // as kill -9: no leave, no flush
	const events: RoleEvent[] = [];
	const reopened = await PeerJournal.open(directory);
	t.is(reopened.restored.rows.get(shop)?.entries, 3, 'every admission answered was on disk');
	const again = await cluster.peer('shop-front', { journal: reopened.journal, restored: reopened.restored, lastIncarnation: front.incarnation, events: (event) => events.push(event) });
	t.is(again.incarnation, front.incarnation + 1);
	await eventually(() => again.counter.ledger(shop)!.occupancy() === 3, 3000, 'the restarted peer knows all three');
	const recovery = events.find((event) => event.type === 'recovery');
	t.like(recovery, { type: 'recovery', sensor: 'shop-front', incarnation: 2 });
	t.true((recovery?.['replayed'] as number) >= 3, 'three admissions, and the leases it granted, replayed');
	// The store holds 4: one more fits, and no permit is spent twice.
	t.true((await again.move('enter', 'visitor')).admitted);
	t.like(await again.move('enter', 'visitor'), { admitted: false, reason: 'full' });
	await eventually(() => ops.areas()['shop']?.occupancy === 4);
	t.is([...ops.node.directory.members()].filter((member) => member.id === 'shop-front').length, 1, 'one identity in the table');
});

test('a peer whose log is gone gets its own counts back from the replicas of its areas', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 4 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front'); // no journal at all
	const back = await cluster.peer('shop-back');
	await eventually(() => front.node.directory.get('shop-back') !== undefined);
	for (let n = 0; n < 2; n++) t.true((await front.move('enter', 'visitor')).admitted);
	await eventually(() => back.counter.ledger(shop)!.row(front.sensor).entries === 2);
	await front.crash();
	const events: RoleEvent[] = [];
	const again = await cluster.peer('shop-front', { events: (event) => events.push(event) });
	t.is(again.counter.ownRow(shop).entries, 2);
	t.like(events.find((event) => event.type === 'recovery'), { fetched: 1, replayed: 0 });
	// Store of 4 with 2 inside: whatever the doors do, at most 2 more get in.
	const answers = await Promise.all([0, 1, 2].flatMap(() => [again.move('enter', 'visitor'), back.move('enter', 'visitor')]));
	t.is(answers.filter((answer) => answer.admitted).length, 2);
});

test('the tracker restarted: counting goes on meanwhile, and peers re-authenticate on the new epoch by themselves', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 6 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const back = await cluster.peer('shop-back');
	const ops = await cluster.observer();
	await eventually(() => front.node.directory.size === 3 && back.node.directory.size === 3 && ops.node.directory.size === 3);
	t.true((await front.move('enter', 'visitor')).admitted);
	const oldEpoch = cluster.tracker.epoch;
	await cluster.tracker.close();
	// The tracker is down: the sensors still decide and tell each other.
	t.like(await back.move('enter', 'visitor'), { admitted: true });
	await eventually(() => ops.areas()['shop']?.occupancy === 2, 3000, 'counts move while the tracker is down');
	const tracker = await cluster.restartTracker();
	t.not(tracker.epoch, oldEpoch);
	await eventually(() => [front, back, ops].every((member) => member.node.welcome.epoch === tracker.epoch), 8000, 'everyone on the new epoch');
	await eventually(() => front.node.directory.size === 3 && back.node.directory.size === 3, 3000, 'directories rebuilt');
	t.is(ops.areas()['shop']?.occupancy, 2, 'counts unchanged');
	t.like(await front.move('enter', 'visitor'), { admitted: true });
	await eventually(() => ops.areas()['shop']?.occupancy === 3 && back.counter.ledger(shop)!.occupancy() === 3, 3000, 'counting on the new epoch');
	t.true(front.incarnation >= 2, 'a new login is a new incarnation');
});

test('a peer that stops answering is declared dead within the bound and is sent nothing more', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 6 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const front = await cluster.peer('shop-front');
	const back = await cluster.peer('shop-back');
	await cluster.observer();
	await eventually(() => front.node.directory.size === 3 && front.node.liveness.health('shop-back') === 'alive', 3000);
	const stoppedAt = Date.now();
	await back.crash();
	await eventually(() => front.node.liveness.isDead('shop-back'), 4000, 'shop-back declared dead');
	const detectedMs = Date.now() - stoppedAt;
	t.log(`declared dead after ${detectedMs} ms (bound: deadAfterMs ${1200} + a tick)`);
	t.true(detectedMs < 2500);
	t.false(front.router.recipients(shop, front.node.directory, front.node.liveness).includes('shop-back'));
	const sent = front.node.link.sentTo.get('shop-back') ?? 0;
	for (let n = 0; n < 3; n++) t.true((await front.move('enter', 'visitor')).admitted);
	await new Promise((resolve) => setTimeout(resolve, 500)); // two anti-entropy rounds: still nothing to the dead
	t.is(front.node.link.sentTo.get('shop-back') ?? 0, sent);
});

test('a flipped byte in an earlier log record is reported with its position, and replay steps over it to the copy after it', async (t) => {
	const cluster = new MemoryCluster(await tinyMall({ store: 8 }), TINY_PASSWORDS);
	t.teardown(() => cluster.close());
	const directory = scratch(t);
	const first = await PeerJournal.open(directory);
	const front = await cluster.peer('shop-front', { journal: first.journal });
	const ops = await cluster.observer();
	await eventually(() => front.node.directory.size === 2);
	for (let n = 0; n < 4; n++) t.true((await front.move('enter', 'visitor')).admitted);
	await eventually(() => ops.areas()['shop']?.occupancy === 4);
	await front.crash();
	const { readdirSync, readFileSync, writeFileSync } = await import('node:fs');
	const wal = join(directory, 'log', readdirSync(join(directory, 'log')).find((name) => name.startsWith('wal-'))!);
	const bytes = readFileSync(wal);
	const secondRecord = 8 + bytes.readUInt32BE(0); // [length][crc][payload] of the first record, then the second's header
	const firstEntries = (JSON.parse(bytes.subarray(8, secondRecord).toString('utf8')) as { a: string; e: number }[]).find((row) => row.a === 'shop')?.e ?? 0;
	bytes[secondRecord + 8 + 3]! ^= 0xff;
	writeFileSync(wal, bytes);
	const reopened = await PeerJournal.open(directory);
	t.like(reopened.restored.damage, { kind: 'corrupt', offset: secondRecord, record: 1, steppedOver: 1 });
	t.true(firstEntries < 4);
	t.is(reopened.restored.rows.get(shop)?.entries ?? 0, 4, 'every record is written twice: replay reads the copy and goes on');
	const events: RoleEvent[] = [];
	const again = await cluster.peer('shop-front', { journal: reopened.journal, restored: reopened.restored, lastIncarnation: 1, events: (event) => events.push(event) });
	t.is(again.counter.ownRow(shop).entries, 4, 'nothing lost');
	t.like(events.find((event) => event.type === 'recovery'), { fetched: 0, tornTail: false, damage: { kind: 'corrupt', record: 1 } });
	// Its share of the store was 4 and it spent them all before the crash: none is spent twice.
	t.is(again.counter.permits(shop), 0);
	t.like(await again.move('enter', 'visitor'), { admitted: false });
	t.is(ops.areas()['shop']?.occupancy, 4);
});
