import type { AreaId, SensorId } from '../model/ids.js';
import { EMPTY_ROW, type Row } from '../counting/row.js';
import { DataDirectoryError } from '../recovery/data-directory.js';
import { rowToWire } from '../protocol/wire-row.js';
import type { AreaLedger } from '../counting/area-ledger.js';
import { forkRandom, pick, seededRandom, type Random } from '../runtime/random.js';
import { Crowd, type PlannedMove } from '../simulation/crowd.js';
import type { MoveAnswer } from '../roles/sensor/sensor-peer.js';
import { Referee, type Failure } from './invariants.js';
import { applyMutation, type Mutation } from './mutations.js';
import { SimCluster, type TraceLine } from './sim-cluster.js';
import { HONEST_DISK } from './sim-disk.js';
import { simulatedMall } from './sim-mall.js';
import { CLEAN_LINKS, type LinkFaults } from './sim-network.js';

export interface ScenarioOptions {
	readonly seed: number;
	/** Seconds of traffic under faults, one fault decision per second. */
	readonly steps: number;
	/** A bug put in on purpose, to show the simulator finds it. */
	readonly mutation?: Mutation;
	/** Disks whose fsync may lie: the design's durability needs honest ones, so off unless asked. */
	readonly lyingDisks?: boolean;
	/** Links this faulty for the whole run (until the heal), instead of faults drawn from the seed. */
	readonly links?: LinkFaults;
}

export interface ScenarioResult {
	readonly seed: number;
	readonly failures: readonly Failure[];
	readonly virtualMs: number;
	readonly events: number;
	readonly moves: { tried: number; admitted: number; refused: number };
	readonly faults: Readonly<Record<string, number>>;
	readonly datagrams: { readonly delivered: number; readonly dropped: number; readonly duplicated: number };
	/** Every node's events and every fault, one line each: the same seed gives the same lines. */
	readonly trace: readonly string[];
}

/** Moves tried per second of traffic. */
const RATE = 25;
const MOVE_EVERY_MS = 1000 / RATE;
/**
 * A member follows a restarted tracker into its epoch within this: a few directory pulls
 * to notice (each may be lost), a probe, and logins of up to joinTimeoutMs each, retried —
 * at 30 % loss each way, a login round trip fails half the time.
 */
const EPOCH_FOLLOW_MS = 60_000;

/** At most this many sensors down at once: a mall loses a box or two, not all of them. */
const MAX_DOWN = 2;
/** After the faults: how long the network may take to agree on every count. */
const CONVERGE_MS = 60_000;

type NodeState = 'up' | 'down' | 'starting';

/**
 * One seeded run of the whole network (TigerBeetle's VOPR is the model): a mall drawn
 * from the seed, plausible shoppers at a steady rate, and every second a fault drawn from
 * the seed — a sensor or the tracker killed and restarted (its disk keeping only what was
 * durable, sometimes with a flipped bit), a host cut off both ways or one way, loss,
 * duplication and reordering. Then every fault heals, every node comes back, traffic
 * stops, and every replica must count exactly what the sensors' own rows say — each of
 * which the referee checked against what its gate answered. The referee (invariants.ts)
 * watches throughout.
 */
export async function runScenario(options: ScenarioOptions): Promise<ScenarioResult> {
	const random = seededRandom(options.seed);
	const { mall, passwords } = simulatedMall(forkRandom(random));
	const run = new Run(options, random, mall, passwords);
	return run.execute();
}

class Run {
	readonly trace: string[] = [];
	readonly faults: Record<string, number> = {};
	readonly moves = { tried: 0, admitted: 0, refused: 0 };
	readonly #faultRandom: Random;
	readonly #crowdRandom: Random;
	readonly #sensors: SensorId[];
	readonly #state = new Map<SensorId, NodeState>();
	/** Moves whose answer a crash cut off, per sensor in the order tried: decided by its log when it is back. */
	readonly #inDoubt = new Map<SensorId, PlannedMove[]>();
	/** Sensors set to crash at their next fsync. */
	readonly #armed = new Set<SensorId>();
	#trackerState: NodeState = 'up';
	#sim!: SimCluster;
	#referee!: Referee;
	#crowd!: Crowd;
	#inFlight = 0;
	#trafficOn = true;

	constructor(readonly options: ScenarioOptions, random: Random, readonly mall: ReturnType<typeof simulatedMall>['mall'], readonly passwords: Map<string, string>) {
		this.#faultRandom = forkRandom(random);
		this.#crowdRandom = forkRandom(random);
		this.#sensors = [...mall.sensors.keys()];
	}

	async execute(): Promise<ScenarioResult> {
		const { options, mall } = this;
		this.#sim = await SimCluster.create({
			mall,
			passwords: this.passwords,
			seed: options.seed,
			onEvent: (line: TraceLine) => {
				this.#write(line.at, line.node, JSON.stringify(line.event));
				this.#referee?.observe(line);
			},
		});
		const sim = this.#sim;
		if (options.links) sim.network.faults = options.links;
		this.#referee = new Referee(mall, sim.timings.liveness.deadAfterMs, EPOCH_FOLLOW_MS);
		this.#crowd = new Crowd(mall, () => this.#crowdRandom.fraction());
		const undo = options.mutation ? applyMutation(options.mutation) : () => {};
		try {
			await sim.settle(Promise.all(this.#sensors.map((sensor) => sim.startPeer(sensor))), 30_000, 'the mall starting');
			for (const sensor of this.#sensors) this.#state.set(sensor, 'up');
			await sim.observer();
			for (const sensor of this.#sensors) this.#checkStart(sensor);
			this.#shop();
			for (let step = 0; step < options.steps; step++) {
				// One fault decision a second, at an instant drawn from the seed: not in step with the traffic.
				const at = this.#faultRandom.fraction() * 1000;
				await sim.runFor(at);
				await this.#injectFault();
				await sim.runFor(1000 - at);
			}
			await this.#healAndAgree();
		} catch (error) {
			this.#referee.fail('the run completes', sim.now, (error as Error).message);
		} finally {
			undo();
			this.#trafficOn = false;
			await sim.close().catch(() => {});
		}
		return {
			seed: options.seed,
			failures: this.#referee.failures,
			virtualMs: sim.now,
			events: sim.scheduler.fired,
			moves: this.moves,
			faults: this.faults,
			datagrams: { delivered: sim.network.delivered, dropped: sim.network.dropped, duplicated: sim.network.duplicated },
			trace: this.trace,
		};
	}

	#write(at: number, node: string, text: string): void {
		this.trace.push(`${(at / 1000).toFixed(3)} ${node} ${text}`);
	}

	#fault(kind: string, text: string): void {
		this.faults[kind] = (this.faults[kind] ?? 0) + 1;
		this.#write(this.#sim.now, 'sim', text);
	}

	/** Shoppers: one move every MOVE_EVERY_MS while traffic is on, at whatever sensor the crowd picks. */
	#shop(): void {
		if (!this.#trafficOn) return;
		const sim = this.#sim;
		sim.scheduler.setTimeout(() => this.#shop(), MOVE_EVERY_MS);
		const move = this.#crowd.plan();
		if (!move) return;
		const peer = sim.peers.get(move.sensor);
		if (!peer || this.#state.get(move.sensor) !== 'up') {
			this.#crowd.settle(move, false, null);
			return;
		}
		this.moves.tried++;
		this.#inFlight++;
		void peer.move(move.direction, move.kind).then((answer) => {
			this.#inFlight--;
			this.#settle(move, answer);
		});
	}

	#settle(move: PlannedMove, answer: MoveAnswer): void {
		// A "stopped" answer is a crash's: the move may have been written all the same.
		if (!answer.admitted && answer.reason === 'stopped') {
			this.#referee.inDoubt(move.sensor, move.kind, move.direction);
			const cut = this.#inDoubt.get(move.sensor) ?? [];
			cut.push(move);
			this.#inDoubt.set(move.sensor, cut);
			return;
		}
		this.#referee.answered(move.sensor, move.kind, answer);
		if (answer.admitted) this.moves.admitted++;
		else this.moves.refused++;
		this.#settleTruth(move, answer.admitted, answer.admitted ? null : (answer.area as AreaId | null));
	}

	#settleTruth(move: PlannedMove, passed: boolean, refusedArea: AreaId | null): void {
		const over = this.#crowd.settle(move, passed, refusedArea);
		if (over !== null) {
			const truth = this.#crowd.truth.get(over)!;
			this.#referee.fail('never over capacity', this.#sim.now, `${move.sensor} admitted a ${move.kind} into ${over}: ${truth.visitors} inside, capacity ${this.mall.areas.get(over)!.capacity}`);
		}
	}

	/**
	 * The moves a crash cut off: the record reaching the disk is the moment of decision (the
	 * gate opens on it), so a move the restarted sensor's log holds happened, and one it
	 * does not hold did not. Until the sensor is back, its person waits at the door.
	 */
	#resolveInDoubt(sensor: SensorId): void {
		const moves = this.#inDoubt.get(sensor) ?? [];
		this.#inDoubt.delete(sensor);
		const peer = this.#sim.peers.get(sensor);
		for (const move of moves) {
			const written = peer !== undefined && this.#referee.resolve(sensor, move.kind, move.direction, (area) => peer.counter.ownRow(area));
			if (written) this.moves.admitted++;
			else this.moves.refused++;
			this.#write(this.#sim.now, 'sim', `${sensor}'s ${move.kind} ${move.direction} cut off by its crash: ${written ? 'in its log, so it happened' : 'not in its log, so it did not happen'}`);
			this.#settleTruth(move, written, null);
		}
	}

	/** When a sensor starts serving (after a restart too): no answered admission lost, and its rows as fresh as anything it told. */
	#checkStart(sensor: SensorId): void {
		const sim = this.#sim;
		const peer = sim.peers.get(sensor);
		if (!peer) return;
		for (const area of peer.counter.areas) this.#referee.checkOwnRow(sensor, area, peer.counter.ownRow(area), sim.now);
		this.#resolveInDoubt(sensor);
		for (const area of peer.counter.areas) {
			const own = peer.counter.ownRow(area);
			for (const [holder, ledger] of this.#replicasOf(area, sensor)) this.#referee.checkFresh(sensor, area, own, ledger.newest(sensor), holder, sim.now);
		}
	}

	/** The replicas of `area` held by running members other than `except`. */
	#replicasOf(area: AreaId, except: string): [string, AreaLedger][] {
		const sim = this.#sim;
		const list: [string, AreaLedger][] = [];
		for (const [id, peer] of sim.peers) {
			const ledger = id !== except && peer.core.phase === 'serving' ? peer.counter.ledger(area) : undefined;
			if (ledger) list.push([id, ledger]);
		}
		for (const [id, observer] of sim.observers) {
			const ledger = observer.ledger(area);
			if (ledger) list.push([id, ledger]);
		}
		return list;
	}

	async #injectFault(): Promise<void> {
		const sim = this.#sim;
		const random = this.#faultRandom;
		const roll = random.fraction();
		const running = this.#sensors.filter((sensor) => this.#state.get(sensor) === 'up');
		const anyone = (): string => [...running, 'ops'][pick(random, running.length + 1)]!;
		const downCount = this.#sensors.length - running.length;
		if (roll < 0.1 && downCount + this.#armed.size < MAX_DOWN && running.length > 0) {
			const sensor = running[pick(random, running.length)]!;
			if (this.#armed.has(sensor)) return;
			if (random.fraction() < 0.5) {
				// The instants that matter most: while its log is being made durable.
				this.#armed.add(sensor);
				this.#write(sim.now, 'sim', `${sensor} will crash during its next fsync`);
				const crashOnce = (): void => {
					if (!this.#armed.delete(sensor)) return;
					sim.host(sensor).disk.onSync = null;
					if (this.#state.get(sensor) === 'up') void this.#crash(sensor, 'during an fsync');
				};
				sim.host(sensor).disk.onSync = () => sim.scheduler.setTimeout(crashOnce, 0);
				sim.scheduler.setTimeout(crashOnce, 2000);
			} else await this.#crash(sensor, '');
		} else if (roll < 0.13 && this.#trackerState === 'up') {
			this.#trackerState = 'down';
			this.#fault('tracker-crash', 'crash the tracker');
			this.#referee.killed('tracker', sim.now);
			await sim.crashTracker();
			sim.scheduler.setTimeout(() => void this.#restartTracker(), 1000 + random.fraction() * 9000);
		} else if (roll < 0.23) {
			const host = anyone();
			const ms = 1000 + random.fraction() * 7000;
			this.#fault('partition', `cut ${host} off for ${Math.round(ms)} ms`);
			sim.partition(host, true);
			this.#referee.cutOff(host, sim.now);
			sim.scheduler.setTimeout(() => {
				sim.partition(host, false);
				this.#referee.healed(host, sim.now);
				this.#write(sim.now, 'sim', `${host} joined back`);
			}, ms);
		} else if (roll < 0.28) {
			const host = anyone();
			const way = random.fraction() < 0.5 ? 'in' : 'out';
			const ms = 1000 + random.fraction() * 4000;
			this.#fault('one-way', `${host} can no longer ${way === 'in' ? 'receive' : 'send'} for ${Math.round(ms)} ms`);
			sim.network.cut(host, way, true);
			this.#referee.cutOff(host, sim.now);
			sim.scheduler.setTimeout(() => {
				sim.network.cut(host, way, false);
				this.#referee.healed(host, sim.now);
			}, ms);
		} else if (roll < 0.38 && this.options.links === undefined) {
			const loss = [0, 0.05, 0.1, 0.2, 0.3][pick(random, 5)]!;
			const duplicate = random.fraction() < 0.3 ? 0.05 : 0;
			const reorder = random.fraction() < 0.3 ? 0.2 : 0;
			this.#fault('links', `links now lose ${Math.round(loss * 100)} %, duplicate ${Math.round(duplicate * 100)} %, reorder ${Math.round(reorder * 100)} %`);
			sim.network.faults = { loss, duplicate, reorder, maxDelayMs: 30 };
		}
	}

	async #crash(sensor: SensorId, when: string): Promise<void> {
		const sim = this.#sim;
		const random = this.#faultRandom;
		const disk = sim.host(sensor).disk;
		if (random.fraction() < 0.2) disk.faults = { ...HONEST_DISK, flipOnCrash: 1 };
		if (this.options.lyingDisks && random.fraction() < 0.3) disk.faults = { ...disk.faults, fsyncLies: 0.5 };
		this.#state.set(sensor, 'down');
		this.#referee.killed(sensor, sim.now);
		this.#fault('crash', `crash ${sensor}${when ? ` ${when}` : ''}${disk.faults.flipOnCrash > 0 ? ' (a bit flips on its disk)' : ''}`);
		await sim.crash(sensor);
		for (const incident of disk.incidents.splice(0)) this.#write(sim.now, sensor, `disk: ${incident}`);
		disk.faults = HONEST_DISK;
		sim.scheduler.setTimeout(() => void this.#restart(sensor), 500 + random.fraction() * 6000);
	}

	async #restart(sensor: SensorId): Promise<void> {
		if (this.#state.get(sensor) !== 'down') return;
		this.#state.set(sensor, 'starting');
		this.#fault('restart', `restart ${sensor}`);
		try {
			await this.#sim.startPeer(sensor);
			this.#state.set(sensor, 'up');
			this.#referee.up(sensor, this.#sim.now);
			this.#checkStart(sensor);
		} catch (error) {
			// The tracker may be down: it is started again at the heal.
			this.#state.set(sensor, 'down');
			this.#write(this.#sim.now, 'sim', `restart of ${sensor} failed: ${(error as Error).message}`);
			if (error instanceof DataDirectoryError) this.#operatorMovesAway(sensor);
		}
	}

	/**
	 * Both copies of a sensor's kept state damaged (bits flipped at two crashes): it will
	 * not start on a guess, and says to move them away. The operator does; the sensor then
	 * starts with a new identity, logs in with its password, and takes its rows from its log.
	 */
	#operatorMovesAway(sensor: SensorId): void {
		const disk = this.#sim.host(sensor).disk;
		const kept = disk.files().filter((file) => file.startsWith(`/data/${sensor}/peer.json`));
		for (const file of kept) disk.discard(file);
		this.#fault('operator', `the operator moves ${kept.join(', ')} away`);
	}

	async #restartTracker(): Promise<void> {
		if (this.#trackerState !== 'down') return;
		this.#trackerState = 'starting';
		this.#fault('tracker-restart', 'restart the tracker');
		await this.#sim.startTracker();
		this.#trackerState = 'up';
		this.#referee.up('tracker', this.#sim.now);
	}

	/** Every fault heals and every node comes back; then traffic stops and every replica must agree with the sensors' own rows. */
	async #healAndAgree(): Promise<void> {
		const sim = this.#sim;
		this.#fault('heal', 'heal: every link clean, every host reachable, every node back');
		sim.network.faults = CLEAN_LINKS;
		sim.network.healAll();
		const back = async (): Promise<void> => {
			// Until all are up: whatever is starting finishes first (one process per sensor,
			// always), and a restart timer may fire meanwhile. A restart that fails (the
			// tracker still starting) is tried again a little later, a few times.
			const tries = new Map<SensorId, number>();
			const pause = (): Promise<void> => new Promise((resolve) => sim.scheduler.setTimeout(() => resolve(), 100));
			for (;;) {
				if (this.#trackerState === 'starting' || [...this.#state.values()].includes('starting')) await pause();
				else if (this.#trackerState === 'down') await this.#restartTracker();
				else {
					const down = this.#sensors.find((sensor) => this.#state.get(sensor) === 'down');
					if (down === undefined) return;
					const tried = (tries.get(down) ?? 0) + 1;
					if (tried > 3) throw new Error(`${down} failed to start ${tried - 1} times`);
					tries.set(down, tried);
					if (tried > 1) await pause();
					await this.#restart(down);
				}
			}
		};
		await sim.settle(back(), 60_000, 'every node back').catch((error: Error) => this.#referee.fail('every node comes back', sim.now, error.message));
		for (const sensor of this.#sensors) if (this.#state.get(sensor) !== 'up') this.#referee.fail('every node comes back', sim.now, `${sensor} is still ${this.#state.get(sensor)}`);
		this.#trafficOn = false;
		await sim.until(() => this.#inFlight === 0, 10_000, 'the last moves answered').catch((error: Error) => this.#referee.fail('every move is answered', sim.now, error.message));
		const converged = await sim.scheduler.runUntil(() => this.#disagreement() === '', CONVERGE_MS);
		for (const sensor of this.#sensors) {
			const peer = sim.peers.get(sensor);
			if (peer) for (const area of peer.counter.areas) this.#referee.checkOwnRow(sensor, area, peer.counter.ownRow(area), sim.now);
		}
		if (!converged) {
			const detail = this.#disagreement();
			this.#referee.fail('exact convergence once faults heal', sim.now, detail);
			this.#describeReplicas(detail);
		}
		for (const [area, info] of this.mall.areas) {
			const counted = this.#ownCount(area);
			if (counted.occupancy > info.capacity) this.#referee.fail('never over capacity', sim.now, `${area} counts ${counted.occupancy} of ${info.capacity}`);
		}
	}

	/** For the trace: every row the disagreeing replica holds of the area, counted or held back and why, beside the owners' own. */
	#describeReplicas(detail: string): void {
		const match = /^(\S+) counts .* in (\S+);/.exec(detail);
		if (!match) return;
		const [, holder, area] = match as unknown as [string, string, AreaId];
		const ledger = this.#replicasOf(area, '').find(([id]) => id === holder)?.[1];
		if (!ledger) return;
		const show = (row: Row): string => JSON.stringify(rowToWire(area, row));
		const node = this.#sim.peers.get(holder)?.node ?? this.#sim.observers.get(holder)?.node;
		const drops = node ? JSON.stringify(Object.fromEntries(node.traffic.dropped)) : 'unknown';
		this.#write(this.#sim.now, 'sim', `${holder}'s replica of ${area}: capacity ${ledger.capacity}, first shares ${JSON.stringify(Object.fromEntries(ledger.initial))}; datagrams dropped ${drops}`);
		for (const sensor of ledger.sensors) {
			const pending = ledger.pending(sensor);
			const own = this.#sim.peers.get(sensor)?.counter.ownRow(area);
			this.#write(this.#sim.now, 'sim', `${holder} holds ${sensor}'s row in ${area}: counted ${show(ledger.row(sensor))}${pending ? `, held back (${pending.problem}) ${show(pending.row)}` : ''}; its own ${own ? show(own) : 'unknown'}`);
		}
	}

	/** What the sensors' own rows add up to in `area`: what every replica must count. */
	#ownCount(area: AreaId): { occupancy: number; staff: number } {
		let occupancy = 0;
		let staff = 0;
		for (const sensor of this.#sensors) {
			const peer = this.#sim.peers.get(sensor);
			const row = peer?.counter.ledger(area) ? peer.counter.ownRow(area) : EMPTY_ROW;
			occupancy += row.entries - row.exits;
			staff += row.staffEntries - row.staffExits;
		}
		return { occupancy, staff };
	}

	/** What differs between a replica and the sensors' own rows; empty when everyone agrees. */
	#disagreement(): string {
		for (const area of this.mall.areas.keys()) {
			const truth = this.#ownCount(area);
			for (const [id, ledger] of this.#replicasOf(area, '')) {
				if (ledger.occupancy() !== truth.occupancy || ledger.staff() !== truth.staff) {
					return `${id} counts ${ledger.occupancy()} (+${ledger.staff()} staff) in ${area}; the sensors' own rows add up to ${truth.occupancy} (+${truth.staff})`;
				}
			}
		}
		return '';
	}
}
