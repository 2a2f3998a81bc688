#!/usr/bin/python3
"""Draws a benchmark run as one PNG: backend calls per API request with and without the cache, and latency
against load.

    python3 bench/run_benchmark.py --short --json run.json     # or --full
    /usr/bin/python3 bench/plot_benchmark.py run.json docs/images/benchmark.png

Input: the JSON that bench/run_benchmark.py writes with --json (its `data.backend_calls` from row 2 and
`data.load_sweep` from row 3d, and the setup lines for the caption). Output: a PNG, 1600 x 700 pixels.

matplotlib comes from Debian (python3-matplotlib, installed by scripts/install-deps.sh), so run it with Debian's
/usr/bin/python3 when another python3 comes first on PATH. Exit codes: 0 written, 1 the input lacks what a panel
needs, 2 bad usage, 77 matplotlib is missing.
"""
import argparse
import json
import sys

SKIP = 77


def load(path):
    with open(path, encoding="utf-8") as f:
        document = json.load(f)
    data = document.get("data", {})
    missing = [k for k in ("backend_calls", "load_sweep") if k not in data]
    if missing:
        raise ValueError(f"{path} has no {', '.join(missing)}: run bench/run_benchmark.py with --json on a binary "
                         "with --cache-ttl and /metrics")
    return document


def draw_backend_calls(ax, calls):
    """Grouped bars: backend calls per API request for each wave, cache on and off."""
    per_wave = calls["requests_per_wave"]
    on = [c / per_wave for c in calls["cache_on"]]
    off = [c / per_wave for c in calls["cache_off"]]
    waves = range(1, len(on) + 1)
    width = 0.38
    bars_off = ax.bar([w - width / 2 for w in waves], off, width,
                      label="cache off (--cache-ttl=0, and --merge-queries=false when the binary has it)",
                      color="#c44e52")
    bars_on = ax.bar([w + width / 2 for w in waves], on, width, label="cache on (default 10 s TTL)", color="#4c72b0")
    for bars in (bars_off, bars_on):
        for bar in bars:
            ax.annotate(f"{bar.get_height():.2f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8, xytext=(0, 2), textcoords="offset points")
    total_on, total_off = sum(calls["cache_on"]), sum(calls["cache_off"])
    ratio = f"{total_on / total_off:.3f}" if total_off else "n/a"
    ax.set_title(f"Row 2: backend calls per API request\n{per_wave} HPAs reading {calls['distinct_queries']} queries per wave, "
                 f"waves {calls['wave_gap_s']:g} s apart", fontsize=10)
    ax.set_xlabel("wave")
    ax.set_ylabel("Sysdig calls / API request")
    ax.set_xticks(list(waves))
    ax.set_ylim(0, max(off + on + [1.0]) * 1.3)
    ax.legend(loc="center right", fontsize=8)  # the note takes the top left
    ax.text(0.02, 0.97, f"all waves: {total_on} calls with the cache, {total_off} without (ratio {ratio})\n"
            "later waves fall inside the TTL; real HPAs sync every 15 s, past it,\n"
            "so each of their waves costs what wave 1 costs here",
            transform=ax.transAxes, fontsize=8, va="top")
    ax.grid(axis="y", alpha=0.3)


def draw_load_sweep(ax, sweep):
    """Latency percentiles against achieved request rate, client side (wrk) and the adapter's own histogram."""
    levels = sorted(sweep["levels"], key=lambda lv: lv["per_second"])
    rate = [lv["per_second"] for lv in levels]
    for key, label, style in (("99", "p99, client (wrk: TLS, loopback, queueing)", "o-"),
                              ("50", "p50, client (wrk)", "s--")):
        ax.plot(rate, [lv["wrk_ms"][key] for lv in levels], style, label=label, color="#dd8452", markersize=4)
    own = [(lv["per_second"], lv["adapter_ms"]["99"]) for lv in levels if "99" in lv.get("adapter_ms", {})]
    if own:
        ax.plot([x for x, _ in own], [y for _, y in own], "^-", color="#55a868", markersize=4,
                label="p99, adapter's own (request histogram)")
    unpaced = [lv for lv in levels if not lv["delay_ms"]]
    for lv in unpaced:
        ax.annotate(f"unpaced, {lv['connections']} connections", (lv["per_second"], lv["wrk_ms"]["99"]),
                    fontsize=7, xytext=(-8, -12), textcoords="offset points", ha="right")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_title(f"Row 3d: latency against load, cached object GET, backend {sweep['backend_latency_ms']} ms\n"
                 f"{sweep['seconds_per_level']} s per level", fontsize=10)
    ax.set_xlabel("answered requests / s")
    ax.set_ylabel("latency (ms)")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(which="both", alpha=0.3)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="the JSON written by bench/run_benchmark.py --json")
    parser.add_argument("output", help="the PNG to write")
    args = parser.parse_args(argv)
    try:
        import matplotlib  # noqa: PLC0415
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        print(f"plot: matplotlib is missing for {sys.executable}: install python3-matplotlib and run this with "
              "/usr/bin/python3", file=sys.stderr)
        return SKIP
    try:
        document = load(args.input)
    except (OSError, ValueError, KeyError) as e:
        print(f"plot: {e}", file=sys.stderr)
        return 1
    figure, (left, right) = plt.subplots(1, 2, figsize=(16, 7), dpi=100)
    draw_backend_calls(left, document["data"]["backend_calls"])
    draw_load_sweep(right, document["data"]["load_sweep"])
    caption = f"sysdig-metrics-adapter benchmark, {document['mode']} mode, {document['date']}"
    figure.suptitle(caption, fontsize=12)
    figure.text(0.5, 0.01, "\n".join(document.get("setup", [])[1:3]), ha="center", fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.05, 1, 0.95))
    # No timestamps in the file: the same input makes the same bytes.
    figure.savefig(args.output, format="png", metadata={"Software": None})
    plt.close(figure)
    return 0


if __name__ == "__main__":
    sys.exit(main())
