import { Text } from 'ink';
import type { RecoveryRow } from '../console-data.js';
import { paint, type Theme } from '../theme.js';
import Pane from './Pane.js';

export interface Props {
	readonly recoveries: readonly RecoveryRow[];
	readonly focused: boolean;
	readonly theme: Theme;
	readonly height: number;
}

const figure = (value: number | null): string => (value === null ? '—' : String(value));

/** Every restart of a peer: incarnation, records replayed, time taken, rows fetched from peers. */
export default function RecoveryPane({ recoveries, focused, theme, height }: Props) {
	const rows = recoveries.slice(-Math.max(1, height - 4));
	return (
		<Pane title={`Recovery — ${recoveries.length} restarts`} focused={focused} theme={theme} height={height}>
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
		</Pane>
	);
}
