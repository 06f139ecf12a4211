import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const BINARY = fileURLToPath(new URL('../../source/cli/main.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

type Line = Record<string, unknown> & { type?: string };

/**
 * A `footfall` process driven as a script would: JSON lines read from stdout, commands
 * written to stdin. Every wait is bounded; `stop()` kills whatever is still running.
 */
export class FootfallProcess {
	readonly child: ChildProcessWithoutNullStreams;
	readonly lines: Line[] = [];
	stderr = '';
	readonly exited: Promise<number | null>;
	readonly #waiters: { test: (line: Line) => boolean; resolve: (line: Line) => void }[] = [];

	constructor(args: string[]) {
		this.child = spawn(process.execPath, [BINARY, ...args], { cwd: ROOT, env: { ...process.env, NODE_ENV: 'production' } });
		this.child.stderr.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
		createInterface({ input: this.child.stdout }).on('line', (text) => {
			let line: Line;
			try {
				line = JSON.parse(text) as Line;
			} catch {
				line = { type: 'not-json', text };
			}
			this.lines.push(line);
			for (const waiter of [...this.#waiters]) {
				if (waiter.test(line)) {
					this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
					waiter.resolve(line);
				}
			}
		});
		this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
	}

	/** The first line (already printed or still to come) that passes `test`, within `ms`. */
	waitFor(test: (line: Line) => boolean, ms = 15_000, what = 'a matching line'): Promise<Line> {
		const seen = this.lines.find(test);
		if (seen) return Promise.resolve(seen);
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; stderr: ${this.stderr.slice(0, 500)}`)), ms);
			const onExit = () => reject(new Error(`exited before ${what}; stderr: ${this.stderr.slice(0, 500)}`));
			this.child.once('exit', onExit);
			this.#waiters.push({
				test,
				resolve: (line) => {
					clearTimeout(timer);
					this.child.off('exit', onExit);
					resolve(line);
				},
			});
		});
	}

	ready(ms?: number): Promise<Line> {
		return this.waitFor((line) => line.type === 'ready', ms, 'ready line');
	}

	/** Sends a command and returns the next line of the given type printed after it. */
	async command(text: string, type: string, ms = 10_000): Promise<Line> {
		const [answer] = await this.commands([text], type, ms);
		return answer!;
	}

	/** Sends many commands at once and collects one answer of `type` for each, in order. */
	async commands(texts: string[], type: string, ms = 15_000): Promise<Line[]> {
		const from = this.lines.length;
		const answers = () => this.lines.slice(from).filter((line) => line.type === type);
		const done = this.waitFor(() => answers().length >= texts.length, ms, `${texts.length} "${type}" answers`);
		this.child.stdin.write(texts.map((text) => `${text}\n`).join(''));
		await done;
		return answers().slice(0, texts.length);
	}

	stop(): void {
		if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
	}
}
