"""``assistantd doctor``: what a model endpoint can do for runs, and the route settings to use.

Each probe is one small real request to the endpoint (bounded tokens, a short timeout), read
with the run engine's own stream parsing and tool-call assembly, so that what is reported is
what a run will see.

    report = asyncio.run(diagnose(Target(base_url, api_key, model="llama3.1")))
    print(render(report))          # the table; report.usable says whether runs work there
"""

from assistantd.doctor.diagnosis import Target, diagnose
from assistantd.doctor.report import Finding, Report
from assistantd.doctor.table import render

__all__ = ["Finding", "Report", "Target", "diagnose", "render"]
