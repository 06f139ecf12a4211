import { parseArgs } from 'node:util';
import { numberOption } from '../cli/options.js';
import { UsageError, oneLine } from '../cli/usage-error.js';

export type ScenarioName = 'short' | 'full';

export interface LabOptions {
	readonly scenario: ScenarioName;
	readonly seed: number;
	/** Moves tried per second, across the whole mall. */
	readonly rate: number;
	/** Seconds of traffic the phases add up to; null keeps the scenario's own length. */
	readonly durationSeconds: number | null;
	readonly help: boolean;
}

/** A mistake in the lab's own flags: one line on stderr, exit code 1. */
export class LabUsageError extends UsageError {}

/** A string flag's value as parseArgs gives it (the options above are all strings but --help). */
const text = (value: string | boolean | undefined): string | undefined => (typeof value === 'string' ? value : undefined);

export const LAB_HELP = `footfall lab: the real binary as separate processes in a network namespace, under faults

usage: npm run lab -- [--scenario short|full] [--seed N] [--rate N] [--duration S]

Needs root: it creates a network namespace (ip netns) and drops packets in it with nft.
It starts a tracker, every sensor of the demo mall as its own peer process and one
observer, all on that namespace's loopback, drives shoppers through them, and runs the
phases: warm-up, 20 % loss, 30 % loss (full only), a partitioned sensor, kill -9 and
restart of sensors, then a drain. It prints a report and writes bench/lab-results.json.

  --scenario short|full  short ≈ 40–60 s for CI; full ≈ 3–4 min (default)
  --seed N               every random choice (shoppers, victims, instants); default 1
  --rate N               moves tried per second across the mall; default 40
  --duration S           stretch or shrink the phases so their traffic lasts S seconds
  --help                 this text

Exit code 0 if every check passed, 1 otherwise.`;

export function parseLabOptions(args: readonly string[]): LabOptions {
	let values: Record<string, string | boolean | undefined>;
	try {
		({ values } = parseArgs({
			args: [...args],
			options: {
				scenario: { type: 'string' },
				seed: { type: 'string' },
				rate: { type: 'string' },
				duration: { type: 'string' },
				help: { type: 'boolean' },
			},
			strict: true,
		}));
	} catch (error) {
		throw new LabUsageError(`${oneLine((error as Error).message)} (see npm run lab -- --help)`);
	}
	const scenario = values['scenario'] ?? 'full';
	if (scenario !== 'short' && scenario !== 'full') throw new LabUsageError(`--scenario ${String(scenario)}: expected short or full`);
	return {
		scenario,
		seed: numberOption('seed', text(values['seed']), 1, { integer: true, min: 0 }),
		rate: numberOption('rate', text(values['rate']), 40, { min: 1 }),
		durationSeconds: values['duration'] === undefined ? null : numberOption('duration', text(values['duration']), 0, { min: 10 }),
		help: values['help'] === true,
	};
}
