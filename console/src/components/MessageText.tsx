import type { Annotation } from "../types";
import { Link } from "./Link";

/** A message's text with its annotations as links to the cited file. */
export function MessageText({ value, annotations }: { value: string; annotations: Annotation[] }) {
  const sorted = [...annotations].sort((a, b) => a.start_index - b.start_index);
  const parts = [];
  let at = 0;
  for (const annotation of sorted) {
    if (annotation.start_index < at) continue;
    parts.push(value.slice(at, annotation.start_index));
    const fileId = annotation.file_citation?.file_id ?? annotation.file_path?.file_id;
    parts.push(
      <Link to={`/files?file=${fileId}`} testid="citation">
        {annotation.text}
      </Link>,
    );
    at = annotation.end_index;
  }
  parts.push(value.slice(at));
  return <span class="text">{parts}</span>;
}
