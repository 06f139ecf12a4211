#!/usr/bin/env node
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FixtureError, loadMall, loadPasswords } from '../model/load-mall.js';
import { judge, seconds } from './checks.js';
import { DEMO_FIXTURE, DEMO_PASSWORDS, REPOSITORY, deleteStaleScratch } from './cluster.js';
import { FaultLab } from './fault-lab.js';
import { LAB_HELP, parseLabOptions } from './lab-options.js';
import { UsageError } from '../cli/usage-error.js';
import { LabRecord } from './lab-record.js';
import { LabNamespace, NamespaceError, deleteStaleNamespaces } from './namespace.js';
import { preflight } from './preflight.js';
import { renderReport, writeResults } from './report.js';
import { scenario } from './scenario.js';

/**
 * `npm run lab`: footfall's real binary as separate processes in a network namespace of
 * the lab's own, under loss, a partition and kill -9, judged from outside. Whatever
 * happens — a check failing, a process dying, an error, Ctrl-C — every process it started
 * is killed, the namespace deleted and the scratch directory removed.
 */

const RESULTS_FILE = join(REPOSITORY, 'bench/lab-results.json');
const STOP_PROCESSES_MS = 5_000;

/** Said on stderr, one line each: the report alone goes to stdout. */
function complain(text: string): void {
	process.stderr.write(`footfall lab: ${text}\n`);
}

async function main(argv: readonly string[]): Promise<number> {
	const options = parseLabOptions(argv);
	if (options.help) {
		console.log(LAB_HELP);
		return 0;
	}
	const ready = preflight();
	if ('refusal' in ready) {
		complain(ready.refusal);
		return 1;
	}
	const mall = await loadMall(DEMO_FIXTURE);
	const passwords = await loadPasswords(DEMO_PASSWORDS);
	const plan = scenario(options.scenario, options.durationSeconds);
	const record = new LabRecord(performance.now());
	const startedAt = new Date();
	const say = (text: string): void => complain(`[${seconds(record, performance.now()).toFixed(1)} s] ${text}`);

	for (const stale of [...deleteStaleNamespaces(ready.tools), ...deleteStaleScratch()]) say(`deleted ${stale}, left by an earlier run that was killed`);
	const namespace = LabNamespace.create(ready.tools, `footfall-lab-${process.pid}`);
	let lab: FaultLab | null = null;

	// On a signal or a crash nothing may be awaited: kill, delete, remove, synchronously, then go.
	const abandon = (why: string, code: number): void => {
		lab?.cluster.killAllNow();
		const failure = namespace.delete();
		lab?.cluster.removeScratch();
		complain(`${why}; its processes were killed and namespace ${namespace.name} ${failure === null ? 'deleted' : `NOT deleted (${failure})`}`);
		process.exit(code);
	};
	const onSignal = (signal: NodeJS.Signals): void => abandon(`stopped by ${signal}`, signal === 'SIGINT' ? 130 : 143);
	const onCrash = (error: unknown): void => abandon(`internal error: ${(error as Error)?.message ?? String(error)}`, 1);
	const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
	for (const signal of signals) process.on(signal, onSignal);
	process.on('uncaughtException', onCrash);
	process.on('unhandledRejection', onCrash);

	try {
		lab = new FaultLab(namespace, mall, passwords, plan, record, options, say);
		await lab.run();
	} finally {
		await lab?.traffic.stop(0);
		await lab?.cluster.stopAll(STOP_PROCESSES_MS);
		const failure = namespace.delete();
		if (failure !== null) record.problems.push(failure);
		lab?.cluster.removeScratch();
		for (const signal of signals) process.off(signal, onSignal);
	}

	const verdict = judge(record);
	const run = { options, namespace: namespace.name, startedAt, sensors: mall.sensors.size, totalSeconds: seconds(record, performance.now()) };
	console.log(renderReport(run, verdict, record));
	writeResults(RESULTS_FILE, run, verdict, record);
	console.log(`\nResults written to ${RESULTS_FILE}`);
	return verdict.passed ? 0 : 1;
}

main(process.argv.slice(2)).then(
	(code) => process.exit(code),
	(error: unknown) => {
		// The errors a user can cause or meet are one line; anything else is still one line, never a stack.
		const known = error instanceof UsageError || error instanceof NamespaceError || error instanceof FixtureError;
		complain(known ? (error as Error).message : `internal error: ${(error as Error)?.message ?? String(error)}`);
		process.exit(1);
	},
);
