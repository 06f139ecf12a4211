import { join } from 'node:path';
import { systemClock, type Cancel, type Clock } from '../runtime/clock.js';
import { nodeDisk, type Disk, type FileHandle } from '../runtime/disk.js';
import { cutLogFile, listLogFiles, readLogFile, readSnapshotFile, removeLogFiles, snapshotName, stepOverCorrupt, temporaryName, walName, writeAll, writeDurably, type LogFile } from './log-files.js';
import { HEADER_BYTES, MAX_RECORD_BYTES, decodeSnapshot, encodeFrame, recordFits, writeFrame } from './record-framing.js';

/**
 * A durable append-only log of opaque records, with snapshots so that it can forget its
 * past. Modelled on etcd's WAL (server/storage/wal/doc.go, repair.go).
 *
 * FILES, all in one directory; `<g>` is a generation, 16 zero-padded digits:
 *
 *     wal-<g>.log            records appended after snapshot <g> (generation 0: from the start)
 *     snapshot-<g>           one frame: a state covering every record of every generation below <g>
 *     snapshot-<g>.tmp       a snapshot being written; never read, deleted by the next open
 *     wal-<g>.log.cut-<n>    bytes cut from a damaged log at offset <n>, for a post-mortem;
 *                            never read, never deleted
 *     snapshot-<g>.corrupt   a snapshot that failed its check, and
 *     wal-<g>.log.orphan     logs after a corrupt one, which can no longer be replayed in
 *                            order: likewise kept, never read
 *
 * FRAMING (record-framing.ts): a log file is frames back to back from offset 0, each
 * `[u32 length][u32 crc32(payload)][payload]`, big-endian, crc32 as zlib's. A snapshot
 * file is exactly one frame. A record's payload is 1 byte to 16 MiB: an empty one would
 * be eight zero bytes, which is what a crash can leave at the end of a file.
 *
 * REPLAY starts from the highest-numbered snapshot whose frame checks out (none: the
 * start, generation 0), then reads every log from that generation on, in order, up to
 * the first bad frame. Snapshot n is exactly snapshot n-1 with wal-(n-1) applied, so when
 * a newer snapshot fails its check (the disk lied) and the files before it are still
 * there, the logs after it still replay in full. When they are gone (compaction deleted
 * them) the state before the bad snapshot is lost: that is damage, and the replay is
 * marked incomplete, with the logs after it given for what they are worth. It never
 * silently starts from nothing. New generations are numbered above every file seen, so
 * no name is ever reused.
 *
 * APPENDS are group-committed: the first record of a batch starts a `groupCommitMs`
 * timer; when it fires, every record appended by then goes to the log in one write and
 * one fdatasync, and their promises resolve. One commit at a time: records that arrive
 * during one wait for the next.
 *
 * SNAPSHOT from generation g to n (one above the highest generation seen):
 *   1. records appended before the call and not yet committed are committed to wal-g;
 *   2. snapshot-n.tmp is written and fsynced, renamed to snapshot-n, the directory fsynced;
 *   3. wal-n.log is created and the directory fsynced; records appended since the call
 *      (they wait for this) are committed there;
 *   4. every file of a generation below n is deleted.
 * A crash before the rename replays snapshot-g and wal-g, which hold everything committed;
 * from the rename on, snapshot-n and wal-n (missing or empty: no records). Every record
 * is in exactly one of the two, so none is applied twice and none acknowledged is lost.
 *
 * DAMAGE. Replay stops at the first bad frame: length 0 or over 16 MiB, running past the
 * end of the file, or failing its checksum. If a valid frame can be found after it (the
 * frame its length points to, or one at any later byte offset within 16 MiB) the damage
 * is `corrupt`: records were written after it, so the disk changed bytes in place.
 * Otherwise it is `torn`: a crash cut the last write short, or left zeros or garbage.
 * Either way, as etcd's Repair does, the bytes from the bad frame on are copied to
 * `<file>.cut-<offset>` (fsynced), then the log is truncated there and fsynced, so new
 * records follow the last good one.
 *
 * A CRASH can lose appends whose promises had not resolved, and a snapshot() that had
 * not resolved. It cannot lose an acknowledged record unless the disk lies (an fsync
 * that did not persist, bytes changed afterwards): that is `corrupt`, and the records
 * after the bad one are cut with it (they are in the cut file, not replayed).
 */

export interface LogDamage {
	/**
	 * 'torn': the last record is incomplete or fails its checksum and nothing valid follows — a crash mid-write; cut and forgotten.
	 * 'corrupt': a record that fails its checksum with more data after it, or a snapshot that fails its own — the disk lied; replay stops before it.
	 * 'missing': files the replay needs are gone (a bad snapshot whose earlier files compaction had deleted): see `Replay.complete`.
	 */
	readonly kind: 'torn' | 'corrupt' | 'missing';
	/** Path of the log file. */
	readonly file: string;
	/** Byte offset of the bad record in that file. */
	readonly offset: number;
	/** Index of the bad record in that file (0-based). */
	readonly record: number;
	/** Bytes removed from the end of the file. */
	readonly cutBytes: number;
	/** Where the cut bytes (or a bad snapshot) were kept, a sibling file, for a post-mortem; null when nothing was kept. */
	readonly savedAs: string | null;
	/** With `stepOverCorrupt`: how many bad records replay stepped over, reading on after each (0 otherwise). */
	readonly steppedOver?: number;
}

export interface Replay {
	/** The latest valid snapshot's payload, if any. */
	readonly snapshot: Buffer | null;
	/** Payloads of the valid records appended after that snapshot, in order. */
	readonly records: Buffer[];
	readonly damage: LogDamage | null;
	/**
	 * False when records from before the damage are lost for good (a bad snapshot whose
	 * earlier files compaction had deleted): what was replayed is then only part of the
	 * state, and the caller must get the rest elsewhere before relying on it.
	 */
	readonly complete: boolean;
	/** Time the replay took (including any repair). */
	readonly ms: number;
}

export interface RecordLogOptions {
	/** Group commit: appends within this window share one write + fsync (default 10 ms). */
	readonly groupCommitMs?: number;
	/** Runs the group-commit timer and times the replay (default: the system clock). */
	readonly clock?: Clock;
	/** Where the files live (default: the machine's file system; the simulator's otherwise). */
	readonly disk?: Disk;
	/**
	 * For logs whose records each hold a whole state (replay is a join): a corrupt record
	 * is stepped over and replay reads on from the next valid frame, instead of stopping
	 * there. The bad bytes stay where they are; a torn tail is still cut.
	 */
	readonly stepOverCorrupt?: boolean;
}

/**
 * Ten milliseconds: unnoticeable at a gate, and enough to share one fsync among every
 * append of a busy moment (measured-limits.md: ~520k–630k appends/s, commit p50 ~8 ms,
 * against ~5.7k/s with an fsync per record).
 */
export const DEFAULT_GROUP_COMMIT_MS = 10;

/** A batch's buffer starts this big and doubles as records arrive. */
const BATCH_START_BYTES = 64 * 1024;

/** Records framed into one buffer, committed together, with one promise for all of their appenders. */
class Batch {
	buffer = Buffer.allocUnsafe(BATCH_START_BYTES);
	used = 0;
	cancelTimer: Cancel | null = null;
	readonly done: Promise<void>;
	resolve: () => void = () => {};
	reject: (error: Error) => void = () => {};

	/** @param snapshotsBefore How many snapshots had been asked for when it began: it belongs in the log that follows the last of them. */
	constructor(readonly snapshotsBefore: number) {
		this.done = new Promise<void>((resolve, reject) => {
			this.resolve = resolve;
			this.reject = reject;
		});
	}

	add(payload: Buffer): void {
		const needed = this.used + HEADER_BYTES + payload.length;
		if (needed > this.buffer.length) {
			const larger = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
			this.buffer.copy(larger, 0, 0, this.used);
			this.buffer = larger;
		}
		writeFrame(this.buffer, this.used, payload);
		this.used = needed;
	}
}

/** See the top of this file for the files, the framing and what a crash can lose. */
export class RecordLog {
	readonly #directory: string;
	readonly #disk: Disk;
	readonly #groupCommitMs: number;
	readonly #clock: Clock;
	#handle: FileHandle;
	#generation: number;
	/** The highest generation of any file seen: a new snapshot goes above it, so no name is ever reused. */
	#highestGeneration: number;
	#logBytes: number;
	#commits = 0;
	#pending: Batch | null = null;
	/** Every disk operation is chained after the previous one: never two commits, or a commit and a snapshot, at once. */
	#queue: Promise<void> = Promise.resolve();
	#snapshotsAsked = 0;
	#snapshotsDone = 0;
	#failure: Error | null = null;
	#closing: Promise<void> | null = null;

	private constructor(directory: string, disk: Disk, handle: FileHandle, generation: number, highestGeneration: number, logBytes: number, options: RecordLogOptions) {
		this.#directory = directory;
		this.#disk = disk;
		this.#handle = handle;
		this.#generation = generation;
		this.#highestGeneration = highestGeneration;
		this.#logBytes = logBytes;
		this.#groupCommitMs = options.groupCommitMs ?? DEFAULT_GROUP_COMMIT_MS;
		this.#clock = options.clock ?? systemClock;
	}

	/** Opens (creating the directory if needed) and replays what is there; repairs damage (cuts the log at the bad record, keeping a copy) before returning. */
	static async open(directory: string, options: RecordLogOptions = {}): Promise<{ log: RecordLog; replay: Replay }> {
		const clock = options.clock ?? systemClock;
		const disk = options.disk ?? nodeDisk;
		const started = clock.now();
		await disk.mkdir(directory);
		const files = await listLogFiles(disk, directory);
		let snapshot: Buffer | null = null;
		let base = 0;
		let damage: LogDamage | null = null;
		for (const file of files.filter((each) => each.kind === 'snapshot').sort((a, b) => b.generation - a.generation)) {
			const bytes = await readSnapshotFile(disk, join(directory, file.name));
			snapshot = bytes && decodeSnapshot(bytes);
			if (snapshot !== null) {
				base = file.generation;
				break;
			}
			// Kept for a post-mortem under another name, so that later opens do not trip on it again.
			const path = join(directory, file.name);
			damage ??= { kind: 'corrupt', file: path, offset: 0, record: 0, cutBytes: 0, savedAs: `${path}.corrupt` };
			await disk.rename(path, `${path}.corrupt`);
		}
		const wals = files.filter((file) => file.kind === 'wal' && file.generation >= base).sort((a, b) => a.generation - b.generation);
		// The chain must start where its base does: the log of the base's own generation (a
		// deletion cut short by a crash can have removed it), or, with no log yet, a base
		// that is either a good snapshot or the untouched start.
		const first = wals[0];
		const complete = first === undefined ? snapshot !== null || damage === null : first.generation === base;
		if (!complete) damage ??= { kind: 'missing', file: join(directory, walName(base)), offset: 0, record: 0, cutBytes: 0, savedAs: null };
		const records: Buffer[] = [];
		let generation = wals.at(-1)?.generation ?? base;
		let validBytes = 0;
		let created = true;
		for (const [index, file] of wals.entries()) {
			const path = join(directory, file.name);
			const read = await readLogFile(disk, path);
			for (const record of read.records) records.push(record); // not push(...): a million arguments overflow the stack
			validBytes = read.validBytes;
			created = !read.exists;
			if (!read.damaged) continue;
			if (options.stepOverCorrupt) {
				const over = await stepOverCorrupt(disk, path, read.validBytes);
				if (over.skipped.length > 0) {
					for (const record of over.records) records.push(record);
					const first = over.skipped[0]!;
					const torn = over.validEnd < (await fileSize(disk, path)) ? await cutLogFile(disk, path, over.validEnd) : null;
					damage = { kind: 'corrupt', file: path, offset: first.offset, record: read.records.length, cutBytes: torn?.cutBytes ?? 0, savedAs: torn?.savedAs ?? null, steppedOver: over.skipped.length };
					validBytes = over.validEnd;
					continue;
				}
			}
			const cut = await cutLogFile(disk, path, read.validBytes);
			damage = { kind: index < wals.length - 1 ? 'corrupt' : cut.kind, file: path, offset: read.validBytes, record: read.records.length, cutBytes: cut.cutBytes, savedAs: cut.savedAs };
			// Records in later logs follow the ones lost here: replaying them would skip a gap.
			// They are set aside, like cut bytes, and new records follow the last good one.
			await setAside(disk, directory, wals.slice(index + 1));
			generation = file.generation;
			break;
		}
		const handle = await disk.open(join(directory, walName(generation)), 'a');
		if (created) await disk.syncDirectory(directory);
		// Finish what a crash interrupted: the deletions of a compaction, a snapshot never renamed into place.
		await removeLogFiles(disk, directory, files.filter((file) => file.kind === 'temporary' || file.generation < base).map((file) => file.name));
		const highest = files.reduce((max, file) => Math.max(max, file.generation), generation);
		const log = new RecordLog(directory, disk, handle, generation, highest, validBytes, options);
		return { log, replay: { snapshot, records, damage, complete, ms: clock.now() - started } };
	}

	/** Bytes in the current log file (callers use it to decide when to snapshot). */
	get logBytes(): number {
		return this.#logBytes;
	}

	/** Group commits so far: each one write and one fsync of the log. */
	get commits(): number {
		return this.#commits;
	}

	/**
	 * Appends one record; resolves once it is on disk (written and fsynced, in a group
	 * commit with others). Rejects on an I/O error, after which the log takes no more
	 * records; and at once for an empty or oversize payload, or a closed log.
	 */
	append(payload: Buffer): Promise<void> {
		const refused = this.#refusal();
		if (refused) return Promise.reject(refused);
		if (!recordFits(payload)) return Promise.reject(new RangeError(`a record holds 1 to ${MAX_RECORD_BYTES} bytes, not ${payload.length}`));
		let batch = this.#pending;
		if (batch === null) {
			const started = (batch = this.#pending = new Batch(this.#snapshotsAsked));
			started.cancelTimer = this.#clock.setTimeout(() => {
				started.cancelTimer = null;
				void this.#serially(() => this.#commitPending());
			}, this.#groupCommitMs);
		}
		// Framed now, so the caller may reuse its buffer as soon as this returns.
		batch.add(payload);
		return batch.done;
	}

	/**
	 * Writes a snapshot of the whole state (which covers every record appended so far),
	 * durably and atomically, then starts a fresh log behind it and deletes the older log
	 * and snapshot (compaction). Appends made while it runs wait for the fresh log.
	 */
	snapshot(state: Buffer): Promise<void> {
		const refused = this.#refusal();
		if (refused) return Promise.reject(refused);
		// Copied now: the caller may change `state` once this returns.
		const frame = encodeFrame(state);
		// The state covers the records still waiting for a commit: they go to the old log
		// first (their appenders wait for a commit, and a failed snapshot must not lose them);
		// every later append belongs in the new log.
		const covered = this.#take();
		this.#snapshotsAsked++;
		return this.#serially(() => this.#compact(covered, frame));
	}

	/**
	 * Stops as a killed process would: appends still waiting for their commit are not
	 * written (their promises reject), a commit already under way finishes, and the file
	 * is closed. What nobody was told of stays off the disk.
	 */
	abandon(): Promise<void> {
		this.#closing ??= (() => {
			this.#take()?.reject(new Error(`the record log in ${this.#directory} was abandoned`));
			return this.#serially(() => this.#handle.close());
		})();
		return this.#closing;
	}

	/** Flushes pending appends, then closes. */
	close(): Promise<void> {
		this.#closing ??= this.#serially(async () => {
			// Every snapshot asked for has run by now, so whatever waits belongs in this log.
			await this.#commitPending();
			await this.#handle.close();
		});
		return this.#closing;
	}

	#refusal(): Error | null {
		if (this.#failure) return this.#failure;
		if (this.#closing) return new Error(`the record log in ${this.#directory} is closed`);
		return null;
	}

	#serially(job: () => Promise<void>): Promise<void> {
		const run = this.#queue.then(job);
		// One failed job does not stop those behind it; its caller has the error.
		this.#queue = run.catch(() => {});
		return run;
	}

	#take(): Batch | null {
		const batch = this.#pending;
		this.#pending = null;
		batch?.cancelTimer?.();
		return batch;
	}

	/** Commits the waiting batch, unless it began after a snapshot that has not yet switched logs (the snapshot commits it when it has). */
	async #commitPending(): Promise<void> {
		if (this.#pending === null || this.#pending.snapshotsBefore !== this.#snapshotsDone) return;
		const batch = this.#take()!;
		try {
			await this.#commit(batch);
		} catch {
			// The batch's appenders have the error.
		}
	}

	async #commit(batch: Batch): Promise<void> {
		if (this.#failure) {
			batch.reject(this.#failure);
			throw this.#failure;
		}
		try {
			await writeAll(this.#handle, batch.buffer.subarray(0, batch.used));
			await this.#handle.datasync();
		} catch (error) {
			this.#fail(error as Error);
			batch.reject(error as Error);
			throw error;
		}
		this.#logBytes += batch.used;
		this.#commits++;
		batch.resolve();
	}

	async #compact(covered: Batch | null, frame: Buffer): Promise<void> {
		const next = this.#highestGeneration + 1;
		const temporary = join(this.#directory, temporaryName(next));
		try {
			if (covered) await this.#commit(covered);
			await writeDurably(this.#disk, temporary, frame, 'w');
			await this.#disk.rename(temporary, join(this.#directory, snapshotName(next)));
		} catch (error) {
			// Nothing new can be replayed yet: the old snapshot and log hold every record, and appends carry on there.
			await this.#disk.remove(temporary).catch(() => {});
			this.#switched();
			throw error;
		}
		this.#highestGeneration = next;
		// From the rename on, a replay may find the new snapshot and ignore the old log, so
		// not one more record may go there: a failure now stops the log.
		try {
			await this.#disk.syncDirectory(this.#directory);
			// 'ax': the name is new by construction, and a stale file there must not be appended to.
			const handle = await this.#disk.open(join(this.#directory, walName(next)), 'ax');
			// The new log's name is durable before any record in it is acknowledged.
			await this.#disk.syncDirectory(this.#directory);
			const old = this.#handle;
			this.#handle = handle;
			this.#generation = next;
			this.#logBytes = 0;
			await old.close().catch(() => {});
		} catch (error) {
			this.#fail(error as Error);
			throw error;
		}
		this.#switched();
		// Everything below `next` is garbage now. A deletion lost in a crash is harmless: replay
		// never reads those files and the next open deletes them.
		const older = (await listLogFiles(this.#disk, this.#directory)).filter((file) => file.generation < next);
		await removeLogFiles(this.#disk, this.#directory, older.map((file) => file.name)).catch(() => {});
	}

	/** A snapshot has finished (or failed without effect): appends made while it ran can now be committed. */
	#switched(): void {
		this.#snapshotsDone++;
		if (this.#pending) void this.#serially(() => this.#commitPending());
	}

	/**
	 * After a failed write or fsync, what the file holds is unknown (part of a frame may be
	 * there, and Linux may have dropped the unwritten pages), so no record may follow: the
	 * log refuses everything from now on. Reopening it cuts whatever tail was left.
	 */
	#fail(error: Error): void {
		this.#failure ??= error;
		this.#take()?.reject(this.#failure);
	}
}

/** Moves logs that can no longer be replayed out of the way, kept for a post-mortem like cut bytes. */
async function setAside(disk: Disk, directory: string, files: readonly LogFile[]): Promise<void> {
	for (const file of files) await disk.rename(join(directory, file.name), join(directory, `${file.name}.orphan`));
	if (files.length > 0) await disk.syncDirectory(directory);
}

async function fileSize(disk: Disk, path: string): Promise<number> {
	const handle = await disk.open(path, 'r');
	try {
		return await handle.size();
	} finally {
		await handle.close();
	}
}
