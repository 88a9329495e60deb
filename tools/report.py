#!/usr/bin/python3
"""The report of a control year: one self-contained HTML file (charts as inline SVG drawn by
matplotlib, print CSS for A4) from the inami.report_* views. Run by tools/report.sh.

    tools/report.sh YEAR OA [--out FILE] [--dbname CONNINFO]

Connects like psql (PGHOST, PGPORT, PGDATABASE, PGUSER, or --dbname). Every figure in the
tables carries data-figure="CHART|KEY|current|previous|change" and data-value, so that a
program can check it against the database (test/t/500_report.pl does).
"""
import argparse
import datetime
import html
import io
import re
import sys

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt  # noqa: E402
import psycopg  # noqa: E402

REASONS = ["KEEPSYST", "KEEPADV", "KEEPDSH", "STOPSYST", "STOPFISC", "STOPFAM", "STOPDEATH", "STOPOA"]
REASON_LABEL = {
    "KEEPSYST": "income under the ceiling: right prolonged to 31 Dec X+1 (E 5.1)",
    "KEEPADV": "kept by a social advantage (E 5.3)",
    "KEEPDSH": "kept by a new DSH of 1 Oct X - 31 Mar X+1 (E 5.1, 5.3)",
    "STOPSYST": "income at or over the ceiling, or unknown: ends 31 Dec X (E 5.1)",
    "STOPFISC": "the OA's own fiscal data reach the ceiling (E 4.4, 5.3)",
    "STOPFAM": "composition change: ends the quarter after (E 5.3)",
    "STOPDEATH": "death (E 5.3)",
    "STOPOA": "moved to another OA (E 2.3, 5.3)",
}
VERDICTS = ["OK", "NOK", "ONHOLD"]
VERDICT_LABEL = {"OK": "income under the ceiling", "NOK": "income at or over the ceiling",
                 "ONHOLD": "income unknown"}
WAITING = ["no_answer", "asked_again", "new_run", "cadastral_income"]
WAITING_LABEL = {
    "no_answer": "no Syst_04 answer yet: waits for the later shipment (E 4.1)",
    "asked_again": "a member asked again (codes 03, 04, 10, 11): waits for the later shipment (E 4.3)",
    "new_run": "a later shipment is loaded since: waits for a new control run",
    "cadastral_income": "cadastral income not assessed: waits for a cadastral_income event and a new run (E 4.4)",
}
# The rows of G table 1 (inami.proactive_statistics' labels), named short for the chart.
G_TABLE1_SHORT = {"OK households (Pro_04)": "OK", "households actually contacted": "contacted",
                  "of which opened the right (categories 5 and 6)": "opened"}

# One pair of colours per chart (this year, the year before): distinct, so that each
# chart can be told apart on a screenshot.
COLOURS = {
    "reason": ("#1f5fa8", "#9dbde3"),
    "month": ("#b2541a", "#ecb894"),
    "verdict": ("#2b7a3b", "#a3d4ab"),
    "size": ("#6a3d9a", "#c9b3e0"),
    "provisional": ("#a3175a", "#e7a3c4"),
    "g1": ("#0e7c7b", "#93d3d2"),
    "g2": ("#7a6a00", "#e0d27a"),
    "g3": ("#4b4b8f", "#b3b3e0"),
}


def fmt(n):
    return "-" if n is None else f"{n:,}".replace(",", "\u202f")


def change_text(cur, prev):
    if cur is None or prev is None:
        return "-"
    d = cur - prev
    return ("+" if d > 0 else "") + fmt(d) if d else "0"


def pct_text(cur, prev):
    if not prev or cur is None:
        return ""
    return f"{(cur - prev) * 100.0 / prev:+.1f} %"


def bar_chart(chart, labels, current, previous, year, ylabel, rotate=False, positions=None, width=4.8):
    """An SVG bar chart: this year's bars beside the year before's. A zero draws no bar;
    any other figure a bar at least 1.5 % of the axis high.
    Each bar gets an id bar-CHART-current|previous-I (I: its category's index)."""
    c_cur, c_prev = COLOURS[chart]
    top = max([v or 0 for v in list(current) + list(previous)] + [1])
    # A figure too small to see at the scale of the largest is drawn 1.5 % of the axis
    # high: every figure that is not zero shows (the table beside gives it exactly).
    least = top * 1.08 * 0.015
    plt.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": chart, "font.size": 8,
                         "font.family": "DejaVu Sans"})
    fig, ax = plt.subplots(figsize=(width, 2.7))
    xs = positions if positions is not None else list(range(len(labels)))
    # Without figures for the year before, this year's bars stand alone on their ticks.
    w, shift = (0.4, 0.2) if any(previous) else (0.6, 0.0)
    for series, offset, colour, name, yr in ((current, -shift, c_cur, "current", year),
                                              (previous, shift, c_prev, "previous", year - 1)):
        first = True
        for i, (x, v) in enumerate(zip(xs, series)):
            if not v:
                continue
            bars = ax.bar([x + offset], [max(v, least)], width=w, color=colour, linewidth=0,
                          label=str(yr) if first else None)
            bars[0].set_gid(f"bar-{chart}-{name}-{i}")
            first = False
    ax.set_xticks(xs)
    ax.set_xticklabels(labels, rotation=90 if rotate else 0)
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(0, top * 1.08)
    ax.set_ylabel(ylabel)
    ax.yaxis.get_major_locator().set_params(integer=True)
    # The baseline under the bars (the bottom spine would be drawn over them).
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.axhline(0, color="#444444", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.grid(axis="y", color="#e4e4e4", linewidth=0.6)
    handles, names = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, names, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, frameon=False,
                  borderaxespad=0.2)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    svg = buf.getvalue()
    svg = svg[svg.index("<svg"):]
    # Scales with its column: the viewBox stays, the fixed size goes.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 class="chart" role="img"', svg, count=1)
    return svg


def figures_table(chart, key_header, rows, year, extra_header=None):
    """rows: (key, shown label, description or None, current, previous)."""
    out = [f'<table class="figures"><thead><tr><th>{html.escape(key_header)}</th>']
    if extra_header:
        out.append(f"<th>{html.escape(extra_header)}</th>")
    out.append(f'<th class="n">{year}</th><th class="n">{year - 1}</th><th class="n">change</th></tr></thead><tbody>')
    for key, shown, desc, cur, prev in rows:
        k = html.escape(str(key), quote=True)
        out.append(f"<tr><th scope=\"row\">{html.escape(str(shown))}</th>")
        if extra_header:
            out.append(f'<td class="desc">{html.escape(desc or "")}</td>')
        for which, v in (("current", cur), ("previous", prev)):
            out.append(f'<td class="n" data-figure="{chart}|{k}|{which}" data-value="{v}">{fmt(v)}</td>')
        d = cur - prev
        out.append(f'<td class="n" data-figure="{chart}|{k}|change" data-value="{d}">{change_text(cur, prev)}</td></tr>')
    out.append("</tbody></table>")
    return "".join(out)


def section(chart, title, svg, table, note):
    c_cur, c_prev = COLOURS[chart]
    return (f'<section class="chart" id="{chart}" data-chart="{chart}" data-colour-current="{c_cur}" '
            f'data-colour-previous="{c_prev}"><h2>{html.escape(title)}</h2>'
            f'<div class="row"><figure>{svg}</figure><div class="side">{table}</div></div>'
            f'<p class="note">{note}</p></section>')


CSS = """
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #222; margin: 24px; max-width: 1100px; }
h1 { font-size: 16pt; margin: 0 0 4px 0; }
h2 { font-size: 12pt; margin: 0 0 6px 0; border-bottom: 1px solid #ccc; padding-bottom: 2px; }
p.meta { color: #555; margin: 0 0 14px 0; }
section { margin: 0 0 18px 0; break-inside: avoid; page-break-inside: avoid; }
.row { display: flex; gap: 14px; align-items: flex-start; }
figure { margin: 0; flex: 0 0 58%; }
svg.chart { width: 100%; height: auto; display: block; }
/* bars with crisp edges: sharp on screen and paper, and one colour to the pixel */
svg.chart g[id^="bar-"] path { shape-rendering: crispEdges; }
.side { flex: 1 1 0; min-width: 0; }
table { border-collapse: collapse; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
thead th { border-bottom: 1.5px solid #888; }
td.n, th.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.desc { color: #555; font-size: 7.5pt; }
p.note { color: #555; font-size: 8pt; margin: 4px 0 0 0; }
table.headline td.n, table.headline th.n { min-width: 70px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 9pt; }
  figure { flex-basis: 50%; }
  .side { flex: 1 1 0; min-width: 0; }
  table { font-size: 7pt; }
  th, td { padding: 1px 3px; }
  td.desc { font-size: 6.5pt; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def main():
    ap = argparse.ArgumentParser(description="Write the HTML report of a control year.")
    ap.add_argument("year", type=int)
    ap.add_argument("oa")
    ap.add_argument("--out", help="the HTML file to write (default inami-report-YEAR-OA.html)")
    ap.add_argument("--dbname", default="", help="a connection string or database name (default: libpq's)")
    a = ap.parse_args()
    if not re.fullmatch(r"[0-9]{3}", a.oa):
        sys.exit(f"report: OA must be three digits, not {a.oa!r}")
    if not 1990 <= a.year <= 2200:
        sys.exit(f"report: the control year must be between 1990 and 2200, not {a.year}")
    year, oa = a.year, a.oa
    out = a.out or f"inami-report-{year}-{oa}.html"

    # A bare name is a database name, as psql takes it.
    conninfo = a.dbname if ("=" in a.dbname or "://" in a.dbname or not a.dbname) \
        else psycopg.conninfo.make_conninfo(dbname=a.dbname)
    try:
        return write_report(conninfo, year, oa, out)
    except (psycopg.Error, OSError) as e:
        sys.exit(f"report: {e}")


def write_report(conninfo, year, oa, out):
    # autocommit: psycopg begins no transaction of its own, the one below is the only one.
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:
        # One snapshot for every figure of the report.
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

        def q(sql, *params):
            cur.execute(sql, params)
            return cur.fetchall()

        head = q("""SELECT households, keeping, stopping, provisional, feedback_elsewhere,
                           households_previous_year, keeping_previous_year, stopping_previous_year,
                           provisional_previous_year, feedback_elsewhere_previous_year
                    FROM inami.report_control_year WHERE control_year = %s AND oa = %s""", year, oa)
        if not head:
            years = q("SELECT string_agg(control_year || ' ' || oa, ', ' ORDER BY control_year, oa) "
                      "FROM inami.report_control_year")[0][0]
            sys.exit(f"report: no decision for control year {year} and OA {oa} "
                     f"(control years and OAs with decisions: {years or 'none'}); "
                     f"run CALL inami.run_systematic_control({year}) first")
        head = head[0]
        by_reason = {r: (c, p) for r, c, p in q(
            "SELECT reason, households, households_previous_year FROM inami.report_decisions_by_reason "
            "WHERE control_year = %s AND oa = %s", year, oa)}
        by_month = q("SELECT right_end_month, households, households_previous_year "
                     "FROM inami.report_decisions_by_right_end_month WHERE control_year = %s AND oa = %s "
                     "ORDER BY right_end_month", year, oa)
        by_verdict = {v: (c, p) for v, c, p in q(
            "SELECT verdict, households, households_previous_year FROM inami.report_decisions_by_verdict "
            "WHERE control_year = %s AND oa = %s", year, oa)}
        by_size = q("SELECT household_size, households, households_previous_year "
                    "FROM inami.report_decisions_by_household_size WHERE control_year = %s AND oa = %s "
                    "ORDER BY household_size NULLS LAST", year, oa)
        provisional = {w: (c, p) for w, c, p in q(
            "SELECT waiting_for, households, households_previous_year FROM inami.report_provisional "
            "WHERE control_year = %s AND oa = %s", year, oa)}
        g = q("SELECT report_table, category, label, households, persons, households_previous_year, "
              "persons_previous_year FROM inami.report_proactive_statistics WHERE year = %s "
              "ORDER BY report_table, category NULLS FIRST, label", year)
        has_flow = bool(g)
        db = q("SELECT current_database()")[0][0]

    parts = []
    # Headline and the year-over-year change.
    names = [("households", "households decided"), ("keeping", "keep the right (KEEP*)"),
             ("stopping", "lose the right (STOP*)"), ("provisional", "provisional (not sent yet)"),
             ("feedback_elsewhere", "feedback sent by the new OA")]
    rows = []
    for i, (key, label) in enumerate(names):
        c, p = head[i], head[5 + i]
        rows.append(f'<tr><th scope="row">{html.escape(label)}</th>'
                    f'<td class="n" data-figure="headline|{key}|current" data-value="{c}">{fmt(c)}</td>'
                    f'<td class="n" data-figure="headline|{key}|previous" data-value="{p}">{fmt(p)}</td>'
                    f'<td class="n" data-figure="headline|{key}|change" data-value="{c - p}">{change_text(c, p)}</td>'
                    f'<td class="n">{pct_text(c, p)}</td></tr>')
    parts.append('<section id="headline"><h2>Headline and the change from the year before</h2>'
                 f'<table class="headline figures"><thead><tr><th></th><th class="n">{year}</th>'
                 f'<th class="n">{year - 1}</th><th class="n">change</th><th class="n">%</th></tr></thead>'
                 f'<tbody>{"".join(rows)}</tbody></table>'
                 '<p class="note">From <code>inami.report_control_year</code>: one decision per household of the '
                 'Syst_01 (Circ. O.A. 2024/165, R4); the year before is the same OA\'s control year - 1, '
                 'as its decisions stand now.</p></section>')

    # Decisions by reason.
    rs = [(r, by_reason.get(r, (0, 0))) for r in REASONS]
    parts.append(section(
        "reason", "Decisions by reason",
        bar_chart("reason", REASONS, [c for _, (c, _) in rs], [p for _, (_, p) in rs], year, "households",
                  rotate=True),
        figures_table("reason", "reason", [(r, r, REASON_LABEL[r], c, p) for r, (c, p) in rs], year,
                      extra_header="what it means"),
        "From <code>inami.report_decisions_by_reason</code>: the reason each Syst_05 feedback reports "
        "(<code>control_decision.reason</code>), the one that ended the right first (E 5.3)."))

    # Decisions by the month the right ends, on a continuous month axis.
    if by_month:
        first, last = by_month[0][0], by_month[-1][0]
        index = lambda d: (d.year - first.year) * 12 + d.month - first.month  # noqa: E731
        pos = [index(m) for m, _, _ in by_month]
        labels = [m.strftime("%Y-%m") for m, _, _ in by_month]
        svg = bar_chart("month", labels, [c for _, c, _ in by_month], [p for _, _, p in by_month], year,
                        "households", rotate=True, positions=pos)
        table = figures_table("month", "right ends in", [(m.isoformat(), m.strftime("%Y-%m"), None, c, p)
                                                          for m, c, p in by_month], year)
    else:
        svg, table = "<p>No decision has an end of right.</p>", ""
    parts.append(section(
        "month", "Decisions by the month the right ends", svg, table,
        f"From <code>inami.report_decisions_by_right_end_month</code>. The {year - 1} bars are the "
        f"decisions of control year {year - 1} whose right ended in the same month a year earlier. "
        f"KEEP* decisions end on 31 Dec {year + 1}, STOPSYST and STOPFISC on 31 Dec {year}; "
        "STOPFAM, STOPDEATH and STOPOA on their own dates."))

    # Verdict, size, provisional.
    # A verdict NULL (a decision stored without one) is shown as "none", only when there is one.
    vs = [(v, by_verdict.get(v, (0, 0))) for v in VERDICTS + ([None] if None in by_verdict else [])]
    parts.append(section(
        "verdict", "Decisions by verdict of the income",
        bar_chart("verdict", [v or "none" for v, _ in vs], [c for _, (c, _) in vs], [p for _, (_, p) in vs],
                  year, "households"),
        figures_table("verdict", "verdict", [(v or "none", v or "none", VERDICT_LABEL.get(v, "not recorded"), c, p)
                                             for v, (c, p) in vs], year, extra_header="what it means"),
        "From <code>inami.report_decisions_by_verdict</code>: R3's verdict of the household income against "
        "the IM ceiling (<code>inami.im_verdict</code>), whatever reason was reported."))
    parts.append(section(
        "size", "Decisions by household size",
        bar_chart("size", [str(s) if s is not None else "none" for s, _, _ in by_size],
                  [c for _, c, _ in by_size], [p for _, _, p in by_size], year, "households"),
        figures_table("size", "members", [(s if s is not None else "none", s if s is not None else "none",
                                           None, c, p) for s, c, p in by_size], year),
        "From <code>inami.report_decisions_by_household_size</code>: the Syst_01 members, which set the "
        "ceiling (E 3.2, 4.2)."))
    ws = [(w, provisional.get(w, (0, 0))) for w in WAITING]
    parts.append(section(
        "provisional", "Provisional decisions: what each waits for",
        bar_chart("provisional", WAITING, [c for _, (c, _) in ws], [p for _, (_, p) in ws], year, "households"),
        figures_table("provisional", "waits for", [(w, w, WAITING_LABEL[w], c, p) for w, (c, p) in ws], year,
                      extra_header="what it means"),
        "From <code>inami.report_provisional</code> (the households: <code>inami.report_provisional_households</code>; "
        "why, step by step: <code>inami.explain_decision</code>). <code>inami.syst05_document</code> does not write "
        "a provisional decision."))

    # G tables 1-3.
    if has_flow:
        t1 = [r for r in g if r[0] == 1]
        t2 = [r for r in g if r[0] == 2]
        t3 = [r for r in g if r[0] == 3]

        def g_rows(rows, households):
            out = []
            for r in rows:
                key = r[1] if r[1] is not None else G_TABLE1_SHORT.get(r[2], r[2])
                c = r[3] if households else r[4]
                p = (r[5] if households else r[6]) or 0
                out.append((key, key, r[2], c, p))
            return out

        r1 = g_rows(t1, True)
        p1 = g_rows(t1, False)
        parts.append(section(
            "g1", "Proactive flow, G table 1: OK households, contacted, right opened",
            bar_chart("g1", [k for k, *_ in r1], [c for *_, c, _ in r1], [p for *_, p in r1], year, "households"),
            figures_table("g1", "row", r1, year, extra_header="households")
            + figures_table("g1p", "row", p1, year, extra_header="persons"),
            "From <code>inami.report_proactive_statistics</code>, table 1 of "
            f"<code>inami.proactive_statistics({year})</code> (Circ. O.A. 2024/250, G 3): the chart shows "
            "households, the second table the persons. The proactive flow is the database's, not split by OA."))
        r2 = g_rows(t2, True)
        parts.append(section(
            "g2", "Proactive flow, G table 2: households per category",
            bar_chart("g2", [str(k) for k, *_ in r2], [c for *_, c, _ in r2], [p for *_, p in r2], year,
                      "households"),
            figures_table("g2", "category", r2, year, extra_header="G 4"),
            "Table 2 of <code>inami.proactive_statistics</code>: a household with a child with an automatic right "
            "counts in category 6 too (G 3), so the categories may add up to more than the households."))
        r3 = g_rows(t3, False)
        parts.append(section(
            "g3", "Proactive flow, G table 3: persons per category",
            bar_chart("g3", [str(k) for k, *_ in r3], [c for *_, c, _ in r3], [p for *_, p in r3], year,
                      "persons"),
            figures_table("g3", "category", r3, year, extra_header="G 4"),
            "Table 3 of <code>inami.proactive_statistics</code>: every person with a recorded outcome "
            "(<code>inami.proactive_outcome</code>) in exactly one category."))
    else:
        parts.append(f'<section id="g"><h2>Proactive flow (G)</h2><p>No proactive flow for {year}: '
                     f'<code>inami.proactive_decision</code> has no code of that year.</p></section>')

    made = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
           f'<title>IM control year {year}, OA {oa}</title><style>{CSS}</style></head>'
           f'<body data-year="{year}" data-oa="{oa}"><h1>IM control year {year}, OA {oa}</h1>'
           f'<p class="meta">Written {made} from database {html.escape(db)} by inami\'s tools/report.sh; '
           f'each chart beside its figures, {year} against {year - 1}.</p>'
           + "\n".join(parts) + "</body></html>\n")
    with open(out, "w", encoding="utf-8") as f:
        f.write(doc)
    print(out)


if __name__ == "__main__":
    main()
