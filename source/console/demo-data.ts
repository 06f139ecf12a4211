import type { SensorId } from '../model/ids.js';
import type { Demo } from '../simulation/demo.js';
import { falseRefusals } from '../simulation/demo-summary.js';
import type { DemoCommand } from './components/ConsoleApp.js';
import { EventRows, flagOf, reclaimRows, recoveryRows, type AreaRow, type ConsoleData, type PeerRow } from './console-data.js';
import { observerAreaRows, ownAreaRows } from './role-data.js';
import type { ConsoleSource } from './run-console.js';
import { RateHistory, savedFigures } from './rate-history.js';
import { OccupancyHistory } from './occupancy-history.js';

const RATE_STEP = 1.5;

/**
 * Reads a running demo into the console's plain data. Stateful only for what it samples
 * over time (the saved rate, each floor's occupancy) and the rows it derives from events.
 */
export class DemoData implements ConsoleSource {
	readonly #history = new RateHistory();
	readonly #occupancy = new OccupancyHistory();
	readonly #recoveries = new EventRows(recoveryRows);
	readonly #reclaims = new EventRows(reclaimRows);
	readonly #started = performance.now();

	constructor(readonly demo: Demo) {}

	read(): ConsoleData {
		const { demo } = this;
		const now = performance.now();
		const datagrams = demo.datagrams();
		const observer = demo.observer;
		const areas = this.#occupancy.sample(observerAreaRows(observer), now);
		const peers: PeerRow[] = [];
		for (const member of observer.node.directory.members()) {
			const sensor = member.sensor;
			const peer = sensor === null ? undefined : demo.peers.get(sensor);
			const heard = observer.node.liveness.lastHeard(member.id);
			const flag = sensor === null ? undefined : observer.core.replicas?.flags().get(sensor as SensorId);
			const flagged = flag?.since === null ? undefined : flagOf(flag?.held);
			peers.push({
				...(flagged === undefined ? {} : { flagged }),
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
		return {
			header: { role: 'demo', identity: observer.node.self.id, mall: demo.options.mall.name, epoch: demo.tracker.epoch, trackerUp: true, uptimeMs: now - this.#started },
			areas,
			peers,
			saved: savedFigures(datagrams, this.#history, now),
			// demo.recoveries only grows: its length counts its events.
			recoveries: this.#recoveries.read(demo.recoveries, demo.recoveries.length),
			reclaims: this.#reclaims.read(demo.recoveries, demo.recoveries.length),
			logs: demo.log,
			simulation: { paused: demo.paused, rate: demo.rate, population: demo.crowd.population, violations: demo.crowd.violations, admitted: demo.admitted, refused: demo.refused, refusedWithRoom: falseRefusals(demo.crowd, demo.tried).total },
		};
	}

	viewOf(id: string): readonly AreaRow[] | null {
		const peer = this.demo.peers.get(id);
		if (!peer || this.demo.down.has(id)) return null;
		return ownAreaRows(peer);
	}

	peerLog(id: string): readonly string[] {
		return this.demo.peerLogs.get(id) ?? [];
	}

	/** Carries out a demo key; returns the line the footer shows about it. */
	async perform(command: DemoCommand): Promise<string> {
		const { demo } = this;
		switch (command.type) {
			case 'pause':
				demo.paused = !demo.paused;
				return demo.paused ? 'traffic paused' : 'traffic resumed';
			case 'rate':
				demo.rate = Math.max(1, Math.round(command.by > 0 ? demo.rate * RATE_STEP : demo.rate / RATE_STEP));
				return `rate ${demo.rate} moves/s`;
			case 'inject':
				if (command.sensor === null) return 'select a sensor in Peers first';
				return `${command.direction} at ${command.sensor}: ${await demo.inject(command.sensor, command.direction)}`;
			case 'kill':
				return (await demo.kill(command.sensor)) ? `killed ${command.sensor}` : `${command.sensor} is already down`;
			case 'restart':
				return (await demo.restart(command.sensor)) ? `restarted ${command.sensor}` : `${command.sensor} is not down: k kills it first`;
			case 'partition':
				return `${command.sensor} ${demo.togglePartition(command.sensor) ? 'cut off from the rest' : 'joined back'}`;
			case 'loss':
				return `packet loss ${Math.round(demo.cycleLoss() * 100)} %`;
			case 'revoke':
				return 'accounts are revoked on the tracker\'s console';
		}
	}
}
