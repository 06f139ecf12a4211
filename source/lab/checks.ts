import type { JsonLine } from './member-process.js';
import type { FaultSpan, LabRecord, MemberLine, PhaseSpan } from './lab-record.js';

/**
 * The lab's verdicts, judged from outside from what the processes printed and what the
 * gates answered. Nothing here reaches into footfall's code: a script could do the same.
 */

/**
 * How far the share of datagrams nft dropped in a loss phase may be from the share asked
 * for: at a few hundred datagrams a second over tens of seconds, chance alone stays well
 * within it, while a rule that did nothing (or nothing like it) does not.
 */
const LOSS_TOLERANCE_POINTS = 5;

/**
 * After a killed member's restart is ready, or a cut member is joined back, its
 * neighbours may still print the `dead` they decided while it was silent; a line within
 * this long after is the detector catching up, not a false death.
 */
const CATCH_UP_MS = 2000;

export interface Check {
	readonly name: string;
	readonly passed: boolean;
	readonly figure: string;
}

export interface Spread {
	readonly count: number;
	readonly min: number | null;
	readonly median: number | null;
	readonly max: number | null;
}

export interface FalseDeath {
	readonly at: number;
	readonly phase: string;
	/** Who printed the `dead` line. */
	readonly by: string;
	/** The live, reachable member it declared dead. */
	readonly member: string;
	readonly silentMs: number | null;
}

export interface PhaseFigures {
	readonly name: string;
	readonly faults: string;
	readonly seconds: number;
	readonly tried: number;
	readonly admitted: number;
	readonly refused: number;
	readonly refusedBy: Record<string, number>;
	/** Moves whose answer never came (the process died or stuck): their outcome is unknown. */
	readonly unanswered: number;
	/** Moves planned at a sensor that was down or held, not sent. */
	readonly skipped: number;
	/** `no-permit` / `cut-off` refusals while the truth had room in the refused area. */
	readonly refusalsWithRoom: Record<string, number>;
	/** Logins of a member whose running process had logged in already (the tracker's `member-joined` again). */
	readonly reLogins: number;
	/** `rejoined` lines: members that logged in to a new tracker epoch. */
	readonly rejoinedLines: number;
	readonly deadLines: number;
	readonly falseDead: number;
	readonly overCapacity: number;
	/** nft's counters: UDP datagrams sent in the phase and the share its rules dropped. */
	readonly datagrams: PhaseSpan['datagrams'];
}

/** A member logging in again without having been restarted: its process lost the tracker and logged in anew. */
export interface ReLogin {
	readonly at: number;
	readonly member: string;
	readonly incarnation: number | null;
}

export interface KillFigures {
	readonly sensor: string;
	readonly atSeconds: number;
	readonly incarnationBefore: number | null;
	readonly incarnationAfter: number | null;
	readonly unansweredAtKill: number;
	/** From the kill -9 to the first `dead` about it printed by another member; null if none before it was back. */
	readonly killToDeadMs: number | null;
	readonly deadFirstSaidBy: string | null;
	readonly spawnToReadyMs: number | null;
	readonly spawnToRecoveryMs: number | null;
	readonly recovery: JsonLine | null;
	/** Permits its granters took back while it was down (`reclaim` lines about it). */
	readonly reclaimedPermits: number;
	readonly firstStatusNegative: string[] | null;
	readonly problem: string | null;
}

export interface PartitionFigures {
	readonly sensor: string;
	readonly port: number;
	readonly cutSeconds: number | null;
	/** From the cut to the first `dead` about it printed by another member. */
	readonly cutToDeadMs: number | null;
	/** From the heal to the first `alive` about it printed by another member. */
	readonly healToAliveMs: number | null;
	/** Its logins announced by the tracker from the cut until the end of its phase. */
	readonly itsReLogins: number;
	readonly droppedDatagrams: number | null;
}

export interface Verdict {
	readonly checks: Check[];
	readonly phases: PhaseFigures[];
	readonly kills: KillFigures[];
	readonly partitions: PartitionFigures[];
	readonly killToDeadMs: Spread;
	readonly spawnToReadyMs: Spread;
	readonly spawnToRecoveryMs: Spread;
	readonly falseDeaths: FalseDeath[];
	readonly reLogins: ReLogin[];
	readonly negativeStatuses: { readonly count: number; readonly of: number; readonly samples: string[] };
	readonly passed: boolean;
}

export function judge(record: LabRecord): Verdict {
	const falseDeaths = findFalseDeaths(record);
	const reLogins = findReLogins(record);
	const phases = record.phases.map((phase) => phaseFigures(record, phase, falseDeaths, reLogins));
	const kills = record.kills.map((kill) => killFigures(record, kill));
	const partitions = record.partitions.map((partition) => partitionFigures(record, partition, reLogins));
	const negatives = record.statuses.map((status) => ({ status, negative: negativeFields(status.line) })).filter(({ negative }) => negative.length > 0);
	const verdict = {
		phases,
		kills,
		partitions,
		falseDeaths,
		reLogins,
		killToDeadMs: spread(kills.map((kill) => kill.killToDeadMs)),
		spawnToReadyMs: spread(kills.map((kill) => kill.spawnToReadyMs)),
		spawnToRecoveryMs: spread(kills.map((kill) => kill.spawnToRecoveryMs)),
		negativeStatuses: {
			count: negatives.length,
			of: record.statuses.length,
			samples: negatives.slice(0, 5).map(({ status, negative }) => `${status.sensor} at ${seconds(record, status.at)} s: ${negative.join(', ')}`),
		},
	};
	const checks = [
		faultsCheck(record),
		capacityCheck(record),
		convergenceCheck(record),
		falseDeadCheck(record, falseDeaths),
		incarnationCheck(record),
		restartStatusCheck(kills),
		processCheck(record),
	];
	return { ...verdict, checks, passed: checks.every((check) => check.passed) };
}

/** The faults were really applied: without this, every other check could pass on a network nothing touched. */
function faultsCheck(record: LabRecord): Check {
	const problems = [...record.faultProblems];
	const applied: string[] = [];
	for (const phase of record.phases) {
		if (phase.lossPercent <= 0) continue;
		if (!phase.datagrams) {
			problems.push(`${phase.name}: no datagram counters`);
			continue;
		}
		const share = (100 * phase.datagrams.droppedByLoss) / Math.max(1, phase.datagrams.sent);
		applied.push(`${phase.name} dropped ${share.toFixed(1)} % of ${phase.datagrams.sent}`);
		if (Math.abs(share - phase.lossPercent) > LOSS_TOLERANCE_POINTS) problems.push(`${phase.name} dropped ${share.toFixed(1)} % of datagrams, not ${phase.lossPercent} %`);
	}
	for (const partition of record.partitions) {
		applied.push(`${partition.sensor} cut off, ${partition.dropped ?? '?'} datagrams dropped`);
		if (!partition.dropped) problems.push(`the partition of ${partition.sensor} dropped ${partition.dropped === null ? 'an unknown number of' : 'no'} datagrams`);
	}
	applied.push(`${record.kills.length} kill -9`);
	return {
		name: 'faults applied as planned',
		passed: problems.length === 0,
		figure: problems.length === 0 ? applied.join('; ') : problems.slice(0, 4).join('; ') + (problems.length > 4 ? `; and ${problems.length - 4} more` : ''),
	};
}

function capacityCheck(record: LabRecord): Check {
	const admitted = record.moves.filter((move) => move.outcome === 'admitted').length;
	const first = record.violations[0];
	const where = first ? `; first at ${seconds(record, first.at)} s by ${first.sensor}: ${Object.entries(first.areas).map(([area, { visitors, capacity }]) => `${area} ${visitors}/${capacity}`).join(', ')}` : '';
	return {
		name: 'never over capacity',
		passed: record.violations.length === 0,
		figure: `${record.violations.length} admissions put an area over capacity, of ${admitted} admitted${where}`,
	};
}

function convergenceCheck(record: LabRecord): Check {
	const drain = record.drain;
	if (!drain) return { name: 'exact convergence after the drain', passed: false, figure: 'the drain did not run' };
	const ms = Math.round(drain.end - drain.start);
	const unanswered = record.moves.filter((move) => move.outcome === 'no-answer').length;
	// Said with either verdict: a member left out, or moves of unknown outcome, weaken what "equal" means.
	const caveats = [
		...(drain.notCompared.length > 0 ? [`not running, not compared: ${drain.notCompared.join(', ')}`] : []),
		...(unanswered > 0 ? [`${unanswered} moves never answered (outcome unknown, taken as not admitted)`] : []),
		...(drain.unsettled > 0 ? [`${drain.unsettled} still unanswered when comparing began`] : []),
	];
	const caveat = caveats.length > 0 ? ` (${caveats.join('; ')})` : '';
	if (drain.converged) {
		return { name: 'exact convergence after the drain', passed: true, figure: `every running peer's status and the observer equal the truth, ${ms} ms after traffic stopped${caveat}` };
	}
	const shown = drain.mismatches.slice(0, 6).map((m) => `${m.where} ${m.area} ${m.occupancy ?? '?'}+${m.staff ?? '?'} staff, truth ${m.truthOccupancy}+${m.truthStaff}`);
	const more = drain.mismatches.length > shown.length ? ` and ${drain.mismatches.length - shown.length} more` : '';
	return { name: 'exact convergence after the drain', passed: false, figure: `still differing after ${ms} ms: ${shown.join('; ')}${more}${caveat}` };
}

function falseDeadCheck(record: LabRecord, falseDeaths: readonly FalseDeath[]): Check {
	const lossPhases = new Set(record.phases.filter((phase) => phase.lossPercent > 0).map((phase) => phase.name));
	const underLoss = falseDeaths.filter((death) => lossPhases.has(death.phase));
	const members = new Set(underLoss.map((death) => death.member));
	const first = underLoss[0];
	const detail = first ? ` (${members.size} members); first: ${first.by} declared ${first.member} dead at ${seconds(record, first.at)} s in ${first.phase}, silent ${first.silentMs ?? '?'} ms` : '';
	return {
		name: 'no live member declared dead under loss',
		passed: underLoss.length === 0,
		figure: `${underLoss.length} false-dead lines in ${[...lossPhases].join(', ') || 'no loss phase'}${detail}`,
	};
}

/** Ready lines of each sensor's processes, and every login the tracker announced: each incarnation above the last. */
function incarnationCheck(record: LabRecord): Check {
	const broken: string[] = [];
	const rising = (what: string, incarnations: readonly number[]): void => {
		for (let index = 1; index < incarnations.length; index++) {
			if (!(incarnations[index]! > incarnations[index - 1]!)) return void broken.push(`${what} ${incarnations.join(' → ')}`);
		}
	};
	let restarts = 0;
	for (const [sensor, incarnations] of record.readyIncarnations) {
		restarts += incarnations.length - 1;
		rising(`${sensor} (ready lines)`, incarnations);
	}
	const logins = new Map<string, number[]>();
	for (const { from, line } of record.memberLines) {
		if (from !== 'tracker' || line.type !== 'member-joined' || typeof line['id'] !== 'string') continue;
		logins.set(line['id'], [...(logins.get(line['id']) ?? []), typeof line['incarnation'] === 'number' ? line['incarnation'] : Number.NaN]);
	}
	for (const [member, incarnations] of logins) rising(`${member} (tracker's member-joined)`, incarnations);
	const loginCount = [...logins.values()].reduce((sum, list) => sum + list.length, 0);
	return {
		name: 'incarnations only rise across restarts',
		passed: broken.length === 0,
		figure: broken.length === 0 ? `${record.readyIncarnations.size} sensors, ${restarts} restarts, ${loginCount} logins: every incarnation above the last` : broken.join('; '),
	};
}

function restartStatusCheck(kills: readonly KillFigures[]): Check {
	const bad = kills.filter((kill) => kill.firstStatusNegative === null || kill.firstStatusNegative.length > 0);
	const figure =
		kills.length === 0
			? 'no restart happened'
			: bad.length === 0
				? `${kills.length} restarted peers, none negative in its first status`
				: bad.map((kill) => `${kill.sensor}: ${kill.firstStatusNegative === null ? `no status (${kill.problem ?? 'no answer'})` : kill.firstStatusNegative.join(', ')}`).join('; ');
	return { name: "a restarted peer's first status is not negative", passed: kills.length > 0 && bad.length === 0, figure };
}

function processCheck(record: LabRecord): Check {
	const notReady = record.startup?.notReady ?? ['the start-up did not finish'];
	const exits = record.unexpectedExits.map((exit) => `${exit.name} exited (${exit.exit.signal ?? `code ${exit.exit.code}`}) at ${seconds(record, exit.exit.at)} s${exit.stderr ? `: ${exit.stderr.split('\n')[0]}` : ''}`);
	const restarts = record.kills.filter((kill) => kill.problem !== null).map((kill) => `${kill.sensor}: ${kill.problem}`);
	const errors = record.memberLines.filter(({ line }) => line.type === 'error' || line.type === 'not-json' || line.type === 'superseded').map(({ at, from, line }) => `${from} printed ${line.type} at ${seconds(record, at)} s: ${String(line['message'] ?? line['text'] ?? '')}`);
	const problems = [...notReady.map((name) => `${name} never ready`), ...exits, ...restarts, ...errors, ...record.problems];
	return {
		name: 'every process served; none died unasked',
		passed: problems.length === 0,
		figure: problems.length === 0 ? `${record.readyIncarnations.size + 2} processes ready, ${record.kills.length} restarted, no unexpected exit` : problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : ''),
	};
}

/**
 * Every `dead` line about a member that was neither killed nor cut off at that moment
 * (nor its printer cut off: from inside a partition everyone looks dead).
 */
function findFalseDeaths(record: LabRecord): FalseDeath[] {
	const deaths: FalseDeath[] = [];
	for (const { at, from, line } of record.memberLines) {
		if (line.type !== 'liveness' || line['health'] !== 'dead' || typeof line['member'] !== 'string') continue;
		const member = line['member'];
		if (unreachable(record.faults, member, at) || unreachable(record.faults, from, at)) continue;
		deaths.push({ at, phase: record.phaseAt(at)?.name ?? 'after', by: from, member, silentMs: typeof line['silentMs'] === 'number' ? line['silentMs'] : null });
	}
	return deaths;
}

/**
 * Logins the tracker announced for a member whose current process had logged in already:
 * a re-login in the same epoch prints nothing on the member's side (`rejoined` is only
 * for a new epoch), so the tracker's `member-joined` lines are where it shows.
 */
function findReLogins(record: LabRecord): ReLogin[] {
	const reLogins: ReLogin[] = [];
	/** For each member, the spawn whose first login has been seen. */
	const loggedInSince = new Map<string, number>();
	for (const { at, from, line } of record.memberLines) {
		if (from !== 'tracker' || line.type !== 'member-joined' || typeof line['id'] !== 'string') continue;
		const member = line['id'];
		const spawnedAt = record.spawns.filter((spawn) => spawn.user === member && spawn.at <= at).at(-1)?.at;
		if (spawnedAt === undefined) continue;
		if (loggedInSince.get(member) === spawnedAt) reLogins.push({ at, member, incarnation: typeof line['incarnation'] === 'number' ? line['incarnation'] : null });
		else loggedInSince.set(member, spawnedAt);
	}
	return reLogins;
}

function unreachable(faults: readonly FaultSpan[], member: string, at: number): boolean {
	return faults.some((fault) => fault.member === member && at >= fault.start && at <= (fault.end ?? Infinity) + CATCH_UP_MS);
}

function phaseFigures(record: LabRecord, phase: PhaseSpan, falseDeaths: readonly FalseDeath[], reLogins: readonly ReLogin[]): PhaseFigures {
	const within = (at: number): boolean => at >= phase.start && at < phase.end;
	const moves = record.moves.filter((move) => within(move.sentAt));
	const refusedBy: Record<string, number> = {};
	const refusalsWithRoom: Record<string, number> = {};
	for (const move of moves) {
		if (move.outcome !== 'refused') continue;
		const reason = move.reason ?? 'unknown';
		refusedBy[reason] = (refusedBy[reason] ?? 0) + 1;
		if (move.truthHadRoom === true) refusalsWithRoom[reason] = (refusalsWithRoom[reason] ?? 0) + 1;
	}
	const lines = record.memberLines.filter((entry) => within(entry.at));
	return {
		name: phase.name,
		faults: phase.faults,
		seconds: Math.round((phase.end - phase.start) / 100) / 10,
		tried: moves.length,
		admitted: moves.filter((move) => move.outcome === 'admitted').length,
		refused: moves.filter((move) => move.outcome === 'refused').length,
		refusedBy,
		unanswered: moves.filter((move) => move.outcome === 'no-answer').length,
		skipped: record.skipped.filter((skip) => within(skip.at)).length,
		refusalsWithRoom,
		reLogins: reLogins.filter((login) => within(login.at)).length,
		rejoinedLines: lines.filter(({ line }) => line.type === 'rejoined').length,
		deadLines: lines.filter(({ line }) => line.type === 'liveness' && line['health'] === 'dead').length,
		falseDead: falseDeaths.filter((death) => within(death.at)).length,
		overCapacity: record.violations.filter((violation) => within(violation.at)).length,
		datagrams: phase.datagrams,
	};
}

function killFigures(record: LabRecord, kill: LabRecord['kills'][number]): KillFigures {
	const dead = firstAbout(record.memberLines, kill.member, 'dead', kill.killAt, kill.readyAt ?? Infinity);
	const reclaimed = record.memberLines
		.filter(({ at, line }) => at >= kill.killAt && at <= (kill.readyAt ?? Infinity) && line.type === 'reclaim' && line['from'] === kill.member)
		.reduce((sum, { line }) => sum + (typeof line['permits'] === 'number' ? line['permits'] : 0), 0);
	return {
		sensor: kill.sensor,
		atSeconds: seconds(record, kill.killAt),
		incarnationBefore: kill.incarnationBefore,
		incarnationAfter: kill.incarnationAfter,
		unansweredAtKill: kill.unansweredAtKill,
		killToDeadMs: dead ? Math.round(dead.at - kill.killAt) : null,
		deadFirstSaidBy: dead?.from ?? null,
		spawnToReadyMs: kill.readyAt !== null && kill.restartSpawnAt !== null ? Math.round(kill.readyAt - kill.restartSpawnAt) : null,
		spawnToRecoveryMs: kill.recoveryAt !== null && kill.restartSpawnAt !== null ? Math.round(kill.recoveryAt - kill.restartSpawnAt) : null,
		recovery: kill.recovery,
		reclaimedPermits: reclaimed,
		firstStatusNegative: kill.firstStatus ? negativeFields(kill.firstStatus) : null,
		problem: kill.problem,
	};
}

function partitionFigures(record: LabRecord, partition: LabRecord['partitions'][number], reLogins: readonly ReLogin[]): PartitionFigures {
	const healAt = partition.healAt ?? Infinity;
	const dead = firstAbout(record.memberLines, partition.member, 'dead', partition.cutAt, healAt);
	const alive = partition.healAt === null ? undefined : firstAbout(record.memberLines, partition.member, 'alive', partition.healAt, Infinity);
	const phaseEnd = record.phaseAt(partition.cutAt)?.end ?? Infinity;
	return {
		sensor: partition.sensor,
		port: partition.port,
		cutSeconds: partition.healAt === null ? null : Math.round((partition.healAt - partition.cutAt) / 100) / 10,
		cutToDeadMs: dead ? Math.round(dead.at - partition.cutAt) : null,
		healToAliveMs: alive && partition.healAt !== null ? Math.round(alive.at - partition.healAt) : null,
		itsReLogins: reLogins.filter(({ at, member }) => member === partition.member && at >= partition.cutAt && at < phaseEnd).length,
		droppedDatagrams: partition.dropped,
	};
}

/** The first liveness line about `member` with `health`, printed by someone else, in [from, to]. */
function firstAbout(lines: readonly MemberLine[], member: string, health: string, from: number, to: number): MemberLine | undefined {
	return lines.find(({ at, from: by, line }) => at >= from && at <= to && by !== member && line.type === 'liveness' && line['member'] === member && line['health'] === health);
}

/** The fields of a status line below zero: `bakery.permits -2`. */
export function negativeFields(status: JsonLine): string[] {
	const found: string[] = [];
	const areas = status['areas'];
	if (areas === null || typeof areas !== 'object') return ['no areas in the status line'];
	for (const [area, figures] of Object.entries(areas as Record<string, Record<string, unknown>>)) {
		for (const field of ['occupancy', 'staff', 'permits']) {
			const value = figures[field];
			if (typeof value === 'number' && value < 0) found.push(`${area}.${field} ${value}`);
		}
	}
	return found;
}

function spread(values: readonly (number | null)[]): Spread {
	const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
	if (known.length === 0) return { count: 0, min: null, median: null, max: null };
	const middle = Math.floor(known.length / 2);
	const median = known.length % 2 === 1 ? known[middle]! : Math.round((known[middle - 1]! + known[middle]!) / 2);
	return { count: known.length, min: known[0]!, median, max: known.at(-1)! };
}

/** A time in the run, in seconds since the lab started, for people to read. */
export function seconds(record: LabRecord, at: number): number {
	return Math.round((at - record.start) / 100) / 10;
}
