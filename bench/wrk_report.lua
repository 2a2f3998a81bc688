-- wrk script of bench/run_benchmark.py: prints wrk's summary as one line "BENCH_JSON {...}" (latencies in
-- microseconds, from wrk's own histogram). WRK_DELAY_MS > 0 makes every connection wait that long after each
-- answer before it sends the next request, which paces a run at about
-- connections * 1000 / (WRK_DELAY_MS + latency in ms) requests per second.
local delay_ms = tonumber(os.getenv("WRK_DELAY_MS") or "0") or 0

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,"status":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"p999_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max, latency.mean))
end
