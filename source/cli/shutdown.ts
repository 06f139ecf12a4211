/**
 * Resolves once the process is asked to stop (SIGINT, SIGTERM, or `stop` being called),
 * after running `close`. One place for the graceful-exit dance of every role.
 */
export function onShutdown(close: () => Promise<void>, register?: (stop: () => void) => void): Promise<void> {
	return new Promise((resolve) => {
		let stopping = false;
		const stop = (): void => {
			if (stopping) return;
			stopping = true;
			process.off('SIGINT', stop);
			process.off('SIGTERM', stop);
			void close().finally(resolve);
		};
		process.on('SIGINT', stop);
		process.on('SIGTERM', stop);
		register?.(stop);
	});
}
