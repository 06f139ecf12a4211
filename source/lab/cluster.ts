import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Mall } from '../model/mall.js';
import { isRunning, type LabNamespace } from './namespace.js';
import type { LabRecord } from './lab-record.js';
import { MemberProcess, type TimedLine } from './member-process.js';

/** build/source/lab/ → the binary beside it, and the repository (for the fixture). */
export const BINARY = fileURLToPath(new URL('../cli/main.js', import.meta.url));
export const REPOSITORY = fileURLToPath(new URL('../../../', import.meta.url));
export const DEMO_FIXTURE = join(REPOSITORY, 'fixtures/malls/demo.json');
export const DEMO_PASSWORDS = join(REPOSITORY, 'fixtures/malls/demo.passwords.json');

const SCRATCH_PREFIX = 'footfall-lab-';

/**
 * Removes the scratch directories of earlier runs whose process is gone (a run killed
 * with -9 cannot); returns them. Only `footfall-lab-<pid>-*` directories, the lab's own.
 */
export function deleteStaleScratch(): string[] {
	const removed: string[] = [];
	for (const entry of readdirSync(tmpdir())) {
		const match = new RegExp(`^${SCRATCH_PREFIX}(\\d+)-`).exec(entry);
		if (!match || isRunning(Number(match[1]))) continue;
		rmSync(join(tmpdir(), entry), { recursive: true, force: true });
		removed.push(join(tmpdir(), entry));
	}
	return removed;
}

/** The tracker's fixed address on the namespace's loopback: the namespace is the lab's alone. */
export const TRACKER_ADDRESS = '127.0.0.1:7700';
/**
 * Twenty-three processes start at once on what may be a two-core machine, and the tracker
 * checks a scrypt hash per login: the default 10 s to join is tight for the last in line.
 */
const JOIN_TIMEOUT_SECONDS = '30';

/**
 * The footfall processes of the lab, each run inside the namespace: the tracker, one peer
 * per sensor of the mall (the current process of each, and every process ever started,
 * so none is left running), and an observer. Passwords and data directories live in a
 * scratch directory that `removeScratch()` deletes.
 */
export class LabCluster {
	/** Named after the lab's pid, so that a later run can tell an abandoned one (see deleteStaleScratch). */
	readonly scratch = mkdtempSync(join(tmpdir(), `${SCRATCH_PREFIX}${process.pid}-`));
	tracker: MemberProcess | null = null;
	observer: MemberProcess | null = null;
	/** The latest process of each sensor (it may have been killed and not restarted yet). */
	readonly peers = new Map<string, MemberProcess>();
	/** The member id each process gave in its ready line. */
	readonly memberIds = new Map<MemberProcess, string>();
	readonly everyProcess: MemberProcess[] = [];
	readonly #ready = new Set<MemberProcess>();

	constructor(
		readonly namespace: LabNamespace,
		readonly mall: Mall,
		readonly passwords: ReadonlyMap<string, string>,
		readonly record: LabRecord,
	) {
		mkdirSync(join(this.scratch, 'passwords'), { mode: 0o700 });
		mkdirSync(join(this.scratch, 'data'), { mode: 0o700 });
	}

	startTracker(): MemberProcess {
		this.tracker = this.#spawn('tracker', ['tracker', '--fixture', DEMO_FIXTURE, '--listen', TRACKER_ADDRESS, '--data', join(this.scratch, 'data', 'tracker')]);
		return this.tracker;
	}

	/** Starts (or restarts: the same --data, so the same sensor with the next incarnation) a sensor's peer. */
	startPeer(sensor: string): MemberProcess {
		const account = [...this.mall.accounts.values()].find((candidate) => candidate.sensor === sensor);
		if (!account) throw new Error(`sensor "${sensor}" has no account in the fixture`);
		const peer = this.#spawn(sensor, ['peer', ...this.#login(account.user), '--data', join(this.scratch, 'data', sensor)]);
		this.record.spawns.push({ user: account.user, at: peer.spawnedAt });
		this.peers.set(sensor, peer);
		return peer;
	}

	startObserver(): MemberProcess {
		const account = [...this.mall.accounts.values()].find((candidate) => candidate.role === 'observer');
		if (!account) throw new Error('the fixture has no observer account');
		this.observer = this.#spawn(account.user, ['observer', ...this.#login(account.user)]);
		this.record.spawns.push({ user: account.user, at: this.observer.spawnedAt });
		return this.observer;
	}

	/** The member id a process goes by on the network (its ready line's; its name until then). */
	memberOf(process: MemberProcess): string {
		return this.memberIds.get(process) ?? process.name;
	}

	#login(user: string): string[] {
		const password = this.passwords.get(user);
		if (password === undefined) throw new Error(`no password for account "${user}" in ${DEMO_PASSWORDS}`);
		const file = join(this.scratch, 'passwords', `${user}.password`);
		writeFileSync(file, `${password}\n`, { mode: 0o600 });
		chmodSync(file, 0o600); // writeFileSync's mode applies only to a new file
		return ['--tracker', TRACKER_ADDRESS, '--user', user, '--password-file', file, '--join-timeout', JOIN_TIMEOUT_SECONDS];
	}

	#spawn(name: string, args: string[]): MemberProcess {
		const command = this.namespace.commandInside([process.execPath, BINARY, ...args, '--headless']);
		const child = new MemberProcess(name, command, (from, timed) => this.#onLine(from, timed));
		this.everyProcess.push(child);
		void child.exited.then((exit) => {
			if (child.exitExpected) return;
			this.record.unexpectedExits.push({ name, exit, stderr: child.stderr.trim() });
			// Silent from now on by its own doing: a `dead` line about it is the detector working.
			this.record.faults.push({ member: this.memberOf(child), kind: 'exited', start: exit.at, end: null });
		});
		return child;
	}

	#onLine(from: MemberProcess, timed: TimedLine): void {
		const { line } = timed;
		if (line.type !== 'ready' && !this.#ready.has(from)) {
			this.record.linesBeforeReady.set(line.type ?? '?', (this.record.linesBeforeReady.get(line.type ?? '?') ?? 0) + 1);
		}
		if (line.type === 'occupancy' || line.type === 'entry' || line.type === 'exit' || line.type === 'status') return;
		if (line.type === 'ready') {
			this.#ready.add(from);
			if (typeof line['member'] === 'string') this.memberIds.set(from, line['member']);
			if (line['role'] === 'peer') {
				const incarnations = this.record.readyIncarnations.get(from.name) ?? [];
				incarnations.push(typeof line['incarnation'] === 'number' ? line['incarnation'] : Number.NaN);
				this.record.readyIncarnations.set(from.name, incarnations);
			}
		}
		this.record.memberLines.push({ at: timed.at, from: this.memberOf(from), line });
	}

	/** Kills every process still running and waits (bounded) for them to go. */
	async stopAll(ms: number): Promise<void> {
		await Promise.all(this.everyProcess.map((child) => child.stop(ms)));
	}

	/** The same, without waiting: for a signal handler on the way out. */
	killAllNow(): void {
		for (const child of this.everyProcess) child.kill();
	}

	removeScratch(): void {
		// Retried: a peer killed a moment ago may still be closing a file in it.
		rmSync(this.scratch, { recursive: true, force: true, maxRetries: 3 });
	}
}
