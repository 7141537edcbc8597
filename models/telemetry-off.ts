/**
 * onnxruntime-node 1.30 runs Microsoft's telemetry system on Linux: every process that loads it keeps a
 * device id and an offline event queue under `$HOME/.cache/Microsoft/DeveloperTools/.onnxruntime/` and
 * leaves an empty `$TMPDIR/mat-debug-<pid>.log`, and the library holds an upload path for those events.
 * `ORT_DISABLE_TELEMETRY=1` turns all of it off, but only when it is set before the native library
 * loads. models/onnxruntime.ts imports this module before onnxruntime-node, so no process of the agent
 * (daemon, CLI, benchmarks, tests) can load the library without it. An environment that sets the
 * variable itself is left alone.
 */
process.env['ORT_DISABLE_TELEMETRY'] ??= '1';
