import type { AreaId } from '../model/ids.js';
import type { Mall } from '../model/mall.js';
import type { Address } from '../network/address.js';
import { DEFAULT_TIMINGS, type Timings } from '../network/config.js';
import { DataDirectory } from '../recovery/data-directory.js';
import { PeerJournal, type Restored } from '../recovery/peer-journal.js';
import { forkRandom, seededRandom, type Random } from '../runtime/random.js';
import type { RoleEvent } from '../roles/events.js';
import { Observer } from '../roles/observer/observer.js';
import { SensorPeer } from '../roles/sensor/sensor-peer.js';
import { Tracker } from '../roles/tracker/tracker.js';
import { verifyPasswordSync } from '../security/password.js';
import type { PasswordChecker } from '../security/password-checker.js';
import { Scheduler } from './scheduler.js';
import { SimDisk } from './sim-disk.js';
import { SimNetwork } from './sim-network.js';

/** Where the tracker listens in every simulation: members are configured with it, as in a real mall. */
export const TRACKER_ADDRESS: Address = { host: 'tracker', port: 7700 };
/** A password check (scrypt) takes about this long on the tracker's thread pool. */
const PASSWORD_CHECK_MS = 40;
/** The scrypt cost (N·r·p) of the simulated accounts (sim-mall.ts, the tests' tiny mall): checked in PASSWORD_CHECK_MS, as production's are. */
const SIMULATED_COST = 1024 * 8 * 1;

/** One line of a simulation's history: when, where, what. */
export interface TraceLine {
	readonly at: number;
	readonly node: string;
	readonly event: RoleEvent;
}

export interface SimClusterOptions {
	readonly mall: Mall;
	readonly passwords: ReadonlyMap<string, string>;
	readonly seed: number;
	readonly timings?: Timings;
	/** Sensors keep a log on their simulated disk (default true). */
	readonly journaled?: boolean;
	/** Called with every event of every node, as it happens (the trace, the invariants). */
	readonly onEvent?: (line: TraceLine) => void;
}

export interface PeerOverrides {
	readonly password?: string;
	readonly sensor?: string | null;
	/** Another host than the account's own (a second box logging in as the same sensor). */
	readonly host?: string;
}

/** One simulated host: its name, its disk, and what runs on it now. */
interface Host {
	readonly name: string;
	readonly disk: SimDisk;
	readonly random: Random;
}

/** The simulator's password checker: scrypt at once, the answer after the time it would take; it counts its checks. */
class SimulatedPasswords implements PasswordChecker {
	checks = 0;

	constructor(readonly scheduler: Scheduler) {}

	check(password: string, hash: Parameters<PasswordChecker['check']>[1], done: (matches: boolean) => void): void {
		this.checks++;
		const matches = verifyPasswordSync(password, hash);
		// Scrypt's work grows with N·r·p: a check of another cost takes as much longer (or shorter).
		this.scheduler.setTimeout(() => done(matches), (PASSWORD_CHECK_MS * hash.N * hash.r * hash.p) / SIMULATED_COST);
	}
}

/**
 * A whole footfall network in one process on virtual time: the real tracker, sensor
 * peers and observers — cores and shells as they run in production — each on a host of
 * its own with its own disk, joined by a simulated network, all driven by one scheduler
 * and one seed. Tests use it to run a scenario step by step; the simulator (run-sim.ts)
 * runs thousands of random ones. A crash is the real thing: the process stops without a
 * word and its disk keeps only what was durable.
 */
export class SimCluster {
	readonly scheduler = new Scheduler();
	readonly random: Random;
	readonly network: SimNetwork;
	readonly timings: Timings;
	tracker!: Tracker;
	readonly #hosts = new Map<string, Host>();
	readonly peers = new Map<string, SensorPeer>();
	readonly observers = new Map<string, Observer>();
	/** Every event of every node, in order, with its virtual time. */
	readonly trace: TraceLine[] = [];
	/** The tracker's password checks (scrypt), across its restarts. */
	readonly passwords: SimulatedPasswords;

	private constructor(readonly options: SimClusterOptions) {
		this.random = seededRandom(options.seed);
		this.network = new SimNetwork(this.scheduler, forkRandom(this.random));
		this.timings = options.timings ?? DEFAULT_TIMINGS;
		this.passwords = new SimulatedPasswords(this.scheduler);
	}

	/** A cluster with its tracker up and listening. */
	static async create(options: SimClusterOptions): Promise<SimCluster> {
		const cluster = new SimCluster(options);
		await cluster.restartTracker();
		return cluster;
	}

	get now(): number {
		return this.scheduler.now();
	}

	/** The host a member runs on: the same one across restarts, with the same disk. */
	host(name: string): Host {
		let host = this.#hosts.get(name);
		if (!host) {
			host = { name, disk: new SimDisk(this.scheduler, forkRandom(this.random)), random: forkRandom(this.random) };
			this.#hosts.set(name, host);
		}
		return host;
	}

	/** Starts the tracker (again), running the scheduler until it listens: for tests. */
	restartTracker(): Promise<Tracker> {
		return this.scheduler.settle(this.startTracker(), 1000, 'the tracker starting');
	}

	/**
	 * The tracker, started (again) on its host with what its data directory kept: a new
	 * epoch. Does not run the scheduler: call it from inside the simulation, or settle it.
	 */
	async startTracker(): Promise<Tracker> {
		const host = this.host('tracker');
		const data = await DataDirectory.open('/data/tracker', 'tracker', host.random, host.disk);
		this.tracker = new Tracker({
			mall: this.options.mall,
			transport: this.network.bind(TRACKER_ADDRESS.host, TRACKER_ADDRESS.port),
			clock: this.scheduler,
			events: this.#sink('tracker'),
			random: host.random,
			data,
			passwords: this.passwords,
		});
		return this.tracker;
	}

	/** Stops the tracker as abruptly as kill -9, its disk keeping only what was durable. */
	async crashTracker(): Promise<void> {
		await this.tracker.close();
		this.host('tracker').disk.crash();
	}

	/**
	 * Starts (or restarts) the sensor peer of account `user` on its host: its keys,
	 * incarnation and tracker key from its data directory, its rows from its log. Resolves
	 * once it serves.
	 */
	async peer(user: string, overrides: PeerOverrides & { limitMs?: number } = {}): Promise<SensorPeer> {
		const start = this.startPeer(user, overrides);
		return this.scheduler.settle(start, overrides.limitMs ?? this.timings.joinTimeoutMs + 5000, `${user} joining`);
	}

	/** The start of a sensor peer, without running the scheduler: for several started together. */
	async startPeer(user: string, overrides: PeerOverrides = {}): Promise<SensorPeer> {
		const host = this.host(overrides.host ?? user);
		const directory = `/data/${user}`;
		const data = await DataDirectory.open(directory, 'peer', host.random, host.disk);
		const journaled = this.options.journaled ?? true;
		let restored: Restored | null = null;
		let journal: PeerJournal | null = null;
		if (journaled) {
			const opened = await PeerJournal.open(directory, { disk: host.disk, clock: this.scheduler });
			journal = opened.journal;
			restored = opened.restored;
		}
		const transport = this.network.bind(host.name);
		try {
			const peer = await SensorPeer.start({
				transport,
				clock: this.scheduler,
				timings: this.timings,
				tracker: TRACKER_ADDRESS,
				user,
				password: overrides.password ?? this.options.passwords.get(user) ?? '',
				sensor: overrides.sensor ?? null,
				identity: data.identity,
				lastIncarnation: data.kept.incarnation,
				trackerKey: data.kept.trackerKey,
				random: forkRandom(host.random),
				journal,
				restored,
				events: this.#sink(user),
				onTrustTracker: (key) => void data.save({ trackerKey: key }),
			});
			await data.save({ incarnation: peer.incarnation });
			this.peers.set(overrides.host ?? user, peer);
			return peer;
		} catch (error) {
			await transport.close();
			await journal?.close().catch(() => {});
			throw error;
		}
	}

	/** An observer following `areas` (null: all), running the scheduler until it serves: for tests. */
	observer(user = 'ops', areas: string[] | null = null): Promise<Observer> {
		return this.scheduler.settle(this.startObserver(user, areas), this.timings.joinTimeoutMs + 5000, `${user} joining`);
	}

	/** An observer, started without running the scheduler. */
	async startObserver(user = 'ops', areas: string[] | null = null): Promise<Observer> {
		const host = this.host(user);
		const data = await DataDirectory.open(`/data/${user}`, 'observer', host.random, host.disk);
		const observer = await Observer.start({
				transport: this.network.bind(host.name),
				clock: this.scheduler,
				timings: this.timings,
				tracker: TRACKER_ADDRESS,
				user,
				password: this.options.passwords.get(user) ?? '',
				areas,
				identity: data.identity,
				lastIncarnation: data.kept.incarnation,
				trackerKey: data.kept.trackerKey,
				random: forkRandom(host.random),
				events: this.#sink(user),
				onTrustTracker: (key) => void data.save({ trackerKey: key }),
			});
		await data.save({ incarnation: observer.node.self.incarnation });
		this.observers.set(user, observer);
		return observer;
	}

	/** Kills `user`'s peer as kill -9 would, and its host loses whatever was not durable. */
	async crash(user: string): Promise<void> {
		const peer = this.peers.get(user);
		if (!peer) return;
		this.peers.delete(user);
		await peer.crash();
		this.host(user).disk.crash();
	}

	/** Cuts `user`'s host off from everyone (both ways), or heals it. */
	partition(user: string, cut: boolean): void {
		this.network.partition(this.host(user).name, cut);
	}

	/** Runs until `condition` holds, within `limitMs` of virtual time; rejects saying `what` if it does not. */
	async until(condition: () => boolean, limitMs: number, what = 'the condition'): Promise<void> {
		if (!(await this.scheduler.runUntil(condition, limitMs))) throw new Error(`${what} did not hold within ${limitMs} ms of virtual time`);
	}

	/** Runs until `promise` settles. */
	settle<T>(promise: Promise<T>, limitMs = 10_000, what?: string): Promise<T> {
		return this.scheduler.settle(promise, limitMs, what);
	}

	runFor(ms: number): Promise<void> {
		return this.scheduler.runFor(ms);
	}

	/** Occupancy of `area` as `peer`'s replica counts it. */
	occupancy(peer: SensorPeer, area: AreaId): number {
		return peer.counter.ledger(area)!.occupancy();
	}

	/** Closes every node; the scheduler runs while they say goodbye. */
	async close(): Promise<void> {
		for (const peer of this.peers.values()) await this.scheduler.settle(peer.close(), 5000, 'a peer closing').catch(() => peer.crash());
		for (const observer of this.observers.values()) await observer.close();
		await this.tracker.close();
		this.peers.clear();
		this.observers.clear();
	}

	#sink(node: string): (event: RoleEvent) => void {
		return (event) => {
			const line = { at: this.scheduler.now(), node, event };
			this.trace.push(line);
			this.options.onEvent?.(line);
		};
	}
}
