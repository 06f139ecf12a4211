import type { Demo } from '../simulation/demo.js';
import type { ConsoleData, PeerRow, RecoveryRow } from './console-data.js';

/** Samples kept for the saved-datagrams chart: one a second, the last five minutes. */
const HISTORY = 300;

/**
 * Reads a running demo into the console's plain data. Stateful only for the chart: it
 * remembers the saved count at each second to plot the rate.
 */
export class DemoData {
	readonly #history: number[] = [];
	#lastSaved = 0;
	#lastSample = 0;
	readonly #started = performance.now();

	constructor(readonly demo: Demo) {}

	read(): ConsoleData {
		const { demo } = this;
		const now = performance.now();
		const datagrams = demo.datagrams();
		if (now - this.#lastSample >= 1000) {
			this.#history.push(Math.max(0, datagrams.saved - this.#lastSaved));
			if (this.#history.length > HISTORY) this.#history.shift();
			this.#lastSaved = datagrams.saved;
			this.#lastSample = now;
		}
		const observer = demo.observer;
		const areas = Object.entries(observer.areas()).map(([id, area]) => ({ id, ...area }));
		const peers: PeerRow[] = [];
		for (const member of observer.node.directory.members()) {
			const sensor = member.sensor;
			const peer = sensor === null ? undefined : demo.peers.get(sensor);
			const heard = observer.node.liveness.lastHeard(member.id);
			peers.push({
				id: member.id,
				role: member.role,
				area: sensor === null ? 'all areas' : (demo.options.mall.sensors.get(sensor as never)?.areas.join(',') ?? ''),
				address: `${member.host}:${member.port}`,
				// The network's own view (the observer's failure detector), not the demo's knowledge of what it killed.
				status: observer.node.liveness.health(member.id) ?? 'alive',
				incarnation: member.incarnation,
				lastHeardMs: heard === undefined ? null : Math.round(now - heard),
				datagramsIn: peer?.node.traffic.received ?? 0,
				datagramsOut: peer?.node.traffic.sent ?? 0,
			});
		}
		const recoveries: RecoveryRow[] = demo.recoveries.map((event) => ({
			peer: String(event['sensor']),
			incarnation: Number(event['incarnation']),
			replayed: Number(event['replayed']),
			ms: Number(event['ms']),
			fetched: Number(event['fetched']),
			tornTail: event['tornTail'] === true,
		}));
		return {
			header: { role: 'demo', identity: observer.node.self.id, mall: demo.options.mall.name, epoch: demo.tracker.epoch, trackerUp: true, uptimeMs: now - this.#started },
			areas,
			peers,
			saved: { ...datagrams, percent: datagrams.savedPercent, history: [...this.#history] },
			recoveries,
			logs: demo.log,
			simulation: { paused: demo.paused, rate: demo.rate, population: demo.crowd.population, violations: demo.crowd.violations, admitted: demo.admitted, refused: demo.refused },
		};
	}
}
