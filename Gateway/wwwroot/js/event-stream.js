// Server-sent events from a fetch() response body (EventSource cannot send the admin key in a header).
// Yields { event, data } for each event; leaving the loop early cancels the stream.
export async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const lines = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        const event = lines.find(l => l.startsWith('event:'))?.slice(6).trim() ?? 'message';
        const data = lines.filter(l => l.startsWith('data:')).map(l => l.slice(5).trimStart()).join('\n');
        yield { event, data };
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
