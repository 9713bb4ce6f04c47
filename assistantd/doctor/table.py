"""The doctor's report as text: a table of what works, then the settings to use."""

from __future__ import annotations

import json
import textwrap

from assistantd.doctor.report import Report

_MARKS = {"ok": "✓", "differs": "~", "missing": "✗", "failed": "✗", "none": "—", "unknown": "?"}
_DETAIL_WIDTH = 76


def render(report: Report) -> str:
    name = f"{report.route} → " if report.route and report.route != report.model else ""
    lines = [f"assistantd doctor: {name}{report.model} at {report.base_url}", ""]
    width = max(len(f.feature) for f in report.findings)
    for finding in report.findings:
        wrapped = textwrap.wrap(finding.detail, _DETAIL_WIDTH) or [""]
        head = f"  {_MARKS[finding.status]} {finding.feature.ljust(width)}  "
        lines.append(head + wrapped[0])
        lines += [" " * len(head) + more for more in wrapped[1:]]
    lines.append("")
    if not report.usable:
        lines.append(f"Runs cannot use this route: {report.error}")
        return "\n".join(lines) + "\n"
    if report.backend:
        lines.append(f"Looks like: {report.backend}")
    lines += [f"Note: {note}" for note in report.notes]
    if report.recommended:
        shown = ", ".join(f'"{k}": {json.dumps(v)}' for k, v in report.recommended.items())
        lines.append(f"Recommended route settings: {shown}")
    else:
        lines.append("Recommended route settings: none needed")
    route = {report.route or report.model: report.route_entry}
    lines.append(f"ASSISTANTD_MODEL_ROUTES='{json.dumps(route, ensure_ascii=False)}'")
    return "\n".join(lines) + "\n"
