import { Text } from 'ink';
import type { ReclaimRow, RecoveryRow } from '../console-data.js';
import { paint, type Theme } from '../theme.js';
import Pane from './Pane.js';

export interface Props {
	readonly recoveries: readonly RecoveryRow[];
	/** Permits granters took back from sensors declared dead. */
	readonly reclaims: readonly ReclaimRow[];
	readonly focused: boolean;
	readonly theme: Theme;
	readonly height: number;
}

const figure = (value: number | null): string => (value === null ? '—' : String(value));

/**
 * Every restart of a peer (incarnation, records replayed, time taken, rows fetched from
 * peers), and below them the permits taken back from peers declared dead.
 */
export default function RecoveryPane({ recoveries, reclaims, focused, theme, height }: Props) {
	const lines = Math.max(1, height - 4);
	const reclaimLines = reclaims.length === 0 ? 0 : Math.min(reclaims.length + 1, Math.max(2, Math.floor(lines / 2)));
	const rows = recoveries.slice(-Math.max(1, lines - reclaimLines));
	const taken = reclaims.reduce((sum, reclaim) => sum + reclaim.permits, 0);
	const title = `Recovery — ${recoveries.length} restarts` + (reclaims.length > 0 ? ` · ${taken} permits reclaimed` : '');
	return (
		<Pane title={title} focused={focused} theme={theme} height={height}>
			{rows.length === 0 ? (
				<Text color={paint(theme, 'dim')}>no restart yet (k kills the selected peer, r restarts it)</Text>
			) : (
				<Text color={paint(theme, 'dim')}>{'peer'.padEnd(22) + 'inc'.padStart(4) + 'replayed'.padStart(10) + 'ms'.padStart(7) + 'fetched'.padStart(9)}</Text>
			)}
			{rows.map((row, index) => (
				<Text key={`${row.peer}-${row.incarnation}-${index}`}>
					{row.peer.slice(0, 21).padEnd(22) + String(row.incarnation).padStart(4) + figure(row.replayed).padStart(10) + figure(row.ms).padStart(7) + figure(row.fetched).padStart(9)}
					{row.tornTail ? <Text color={paint(theme, 'warn')}> torn tail cut</Text> : null}
				</Text>
			))}
			{reclaimLines > 0 ? <Text color={paint(theme, 'dim')}>{'reclaimed from'.padEnd(22) + 'by'.padEnd(22) + 'area'}</Text> : null}
			{reclaims.slice(-(reclaimLines - 1)).map((reclaim, index) => (
				<Text key={`reclaim-${index}`} wrap="truncate">
					{reclaim.from.slice(0, 21).padEnd(22) + reclaim.by.slice(0, 21).padEnd(22)}
					<Text color={paint(theme, 'warn')}>{`${reclaim.permits} of ${reclaim.area}`}</Text>
				</Text>
			))}
		</Pane>
	);
}
