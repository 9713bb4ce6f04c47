// Server-sent events read from a fetch body (EventSource cannot send an Authorization header,
// and cannot POST). Frames are "field: value" lines ended by a blank line.
import type { StreamEvent } from "./types";

interface Frame {
  id: string | null;
  event: string;
  data: string[];
}

function emptyFrame(): Frame {
  return { id: null, event: "message", data: [] };
}

function readLine(frame: Frame, line: string): void {
  if (line.startsWith(":")) return; // a keep-alive comment
  const colon = line.indexOf(":");
  const field = colon < 0 ? line : line.slice(0, colon);
  let value = colon < 0 ? "" : line.slice(colon + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  if (field === "id") frame.id = value;
  else if (field === "event") frame.event = value;
  else if (field === "data") frame.data.push(value);
}

function toEvent(frame: Frame): StreamEvent {
  const raw = frame.data.join("\n");
  let data: unknown = raw;
  if (raw !== "[DONE]") {
    try {
      data = JSON.parse(raw);
    } catch {
      data = raw;
    }
  }
  return { id: frame.id, event: frame.event, data, at: performance.now() };
}

/** Yields each event as soon as its frame is complete. */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<StreamEvent> {
  const reader = body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
  let buffer = "";
  let frame = emptyFrame();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let newline: number;
    while ((newline = buffer.search(/\r?\n/)) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === "\r" ? newline + 2 : newline + 1);
      if (line === "") {
        if (frame.data.length) yield toEvent(frame);
        frame = emptyFrame();
      } else {
        readLine(frame, line);
      }
    }
  }
}
