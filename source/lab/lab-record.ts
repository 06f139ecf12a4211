import type { JsonLine, ProcessExit } from './member-process.js';

/**
 * What the lab saw, with times (performance.now(), ms) and nothing derived: the checks
 * and the figures are computed from it afterwards, so how a run is judged can be read in
 * one place (checks.ts) and never depends on when a line happened to be read.
 */

export interface PhaseSpan {
	readonly name: string;
	/** What was done to the network in this phase, for the report. */
	readonly faults: string;
	/** Loss in force (percent): the phases where a live member declared dead is a failure. */
	readonly lossPercent: number;
	readonly start: number;
	end: number;
	/** From nft's counters: UDP datagrams sent in the namespace during the phase, and those its rules dropped. */
	datagrams: { sent: number; droppedByLoss: number; droppedByPartition: number } | null;
}

export type MoveOutcome = 'admitted' | 'refused' | 'no-answer';

export interface MoveRecord {
	readonly sentAt: number;
	answeredAt: number;
	readonly sensor: string;
	readonly command: string;
	outcome: MoveOutcome;
	reason: string | null;
	area: string | null;
	/** For a refusal naming an area: whether the truth had room in it when the answer came. */
	truthHadRoom: boolean | null;
}

/** A move the crowd planned at a sensor that was down or held: never sent, the person stays put. */
export interface SkippedMove {
	readonly at: number;
	readonly sensor: string;
}

export interface ViolationRecord {
	readonly at: number;
	readonly sensor: string;
	/** Areas whose true visitor count was above capacity right after this admission. */
	readonly areas: Record<string, { readonly visitors: number; readonly capacity: number }>;
}

/**
 * A stretch of time in which a member could not be heard, by the lab's doing (or by its
 * own crash): a `dead` line about it then is the failure detector working.
 */
export interface FaultSpan {
	readonly member: string;
	readonly kind: 'killed' | 'partitioned' | 'exited';
	readonly start: number;
	/** When it could be heard again: the restarted process's ready line, the heal; null if never. */
	end: number | null;
}

export interface StatusRecord {
	readonly at: number;
	readonly sensor: string;
	readonly line: JsonLine;
	/** The first status asked of a restarted process, right after its ready line. */
	readonly firstAfterRestart: boolean;
}

export interface KillRecord {
	readonly sensor: string;
	readonly member: string;
	readonly killAt: number;
	readonly incarnationBefore: number | null;
	/** Moves still unanswered at the kill (the gate was held first, so normally 0): their outcome is unknown. */
	readonly unansweredAtKill: number;
	restartSpawnAt: number | null;
	readyAt: number | null;
	recoveryAt: number | null;
	incarnationAfter: number | null;
	recovery: JsonLine | null;
	firstStatus: JsonLine | null;
	/** Why the restart did not serve, if it did not. */
	problem: string | null;
}

export interface PartitionRecord {
	readonly sensor: string;
	readonly member: string;
	readonly port: number;
	readonly cutAt: number;
	healAt: number | null;
	/** Datagrams the partition rules dropped, to and from it. */
	dropped: number | null;
}

export interface UnexpectedExit {
	readonly name: string;
	readonly exit: ProcessExit;
	readonly stderr: string;
}

/** A line a member printed, kept with who printed it. */
export interface MemberLine {
	readonly at: number;
	/** The printer's member id (a sensor's id, the observer's user, or `tracker`). */
	readonly from: string;
	readonly line: JsonLine;
}

export interface AreaMismatch {
	readonly where: string;
	readonly area: string;
	readonly occupancy: number | null;
	readonly staff: number | null;
	readonly truthOccupancy: number;
	readonly truthStaff: number;
}

export interface DrainRecord {
	readonly start: number;
	end: number;
	converged: boolean;
	/** What still differed from the truth at the last look (empty once converged). */
	mismatches: AreaMismatch[];
	/** Moves still unanswered when the drain began comparing (traffic stop waits for them, bounded). */
	unsettled: number;
	/** Members not running at the last look, so not compared (the process check reports them). */
	notCompared: string[];
}

export interface StartupRecord {
	readonly start: number;
	end: number;
	/** Processes that gave no ready line within the bound. */
	readonly notReady: string[];
}

export class LabRecord {
	readonly phases: PhaseSpan[] = [];
	readonly moves: MoveRecord[] = [];
	readonly skipped: SkippedMove[] = [];
	readonly violations: ViolationRecord[] = [];
	readonly faults: FaultSpan[] = [];
	readonly statuses: StatusRecord[] = [];
	readonly kills: KillRecord[] = [];
	readonly partitions: PartitionRecord[] = [];
	readonly unexpectedExits: UnexpectedExit[] = [];
	/** Every ready, liveness, rejoined, recovery, superseded… line of every member process. */
	readonly memberLines: MemberLine[] = [];
	/** Every process the lab spawned, by the account it logs in as (the tracker's `member-joined` id). */
	readonly spawns: { readonly user: string; readonly at: number }[] = [];
	/** Lines a process printed before its ready line, by type: the README has ready as every role's first line. */
	readonly linesBeforeReady = new Map<string, number>();
	/** Ready lines of peers in the order their processes were spawned, per sensor. */
	readonly readyIncarnations = new Map<string, number[]>();
	startup: StartupRecord | null = null;
	drain: DrainRecord | null = null;
	/** Problems with the processes that stopped a step of the lab (a tracker never ready, no sensor left to kill). */
	readonly problems: string[] = [];
	/** Problems applying or measuring a fault: a command nft refused, a counter it would not give. */
	readonly faultProblems: string[] = [];
	readonly start: number;

	constructor(start: number) {
		this.start = start;
	}

	/** The phase running at `at`; a phase still running has `end` Infinity. */
	phaseAt(at: number): PhaseSpan | undefined {
		return this.phases.find((phase) => at >= phase.start && at < phase.end);
	}

	/** Ends the running phase (if any) and starts the next. */
	beginPhase(name: string, faults: string, lossPercent: number, at: number): PhaseSpan {
		const running = this.phases.at(-1);
		if (running && running.end === Infinity) running.end = at;
		const phase: PhaseSpan = { name, faults, lossPercent, start: at, end: Infinity, datagrams: null };
		this.phases.push(phase);
		return phase;
	}
}
