import { Box, Text } from 'ink';
import type { ReactNode } from 'react';
import { paint, type Theme } from '../theme.js';

export interface Props {
	readonly title: string;
	readonly focused: boolean;
	readonly theme: Theme;
	readonly width?: number | string;
	readonly height?: number;
	readonly children: ReactNode;
}

/** A bordered pane with a title; the focused one is drawn in the focus colour (and bold, for monochrome). */
export default function Pane({ title, focused, theme, width = '100%', height, children }: Props) {
	return (
		<Box flexDirection="column" borderStyle={focused ? 'double' : 'round'} borderColor={paint(theme, focused ? 'focus' : 'border')} width={width} height={height} paddingX={1} overflow="hidden">
			<Text bold={focused} color={paint(theme, focused ? 'focus' : 'accent')}>
				{title}
			</Text>
			{children}
		</Box>
	);
}
