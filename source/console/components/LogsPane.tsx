import { Text } from 'ink';
import { paint, type Theme } from '../theme.js';
import Pane from './Pane.js';

export interface Props {
	readonly title: string;
	readonly lines: readonly string[];
	readonly focused: boolean;
	readonly theme: Theme;
	readonly height: number;
	readonly width: number;
	/** Lines scrolled back from the end; 0 follows the tail. */
	readonly scroll?: number;
}

/** The tail of a log: the last lines that fit, newest at the bottom (follow mode). */
export default function LogsPane({ title, lines, focused, theme, height, width, scroll = 0 }: Props) {
	const room = Math.max(1, height - 3);
	const end = Math.max(0, lines.length - scroll);
	const shown = lines.slice(Math.max(0, end - room), end);
	return (
		<Pane title={scroll > 0 ? `${title} — scrolled back ${scroll} lines (f follows)` : `${title} — following`} focused={focused} theme={theme} height={height}>
			{shown.length === 0 ? <Text color={paint(theme, 'dim')}>nothing logged yet</Text> : null}
			{shown.map((line, index) => (
				<Text key={index} wrap="truncate">
					{line.slice(0, Math.max(10, width - 4))}
				</Text>
			))}
		</Pane>
	);
}
