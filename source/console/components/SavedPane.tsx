import { Text } from 'ink';
import { paint, type Theme } from '../theme.js';
import Pane from './Pane.js';

export interface Props {
	readonly saved: { readonly sent: number; readonly flood: number; readonly saved: number; readonly percent: number; readonly history: readonly number[] };
	readonly focused: boolean;
	readonly theme: Theme;
	readonly height: number;
	readonly width: number;
	/** The rate over time as drawn by blessed-contrib (ANSI rows); the sparkline stands in without it. */
	readonly chart?: readonly string[] | undefined;
}

export const SPARKS = '▁▂▃▄▅▆▇█';

function stripColour(text: string): string {
	return text.replace(/\u001B\[[0-9;]*m/g, '');
}

/** One character per sample, scaled to the largest: datagrams saved per second over the last minutes. */
export function sparkline(values: readonly number[], width: number): string {
	const shown = values.slice(-width);
	const top = Math.max(1, ...shown);
	return shown.map((value) => SPARKS[Math.min(SPARKS.length - 1, Math.floor((value / top) * (SPARKS.length - 1)))]).join('');
}

/** What hierarchy filtering saved against flooding every member (the original's `media`). */
export default function SavedPane({ saved, focused, theme, height, width, chart }: Props) {
	const perSecond = saved.history.at(-1) ?? 0;
	return (
		<Pane title="Saved by hierarchy filtering" focused={focused} theme={theme} height={height}>
			<Text>
				sent <Text bold>{saved.sent.toLocaleString('en')}</Text> · flooding would send <Text bold>{saved.flood.toLocaleString('en')}</Text>
			</Text>
			<Text>
				saved <Text bold color={paint(theme, 'ok')}>{saved.saved.toLocaleString('en')}</Text> ({saved.percent.toFixed(1)} %) · now {perSecond.toLocaleString('en')}/s
			</Text>
			{chart && chart.length > 0 ? (
				chart.map((row, index) => (
					<Text key={index} wrap="truncate">
						{theme.monochrome ? stripColour(row) : row}
					</Text>
				))
			) : (
				<Text color={paint(theme, 'accent')}>{sparkline(saved.history, Math.max(10, width - 6))}</Text>
			)}
		</Pane>
	);
}
