import * as fs from 'node:fs/promises';

/**
 * The file operations the record log and the data directory need, and nothing more: a
 * port, so that the simulator can run them on a disk that tears writes, loses what was
 * not fsynced at a crash, flips bits and fills up (TigerBeetle's simulated storage is the
 * model). Errors carry node's `code` (ENOENT, EEXIST, ENOSPC, EIO) in either case.
 */
export interface FileHandle {
	/** Reads into `buffer` from `position`; fewer bytes only at the end of the file. */
	read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
	/** Writes at the end of a file opened for appending, or at the current position. */
	write(buffer: Buffer, offset: number, length: number): Promise<{ bytesWritten: number }>;
	size(): Promise<number>;
	truncate(length: number): Promise<void>;
	/** Makes the data (and its size) durable. */
	datasync(): Promise<void>;
	/** Makes the data and metadata durable. */
	sync(): Promise<void>;
	close(): Promise<void>;
}

export type OpenFlags = 'r' | 'r+' | 'a' | 'ax' | 'w' | 'wx';

export interface Disk {
	/** Creates a directory and its parents; nothing if it exists. */
	mkdir(path: string): Promise<void>;
	readdir(path: string): Promise<string[]>;
	/** A whole file; rejects with ENOENT when there is none. */
	readFile(path: string): Promise<Buffer>;
	open(path: string, flags: OpenFlags, mode?: number): Promise<FileHandle>;
	/** Replaces `to` atomically (POSIX rename). */
	rename(from: string, to: string): Promise<void>;
	/** Removes a file; one that is already gone is no failure. */
	remove(path: string): Promise<void>;
	/** The permission bits of a file (ssh-style checks of password files). */
	mode(path: string): Promise<number>;
	/**
	 * Makes the names in a directory durable: after a rename, a new file or a deletion,
	 * the entry itself is only on disk once its directory is fsynced (POSIX fsync(2)).
	 */
	syncDirectory(path: string): Promise<void>;
}

/** The machine's own file system. */
export const nodeDisk: Disk = {
	async mkdir(path) {
		await fs.mkdir(path, { recursive: true });
	},
	readdir: (path) => fs.readdir(path),
	readFile: (path) => fs.readFile(path),
	async open(path, flags, mode) {
		const handle = await fs.open(path, flags, mode);
		return {
			read: (buffer, offset, length, position) => handle.read(buffer, offset, length, position),
			write: (buffer, offset, length) => handle.write(buffer, offset, length),
			size: async () => (await handle.stat()).size,
			truncate: (length) => handle.truncate(length),
			datasync: () => handle.datasync(),
			sync: () => handle.sync(),
			close: () => handle.close(),
		};
	},
	rename: (from, to) => fs.rename(from, to),
	remove: (path) => fs.rm(path, { force: true }),
	mode: async (path) => (await fs.stat(path)).mode & 0o777,
	async syncDirectory(path) {
		const handle = await fs.open(path, 'r');
		try {
			await handle.sync();
		} finally {
			await handle.close();
		}
	},
};
