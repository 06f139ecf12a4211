import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FootfallProcess, ROOT } from './footfall-process.js';

export const DEMO_FIXTURE = join(ROOT, 'fixtures/malls/demo.json');
const DEMO_PASSWORDS = JSON.parse(readFileSync(join(ROOT, 'fixtures/malls/demo.passwords.json'), 'utf8')) as Record<string, string>;

/**
 * Headless `footfall` processes of the demo mall, in a scratch directory of their own:
 * password files written on demand, every process killed and the directory removed by
 * `stop()` (call it from `t.teardown` or `test.after.always`).
 */
export class ProcessCluster {
	readonly work: string;
	readonly children: FootfallProcess[] = [];

	constructor(name: string) {
		this.work = mkdtempSync(join(tmpdir(), `footfall-${name}-`));
	}

	/** A file holding the account's password (or a wrong one for an unknown user). */
	passwordFile(user: string): string {
		const file = join(this.work, `${user}.password`);
		writeFileSync(file, `${DEMO_PASSWORDS[user] ?? 'not-the-password'}\n`);
		return file;
	}

	start(args: string[]): FootfallProcess {
		const child = new FootfallProcess([...args, '--headless']);
		this.children.push(child);
		return child;
	}

	tracker(listen = '127.0.0.1:0', extra: string[] = []): FootfallProcess {
		return this.start(['tracker', '--fixture', DEMO_FIXTURE, '--listen', listen, ...extra]);
	}

	/** A peer or observer logging in as `user`. */
	member(role: 'peer' | 'observer', user: string, trackerAddress: string, extra: string[] = []): FootfallProcess {
		return this.start([role, '--tracker', trackerAddress, '--user', user, '--password-file', this.passwordFile(user), ...extra]);
	}

	async stop(): Promise<void> {
		for (const child of this.children) {
			child.child.kill('SIGCONT'); // a frozen one must run to die
			child.stop();
		}
		await Promise.all(this.children.map((child) => child.exited));
		rmSync(this.work, { recursive: true, force: true });
	}
}
