import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportIdentity, generateIdentity, importIdentity, type Identity } from '../security/keys.js';
import { UsageError } from './usage-error.js';

interface Saved {
	readonly keys: { sign: string; agree: string };
	readonly incarnation: number;
}

/**
 * What a process keeps in its `--data` directory between runs: its keys (so that a
 * tracker keeps the identity peers pinned, and a peer comes back as itself) and the last
 * incarnation it had. Written atomically: a crash leaves the old file or the new one.
 */
export class DataDirectory {
	private constructor(readonly path: string | null, readonly identity: Identity, readonly lastIncarnation: number) {}

	static async open(path: string | undefined, name: string): Promise<DataDirectory> {
		if (path === undefined) return new DataDirectory(null, generateIdentity(), 0);
		try {
			await mkdir(path, { recursive: true });
		} catch (error) {
			throw new UsageError(`${path}: cannot create the data directory: ${(error as NodeJS.ErrnoException).code}`);
		}
		const file = join(path, `${name}.json`);
		let text: string;
		try {
			text = await readFile(file, 'utf8');
		} catch {
			const fresh = new DataDirectory(path, generateIdentity(), 0);
			await fresh.save(name, 0);
			return fresh;
		}
		try {
			const saved = JSON.parse(text) as Saved;
			return new DataDirectory(path, importIdentity(saved.keys), saved.incarnation);
		} catch (error) {
			throw new UsageError(`${file}: unreadable (${(error as Error).message}); move it away to start with a new identity`);
		}
	}

	async save(name: string, incarnation: number): Promise<void> {
		if (this.path === null) return;
		const file = join(this.path, `${name}.json`);
		const saved: Saved = { keys: exportIdentity(this.identity), incarnation };
		await writeFile(`${file}.tmp`, `${JSON.stringify(saved)}\n`, { mode: 0o600 });
		await rename(`${file}.tmp`, file);
	}
}
