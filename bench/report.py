"""Turns bench/results/*.json into the tables of docs/performance.md (between generated markers)."""

from __future__ import annotations

import json
from pathlib import Path

START = "<!-- bench:results:start -->"
END = "<!-- bench:results:end -->"


def _latest(results_dir: Path) -> list[dict]:
    """The newest result file per (database, size)."""
    newest: dict[tuple[str, str], tuple[str, dict]] = {}
    for path in sorted(results_dir.glob("*.json")):
        data = json.loads(path.read_text())
        key = (data["database"], data["size"])
        if key not in newest or path.name >= newest[key][0]:
            newest[key] = (path.name, data)
    order = {"medium": 0, "large": 1, "small": 2}
    return [v[1] for _k, v in sorted(newest.items(), key=lambda kv: (order.get(kv[0][1], 9), kv[0][0]))]


def render(results: list[dict]) -> str:
    lines = [START, ""]
    for data in results:
        machine = data["machine"]
        lines += [
            f"### {data['size']} on {data['database']} {data['database_version']} ({data['date']})",
            "",
            f"Machine: {machine['cores']} cores, {machine['memory']} memory, {machine['cpu']}; "
            f"Python {machine['python']}. {data['runs']} samples per workload, measured in process "
            f"through Django's test client.",
            "",
            "| workload | p50 ms | p95 ms | p99 ms | queries | raw SQL p50 ms | ratio to raw | target |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        ]
        for w in data["workloads"]:
            raw = "" if w["raw_p50_ms"] is None else f"{w['raw_p50_ms']}"
            ratio = "" if w["ratio_to_raw"] is None else f"{w['ratio_to_raw']}×"
            description = w["description"]
            if w.get("runs") and w["runs"] < data["runs"]:
                description += f" ({w['runs']} samples: cut short by the 30 s budget per workload)"
            lines.append(f"| {description} | {w['p50_ms']} | {w['p95_ms']} | {w['p99_ms']} | {w['queries']} "
                         f"| {raw} | {ratio} | {w['target']} |")
        http = data.get("http_mixed")
        if http:
            lines += [
                "",
                f"HTTP mixed load ({http['mix']}; {http['server']}; {http['load_generator']}): "
                f"**{http['requests_per_second']} requests/s**, p50 {http['p50_ms']} ms, p95 {http['p95_ms']} ms, "
                f"p99 {http['p99_ms']} ms, {http['errors']} errors over {http['requests']} requests "
                f"(target: ≥ 300 requests/s with p99 ≤ 100 ms).",
            ]
        lines.append("")
    lines.append(END)
    return "\n".join(lines)


def write_report(results_dir: Path, doc: Path) -> None:
    block = render(_latest(results_dir))
    text = doc.read_text() if doc.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START in text and END in text:
        before = text.split(START)[0]
        after = text.split(END, 1)[1]
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text)
