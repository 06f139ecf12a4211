import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cancel, Clock } from '../source/runtime/clock.js';
import { snapshotName, temporaryName, walName } from '../source/recovery/log-files.js';
import { HEADER_BYTES, encodeFrame } from '../source/recovery/record-framing.js';
import { RecordLog, type RecordLogOptions } from '../source/recovery/record-log.js';

/** No waiting in tests that do not measure the window itself. */
const QUICK: RecordLogOptions = { groupCommitMs: 0 };

function scratch(t: ExecutionContext): string {
	const directory = mkdtempSync(join(tmpdir(), 'footfall-record-log-'));
	t.teardown(() => rmSync(directory, { recursive: true, force: true }));
	return directory;
}

const row = (n: number): Buffer => Buffer.from(JSON.stringify({ a: 'bakery', e: n, x: n - 1, se: 1, sx: 0, r: 4, g: { 'bakery-side-door': n % 5 } }));
const texts = (payloads: readonly Buffer[]): string[] => payloads.map((payload) => payload.toString());
const frames = (payloads: readonly Buffer[]): Buffer => Buffer.concat(payloads.map(encodeFrame));

async function reopen(directory: string, options = QUICK) {
	const opened = await RecordLog.open(directory, options);
	await opened.log.close();
	return opened.replay;
}

/** Writes records through a real log and returns the bytes of its file. */
async function logWith(directory: string, payloads: readonly Buffer[]): Promise<Buffer> {
	const { log } = await RecordLog.open(directory, QUICK);
	await Promise.all(payloads.map((payload) => log.append(payload)));
	await log.close();
	return readFile(join(directory, walName(0)));
}

/** A clock whose timers fire only when the test says so. */
class ManualClock implements Clock {
	readonly #timers = new Set<() => void>();
	now = (): number => 0;
	setTimeout(callback: () => void, _ms: number): Cancel {
		this.#timers.add(callback);
		return () => this.#timers.delete(callback);
	}
	setInterval(): Cancel {
		throw new Error('the record log sets no intervals');
	}
	get waiting(): number {
		return this.#timers.size;
	}
	fire(): void {
		const due = [...this.#timers];
		this.#timers.clear();
		for (const callback of due) callback();
	}
}

test('appended records replay in order after close and reopen', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, QUICK);
	for (let n = 0; n < 5; n++) await log.append(row(n));
	await log.close();
	const replay = await reopen(directory);
	t.deepEqual(texts(replay.records), texts([0, 1, 2, 3, 4].map(row)));
	t.is(replay.snapshot, null);
	t.is(replay.damage, null);
});

test('an empty new directory replays nothing', async (t) => {
	const directory = join(scratch(t), 'not', 'yet', 'there');
	const replay = await reopen(directory);
	t.deepEqual(replay, { snapshot: null, records: [], damage: null, complete: true, ms: replay.ms });
	t.deepEqual(await readdir(directory), [walName(0)]);
});

test('appends awaited together share few commits, and all replay', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, { groupCommitMs: 5 });
	const payloads = Array.from({ length: 1000 }, (_, n) => row(n));
	await Promise.all(payloads.map((payload) => log.append(payload)));
	t.true(log.commits < payloads.length, `${log.commits} commits`);
	t.is(log.logBytes, frames(payloads).length);
	await log.close();
	t.deepEqual(texts((await reopen(directory)).records), texts(payloads));
});

test('records wait for the group-commit window, then go to disk in one commit', async (t) => {
	const clock = new ManualClock();
	const { log } = await RecordLog.open(scratch(t), { groupCommitMs: 10, clock });
	let done = 0;
	const appends = [row(1), row(2), row(3)].map((payload) => log.append(payload).then(() => done++));
	t.is(clock.waiting, 1, 'the first append of a batch starts one timer');
	await new Promise((resolve) => setImmediate(resolve));
	t.is(done, 0);
	t.is(log.commits, 0);
	clock.fire();
	await Promise.all(appends);
	t.is(log.commits, 1);
	await log.close();
});

test('close commits the records still waiting for their window', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, { groupCommitMs: 60_000 });
	const appended = log.append(row(1));
	await log.close();
	await appended;
	t.deepEqual(texts((await reopen(directory)).records), texts([row(1)]));
});

test('an empty or oversize record is refused and the log carries on', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, QUICK);
	await t.throwsAsync(log.append(Buffer.alloc(0)), { instanceOf: RangeError });
	await t.throwsAsync(log.append(Buffer.alloc(16 * 1024 * 1024 + 1)), { instanceOf: RangeError });
	await log.append(row(1));
	await log.close();
	await t.throwsAsync(log.append(row(2)), { message: /closed/ });
	t.deepEqual(texts((await reopen(directory)).records), texts([row(1)]));
});

test('a snapshot replays with only the records after it, and the old files are gone', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, QUICK);
	await Promise.all([log.append(row(1)), log.append(row(2))]);
	await log.snapshot(Buffer.from('state after 2'));
	t.is(log.logBytes, 0, 'the new log starts empty');
	await log.append(row(3));
	t.is(log.logBytes, HEADER_BYTES + row(3).length);
	await log.close();
	t.deepEqual((await readdir(directory)).sort(), [snapshotName(1), walName(1)]);
	const replay = await reopen(directory);
	t.is(replay.snapshot?.toString(), 'state after 2');
	t.deepEqual(texts(replay.records), texts([row(3)]));
});

test('appends made while a snapshot is written land after it, once each', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, QUICK);
	const before = [log.append(row(1)), log.append(row(2))];
	const snapshot = log.snapshot(Buffer.from('state after 2'));
	const after = [log.append(row(3)), log.append(row(4))];
	await Promise.all([...before, snapshot, ...after]);
	await log.close();
	const replay = await reopen(directory);
	t.is(replay.snapshot?.toString(), 'state after 2');
	t.deepEqual(texts(replay.records), texts([row(3), row(4)]));
});

test('an append made after a snapshot was asked for goes to the new log even when a commit was already queued', async (t) => {
	const directory = scratch(t);
	const clock = new ManualClock();
	const { log } = await RecordLog.open(directory, { clock });
	const first = log.append(row(1));
	clock.fire(); // the commit of row 1 starts
	const second = log.append(row(2));
	clock.fire(); // a commit queues behind it
	const snapshot = log.snapshot(Buffer.from('state after 2'));
	const third = log.append(row(3)); // the queued commit must not take this one into the old log
	await Promise.all([first, second, snapshot, third]);
	await log.close();
	const replay = await reopen(directory);
	t.is(replay.snapshot?.toString(), 'state after 2');
	t.deepEqual(texts(replay.records), texts([row(3)]));
});

test('snapshots asked for back to back each cover what came before them', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, QUICK);
	const work = [log.append(row(1)), log.snapshot(Buffer.from('after 1')), log.append(row(2)), log.snapshot(Buffer.from('after 2')), log.append(row(3))];
	await Promise.all(work);
	await log.close();
	const replay = await reopen(directory);
	t.is(replay.snapshot?.toString(), 'after 2');
	t.deepEqual(texts(replay.records), texts([row(3)]));
	t.deepEqual((await readdir(directory)).sort(), [snapshotName(2), walName(2)]);
});

test('a log torn at any byte of its last record replays the records before it and takes new ones', async (t) => {
	const root = scratch(t);
	const payloads = [row(1), row(2), row(3)];
	const whole = await logWith(join(root, 'template'), payloads);
	const last = whole.length - HEADER_BYTES - payloads[2]!.length;
	for (let length = last + 1; length < whole.length; length++) {
		const directory = join(root, `torn-${length}`);
		await mkdir(directory);
		await writeFile(join(directory, walName(0)), whole.subarray(0, length));
		const { log, replay } = await RecordLog.open(directory, QUICK);
		t.deepEqual(texts(replay.records), texts(payloads.slice(0, 2)), `torn at ${length}`);
		t.deepEqual(replay.damage, { kind: 'torn', file: join(directory, walName(0)), offset: last, record: 2, cutBytes: length - last, savedAs: `${join(directory, walName(0))}.cut-${last}` });
		await log.append(row(4));
		await log.close();
		const again = await reopen(directory);
		t.deepEqual(texts(again.records), texts([row(1), row(2), row(4)]), `appended after the tear at ${length}`);
		t.is(again.damage, null);
	}
});

test('a log cut exactly between records is not damaged', async (t) => {
	const directory = scratch(t);
	const whole = await logWith(directory, [row(1), row(2)]);
	await writeFile(join(directory, walName(0)), whole.subarray(0, HEADER_BYTES + row(1).length));
	const replay = await reopen(directory);
	t.deepEqual(texts(replay.records), texts([row(1)]));
	t.is(replay.damage, null);
});

test('a tail of zeros after the last record is cut as torn', async (t) => {
	const directory = scratch(t);
	const whole = await logWith(directory, [row(1), row(2)]);
	await writeFile(join(directory, walName(0)), Buffer.concat([whole, Buffer.alloc(4096)]));
	const replay = await reopen(directory);
	t.deepEqual(texts(replay.records), texts([row(1), row(2)]));
	t.like(replay.damage, { kind: 'torn', offset: whole.length, record: 2, cutBytes: 4096 });
});

test('a byte changed anywhere in an earlier record stops replay before it, and the cut bytes are kept', async (t) => {
	const root = scratch(t);
	const payloads = [row(1), row(2), row(3), row(4), row(5)];
	const whole = await logWith(join(root, 'template'), payloads);
	const offset = frames(payloads.slice(0, 2)).length;
	const frameBytes = HEADER_BYTES + payloads[2]!.length;
	for (let at = offset; at < offset + frameBytes; at++) {
		const directory = join(root, `flipped-${at}`);
		const file = join(directory, walName(0));
		const damaged = Buffer.from(whole);
		damaged[at]! ^= 0xff;
		await mkdir(directory);
		await writeFile(file, damaged);
		const { log, replay } = await RecordLog.open(directory, QUICK);
		t.deepEqual(texts(replay.records), texts(payloads.slice(0, 2)), `byte ${at} changed`);
		t.deepEqual(replay.damage, { kind: 'corrupt', file, offset, record: 2, cutBytes: whole.length - offset, savedAs: `${file}.cut-${offset}` }, `byte ${at} changed`);
		t.deepEqual(await readFile(`${file}.cut-${offset}`), damaged.subarray(offset));
		await log.append(row(6));
		await log.close();
		t.deepEqual(texts((await reopen(directory)).records), texts([row(1), row(2), row(6)]));
	}
});

/** The records and state of a log that crashed during its first snapshot: A, B, C were in wal 0, the snapshot covers them, D came after it. */
const [A, B, C, D] = [row(1), row(2), row(3), row(4)];
const STATE = Buffer.from('state after A, B, C');
const OLDER_STATE = Buffer.from('state after A');

const crashDuringSnapshot = test.macro({
	async exec(t, files: Record<string, Buffer>, expected: { snapshot: string | null; records: Buffer[]; left: string[] }) {
		const directory = scratch(t);
		for (const [name, bytes] of Object.entries(files)) await writeFile(join(directory, name), bytes);
		const { log, replay } = await RecordLog.open(directory, QUICK);
		t.is(replay.snapshot?.toString() ?? null, expected.snapshot);
		t.deepEqual(texts(replay.records), texts(expected.records));
		t.is(replay.damage, null);
		const leftovers = (await readdir(directory)).sort();
		t.deepEqual(leftovers, expected.left.sort(), 'files of an unfinished compaction are cleared away');
		// The log carries on from there, and its next snapshot takes a fresh generation.
		await log.append(row(5));
		await log.close();
		t.deepEqual(texts((await reopen(directory)).records), texts([...expected.records, row(5)]));
	},
	title: (state = '') => `a crash during a snapshot, ${state}, replays to the right state`,
});

test('with the temporary file written but not renamed', crashDuringSnapshot, { [walName(0)]: frames([A, B, C]), [temporaryName(1)]: encodeFrame(STATE) }, { snapshot: null, records: [A, B, C], left: [walName(0)] });
test('with the temporary file half written', crashDuringSnapshot, { [walName(0)]: frames([A, B, C]), [temporaryName(1)]: encodeFrame(STATE).subarray(0, 10) }, { snapshot: null, records: [A, B, C], left: [walName(0)] });
test('with the snapshot renamed and no new log yet', crashDuringSnapshot, { [walName(0)]: frames([A, B, C]), [snapshotName(1)]: encodeFrame(STATE) }, { snapshot: STATE.toString(), records: [], left: [snapshotName(1), walName(1)] });
test('with the new log created but empty', crashDuringSnapshot, { [walName(0)]: frames([A, B, C]), [snapshotName(1)]: encodeFrame(STATE), [walName(1)]: Buffer.alloc(0) }, { snapshot: STATE.toString(), records: [], left: [snapshotName(1), walName(1)] });
test('with records in the new log and the old log not yet deleted', crashDuringSnapshot, { [walName(0)]: frames([A, B, C]), [snapshotName(1)]: encodeFrame(STATE), [walName(1)]: frames([D]) }, { snapshot: STATE.toString(), records: [D], left: [snapshotName(1), walName(1)] });
test('with the older snapshot not yet deleted', crashDuringSnapshot, { [snapshotName(1)]: encodeFrame(OLDER_STATE), [walName(1)]: frames([B, C]), [snapshotName(2)]: encodeFrame(STATE), [walName(2)]: frames([D]) }, { snapshot: STATE.toString(), records: [D], left: [snapshotName(2), walName(2)] });

test('a snapshot that fails its checksum is passed over for the state before it', async (t) => {
	const directory = scratch(t);
	const bad = encodeFrame(STATE);
	bad[HEADER_BYTES]! ^= 0x01;
	await writeFile(join(directory, walName(0)), frames([A, B, C]));
	await writeFile(join(directory, snapshotName(1)), bad);
	const { log, replay } = await RecordLog.open(directory, QUICK);
	t.is(replay.snapshot, null);
	t.deepEqual(texts(replay.records), texts([A, B, C]));
	t.true(replay.complete, 'the log before the bad snapshot is all there');
	t.like(replay.damage, { kind: 'corrupt', file: join(directory, snapshotName(1)), savedAs: join(directory, `${snapshotName(1)}.corrupt`) });
	// The bad snapshot's generation is never reused; it is kept aside for a post-mortem.
	await log.snapshot(STATE);
	await log.close();
	t.deepEqual((await readdir(directory)).sort(), [`${snapshotName(1)}.corrupt`, snapshotName(2), walName(2)]);
	t.is((await reopen(directory)).snapshot?.toString(), STATE.toString());
});

test('a log of random bytes is reported as damage, never thrown, and takes records afterwards', async (t) => {
	const root = scratch(t);
	for (const size of [1, 7, 8, 9, 100, 4096, 65_536, 1_000_000]) {
		const directory = join(root, `garbage-${size}`);
		const file = join(directory, walName(0));
		await mkdir(directory);
		await writeFile(file, randomBytes(size));
		await writeFile(join(directory, snapshotName(1)), randomBytes(size));
		const { log, replay } = await RecordLog.open(directory, QUICK);
		t.is(replay.snapshot, null, `${size} bytes`);
		t.truthy(replay.damage, `${size} bytes`);
		t.is(replay.damage!.offset + replay.damage!.cutBytes, size);
		await log.append(row(1));
		await log.close();
		const again = await reopen(directory);
		t.deepEqual(texts(again.records), texts([...replay.records, row(1)]));
		t.is(again.damage, null);
	}
});

test('a bad newest snapshot whose earlier files compaction deleted: damage, replay marked incomplete, never a silent start from nothing', async (t) => {
	const directory = scratch(t);
	const bad = encodeFrame(STATE);
	bad[HEADER_BYTES + 2]! ^= 0x40;
	await writeFile(join(directory, snapshotName(1)), bad);
	await writeFile(join(directory, walName(1)), frames([D]));
	const { log, replay } = await RecordLog.open(directory, QUICK);
	t.false(replay.complete);
	t.like(replay.damage, { kind: 'corrupt', file: join(directory, snapshotName(1)) });
	t.is(replay.snapshot, null);
	t.deepEqual(texts(replay.records), texts([D]), 'what is left is still given');
	await log.append(row(9));
	await log.close();
	// Still incomplete on the next open, though the bad snapshot was moved aside: no file was reused.
	const again = await reopen(directory);
	t.false(again.complete);
	t.like(again.damage, { kind: 'missing' });
	t.deepEqual(texts(again.records), texts([D, row(9)]));
	t.false((await readdir(directory)).includes(walName(0)), 'no new log starts from generation 0');
});

test('a bad newest snapshot with the files before it still there replays those and every log after', async (t) => {
	const directory = scratch(t);
	const bad = encodeFrame(STATE);
	bad[HEADER_BYTES + 1]! ^= 0x08;
	await writeFile(join(directory, snapshotName(1)), encodeFrame(OLDER_STATE));
	await writeFile(join(directory, walName(1)), frames([B, C]));
	await writeFile(join(directory, snapshotName(2)), bad);
	await writeFile(join(directory, walName(2)), frames([D]));
	const replay = await reopen(directory);
	t.true(replay.complete);
	t.is(replay.snapshot?.toString(), OLDER_STATE.toString());
	t.deepEqual(texts(replay.records), texts([B, C, D]));
	t.like(replay.damage, { kind: 'corrupt', file: join(directory, snapshotName(2)) });
});

test('a log of whole states steps over a corrupt record and reads on, keeping the bad bytes', async (t) => {
	const directory = scratch(t);
	const bytes = frames([A, B, C, D]);
	const second = 8 + A.length;
	bytes[second + 8 + 1]! ^= 0x10;
	await writeFile(join(directory, walName(0)), bytes);
	const { log, replay } = await RecordLog.open(directory, { ...QUICK, stepOverCorrupt: true });
	t.deepEqual(texts(replay.records), texts([A, C, D]));
	t.like(replay.damage, { kind: 'corrupt', offset: second, record: 1, steppedOver: 1, cutBytes: 0 });
	await log.append(row(5));
	await log.close();
	t.deepEqual(texts((await RecordLog.open(directory, { ...QUICK, stepOverCorrupt: true })).replay.records), texts([A, C, D, row(5)]));
});

test('a log of 300,000 records replays whole (the replay never passes them as one call\'s arguments)', async (t) => {
	const directory = scratch(t);
	await mkdir(join(directory), { recursive: true });
	const tiny = Buffer.from('x');
	await writeFile(join(directory, walName(0)), Buffer.concat(Array.from({ length: 300_000 }, () => encodeFrame(tiny))));
	const replay = await reopen(directory);
	t.is(replay.records.length, 300_000);
	t.is(replay.damage, null);
});

test('abandoned as at kill -9: appends still waiting for their commit are not written, and say so', async (t) => {
	const directory = scratch(t);
	const { log } = await RecordLog.open(directory, QUICK);
	await log.append(row(1));
	await log.close();
	const { log: windowed } = await RecordLog.open(directory, { groupCommitMs: 10_000 });
	const waiting = windowed.append(row(2));
	await windowed.abandon();
	await t.throwsAsync(waiting, { message: /abandoned/ });
	t.deepEqual(texts((await reopen(directory)).records), texts([row(1)]));
});
