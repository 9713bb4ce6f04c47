"""What the server tells its operators: Prometheus metrics, request ids carried into every log
line, the log format, and (when installed and configured) OpenTelemetry traces.

A base layer: anything may record a metric or read the current request id; nothing here knows
of the layers above."""
