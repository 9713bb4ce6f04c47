import type { ComponentChildren } from "preact";
import { href, navigate } from "../router";

interface Props {
  to: string;
  children: ComponentChildren;
  testid?: string;
  title?: string;
}

/** An in-console link: a real href (opens in a new tab too), navigated without a reload. */
export function Link({ to, children, testid, title }: Props) {
  const onClick = (event: MouseEvent) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <a href={href(to)} onClick={onClick} data-testid={testid} title={title}>
      {children}
    </a>
  );
}
