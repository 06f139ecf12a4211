import type { ExecutionContext } from 'ava';
import type { Mall } from '../../source/model/mall.js';
import type { Timings } from '../../source/network/config.js';
import { SimCluster, type TraceLine } from '../../source/simulator/sim-cluster.js';
import { TINY_PASSWORDS, tinyMall } from './tiny-mall.js';

export interface SimulationOptions {
	readonly mall?: Mall;
	/** Capacities of the tiny mall (ignored with `mall`). */
	readonly capacities?: Parameters<typeof tinyMall>[0];
	readonly passwords?: ReadonlyMap<string, string>;
	readonly seed?: number;
	readonly timings?: Timings;
	readonly journaled?: boolean;
	readonly onEvent?: (line: TraceLine) => void;
}

/**
 * A simulated footfall network for one test (source/simulator/sim-cluster.ts): real roles
 * on virtual time, closed when the test ends. On failure, the test's log shows the last
 * events of every node, as the simulator saw them.
 */
export async function simulate(t: ExecutionContext, options: SimulationOptions = {}): Promise<SimCluster> {
	const sim = await SimCluster.create({
		mall: options.mall ?? (await tinyMall(options.capacities)),
		passwords: options.passwords ?? TINY_PASSWORDS,
		seed: options.seed ?? 1,
		...(options.timings ? { timings: options.timings } : {}),
		...(options.journaled === undefined ? {} : { journaled: options.journaled }),
		...(options.onEvent ? { onEvent: options.onEvent } : {}),
	});
	t.teardown(async () => {
		if (!t.passed) for (const line of sim.trace.slice(-40)) t.log(`${(line.at / 1000).toFixed(3)} s ${line.node} ${JSON.stringify(line.event)}`);
		await sim.close();
	});
	return sim;
}

/** Events of one kind from the trace, optionally of one node. */
export function events(sim: SimCluster, type: string, node?: string): TraceLine['event'][] {
	return sim.trace.filter((line) => line.event.type === type && (node === undefined || line.node === node)).map((line) => line.event);
}
