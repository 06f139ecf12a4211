import { performance } from 'node:perf_hooks';
import type { AreaId } from '../model/ids.js';
import type { Mall } from '../model/mall.js';
import { seededRandom } from '../runtime/random.js';
import { Crowd } from '../simulation/crowd.js';
import { LabCluster } from './cluster.js';
import type { AreaMismatch, DrainRecord, FaultSpan, KillRecord, LabRecord, PartitionRecord, PhaseSpan } from './lab-record.js';
import type { LabNamespace } from './namespace.js';
import type { JsonLine } from './member-process.js';
import type { PhasePlan, Scenario } from './scenario.js';
import { ShopperTraffic } from './traffic.js';

/** Bounds on every wait of the lab: a process that does not answer is reported, never waited for forever. */
const TRACKER_READY_MS = 20_000;
/** Twenty-one peers log in at once, each a scrypt check at the tracker. */
const PEERS_READY_MS = 60_000;
const OBSERVER_READY_MS = 30_000;
const RESTART_READY_MS = 30_000;
/** The recovery line may come just before the ready line or after it: looked for this long after ready. */
const RECOVERY_AFTER_READY_MS = 5_000;
const STATUS_ANSWER_MS = 5_000;
/** Before a kill the gate is held, so no move is left without an answer; a loan wait is 150 ms. */
const HOLD_BEFORE_KILL_MS = 2_000;
const EXIT_AFTER_KILL_MS = 5_000;
const SETTLE_AFTER_TRAFFIC_MS = 5_000;
/** How often the drain compares every member with the truth. */
const DRAIN_LOOK_EVERY_MS = 500;
/** Seeds the fault stream apart from the shoppers' stream, so --rate does not change who is killed when. */
const FAULT_STREAM = 0x9e3779b9;

/**
 * One run of the lab: the processes of a mall in a namespace, shoppers sent to them, the
 * phases applied one after another, and everything seen written into the record. It
 * judges nothing (checks.ts does) and cleans nothing up (run-lab.ts does, however the run
 * ends).
 */
export class FaultLab {
	readonly cluster: LabCluster;
	readonly crowd: Crowd;
	readonly traffic: ShopperTraffic;
	readonly #faultRandom: () => number;
	/** Sensors whose current process has said ready and not been killed since. */
	readonly #serving = new Set<string>();
	readonly #readyLines = new Map<string, JsonLine>();

	constructor(
		readonly namespace: LabNamespace,
		readonly mall: Mall,
		passwords: ReadonlyMap<string, string>,
		readonly scenario: Scenario,
		readonly record: LabRecord,
		options: { readonly seed: number; readonly rate: number },
		readonly say: (text: string) => void,
	) {
		this.cluster = new LabCluster(namespace, mall, passwords, record);
		const shoppers = seededRandom(options.seed);
		const faults = seededRandom((options.seed ^ FAULT_STREAM) >>> 0);
		this.crowd = new Crowd(mall, () => shoppers.fraction());
		this.#faultRandom = () => faults.fraction();
		this.traffic = new ShopperTraffic(this.crowd, mall, (sensor) => (this.#isServing(sensor) ? this.cluster.peers.get(sensor) : undefined), record, options.rate);
	}

	/** Start-up, every phase, the drain. Returns early (with the reason in the record) only if the tracker never serves. */
	async run(): Promise<void> {
		if (!(await this.#startUp())) return;
		this.traffic.start();
		for (const phase of this.scenario.phases) await this.#runPhase(phase);
		await this.#drain();
	}

	async #startUp(): Promise<boolean> {
		const start = performance.now();
		this.record.beginPhase('start-up', 'none', 0, start);
		const startup = { start, end: start, notReady: [] as string[] };
		this.record.startup = startup;
		this.say(`starting a tracker, ${this.mall.sensors.size} sensor peers and an observer in netns ${this.namespace.name}`);
		const tracker = this.cluster.startTracker();
		if (!(await tracker.ready(TRACKER_READY_MS))) {
			startup.notReady.push('tracker');
			this.record.problems.push(`the tracker gave no ready line within ${TRACKER_READY_MS} ms${tracker.stderr ? `: ${tracker.stderr.trim().split('\n')[0]}` : ''}`);
			startup.end = performance.now();
			return false;
		}
		const sensors = [...this.mall.sensors.keys()];
		const readies = await Promise.all(sensors.map((sensor) => this.cluster.startPeer(sensor).ready(PEERS_READY_MS)));
		sensors.forEach((sensor, index) => {
			const ready = readies[index];
			if (ready) this.#nowServing(sensor, ready.line);
			else startup.notReady.push(sensor);
		});
		if (!(await this.cluster.startObserver().ready(OBSERVER_READY_MS))) startup.notReady.push('observer');
		startup.end = performance.now();
		this.record.phases.at(-1)!.datagrams = this.#datagramsSince(0, 0, 0);
		this.say(`${this.#serving.size} of ${sensors.length} peers ready in ${Math.round(startup.end - start)} ms${startup.notReady.length > 0 ? `; not ready: ${startup.notReady.join(', ')}` : ''}`);
		return true;
	}

	/** Said ready, not killed since, and still running (a process may also die by itself: that is reported, and it gets no more moves). */
	#isServing(sensor: string): boolean {
		return this.#serving.has(sensor) && this.cluster.peers.get(sensor)?.running === true;
	}

	/** The serving sensors in a fixed order, so that a seeded pick does not depend on the order they became ready in. */
	#servingSensors(): string[] {
		return [...this.#serving].filter((sensor) => this.#isServing(sensor)).sort();
	}

	#nowServing(sensor: string, ready: JsonLine): void {
		this.#serving.add(sensor);
		this.#readyLines.set(sensor, ready);
	}

	async #runPhase(plan: PhasePlan): Promise<void> {
		const faults = plan.kind === 'loss' ? `${plan.lossPercent} % UDP loss` : plan.kind === 'partition' ? `1 sensor cut off ${plan.cutSeconds} s` : plan.kind === 'kill' ? `kill -9 ×${plan.kills}, restart` : 'none';
		const start = performance.now();
		const phase = this.record.beginPhase(plan.name, faults, plan.lossPercent, start);
		const sentBefore = this.#counter(() => this.namespace.datagramsSent());
		this.say(`${plan.name}: ${faults} for ${plan.seconds} s`);
		this.#nft(() => this.namespace.setLoss(plan.lossPercent));
		let droppedByPartition = 0;
		if (plan.kind === 'partition') droppedByPartition = (await this.#partition(plan)) ?? 0;
		else if (plan.kind === 'kill') await this.#kills(plan);
		await sleep(start + plan.seconds * 1000 - performance.now());
		// Read before the rule goes: setLoss starts its counter again.
		const droppedByLoss = plan.lossPercent > 0 ? (this.#counter(() => this.namespace.droppedByLoss()) ?? 0) : 0;
		if (plan.lossPercent > 0) this.#nft(() => this.namespace.setLoss(0));
		phase.datagrams = this.#datagramsSince(sentBefore, droppedByLoss, droppedByPartition);
	}

	/** The phase's datagram figures, given the tally when it began. */
	#datagramsSince(sentBefore: number | null, droppedByLoss: number, droppedByPartition: number): PhaseSpan['datagrams'] {
		const sentNow = this.#counter(() => this.namespace.datagramsSent());
		return sentBefore === null || sentNow === null ? null : { sent: sentNow - sentBefore, droppedByLoss, droppedByPartition };
	}

	/** Cuts one random sensor off for `cutSeconds`, then joins it back; returns the datagrams its rules dropped. */
	async #partition(plan: PhasePlan): Promise<number | null> {
		const sensor = this.#pick(this.#servingSensors());
		const listen = sensor === undefined ? undefined : this.#readyLines.get(sensor)?.['listen'];
		const port = typeof listen === 'string' ? Number(listen.split(':').at(-1)) : Number.NaN;
		if (sensor === undefined || !Number.isInteger(port)) {
			this.record.problems.push('partition: no serving sensor with a known port to cut off');
			return null;
		}
		const member = this.#memberOf(sensor);
		const cutAt = performance.now();
		if (!this.#nft(() => this.namespace.cutOff(port))) return null;
		const fault: FaultSpan = { member, kind: 'partitioned', start: cutAt, end: null };
		this.record.faults.push(fault);
		const partition: PartitionRecord = { sensor, member, port, cutAt, healAt: null, dropped: null };
		this.record.partitions.push(partition);
		this.say(`partition: ${sensor} (port ${port}) cut off`);
		await sleep(plan.cutSeconds * 1000);
		partition.dropped = this.#counter(() => this.namespace.droppedByPartition());
		this.#nft(() => this.namespace.healPartitions());
		partition.healAt = fault.end = performance.now();
		this.say(`partition: ${sensor} joined back after ${partition.dropped ?? '?'} datagrams to or from it were dropped`);
		return partition.dropped;
	}

	/**
	 * Kills `plan.kills` sensors at seeded instants of the phase, each restarted after a
	 * seeded delay with the same data directory. Every random draw is made up front, so the
	 * stream of choices does not depend on how long anything took.
	 */
	async #kills(plan: PhasePlan): Promise<void> {
		const [shortest, longest] = this.scenario.restartAfterSeconds;
		const window = Math.max(1, plan.seconds - longest - 3);
		const draws = Array.from({ length: plan.kills }, () => ({
			afterMs: (0.5 + this.#faultRandom() * window) * 1000,
			victim: this.#faultRandom(),
			restartAfterMs: (shortest + this.#faultRandom() * (longest - shortest)) * 1000,
		})).sort((a, b) => a.afterMs - b.afterMs);
		const start = performance.now();
		await Promise.all(
			draws.map(async (draw) => {
				await sleep(start + draw.afterMs - performance.now());
				const candidates = this.#servingSensors();
				const sensor = candidates[Math.floor(draw.victim * candidates.length)];
				if (sensor === undefined) return void this.record.problems.push('kill: no serving sensor left to kill');
				await this.#killAndRestart(sensor, draw.restartAfterMs);
			}),
		);
	}

	async #killAndRestart(sensor: string, restartAfterMs: number): Promise<void> {
		const victim = this.cluster.peers.get(sensor)!;
		const member = this.#memberOf(sensor);
		const incarnation = this.#readyLines.get(sensor)?.['incarnation'];
		this.#serving.delete(sensor);
		// Held first: a move in flight at the kill may be on disk or not, and the truth could not know which.
		const unanswered = await this.traffic.hold(sensor, HOLD_BEFORE_KILL_MS);
		const kill: KillRecord = {
			sensor,
			member,
			killAt: performance.now(),
			incarnationBefore: typeof incarnation === 'number' ? incarnation : null,
			unansweredAtKill: unanswered,
			restartSpawnAt: null,
			readyAt: null,
			recoveryAt: null,
			incarnationAfter: null,
			recovery: null,
			firstStatus: null,
			problem: null,
		};
		victim.kill();
		const fault: FaultSpan = { member, kind: 'killed', start: kill.killAt, end: null };
		this.record.faults.push(fault);
		this.record.kills.push(kill);
		this.say(`kill -9 ${sensor} (incarnation ${kill.incarnationBefore ?? '?'}); restart in ${(restartAfterMs / 1000).toFixed(1)} s`);
		await Promise.race([victim.exited, sleep(EXIT_AFTER_KILL_MS)]);
		if (victim.running) kill.problem = `still running ${EXIT_AFTER_KILL_MS} ms after kill -9`;
		await sleep(restartAfterMs);
		kill.restartSpawnAt = performance.now();
		const restarted = this.cluster.startPeer(sensor);
		const ready = await restarted.ready(RESTART_READY_MS);
		if (!ready) {
			kill.problem = `the restarted process gave no ready line within ${RESTART_READY_MS} ms${restarted.stderr ? `: ${restarted.stderr.trim().split('\n')[0]}` : ''}`;
			this.traffic.release(sensor);
			return;
		}
		kill.readyAt = fault.end = ready.at;
		kill.incarnationAfter = typeof ready.line['incarnation'] === 'number' ? ready.line['incarnation'] : null;
		// Asked before any shopper reaches it: what it restored, not what it did since.
		const status = await restarted.ask('status', STATUS_ANSWER_MS);
		if (status?.line.type === 'status') {
			kill.firstStatus = status.line;
			this.record.statuses.push({ at: status.at, sensor, line: status.line, firstAfterRestart: true });
		} else {
			kill.problem = `no status answer within ${STATUS_ANSWER_MS} ms of its ready line`;
		}
		const recovery = await restarted.waitFor((line) => line.type === 'recovery', RECOVERY_AFTER_READY_MS);
		kill.recoveryAt = recovery?.at ?? null;
		kill.recovery = recovery?.line ?? null;
		this.#nowServing(sensor, ready.line);
		this.traffic.release(sensor);
		this.say(`${sensor} back as incarnation ${kill.incarnationAfter ?? '?'}, ready ${Math.round(ready.at - kill.restartSpawnAt)} ms after spawn`);
	}

	/** Traffic stops, every fault is lifted, and every member is compared with the truth until they agree (bounded). */
	async #drain(): Promise<void> {
		const phase = this.record.beginPhase('drain', 'none, traffic stopped', 0, performance.now());
		const sentBefore = this.#counter(() => this.namespace.datagramsSent());
		this.say(`drain: traffic stopped; waiting up to ${this.scenario.drainBoundSeconds} s for every member to agree with the truth`);
		this.#nft(() => this.namespace.setLoss(0));
		this.#nft(() => this.namespace.healPartitions());
		const unsettled = await this.traffic.stop(SETTLE_AFTER_TRAFFIC_MS);
		const start = performance.now();
		const drain: DrainRecord = { start, end: start, converged: false, mismatches: [], unsettled, notCompared: [] };
		this.record.drain = drain;
		const deadline = start + this.scenario.drainBoundSeconds * 1000;
		for (;;) {
			drain.notCompared = this.#notRunning();
			drain.mismatches = await this.#differences();
			drain.end = performance.now();
			if (drain.mismatches.length === 0) {
				drain.converged = true;
				break;
			}
			if (performance.now() + DRAIN_LOOK_EVERY_MS > deadline) break;
			await sleep(DRAIN_LOOK_EVERY_MS);
		}
		phase.end = performance.now();
		phase.datagrams = this.#datagramsSince(sentBefore, 0, 0);
		this.say(drain.converged ? `converged ${Math.round(drain.end - start)} ms after traffic stopped` : `not converged after ${Math.round(drain.end - start)} ms`);
	}

	/** Members whose process is not running (it died by itself, or never came back): there is no view of theirs to compare. */
	#notRunning(): string[] {
		const sensors = [...this.mall.sensors.keys()].filter((sensor) => !this.#isServing(sensor));
		return this.cluster.observer?.running ? sensors : [...sensors, 'observer'];
	}

	/**
	 * Every area view that differs from the truth: each running peer's status and the
	 * observer's latest occupancy line. A member not running is left out here (the
	 * process check reports it) rather than holding the drain to its bound.
	 */
	async #differences(): Promise<AreaMismatch[]> {
		const mismatches: AreaMismatch[] = [];
		const truthOf = (area: string) => this.crowd.truth.get(area as AreaId);
		const sensors = [...this.mall.sensors.keys()].filter((sensor) => this.#isServing(sensor));
		const statuses = await Promise.all(sensors.map((sensor) => this.cluster.peers.get(sensor)!.ask('status', STATUS_ANSWER_MS)));
		sensors.forEach((sensor, index) => {
			const status = statuses[index];
			if (!status || status.line.type !== 'status') {
				mismatches.push({ where: sensor, area: '(no status)', occupancy: null, staff: null, truthOccupancy: 0, truthStaff: 0 });
				return;
			}
			this.record.statuses.push({ at: status.at, sensor, line: status.line, firstAfterRestart: false });
			const areas = (status.line['areas'] ?? {}) as Record<string, { occupancy?: number; staff?: number }>;
			for (const [area, view] of Object.entries(areas)) {
				const truth = truthOf(area);
				if (truth && (view.occupancy !== truth.visitors || view.staff !== truth.staff)) {
					mismatches.push({ where: sensor, area, occupancy: view.occupancy ?? null, staff: view.staff ?? null, truthOccupancy: truth.visitors, truthStaff: truth.staff });
				}
			}
		});
		if (!this.cluster.observer?.running) return mismatches;
		const occupancy = this.cluster.observer.latestOccupancy?.line['areas'] as Record<string, { occupancy?: number; staff?: number }> | undefined;
		for (const [area, truth] of this.crowd.truth) {
			const view = occupancy?.[area];
			if (view?.occupancy !== truth.visitors || view?.staff !== truth.staff) {
				mismatches.push({ where: 'observer', area, occupancy: view?.occupancy ?? null, staff: view?.staff ?? null, truthOccupancy: truth.visitors, truthStaff: truth.staff });
			}
		}
		return mismatches;
	}

	#memberOf(sensor: string): string {
		const member = this.#readyLines.get(sensor)?.['member'];
		return typeof member === 'string' ? member : sensor;
	}

	#pick<T>(items: readonly T[]): T | undefined {
		return items[Math.floor(this.#faultRandom() * items.length)];
	}

	/** Reads an nft counter; null (and the reason recorded) if nft refuses. */
	#counter(read: () => number): number | null {
		try {
			return read();
		} catch (error) {
			this.record.faultProblems.push((error as Error).message);
			return null;
		}
	}

	/** Runs an nft change; a refusal is recorded (the run goes on, judged with the fault missing) rather than thrown. */
	#nft(change: () => void): boolean {
		try {
			change();
			return true;
		} catch (error) {
			this.record.faultProblems.push((error as Error).message);
			this.say((error as Error).message);
			return false;
		}
	}
}

function sleep(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}
