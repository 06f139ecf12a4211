import { Text } from 'ink';
import type { Level } from '../console-data.js';
import { paint, type Theme } from '../theme.js';

export interface Props {
	/** How full, 0 to 1. */
	readonly share: number;
	readonly width: number;
	readonly level: Level;
	readonly theme: Theme;
}

/** A horizontal gauge in block characters, coloured by level; monochrome themes mark levels with the fill character. */
export default function Bar({ share, width, level, theme }: Props) {
	const filled = Math.round(Math.max(0, Math.min(1, share)) * width);
	const fill = theme.monochrome ? { ok: '█', warn: '▓', danger: '▒' }[level] : '█';
	return (
		<Text>
			<Text color={paint(theme, level)}>{fill.repeat(filled)}</Text>
			<Text color={paint(theme, 'dim')}>{'·'.repeat(width - filled)}</Text>
		</Text>
	);
}
