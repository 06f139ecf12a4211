#!/usr/bin/env node
import { fork } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { numberOption } from '../cli/options.js';
import { UsageError, oneLine } from '../cli/usage-error.js';
import { MUTATIONS, isMutation, type Mutation } from './mutations.js';
import { runScenario, type ScenarioResult } from './scenario.js';

/**
 * `npm run sim`: the whole network in the deterministic simulator, over many seeds.
 *
 *   --seeds N     run N seeds (default 100), from --first (default 1)
 *   --seed S      run one seed and print its trace
 *   --steps K     seconds of faults per seed (default 30)
 *   --jobs J      worker processes (default: one per core)
 *   --mutation M  put a known bug in (endless-permits, ignore-lease-cap, answer-before-durable, deaf-to-hints)
 *   --lying-disks let fsyncs lie (durability then rests on the replicas)
 *
 * Prints one line per failing seed, with how to replay it, and a summary line.
 */
const USAGE = 'usage: npm run sim -- [--seeds N] [--first S] [--seed S] [--steps K] [--jobs J] [--mutation M] [--lying-disks]';

interface Summary {
	readonly seed: number;
	readonly failures: ScenarioResult['failures'];
	readonly virtualMs: number;
	readonly events: number;
	readonly moves: ScenarioResult['moves'];
	readonly faults: ScenarioResult['faults'];
}

function options(argv: string[]) {
	const { values } = parseArgs({
		args: argv,
		options: {
			seeds: { type: 'string' },
			first: { type: 'string' },
			seed: { type: 'string' },
			steps: { type: 'string' },
			jobs: { type: 'string' },
			mutation: { type: 'string' },
			'lying-disks': { type: 'boolean' },
			worker: { type: 'boolean' },
			help: { type: 'boolean' },
		},
		strict: true,
	});
	const number = (name: string, text: string | undefined, fallback: number, min = 0): number => numberOption(name, text, fallback, { integer: true, min });
	if (values.mutation !== undefined && !isMutation(values.mutation)) throw new UsageError(`--mutation ${values.mutation}: expected one of ${Object.keys(MUTATIONS).join(', ')}`);
	return {
		help: values.help === true,
		worker: values.worker === true,
		single: values.seed === undefined ? null : number('seed', values.seed, 1),
		first: number('first', values.first, 1),
		seeds: number('seeds', values.seeds, 100, 1),
		steps: number('steps', values.steps, 30),
		jobs: number('jobs', values.jobs, cpus().length, 1),
		mutation: values.mutation as Mutation | undefined,
		lyingDisks: values['lying-disks'] === true,
	};
}

function replay(seed: number, opts: ReturnType<typeof options>): string {
	return `npm run sim -- --seed ${seed} --steps ${opts.steps}${opts.mutation ? ` --mutation ${opts.mutation}` : ''}${opts.lyingDisks ? ' --lying-disks' : ''}`;
}

async function runOne(seed: number, opts: ReturnType<typeof options>): Promise<ScenarioResult> {
	return runScenario({ seed, steps: opts.steps, ...(opts.mutation ? { mutation: opts.mutation } : {}), lyingDisks: opts.lyingDisks });
}

/** A worker runs the seeds it is given and sends one summary each. */
async function worker(opts: ReturnType<typeof options>): Promise<void> {
	for (let seed = opts.first; seed < opts.first + opts.seeds; seed++) {
		const result = await runOne(seed, opts);
		const summary: Summary = { seed, failures: result.failures, virtualMs: result.virtualMs, events: result.events, moves: result.moves, faults: result.faults };
		process.send!(summary);
	}
}

async function main(argv: string[]): Promise<number> {
	const opts = options(argv);
	if (opts.help) {
		console.log(USAGE);
		return 0;
	}
	if (opts.worker) {
		await worker(opts);
		return 0;
	}
	if (opts.single !== null) {
		const result = await runOne(opts.single, opts);
		for (const line of result.trace) console.log(line);
		for (const failure of result.failures) console.log(`FAILED ${failure.invariant} at ${(failure.at / 1000).toFixed(3)} s: ${failure.detail}`);
		console.log(`seed ${opts.single}: ${result.failures.length === 0 ? 'ok' : `${result.failures.length} failures`}; ${(result.virtualMs / 1000).toFixed(1)} s simulated, ${result.events} events, ${result.moves.tried} moves (${result.moves.admitted} admitted)`);
		return result.failures.length === 0 ? 0 : 1;
	}
	const started = performance.now();
	const jobs = Math.min(opts.jobs, opts.seeds);
	const summaries: Summary[] = [];
	const per = Math.ceil(opts.seeds / jobs);
	const script = fileURLToPath(import.meta.url);
	await Promise.all(
		Array.from({ length: jobs }, (_, job) => {
			const first = opts.first + job * per;
			const count = Math.min(per, opts.first + opts.seeds - first);
			if (count <= 0) return Promise.resolve();
			const args = ['--worker', '--first', String(first), '--seeds', String(count), '--steps', String(opts.steps), ...(opts.mutation ? ['--mutation', opts.mutation] : []), ...(opts.lyingDisks ? ['--lying-disks'] : [])];
			return new Promise<void>((resolve, reject) => {
				const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
				child.on('message', (summary: Summary) => {
					summaries.push(summary);
					if (summary.failures.length > 0) {
						const first = summary.failures[0]!;
						console.log(`seed ${summary.seed} FAILED ${first.invariant} at ${(first.at / 1000).toFixed(3)} s: ${first.detail} — replay: ${replay(summary.seed, opts)}`);
					}
				});
				child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a worker exited with ${code}`))));
			});
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	const failed = summaries.filter((summary) => summary.failures.length > 0).length;
	const simulated = summaries.reduce((sum, summary) => sum + summary.virtualMs, 0) / 1000;
	const moves = summaries.reduce((sum, summary) => sum + summary.moves.tried, 0);
	const faults: Record<string, number> = {};
	for (const summary of summaries) for (const [kind, count] of Object.entries(summary.faults)) faults[kind] = (faults[kind] ?? 0) + count;
	console.log(`faults injected: ${Object.entries(faults).map(([kind, count]) => `${kind} ${count}`).join(', ')}; ${moves} moves`);
	console.log(`${summaries.length} seeds, ${failed} failed: ${(summaries.length / seconds).toFixed(1)} seeds/s, ${Math.round(simulated / seconds)} simulated s per real s (${Math.round(simulated)} s simulated in ${seconds.toFixed(1)} s, ${jobs} jobs)`);
	return failed === 0 && summaries.length === opts.seeds ? 0 : 1;
}

try {
	process.exitCode = await main(process.argv.slice(2));
} catch (error) {
	// A mistake in the flags gets the usage; anything else, its one line.
	const mistake = error instanceof UsageError || String((error as NodeJS.ErrnoException).code ?? '').startsWith('ERR_PARSE_ARGS');
	process.stderr.write(`footfall sim: ${oneLine((error as Error).message)}\n${mistake ? `${USAGE}\n` : ''}`);
	process.exitCode = 1;
}
