// Streams one run through the official Node SDK and prints each event's name, one a line, then
// the final run's status. Usage: node stream_run.mjs BASE_URL THREAD_ID ASSISTANT_ID
import OpenAI from "openai";

const [baseURL, threadId, assistantId] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-test", maxRetries: 0 });
const stream = client.beta.threads.runs.stream(threadId, { assistant_id: assistantId });
for await (const event of stream) {
  console.log(`event ${event.event}`);
}
const run = await stream.finalRun();
console.log(`final ${run.status}`);
