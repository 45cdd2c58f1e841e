#!/usr/bin/env python3
"""The table of bench/gpu/run.sh (issue 7): reads the run's log folder (steps.tsv, env.txt, each step's log and raw
JSON) and prints ONE table (metric, ours, peer, ratio, target, pass/fail), then writes OUT/results.json and
OUT/results.md (the table, the kernel table with the CPU backend as a second column, every step's status).
A row whose step did not run or failed shows that step's status and reason instead of PASS/FAIL.
Usage: summarize.py LOG_DIR OUT_DIR   (standard library only: runs under whatever python3 the GPU image has)"""
import json
import os
import re
import sys


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def last_json(text):
    """The last line of `text` that parses as a JSON object, or None."""
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def steps_of(logs):
    steps = {}
    for line in read(os.path.join(logs, "steps.tsv")).splitlines():
        parts = line.split("\t")
        if len(parts) >= 5:
            steps[parts[0]] = {"status": parts[1], "rc": parts[2], "seconds": parts[3], "reason": parts[4]}
    return steps


def gtest_counts(logs, name):
    """(passed, failed, skipped, skip reasons) of one gtest executable: counts from its JSON (else from its log), the
    skip reasons from its log (gtest's JSON has none)."""
    log = read(os.path.join(logs, name + ".log"))
    reasons = sorted(set(r.strip()[:200] for r in re.findall(r": Skipped\n(.+)", log)))[:5]
    data = read(os.path.join(logs, name + ".json"))
    if data:
        try:
            j = json.loads(data)
            passed = failed = skipped = 0
            for suite in j.get("testsuites", []):
                for t in suite.get("testsuite", []):
                    if t.get("failures"):
                        failed += 1
                    elif t.get("result") == "SKIPPED":
                        skipped += 1
                    elif t.get("result") == "COMPLETED":
                        passed += 1
            return passed, failed, skipped, reasons
        except ValueError:
            pass
    num = lambda pat: int(m.group(1)) if (m := re.search(pat, log)) else 0
    return num(r"\[  PASSED  \] (\d+) test"), num(r"\[  FAILED  \] (\d+) test"), num(r"\[  SKIPPED \] (\d+) test"), reasons


# A reason that means "no GPU here" (the runtime's or the tests' words): such steps are reported as skipped.
NO_GPU = re.compile(r"no usable CUDA device|CUDA device \d+ unusable|CUDA backend not built|no CUDA device")


def fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, str):
        return v
    if abs(v) >= 100:
        return f"{v:,.0f}{unit}"
    return f"{v:.3g}{unit}"


def main():
    logs, out = sys.argv[1], sys.argv[2]
    steps = steps_of(logs)
    env = dict(l.split("=", 1) for l in read(os.path.join(logs, "env.txt")).splitlines() if "=" in l)
    rows = []  # metric, ours, peer, ratio, target, verdict

    def status_of(*names):
        """'' when every named step ran ok, else 'FAILED: reason' / 'skipped: reason' of the first that did not."""
        for n in names:
            s = steps.get(n)
            if s is None:
                return f"FAILED: step {n} did not run"
            if s["status"] != "ok":
                status = "skipped" if NO_GPU.search(s["reason"]) else s["status"]
                return f"{status}: {n}: {s['reason']}"
        return ""

    # GPU tests.
    skip_notes = []
    for name in sorted(n for n in steps if n.startswith("gtest_")):
        p, f, s, reasons = gtest_counts(logs, name)
        st = steps[name]
        if reasons:
            skip_notes.append((name[6:], reasons))
        ours = f"{p} passed, {f} failed, {s} skipped"
        if st["status"] != "ok" and p + f + s == 0:
            verdict = f"{st['status']}: {st['reason']}"
        elif f == 0 and s > 0 and any(NO_GPU.search(r) for r in reasons):
            verdict = "skipped: " + next(r for r in reasons if NO_GPU.search(r))
        elif f == 0 and p == 0 and s > 0:
            verdict = "skipped: " + (reasons[0] if reasons else "all cases skipped")
        elif f == 0 and p > 0 and st["status"] == "ok":
            verdict = "PASS" + (f" ({s} skipped)" if s else "")
        else:
            verdict = "FAIL" + (f" ({st['reason']})" if st["status"] != "ok" else "")
        rows.append([f"{name[6:]} (gtest)", ours, "-", "-", "all pass", verdict])

    # memcheck.
    st = steps.get("memcheck")
    if st is not None:
        log = read(os.path.join(logs, "memcheck.log"))
        m = re.search(r"ERROR SUMMARY: (\d+) error", log)
        errors = int(m.group(1)) if m else None
        if st["status"] == "skipped":
            verdict, ours = f"skipped: {st['reason']}", "-"
        elif errors is None:
            verdict, ours = f"FAILED: {st['reason'] or 'no ERROR SUMMARY in the log'}", "-"
        else:
            ours = f"{errors} errors"
            verdict = "PASS" if errors == 0 and st["status"] == "ok" else f"FAIL ({st['reason'] or 'errors'})"
        rows.append(["compute-sanitizer memcheck, test_backend_ops_cuda", ours, "-", "-", "0 errors", verdict])

    # Step throughput against the peer.
    results = {"env": env, "steps": steps, "step": {}, "concurrent": None, "proposal": None, "kernels": []}
    for net in ("tiny", "lenet5"):
        s = last_json(read(os.path.join(logs, f"step_{net}.log")))
        results["step"][net] = {"sparse": s}
        for mode, target, want in (("eager", ">= 3x", 3.0), ("compile", "> 1x", 1.0)):
            p = last_json(read(os.path.join(logs, f"peer_{mode}_{net}.log")))
            results["step"][net][mode] = p
            ours = s.get("images_per_s") if s else None
            peer = p.get("images_per_s") if p else None
            problem = status_of(f"step_{net}", f"peer_{mode}_{net}")
            ratio = ours / peer if ours and peer else None
            if ratio is not None and not problem:
                verdict = "PASS" if (ratio >= want if mode == "eager" else ratio > want) else "FAIL"
            else:
                verdict = problem or "FAILED: no JSON result"
            rows.append([f"SpVD step {net} b256 img/s vs torch {mode}", fmt(ours), fmt(peer),
                         fmt(ratio, "x") if ratio else "-", target, verdict])

    # Concurrent trials.
    c = last_json(read(os.path.join(logs, "concurrent.log")))
    results["concurrent"] = c
    problem = status_of("concurrent")
    if c and "skipped" in c:
        rows.append(["tiny trials concurrent / one trial", "-", "-", "-", ">= 5x", f"skipped: {c['skipped']}"])
    elif c and c.get("results"):
        best = max(c["results"], key=lambda r: r.get("ratio_to_1", 0))
        ratio = best.get("ratio_to_1")
        verdict = problem or ("PASS" if ratio and ratio >= 5 else "FAIL")
        rows.append([f"tiny trials aggregate img/s, best N={best['trials']} / N=1", fmt(best["images_per_s"]),
                     fmt(c.get("single_images_per_s")) + " (N=1)", fmt(ratio, "x"), ">= 5x", verdict])
    else:
        rows.append(["tiny trials concurrent / one trial", "-", "-", "-", ">= 5x", problem or "FAILED: no JSON result"])

    # Proposal: bench_proposal's "gpu" object (sample alone; whole no-refit proposal, next to the CPU's).
    pj = last_json(read(os.path.join(logs, "proposal.log")))
    results["proposal"] = pj
    problem = status_of("proposal")
    g = pj.get("gpu") if isinstance(pj, dict) else None
    label = "Thompson {} 10k cand x 1k obs x 3 obj, ms"
    if isinstance(g, dict) and "skipped" in g:
        for what in ("joint sample", "no-refit proposal"):
            rows.append([label.format(what), "-", "-", "-", "< 100 ms", f"skipped: {g['skipped']}"])
    elif isinstance(g, dict) and isinstance(g.get("sample_seconds"), (int, float)):
        sample, prop, cpu = g["sample_seconds"], g.get("proposal_seconds"), g.get("cpu_proposal_seconds")
        rows.append([label.format("joint sample"), fmt(sample * 1e3), "-", "-", "< 100 ms",
                     problem or ("PASS" if sample < 0.1 else "FAIL")])
        has_cpu = isinstance(cpu, (int, float)) and cpu > 0
        ran_on = g.get("proposal_sampled_on", g.get("device", "?"))
        fell_back = not str(ran_on).startswith("cuda")
        rows.append([label.format("no-refit proposal") + f" (sampled on {ran_on})", fmt(prop * 1e3) if prop else "-",
                     fmt(cpu * 1e3) + " (CPU)" if has_cpu else "-", fmt(cpu / prop, "x") if has_cpu and prop else "-",
                     "< 100 ms", problem or ("FAIL: fell back to the CPU" if fell_back
                                             else "PASS" if prop and prop < 0.1 else "FAIL")])
    else:
        for what in ("joint sample", "no-refit proposal"):
            rows.append([label.format(what), "-", "-", "-", "< 100 ms", problem or "FAILED: no \"gpu\" result in the JSON"])

    # Kernels: CUDA next to CPU.
    kj = read(os.path.join(logs, "kernels.json"))
    kernel_rows, cuda_ok, cuda_err, err_msg = [], 0, 0, ""
    if kj:
        try:
            bench = json.loads(kj).get("benchmarks", [])
        except ValueError:
            bench = []
        by = {}
        for b in bench:
            dev, _, case = b.get("name", "").partition("/")
            case = case.split("/manual_time")[0]
            by.setdefault(case, {})[dev] = b
            if dev == "cuda":
                if b.get("error_occurred"):
                    cuda_err += 1
                    err_msg = err_msg or b.get("error_message", "")
                else:
                    cuda_ok += 1
        for case, d in by.items():
            def us(x):
                return None if x is None or x.get("error_occurred") else x.get("real_time")
            cu, cp = us(d.get("cuda")), us(d.get("cpu"))
            rate = (d.get("cuda") or {}).get("FLOPS") or (d.get("cuda") or {}).get("bytes_per_second")
            kernel_rows.append([case, cu, cp, cp / cu if cu and cp else None, rate])
        results["kernels"] = kernel_rows
    problem = status_of("kernels")
    verdict = problem or ("PASS" if cuda_ok and not cuda_err else
                          f"skipped: {err_msg}" if cuda_err and not cuda_ok else f"FAIL ({cuda_err} cases: {err_msg})")
    rows.append(["bench_kernels CUDA cases run", f"{cuda_ok} ok, {cuda_err} errors", "-", "-", "all run", verdict])

    # Print the table.
    head = ["metric", "ours", "peer", "ratio", "target", "pass/fail"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    line = lambda r: "  ".join(str(r[i]).ljust(widths[i]) for i in range(5)) + "  " + str(r[5])
    print(f"GPU: {env.get('gpu', '?')}   torch: {env.get('torch', '?')}")
    print(line(head))
    print("  ".join("-" * w for w in widths) + "  " + "-" * 9)
    for r in rows:
        print(line(r))

    results["table"] = [dict(zip(head, r)) for r in rows]
    results["skipped_tests"] = {n: r for n, r in skip_notes}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    md = [f"# GPU verification run (bench/gpu/run.sh)", "",
          f"GPU: {env.get('gpu', '?')}; torch: {env.get('torch', '?')}; host: {env.get('host', '?')}; "
          f"date: {env.get('date', '?')}; stage commit: {env.get('stage.commit', '?')}", "",
          "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    md += ["| " + " | ".join(str(c).replace("|", "/") for c in r) + " |" for r in rows]
    if kernel_rows:
        md += ["", f"## bench_kernels (batch 256; µs per op, wall; CPU backend with all hardware threads of {env.get('host', '?')})", "",
               "| case | cuda µs | cpu µs | cpu/cuda | cuda rate (FLOP/s or B/s) |", "|---|---|---|---|---|"]
        md += [f"| {k[0]} | {fmt(k[1])} | {fmt(k[2])} | {fmt(k[3], 'x') if k[3] else '-'} | {k[4] and f'{k[4]:.3g}' or '-'} |"
               for k in kernel_rows]
    if skip_notes:
        md += ["", "## skipped tests: reasons", ""] + [f"- {n}: {'; '.join(r)}" for n, r in skip_notes]
    md += ["", "## steps", "", "| step | status | seconds | reason |", "|---|---|---|---|"]
    md += [f"| {n} | {s['status']} | {s['seconds']} | {s['reason'].replace('|', '/')} |" for n, s in steps.items()]
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
