import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';

/** One JSON line of the headless contract. */
export type JsonLine = Record<string, unknown> & { readonly type?: string };

/** A line with the moment the lab read it (performance.now(), ms). */
export interface TimedLine {
	readonly at: number;
	readonly line: JsonLine;
}

export interface ProcessExit {
	readonly at: number;
	readonly code: number | null;
	readonly signal: NodeJS.Signals | null;
}

/**
 * The lines a headless peer prints to answer a command, one per command, in order
 * (README). `error` answers an unknown command too, but a peer also prints `error` of its
 * own accord (its log cannot be written): the lab sends no unknown command, so an
 * `error` line is always taken as news, never as an answer.
 */
const ANSWER_TYPES = new Set(['entry', 'exit', 'status']);
/** How much of stderr is kept to explain an unexpected exit. */
const STDERR_KEPT = 2000;

interface AwaitedAnswer {
	resolve: (answer: TimedLine | null) => void;
	/** Given up on (timed out): its answer, should it come, is read and dropped, so the next one stays matched. */
	abandoned: boolean;
}

/**
 * One footfall process of the lab, driven as a script would drive it: JSON lines read
 * from stdout, commands written to stdin. Nothing here throws at the lab: a wait that
 * runs out or a process that dies resolves to null, and the caller reports it.
 */
export class MemberProcess {
	readonly child: ChildProcessWithoutNullStreams;
	readonly spawnedAt = performance.now();
	/** Every line but answers and the observer's occupancy lines (those are many; only the latest is kept). */
	readonly notable: TimedLine[] = [];
	latestOccupancy: TimedLine | null = null;
	exit: ProcessExit | null = null;
	/** Set before the lab kills or stops it: an exit then is no news. */
	exitExpected = false;
	stderr = '';
	readonly exited: Promise<ProcessExit>;
	readonly #answers: AwaitedAnswer[] = [];
	readonly #waiters = new Set<{ test: (line: JsonLine) => boolean; settle: (line: TimedLine | null) => void }>();

	constructor(
		/** Who this is in the report: `tracker`, the sensor's id, or the observer's user. */
		readonly name: string,
		command: { readonly file: string; readonly args: readonly string[] },
		onLine: (process: MemberProcess, line: TimedLine) => void,
	) {
		this.child = spawn(command.file, [...command.args], { env: { ...process.env, NODE_ENV: 'production' }, stdio: ['pipe', 'pipe', 'pipe'] });
		// Writing to a killed peer's stdin fails with EPIPE: the lab learns of the death from 'exit'.
		this.child.stdin.on('error', () => {});
		this.child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_KEPT)));
		createInterface({ input: this.child.stdout }).on('line', (text) => {
			const timed: TimedLine = { at: performance.now(), line: parse(text) };
			this.#take(timed);
			onLine(this, timed);
		});
		this.exited = new Promise((resolve) => {
			const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
				if (this.exit) return;
				this.exit = { at: performance.now(), code, signal };
				for (const answer of this.#answers.splice(0)) if (!answer.abandoned) answer.resolve(null);
				for (const waiter of this.#waiters) waiter.settle(null);
				resolve(this.exit);
			};
			this.child.on('exit', settle);
			// A spawn that fails (no such file) emits 'error' and may never emit 'exit'.
			this.child.on('error', (error) => {
				this.stderr += `\n${error.message}`;
				settle(null, null);
			});
		});
	}

	get running(): boolean {
		return this.exit === null;
	}

	#take(timed: TimedLine): void {
		const type = timed.line.type ?? '';
		if (ANSWER_TYPES.has(type)) {
			const answer = this.#answers.shift();
			if (answer && !answer.abandoned) answer.resolve(timed);
			return;
		}
		if (type === 'occupancy') this.latestOccupancy = timed;
		else this.notable.push(timed);
		for (const waiter of this.#waiters) if (waiter.test(timed.line)) waiter.settle(timed);
	}

	/** The first notable line (already printed or to come) passing `test`, or null after `ms` or if the process exits. */
	waitFor(test: (line: JsonLine) => boolean, ms: number): Promise<TimedLine | null> {
		const seen = this.notable.find((timed) => test(timed.line));
		if (seen) return Promise.resolve(seen);
		if (!this.running) return Promise.resolve(null);
		return new Promise((resolve) => {
			const waiter = {
				test,
				settle: (line: TimedLine | null): void => {
					clearTimeout(timer);
					this.#waiters.delete(waiter);
					resolve(line);
				},
			};
			const timer = setTimeout(() => waiter.settle(null), ms);
			this.#waiters.add(waiter);
		});
	}

	/** The `ready` line, or null if none comes within `ms`. */
	ready(ms: number): Promise<TimedLine | null> {
		return this.waitFor((line) => line.type === 'ready', ms);
	}

	/** Sends one stdin command; resolves with its answer, or null if the process dies first or `ms` pass. */
	ask(command: string, ms: number): Promise<TimedLine | null> {
		if (!this.running) return Promise.resolve(null);
		return new Promise((resolve) => {
			const awaited: AwaitedAnswer = {
				abandoned: false,
				resolve: (answer) => {
					clearTimeout(timer);
					resolve(answer);
				},
			};
			const timer = setTimeout(() => {
				awaited.abandoned = true;
				resolve(null);
			}, ms);
			this.#answers.push(awaited);
			this.child.stdin.write(`${command}\n`);
		});
	}

	/** Commands written and not answered yet (timed-out ones included until their answer comes). */
	get unanswered(): number {
		return this.#answers.length;
	}

	/** kill -9: no goodbye, no flush; expected, so not reported as a crash. */
	kill(): void {
		this.exitExpected = true;
		if (this.running) this.child.kill('SIGKILL');
	}

	/** Kills it if still running and waits for its exit, at most `ms`. */
	async stop(ms: number): Promise<void> {
		this.kill();
		await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
	}
}

function parse(text: string): JsonLine {
	try {
		const value = JSON.parse(text) as unknown;
		if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as JsonLine;
	} catch {
		// not JSON: kept as text below, so a stray print is visible in the report, not fatal
	}
	return { type: 'not-json', text };
}
