import type { Annotation } from "../types";
import { Link } from "./Link";

/** A message's text with each annotation's marker (the model's 【0:0†file】) replaced by a
 * numbered link to the cited file, as a reader expects a footnote. */
export function MessageText({ value, annotations }: { value: string; annotations: Annotation[] }) {
  const sorted = [...annotations].sort((a, b) => a.start_index - b.start_index);
  const parts = [];
  const numbers = new Map<string, number>(); // one number per cited file
  let at = 0;
  for (const annotation of sorted) {
    if (annotation.start_index < at) continue;
    parts.push(value.slice(at, annotation.start_index));
    const fileId = annotation.file_citation?.file_id ?? annotation.file_path?.file_id ?? "";
    if (!numbers.has(fileId)) numbers.set(fileId, numbers.size + 1);
    parts.push(
      <Link to={`/files?file=${fileId}`} testid="citation" title={annotation.text}>
        [{numbers.get(fileId)}]
      </Link>,
    );
    at = annotation.end_index;
  }
  parts.push(value.slice(at));
  return <span class="text">{parts}</span>;
}
