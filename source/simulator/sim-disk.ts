import { dirname } from 'node:path';
import type { Disk, FileHandle, OpenFlags } from '../runtime/disk.js';
import type { Random } from '../runtime/random.js';
import type { Scheduler } from './scheduler.js';

/** A file's contents: what reads see now (the page cache) and what is on the platter. */
interface Inode {
	data: Buffer;
	durable: Buffer;
	mode: number;
}

/** A change of a directory's names, not yet durable: `apply` makes it so on a set of names. */
interface DirectoryChange {
	readonly directory: string;
	readonly apply: (names: Map<string, Inode>) => void;
}

/** What the disk does wrong, on purpose. */
export interface DiskFaults {
	/** Chance that an fsync returns success without making anything durable (a lying disk). */
	readonly fsyncLies: number;
	/** Chance, at each crash, that one bit of one file flips on the platter. */
	readonly flipOnCrash: number;
	/** Writes beyond this many bytes in all fail with ENOSPC. */
	readonly capacityBytes: number;
}

export const HONEST_DISK: DiskFaults = { fsyncLies: 0, flipOnCrash: 0, capacityBytes: Infinity };

/** Reads, writes and fsyncs take a little virtual time: a fsync most. */
const IO_MS = 0.05;
const FSYNC_MS = 0.5;

function failure(code: string, message: string): NodeJS.ErrnoException {
	const error: NodeJS.ErrnoException = new Error(`${code}: ${message}`);
	error.code = code;
	return error;
}

/**
 * One simulated host's disk (TigerBeetle's simulated storage is the model). A write
 * lands in the page cache: reads see it at once, but it is on the platter only after an
 * fsync of its file. A new name, a rename or a removal is durable only after an fsync of
 * its directory. At a crash, what was not durable is lost — or partly kept: unsynced
 * bytes at a file's end survive as a torn prefix, and each unsynced change of a
 * directory is kept or lost at random. On purpose, if asked: fsyncs that lie, a bit that
 * flips at a crash, a disk that fills up. Everything is drawn from the simulation's seed.
 */
export class SimDisk implements Disk {
	/** Names as reads see them now. */
	#names = new Map<string, Inode>();
	/** Names as they are on the platter. */
	#durableNames = new Map<string, Inode>();
	/** Directory changes not yet fsynced, in order: replayed at random at a crash. */
	#unsyncedOps: DirectoryChange[] = [];
	readonly #directories = new Set<string>(['/']);
	/** Bumped at every crash: handles of the dead process fail from then on, and write nothing. */
	#life = 0;
	faults: DiskFaults = HONEST_DISK;
	/** Events that did happen, for the trace: lies told, bits flipped. */
	readonly incidents: string[] = [];

	/** Called as each fsync of a file begins: the simulator crashes a host mid-fsync with it. */
	onSync: (() => void) | null = null;

	constructor(readonly scheduler: Scheduler, readonly random: Random) {}

	async mkdir(path: string): Promise<void> {
		await this.#io(IO_MS);
		for (let directory = path; directory !== '/' && directory !== '.'; directory = dirname(directory)) this.#directories.add(directory);
	}

	async readdir(path: string): Promise<string[]> {
		await this.#io(IO_MS);
		if (!this.#directories.has(path)) throw failure('ENOENT', `no such directory ${path}`);
		const prefix = path.endsWith('/') ? path : `${path}/`;
		return [...this.#names.keys()].filter((name) => name.startsWith(prefix) && !name.slice(prefix.length).includes('/')).map((name) => name.slice(prefix.length)).sort();
	}

	async readFile(path: string): Promise<Buffer> {
		await this.#io(IO_MS);
		const inode = this.#names.get(path);
		if (!inode) throw failure('ENOENT', `no such file ${path}`);
		return Buffer.from(inode.data);
	}

	async open(path: string, flags: OpenFlags, mode = 0o644): Promise<FileHandle> {
		await this.#io(IO_MS);
		let inode = this.#names.get(path);
		if (inode && (flags === 'ax' || flags === 'wx')) throw failure('EEXIST', `${path} exists`);
		if (!inode && (flags === 'r' || flags === 'r+')) throw failure('ENOENT', `no such file ${path}`);
		if (!this.#directories.has(dirname(path))) throw failure('ENOENT', `no such directory ${dirname(path)}`);
		if (!inode) {
			inode = { data: Buffer.alloc(0), durable: Buffer.alloc(0), mode };
			const created = inode;
			this.#names.set(path, created);
			this.#unsyncedOps.push({ directory: dirname(path), apply: (names) => names.set(path, created) });
		} else if (flags === 'w' || flags === 'wx') {
			inode.data = Buffer.alloc(0);
		}
		return this.#handle(inode, flags);
	}

	async rename(from: string, to: string): Promise<void> {
		await this.#io(IO_MS);
		const inode = this.#names.get(from);
		if (!inode) throw failure('ENOENT', `no such file ${from}`);
		this.#names.delete(from);
		this.#names.set(to, inode);
		this.#unsyncedOps.push({
			directory: dirname(to),
			apply: (names) => {
				names.delete(from);
				names.set(to, inode);
			},
		});
	}

	async remove(path: string): Promise<void> {
		await this.#io(IO_MS);
		if (!this.#names.delete(path)) return;
		this.#unsyncedOps.push({ directory: dirname(path), apply: (names) => names.delete(path) });
	}

	async mode(path: string): Promise<number> {
		await this.#io(IO_MS);
		const inode = this.#names.get(path);
		if (!inode) throw failure('ENOENT', `no such file ${path}`);
		return inode.mode;
	}

	async syncDirectory(path: string): Promise<void> {
		await this.#io(FSYNC_MS);
		if (this.#lies()) return;
		// POSIX fsync of a directory makes its entries durable: the changes under it, in order.
		const remaining: DirectoryChange[] = [];
		for (const op of this.#unsyncedOps) {
			if (op.directory === path) op.apply(this.#durableNames);
			else remaining.push(op);
		}
		this.#unsyncedOps = remaining;
	}

	/**
	 * The host lost power: whatever was not durable is gone, or torn. Open handles are
	 * the dead process's and are never used again.
	 */
	crash(): void {
		const names = new Map(this.#durableNames);
		for (const op of this.#unsyncedOps) if (this.random.fraction() < 0.5) op.apply(names);
		this.#unsyncedOps = [];
		const inodes = new Set(names.values());
		for (const inode of inodes) {
			const tail = inode.data.length > inode.durable.length && inode.data.subarray(0, inode.durable.length).equals(inode.durable)
				? inode.data.subarray(inode.durable.length)
				: null;
			// Bytes written past the last fsync may have partly reached the platter: a torn tail.
			const kept = tail && this.random.fraction() < 0.5 ? Math.floor(this.random.fraction() * (tail.length + 1)) : 0;
			inode.durable = Buffer.concat([inode.durable, tail ? tail.subarray(0, kept) : Buffer.alloc(0)]);
			inode.data = Buffer.from(inode.durable);
		}
		if (this.faults.flipOnCrash > 0 && this.random.fraction() < this.faults.flipOnCrash) {
			const candidates = [...names].filter(([, inode]) => inode.durable.length > 0);
			if (candidates.length > 0) {
				const [path, inode] = candidates[Math.floor(this.random.fraction() * candidates.length)]!;
				const bit = Math.floor(this.random.fraction() * inode.durable.length * 8);
				inode.durable[bit >> 3]! ^= 1 << (bit & 7);
				inode.data = Buffer.from(inode.durable);
				this.incidents.push(`bit ${bit} of ${path} flipped`);
			}
		}
		this.#names = names;
		this.#durableNames = new Map(names);
		this.#life++;
	}

	/** Names on this disk now (tests look for a log file). */
	files(): string[] {
		return [...this.#names.keys()].sort();
	}

	/** Changes a file's bytes in place, on the platter too: a disk that lied, made to order by a test. */
	tamper(path: string, change: (bytes: Buffer) => void): void {
		const inode = this.#names.get(path);
		if (!inode) throw new Error(`no file ${path} to tamper with`);
		change(inode.data);
		inode.durable = Buffer.from(inode.data);
	}

	/** One file gone for good, on the platter too (an operator moved it away). */
	discard(path: string): void {
		this.#names.delete(path);
		this.#durableNames.delete(path);
	}

	/** Every file gone, as if the disk were replaced: the next start finds nothing. */
	wipe(): void {
		this.#names = new Map();
		this.#durableNames = new Map();
		this.#unsyncedOps = [];
	}

	/** Bytes held on this disk, as reads see them. */
	#used(): number {
		let bytes = 0;
		for (const inode of new Set(this.#names.values())) bytes += inode.data.length;
		return bytes;
	}

	#lies(): boolean {
		if (this.faults.fsyncLies > 0 && this.random.fraction() < this.faults.fsyncLies) {
			this.incidents.push('an fsync returned before the data was safe');
			return true;
		}
		return false;
	}

	#io(ms: number): Promise<void> {
		return new Promise((resolve) => this.scheduler.setTimeout(resolve, ms * (0.5 + this.random.fraction())));
	}

	#handle(inode: Inode, flags: OpenFlags): FileHandle {
		let position = flags === 'a' ? inode.data.length : 0;
		const life = this.#life;
		/** The process that opened it died at a crash: nothing it does reaches the disk any more. */
		const alive = (): void => {
			if (this.#life !== life) throw failure('EIO', 'the process that opened this file is gone');
		};
		return {
			read: async (buffer, offset, length, at) => {
				await this.#io(IO_MS);
				alive();
				const bytesRead = Math.max(0, Math.min(length, inode.data.length - at));
				if (bytesRead > 0) inode.data.copy(buffer, offset, at, at + bytesRead);
				return { bytesRead };
			},
			write: async (buffer, offset, length) => {
				await this.#io(IO_MS);
				alive();
				if (this.#used() + length > this.faults.capacityBytes) throw failure('ENOSPC', 'no space left on device');
				if (flags === 'a') position = inode.data.length;
				const bytes = buffer.subarray(offset, offset + length);
				const end = position + bytes.length;
				const grown = end > inode.data.length ? Buffer.concat([inode.data, Buffer.alloc(end - inode.data.length)]) : Buffer.from(inode.data);
				bytes.copy(grown, position);
				inode.data = grown;
				position = end;
				return { bytesWritten: bytes.length };
			},
			size: async () => {
				await this.#io(IO_MS);
				alive();
				return inode.data.length;
			},
			truncate: async (length) => {
				await this.#io(IO_MS);
				alive();
				inode.data = Buffer.from(inode.data.subarray(0, length));
			},
			datasync: async () => {
				this.onSync?.();
				await this.#io(FSYNC_MS);
				alive();
				if (!this.#lies()) inode.durable = Buffer.from(inode.data);
			},
			sync: async () => {
				this.onSync?.();
				await this.#io(FSYNC_MS);
				alive();
				if (!this.#lies()) inode.durable = Buffer.from(inode.data);
			},
			close: async () => {
				await this.#io(IO_MS);
				alive();
			},
		};
	}
}
