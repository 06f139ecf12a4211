import type { ScenarioName } from './lab-options.js';

export type PhaseKind = 'warm-up' | 'loss' | 'partition' | 'kill';

export interface PhasePlan {
	readonly name: string;
	readonly kind: PhaseKind;
	readonly seconds: number;
	/** UDP datagrams dropped at random in this phase, percent. */
	readonly lossPercent: number;
	/** partition: how long the sensor stays cut off (the rest of the phase watches it come back). */
	readonly cutSeconds: number;
	/** kill: how many sensors are killed at random instants of the phase. */
	readonly kills: number;
}

export interface Scenario {
	readonly name: ScenarioName;
	readonly phases: readonly PhasePlan[];
	/** A killed sensor is restarted after a seeded delay in this range (seconds). */
	readonly restartAfterSeconds: readonly [number, number];
	/** The drain waits at most this long for every member to agree with the truth. */
	readonly drainBoundSeconds: number;
}

/**
 * A killed peer is declared dead after 2.8 s of silence (DEFAULT_LIVENESS.deadAfterMs); a
 * restart sooner than that is heard before anyone declares it dead, and kill-to-dead
 * could not be measured. So restarts come after 6–8 s, whatever the run's length.
 */
const RESTART_AFTER_SECONDS: readonly [number, number] = [6, 8];
/** A partition shorter than the time to be declared dead would show nothing of detection and repair. */
const SHORTEST_CUT_SECONDS = 7;

const warmUp = (seconds: number): PhasePlan => ({ name: 'warm-up', kind: 'warm-up', seconds, lossPercent: 0, cutSeconds: 0, kills: 0 });
const loss = (percent: number, seconds: number): PhasePlan => ({ name: `loss-${percent}`, kind: 'loss', seconds, lossPercent: percent, cutSeconds: 0, kills: 0 });
const partition = (seconds: number, cutSeconds: number): PhasePlan => ({ name: 'partition', kind: 'partition', seconds, lossPercent: 0, cutSeconds, kills: 0 });
const kill = (seconds: number, kills: number): PhasePlan => ({ name: 'kill-9', kind: 'kill', seconds, lossPercent: 0, cutSeconds: 0, kills });

/**
 * The phases of a run. `full` (≈ 3 min of traffic, ≈ 3.5 min in all) gives each loss
 * level time for many re-login and detection cycles (the tracker's silence bound is 6 s);
 * `short` (≈ 40 s of traffic, ≈ 55 s in all) is the same story once, for CI. `durationSeconds` stretches
 * or shrinks every phase in proportion; the partition and the restarts keep their floors
 * (see above).
 */
export function scenario(name: ScenarioName, durationSeconds: number | null): Scenario {
	const phases =
		name === 'full'
			? [warmUp(20), loss(20, 45), loss(30, 45), partition(25, 10), kill(45, 3)]
			: [warmUp(4), loss(20, 12), partition(12, 9), kill(12, 2)];
	const natural = phases.reduce((sum, phase) => sum + phase.seconds, 0);
	const scale = durationSeconds === null ? 1 : durationSeconds / natural;
	const scaled = phases.map((phase) => {
		const cutSeconds = phase.cutSeconds === 0 ? 0 : Math.max(SHORTEST_CUT_SECONDS, phase.cutSeconds * scale);
		// The partition phase outlasts its cut by a few seconds, so the heal and the re-join are seen.
		const seconds = phase.kind === 'partition' ? Math.max(phase.seconds * scale, cutSeconds + 3) : phase.seconds * scale;
		return { ...phase, seconds: Math.round(seconds * 10) / 10, cutSeconds: Math.round(cutSeconds * 10) / 10 };
	});
	return { name, phases: scaled, restartAfterSeconds: RESTART_AFTER_SECONDS, drainBoundSeconds: name === 'full' ? 30 : 20 };
}
