import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LabOptions } from './lab-options.js';
import type { LabRecord, PhaseSpan } from './lab-record.js';
import type { Spread, Verdict } from './checks.js';

export interface RunDescription {
	readonly options: LabOptions;
	readonly namespace: string;
	readonly startedAt: Date;
	readonly sensors: number;
	readonly totalSeconds: number;
}

/** The report a person reads: phases, checks with their figures, then the figures in detail. */
export function renderReport(run: RunDescription, verdict: Verdict, record: LabRecord): string {
	const { options } = run;
	const out: string[] = [];
	out.push(`footfall lab · scenario ${options.scenario} · seed ${options.seed} · ${options.rate} moves/s · ${run.sensors} sensor peers + tracker + observer in netns ${run.namespace} · ${run.totalSeconds} s`);
	out.push('');
	out.push('Phases');
	out.push(
		table(
			['phase', 's', 'faults', 'datagrams (dropped)', 'tried', 'admitted', 'refused (by reason)', 'with room', 'no answer', 'skipped', 're-logins', 'rejoined', 'dead lines', 'false dead', 'over cap'],
			verdict.phases.map((phase) => [
				phase.name,
				phase.seconds.toFixed(1),
				phase.faults,
				datagramsText(phase.datagrams),
				String(phase.tried),
				String(phase.admitted),
				`${phase.refused}${phase.refused > 0 ? ` (${byReason(phase.refusedBy)})` : ''}`,
				byReason(phase.refusalsWithRoom) || '0',
				String(phase.unanswered),
				String(phase.skipped),
				String(phase.reLogins),
				String(phase.rejoinedLines),
				String(phase.deadLines),
				String(phase.falseDead),
				String(phase.overCapacity),
			]),
			[false, true, false, true, true, true, false, false, true, true, true, true, true, true, true],
		),
	);
	out.push('');
	out.push('Checks');
	for (const check of verdict.checks) out.push(`  ${check.passed ? 'PASS' : 'FAIL'}  ${check.name.padEnd(48)} ${check.figure}`);
	out.push('');
	out.push('Figures');
	const refusalsWithRoom: Record<string, number> = {};
	let refusals = 0;
	for (const phase of verdict.phases) {
		refusals += phase.refused;
		for (const [reason, count] of Object.entries(phase.refusalsWithRoom)) refusalsWithRoom[reason] = (refusalsWithRoom[reason] ?? 0) + count;
	}
	const figures: [string, string][] = [
		['re-logins', `${verdict.reLogins.length} (the tracker's member-joined for a member whose process had joined already) · ${verdict.phases.map((phase) => `${phase.name} ${phase.reLogins}`).join(' · ')}`],
		['re-logins by member', countBy(verdict.reLogins.map((login) => login.member))],
		['rejoined lines (new epoch)', verdict.phases.map((phase) => `${phase.name} ${phase.rejoinedLines}`).join(' · ')],
		['rejoin-failed lines', String(record.memberLines.filter(({ line }) => line.type === 'rejoin-failed').length)],
		['false-dead lines', `${verdict.falseDeaths.length} in all · ${verdict.phases.map((phase) => `${phase.name} ${phase.falseDead}`).join(' · ')}`],
		['false-dead members', countBy(verdict.falseDeaths.map((death) => death.member))],
		['kill -9 to dead (ms)', `${spreadText(verdict.killToDeadMs)} (${verdict.killToDeadMs.count} of ${verdict.kills.length} kills declared dead before the restart)`],
		['restart to ready (ms)', spreadText(verdict.spawnToReadyMs)],
		['restart to recovery (ms)', spreadText(verdict.spawnToRecoveryMs)],
		['refusals with room', `${byReason(refusalsWithRoom) || '0'} (of ${refusals} refusals; no-permit/cut-off while the truth had room in the area)`],
		['negative statuses', `${verdict.negativeStatuses.count} of ${verdict.negativeStatuses.of} status answers${verdict.negativeStatuses.samples.length > 0 ? `: ${verdict.negativeStatuses.samples.join('; ')}` : ''}`],
		['convergence', convergenceText(record)],
		['lines before ready', record.linesBeforeReady.size === 0 ? 'none: every process printed ready first' : countBy([...record.linesBeforeReady].flatMap(([type, count]) => Array<string>(count).fill(type)))],
	];
	for (const [name, value] of figures) out.push(`  ${name.padEnd(28)} ${value}`);
	if (verdict.kills.length > 0) {
		out.push('');
		out.push('Kills');
		out.push(
			table(
				['sensor', 'at s', 'incarnation', 'unanswered', 'kill→dead ms', 'first said by', 'reclaimed', 'spawn→ready ms', 'spawn→recovery ms', 'replayed', 'fetched', 'recovery permits', 'first status'],
				verdict.kills.map((kill) => [
					kill.sensor,
					kill.atSeconds.toFixed(1),
					`${kill.incarnationBefore ?? '?'} → ${kill.incarnationAfter ?? '?'}`,
					String(kill.unansweredAtKill),
					kill.killToDeadMs === null ? 'not seen' : String(kill.killToDeadMs),
					kill.deadFirstSaidBy ?? '-',
					String(kill.reclaimedPermits),
					kill.spawnToReadyMs === null ? '-' : String(kill.spawnToReadyMs),
					kill.spawnToRecoveryMs === null ? '-' : String(kill.spawnToRecoveryMs),
					String(kill.recovery?.['replayed'] ?? '-'),
					String(kill.recovery?.['fetched'] ?? '-'),
					permitsText(kill.recovery?.['permits']),
					kill.firstStatusNegative === null ? 'none' : kill.firstStatusNegative.length === 0 ? 'ok' : kill.firstStatusNegative.join(', '),
				]),
				[false, true, false, true, true, false, true, true, true, true, true, false, false],
			),
		);
	}
	if (verdict.partitions.length > 0) {
		out.push('');
		out.push('Partitions');
		out.push(
			table(
				['sensor', 'port', 'cut s', 'datagrams dropped', 'cut→dead ms', 'heal→alive ms', 'its re-logins'],
				verdict.partitions.map((partition) => [
					partition.sensor,
					String(partition.port),
					partition.cutSeconds === null ? '-' : partition.cutSeconds.toFixed(1),
					String(partition.droppedDatagrams ?? '?'),
					partition.cutToDeadMs === null ? 'not seen' : String(partition.cutToDeadMs),
					partition.healToAliveMs === null ? 'not seen' : String(partition.healToAliveMs),
					String(partition.itsReLogins),
				]),
				[false, true, true, true, true, true, true],
			),
		);
	}
	out.push('');
	out.push(verdict.passed ? 'All checks passed.' : `${verdict.checks.filter((check) => !check.passed).length} of ${verdict.checks.length} checks FAILED.`);
	return out.join('\n');
}

/** Everything, for scripts and for comparing runs: bench/lab-results.json. */
export function writeResults(file: string, run: RunDescription, verdict: Verdict, record: LabRecord): void {
	const results = {
		lab: {
			scenario: run.options.scenario,
			seed: run.options.seed,
			rate: run.options.rate,
			durationSeconds: run.options.durationSeconds,
			namespace: run.namespace,
			startedAt: run.startedAt.toISOString(),
			totalSeconds: run.totalSeconds,
			sensors: run.sensors,
		},
		passed: verdict.passed,
		checks: verdict.checks,
		phases: verdict.phases,
		figures: {
			killToDeadMs: verdict.killToDeadMs,
			spawnToReadyMs: verdict.spawnToReadyMs,
			spawnToRecoveryMs: verdict.spawnToRecoveryMs,
			negativeStatuses: verdict.negativeStatuses,
			falseDeadLines: verdict.falseDeaths.length,
			reLogins: Object.fromEntries(verdict.phases.map((phase) => [phase.name, phase.reLogins])),
			rejoinedLines: Object.fromEntries(verdict.phases.map((phase) => [phase.name, phase.rejoinedLines])),
		},
		reLogins: verdict.reLogins.map((login) => ({ ...login, atSeconds: Math.round((login.at - record.start) / 100) / 10 })),
		kills: verdict.kills,
		partitions: verdict.partitions,
		// Capped: under loss there can be thousands, and the first ones tell the story.
		falseDeaths: verdict.falseDeaths.slice(0, 500).map((death) => ({ ...death, atSeconds: Math.round((death.at - record.start) / 100) / 10 })),
		drain: record.drain && { ...record.drain, ms: Math.round(record.drain.end - record.drain.start) },
		startup: record.startup && { ms: Math.round(record.startup.end - record.startup.start), notReady: record.startup.notReady },
		unexpectedExits: record.unexpectedExits,
		problems: record.problems,
		faultProblems: record.faultProblems,
		linesBeforeReady: Object.fromEntries(record.linesBeforeReady),
	};
	mkdirSync(dirname(file), { recursive: true });
	writeFileSync(file, `${JSON.stringify(results, null, '\t')}\n`);
}

function convergenceText(record: LabRecord): string {
	const drain = record.drain;
	if (!drain) return 'not measured (the drain did not run)';
	const ms = Math.round(drain.end - drain.start);
	return drain.converged ? `exact, ${ms} ms after traffic stopped` : `NOT converged after ${ms} ms: ${drain.mismatches.length} area views differ from the truth`;
}

/** `6,170 (1,236 = 20.0 %)`: sent, and what nft dropped of it. */
function datagramsText(datagrams: PhaseSpan['datagrams']): string {
	if (!datagrams) return '?';
	const dropped = datagrams.droppedByLoss + datagrams.droppedByPartition;
	if (dropped === 0) return datagrams.sent.toLocaleString('en');
	return `${datagrams.sent.toLocaleString('en')} (${dropped.toLocaleString('en')} = ${((100 * dropped) / Math.max(1, datagrams.sent)).toFixed(1)} %)`;
}

/** A recovery line's `permits` ({"ground": 3, "first": -2}) as `ground 3, first -2`. */
function permitsText(permits: unknown): string {
	if (permits === null || typeof permits !== 'object') return '-';
	return Object.entries(permits as Record<string, unknown>).map(([area, count]) => `${area} ${String(count)}`).join(', ');
}

/** `5: ops ×3, bakery-door ×2`, most first; `none` for nothing. */
function countBy(names: readonly string[]): string {
	if (names.length === 0) return 'none';
	const counts = new Map<string, number>();
	for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
	return `${counts.size}: ${[...counts].sort((a, b) => b[1] - a[1]).map(([name, count]) => `${name} ×${count}`).join(', ')}`;
}

function byReason(counts: Record<string, number>): string {
	return Object.entries(counts)
		.sort((a, b) => b[1] - a[1])
		.map(([reason, count]) => `${reason} ${count}`)
		.join(', ');
}

function spreadText(spread: Spread): string {
	return spread.count === 0 ? 'none measured' : `min ${spread.min} · median ${spread.median} · max ${spread.max} (n=${spread.count})`;
}

/** A plain text table: columns as wide as their widest cell, numbers right-aligned. */
function table(header: readonly string[], rows: readonly (readonly string[])[], numeric: readonly boolean[]): string {
	const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
	const line = (cells: readonly string[]): string => `  ${cells.map((cell, column) => (numeric[column] ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd()}`;
	return [line(header), ...rows.map(line)].join('\n');
}
