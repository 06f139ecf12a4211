import { Text } from 'ink';
import type { PeerRow } from '../console-data.js';
import type { PeerSort } from '../console-state.js';
import { paint, type Theme } from '../theme.js';
import Pane from './Pane.js';

export interface Props {
	readonly peers: readonly PeerRow[];
	readonly focused: boolean;
	readonly theme: Theme;
	readonly height: number;
	readonly filter: string;
	readonly filtering: boolean;
	readonly sort: PeerSort;
	readonly selected: number;
	readonly width: number;
}

const STATUS_COLOR = { alive: 'ok', suspect: 'warn', dead: 'danger' } as const;

/** The rows the peers pane shows, filtered and sorted: the demo's keys act on `selected` of these. */
export function visiblePeers(peers: readonly PeerRow[], filter: string, sort: PeerSort): PeerRow[] {
	const needle = filter.toLowerCase();
	const rows = peers.filter((peer) => needle === '' || `${peer.id} ${peer.area} ${peer.status} ${peer.role}${peer.flagged ? ` flagged ${peer.flagged}` : ''}`.toLowerCase().includes(needle));
	return rows.sort((a, b) => (sort === 'status' ? a.status.localeCompare(b.status) : sort === 'area' ? a.area.localeCompare(b.area) : 0) || a.id.localeCompare(b.id));
}

/** Every member the network routes by (the original's `ipeers`): identity, area, address, health, incarnation, traffic. */
export default function PeersPane({ peers, focused, theme, height, filter, filtering, sort, selected, width }: Props) {
	// The address column only when there is room for it: identity and health come first.
	const withAddress = width >= 100;
	const withRole = width >= 90;
	const withTraffic = width >= 66;
	const rows = visiblePeers(peers, filter, sort);
	const room = Math.max(1, height - 4);
	const first = Math.max(0, Math.min(selected - Math.floor(room / 2), rows.length - room));
	const flagged = peers.filter((peer) => peer.flagged !== undefined).length;
	const title = `Peers — ${peers.filter((peer) => peer.status === 'alive').length}/${peers.length} alive${flagged > 0 ? `, ${flagged} FLAGGED` : ''}, sort ${sort}${filter || filtering ? `, filter /${filter}${filtering ? '▏' : ''}` : ''}`;
	return (
		<Pane title={title} focused={focused} theme={theme} height={height}>
			<Text color={paint(theme, 'dim')} wrap="truncate">
				{'id'.padEnd(23) + (withRole ? 'role'.padEnd(9) : '') + 'area'.padEnd(12) + (withAddress ? 'address'.padEnd(17) : '') + 'status '.padEnd(8) + 'inc'.padStart(3) + ' heard'.padEnd(7) + (withTraffic ? 'in/out'.padStart(11) : '')}
			</Text>
			{rows.slice(first, first + room).map((peer, index) => {
				const chosen = focused && first + index === selected;
				return (
					<Text key={peer.id} wrap="truncate">
						<Text inverse={chosen}>
							{peer.id.slice(0, 22).padEnd(23)}
							{withRole ? peer.role.padEnd(9) : ''}
							{peer.area.slice(0, 11).padEnd(12)}
							{withAddress ? peer.address.padEnd(17) : ''}
						</Text>
						{/* A sensor whose rows its role could not have written: as loud as a dead one, whatever its health. */}
						<Text color={paint(theme, peer.flagged ? 'danger' : STATUS_COLOR[peer.status])} bold={peer.flagged !== undefined} inverse={chosen}>
							{(peer.flagged ? 'FLAGGED' : peer.status).padEnd(8)}
						</Text>
						<Text inverse={chosen}>
							{String(peer.incarnation).padStart(3)}
							{(peer.lastHeardMs === null ? ' —' : ` ${(peer.lastHeardMs / 1000).toFixed(1)}s`).padEnd(7)}
							{withTraffic ? `${peer.datagramsIn}/${peer.datagramsOut}`.padStart(11) : ''}
						</Text>
					</Text>
				);
			})}
			{rows.length === 0 ? <Text color={paint(theme, 'dim')}>no peer matches /{filter}</Text> : null}
		</Pane>
	);
}
