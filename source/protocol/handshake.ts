import { decodeBody } from './codec.js';
import { openFrame, type Frame, type Parsed } from './frame.js';
import { handshakeMessage, type HandshakeMessage } from './messages.js';

/** Decrypts and parses a handshake frame under the login key. Never throws. */
export function openHandshake(key: Buffer, frame: Extract<Frame, { kind: 'handshake' }>): Parsed<HandshakeMessage> {
	const body = openFrame(key, frame);
	return body.ok ? decodeBody(handshakeMessage, body.value) : body;
}
