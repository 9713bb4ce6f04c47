import type { Api } from "../api";
import type { Message } from "../types";
import { AuthImage } from "./AuthImage";
import { Link } from "./Link";
import { MessageText } from "./MessageText";

export function ChatMessage({ api, message }: { api: Api; message: Message }) {
  return (
    <div class={`message ${message.role}`} data-testid="chat-message" data-role={message.role}>
      <div class="meta">
        {message.role}
        {message.run_id && (
          <Link to={`/runs/${message.thread_id}/${message.run_id}`} testid="inspect-run">
            inspect run
          </Link>
        )}
      </div>
      {message.content.map((part, index) =>
        part.type === "text" ? (
          <MessageText key={index} value={part.text.value} annotations={part.text.annotations} />
        ) : part.type === "image_file" ? (
          <AuthImage key={index} api={api} fileId={part.image_file.file_id} />
        ) : (
          <img key={index} src={part.image_url.url} alt="" />
        ),
      )}
    </div>
  );
}
