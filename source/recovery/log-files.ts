import { dirname, join } from 'node:path';
import type { Disk, FileHandle } from '../runtime/disk.js';
import { followedByFrame, nextFrameAt, scanFrames } from './record-framing.js';

/**
 * The files of a record log on disk (the layout is described in record-log.ts): their
 * names, reading a log file back, cutting a damaged one, and the fsyncs that make a
 * rename or a new file durable.
 */

/** Replay reads a log in pieces this big: few reads, and no file is ever read whole into one buffer. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/** Generations are zero-padded so that `ls` lists files in the order they were made. */
const GENERATION_DIGITS = 16;

const pad = (generation: number): string => String(generation).padStart(GENERATION_DIGITS, '0');

export const walName = (generation: number): string => `wal-${pad(generation)}.log`;
export const snapshotName = (generation: number): string => `snapshot-${pad(generation)}`;
export const temporaryName = (generation: number): string => `${snapshotName(generation)}.tmp`;

export type LogFileKind = 'wal' | 'snapshot' | 'temporary';

export interface LogFile {
	readonly kind: LogFileKind;
	readonly generation: number;
	readonly name: string;
}

const NAMES: readonly (readonly [LogFileKind, RegExp])[] = [
	['wal', /^wal-(\d{16})\.log$/],
	['snapshot', /^snapshot-(\d{16})$/],
	['temporary', /^snapshot-(\d{16})\.tmp$/],
];

/** The log's own files in `directory`; anything else there (cut copies, strangers) is not listed. */
export async function listLogFiles(disk: Disk, directory: string): Promise<LogFile[]> {
	const files: LogFile[] = [];
	for (const name of await disk.readdir(directory)) {
		for (const [kind, pattern] of NAMES) {
			const match = pattern.exec(name);
			if (match) files.push({ kind, generation: Number(match[1]), name });
		}
	}
	return files;
}

/** The payload bytes of a snapshot file, or null if it cannot be read. */
export async function readSnapshotFile(disk: Disk, file: string): Promise<Buffer | null> {
	try {
		return await disk.readFile(file);
	} catch {
		return null;
	}
}

export interface LogRead {
	readonly exists: boolean;
	/** Payloads of the valid records, in order, up to the first bad frame. */
	readonly records: Buffer[];
	/** Bytes of valid frames: where the file ends, or where it will once the bad tail is cut. */
	readonly validBytes: number;
	/** Whether bytes follow the valid frames (a bad or incomplete frame at `validBytes`). */
	readonly damaged: boolean;
}

/**
 * Reads a log file in `CHUNK_BYTES` pieces and checks every frame. A frame that straddles
 * two pieces is carried into the next one: the only bytes ever copied.
 */
export async function readLogFile(disk: Disk, file: string): Promise<LogRead> {
	let handle: FileHandle;
	try {
		handle = await disk.open(file, 'r');
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false, records: [], validBytes: 0, damaged: false };
		throw error;
	}
	try {
		let size = await handle.size();
		const records: Buffer[] = [];
		let chunk = Buffer.alloc(0);
		let chunkStart = 0;
		for (;;) {
			const scan = scanFrames(chunk, 0, records);
			const validBytes = chunkStart + scan.end;
			const chunkEnd = chunkStart + chunk.length;
			if (scan.stop === 'bad') return { exists: true, records, validBytes, damaged: true };
			if (chunkEnd >= size) return { exists: true, records, validBytes, damaged: validBytes < size };
			const carried = chunk.length - scan.end;
			const next = Buffer.allocUnsafe(Math.min(Math.max(CHUNK_BYTES, scan.need), size - validBytes));
			chunk.copy(next, 0, scan.end);
			const read = await readFully(handle, next, carried, chunkEnd);
			// A file that shrank while being read ends where the reading did.
			if (carried + read < next.length) size = validBytes + carried + read;
			chunk = next.subarray(0, carried + read);
			chunkStart = validBytes;
		}
	} finally {
		await handle.close();
	}
}

export interface Cut {
	readonly kind: 'torn' | 'corrupt';
	readonly cutBytes: number;
	readonly savedAs: string;
}

/**
 * Repairs a log whose frame at `offset` is bad, as etcd's `Repair` does: the bytes from
 * there to the end are first copied, durably, to `<file>.cut-<offset>`, then the file is
 * truncated at `offset` and fsynced. A crash in between leaves the damage in place and the
 * next open repairs it again, rewriting the same copy.
 */
export async function cutLogFile(disk: Disk, file: string, offset: number): Promise<Cut> {
	const handle = await disk.open(file, 'r+');
	try {
		const size = await handle.size();
		const tail = Buffer.allocUnsafe(size - offset);
		const read = await readFully(handle, tail, 0, offset);
		const cut = tail.subarray(0, read);
		const savedAs = `${file}.cut-${offset}`;
		await writeDurably(disk, savedAs, cut, 'w');
		await disk.syncDirectory(dirname(file));
		await handle.truncate(offset);
		await handle.sync();
		return { kind: followedByFrame(cut) ? 'corrupt' : 'torn', cutBytes: cut.length, savedAs };
	} finally {
		await handle.close();
	}
}

/** Writes a whole file and fsyncs it; `flag` 'w' replaces it, 'wx' insists it is new. */
export async function writeDurably(disk: Disk, file: string, bytes: Buffer, flag: 'w' | 'wx', mode?: number): Promise<void> {
	const handle = await disk.open(file, flag, mode);
	try {
		await writeAll(handle, bytes);
		await handle.sync();
	} finally {
		await handle.close();
	}
}

/** Writes all of `bytes` at the file's current position (short writes are continued). */
export async function writeAll(handle: FileHandle, bytes: Buffer): Promise<void> {
	let written = 0;
	while (written < bytes.length) {
		const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
		written += bytesWritten;
	}
}

/** Removes files of the log; one that is already gone is no failure. */
export async function removeLogFiles(disk: Disk, directory: string, names: readonly string[]): Promise<void> {
	await Promise.all(names.map((name) => disk.remove(join(directory, name))));
}

export interface StepOver {
	/** Payloads of every valid frame from the bad one on, in order. */
	readonly records: Buffer[];
	/** Bad frames stepped over: where each was, and how many bytes it took. */
	readonly skipped: { readonly offset: number; readonly bytes: number }[];
	/** Where the last valid frame ends: anything after it is a torn tail. */
	readonly validEnd: number;
}

/**
 * For a log whose records are each a whole state (replay is a join, so one record more or
 * less only delays it): reads on past a corrupt frame, from the next valid one, to the
 * end. `from` is where the first bad frame starts.
 */
export async function stepOverCorrupt(disk: Disk, file: string, from: number): Promise<StepOver> {
	const handle = await disk.open(file, 'r');
	try {
		const size = await handle.size();
		const bytes = Buffer.allocUnsafe(size - from);
		const read = await readFully(handle, bytes, 0, from);
		const rest = bytes.subarray(0, read);
		const records: Buffer[] = [];
		const skipped: { offset: number; bytes: number }[] = [];
		let at = 0;
		let validEnd = 0;
		while (at < rest.length) {
			const scan = scanFrames(rest, at, records);
			validEnd = scan.end;
			if (scan.stop !== 'bad' && scan.end >= rest.length) break;
			const next = nextFrameAt(rest.subarray(scan.end));
			if (next === null) break;
			skipped.push({ offset: from + scan.end, bytes: next });
			at = scan.end + next;
		}
		return { records, skipped, validEnd: from + validEnd };
	} finally {
		await handle.close();
	}
}

/** Fills `target` from `offset` on with bytes from `position`; returns how many were read (fewer only at the end of the file). */
async function readFully(handle: FileHandle, target: Buffer, offset: number, position: number): Promise<number> {
	let filled = offset;
	while (filled < target.length) {
		const { bytesRead } = await handle.read(target, filled, target.length - filled, position + filled - offset);
		if (bytesRead === 0) break;
		filled += bytesRead;
	}
	return filled - offset;
}
