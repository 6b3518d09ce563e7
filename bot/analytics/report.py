"""``otwarta report`` (**contract**): the figures of a period as one self-contained HTML file,
as JSON, or as CSV tables.

- **html**: a page an analyst prints. A summary first (top needs, what grew compared with the
  previous period of the same length, what the bot could not answer, how the desk did), then
  the charts (inline SVG drawn by pygal: no script, font, style or image from anywhere else),
  then the tables. Every string is in the babel catalogs (``--lang pl|en|uk|ru``).
- **json**: :meth:`bot.analytics.figures.Figures.to_json`.
- **csv**: one file per table, in a folder (or a ``.zip``) at ``PATH``.

Suppressed figures (fewer than ``ANALYTICS_MIN_COUNT`` people) are ``"<k"`` in every format
and are left out of the charts.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from bot.analytics.facts import DECISIONS
from bot.analytics.figures import Figures, Knowledge, Tally, percentile
from bot.i18n import N_, translator_for

FORMATS = ("html", "json", "csv")
REPORT_LANGS = ("pl", "en", "uk", "ru")

DECISION_LABELS = {
    "answered": N_("Answered"),
    "clarified": N_("Clarified (the person picked an entry)"),
    "maybe": N_("“Maybe one of these”, none picked"),
    "unknown": N_("Not known"),
    "handed_off": N_("Asked for a consultant"),
    "urgent": N_("Urgent"),
}
CLOSE_LABELS = {
    "resolved": N_("Resolved"),
    "no_reply": N_("No reply from the person"),
    "cancelled": N_("Cancelled by the person"),
    "erased": N_("Erased (/forget)"),
}
PLATFORM_LABELS = {"telegram": "Telegram", "viber": "Viber", "console": N_("Terminal")}
AUDIENCE_LABELS = {
    "ukr-status": N_("Ukrainian status (UKR)"),
    "residence-card": N_("Residence card"),
    "other-tcn": N_("Other third-country nationals"),
    "unknown": N_("Not given"),
}
LANGUAGE_LABELS = {"uk": "українська", "ru": "русский", "pl": "polski", "en": "English"}

_CSS = """
body{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;
padding:.2rem .5rem;text-align:left}td.n{text-align:right}.note{color:#555;font-size:.9rem}
figure{margin:1rem 0;page-break-inside:avoid}figcaption{font-weight:bold}
.chart svg{max-width:100%;height:auto}@media print{h2{page-break-after:avoid}}
"""


class Text:
    """The report's strings in one language."""

    def __init__(self, lang: str, knowledge: Knowledge) -> None:
        self.lang = lang
        self.t = translator_for(lang)
        self.knowledge = knowledge

    def __call__(self, message: str) -> str:
        return self.t.gettext(message)

    def entry(self, entry_id: str) -> str:
        kb = self.knowledge.kb
        if kb is not None and entry_id in kb.entries:
            return kb.entries[entry_id].title.get(self.lang)
        return entry_id

    def topic(self, topic_id: str) -> str:
        kb = self.knowledge.kb
        topic = kb.topic(topic_id) if kb is not None else None
        return topic.title.get(self.lang) if topic is not None else topic_id

    def decision(self, key: str) -> str:
        return self(DECISION_LABELS[key])

    def close_reason(self, key: str) -> str:
        return self(CLOSE_LABELS[key]) if key in CLOSE_LABELS else key

    def platform(self, key: str) -> str:
        label = PLATFORM_LABELS.get(key)
        return self(label) if label else key

    def audience(self, key: str) -> str:
        label = AUDIENCE_LABELS.get(key)
        return self(label) if label else key

    def language(self, key: str) -> str:
        return LANGUAGE_LABELS.get(key, key)

    def date(self, value: Any) -> str:
        return self.t.format_date(value)


# -- charts --------------------------------------------------------------------------------


def _svg(chart: Any) -> str:
    """A pygal chart as inline SVG: no XML declaration, no script (the page is static and
    printed), no comments."""
    svg = str(chart.render(is_unicode=True))
    svg = re.sub(r"<script\b.*?</script>", "", svg, flags=re.DOTALL)  # its tooltips' config
    return re.sub(r"<!--.*?-->", "", svg, flags=re.DOTALL)


def _chart(kind: str, title: str, **options: Any) -> Any:
    import pygal
    from pygal.style import CleanStyle

    style = CleanStyle(font_family="sans-serif", background="white", plot_background="white")
    return getattr(pygal, kind)(
        js=[],  # pygal links its tooltip script from the web by default
        disable_xml_declaration=True,
        title=title,
        style=style,
        width=900,
        height=380,
        legend_at_bottom=True,
        print_values=False,
        **options,
    )


def _shown_cells(
    figures: Figures, cells: dict[str, Tally], limit: int = 15
) -> list[tuple[str, int]]:
    rows = [(key, t.n) for key, t in cells.items() if figures.shown(t)]
    rows.sort(key=lambda kv: (-kv[1], kv[0]))
    return rows[:limit]


def charts(figures: Figures, text: Text) -> list[tuple[str, str]]:
    """``(caption, svg)`` per chart."""
    _ = text
    out: list[tuple[str, str]] = []
    starts = sorted(figures.series)
    langs = sorted({lang for s in starts for lang in figures.series[s][1]})
    per_bucket = {
        "day": N_("Questions per day, by language"),
        "week": N_("Questions per week, by language"),
        "month": N_("Questions per month, by language"),
    }[figures.bucket]
    per_bucket = _(per_bucket)
    chart = _chart("StackedBar", per_bucket, x_label_rotation=45, show_minor_x_labels=False)
    chart.x_labels = [s.isoformat() for s in starts]
    if len(starts) > 20:
        chart.x_labels_major = chart.x_labels[:: max(1, len(starts) // 12)]
    for lang in langs:
        values = []
        for s in starts:
            tally = figures.series[s][1].get(lang)
            values.append(tally.n if tally is not None and figures.shown(tally) else None)
        chart.add(text.language(lang), values)
    out.append((per_bucket, _svg(chart)))

    title = _("Topics")
    chart = _chart("HorizontalBar", title, show_legend=False)
    topics = _shown_cells(figures, figures.by_topic)
    chart.x_labels = [text.topic(k) for k, _ in reversed(topics)]
    chart.add(_("Questions"), [n for _, n in reversed(topics)])
    out.append((title, _svg(chart)))

    title = _("Decisions")
    chart = _chart("Pie", title, inner_radius=0.4)
    for key in DECISIONS:
        tally = figures.decisions[key]
        if tally.n and figures.shown(tally):
            chart.add(text.decision(key), tally.n)
    out.append((title, _svg(chart)))

    title = _("Desk response times (minutes)")
    chart = _chart("Bar", title)
    desk = figures.desk
    chart.x_labels = ["p50", "p90"]
    if figures.shown(desk.first_reply_people):
        chart.add(
            _("To the first consultant reply"),
            [percentile(desk.first_reply_minutes, 0.5), percentile(desk.first_reply_minutes, 0.9)],
        )
    if figures.shown(desk.close_people):
        chart.add(
            _("To closing"),
            [percentile(desk.close_minutes, 0.5), percentile(desk.close_minutes, 0.9)],
        )
    out.append((title, _svg(chart)))

    title = _("Ratings of the desk")
    chart = _chart("Bar", title, show_legend=False)
    chart.x_labels = [str(s) for s in range(1, 6)]
    chart.add(
        _("Ratings"),
        [desk.ratings[s].n if figures.shown(desk.ratings[s]) else None for s in range(1, 6)],
    )
    out.append((title, _svg(chart)))
    return out


# -- html ----------------------------------------------------------------------------------


def _e(value: Any) -> str:
    return html.escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="n">{_e(c)}</td>'
            if isinstance(c, int | float) or _is_hidden(c)
            else f"<td>{_e(c)}</td>"
            for c in row
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _is_hidden(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("<") and value[1:].isdigit()


def _pct(value: float | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value * 100:.1f}%"


def _change(now: int | str, before: int | str) -> str:
    if isinstance(now, str) or isinstance(before, str):
        return "—"
    if before == 0:
        return "—"
    return f"{(now - before) / before * 100:+.0f}%"


def _summary(figures: Figures, data: dict[str, Any], text: Text) -> str:
    _ = text
    parts: list[str] = []
    prev = data.get("previous") or {}
    q, p = data["questions"], data["people"]
    items = [
        _("Questions: {n} (the period before: {m}, {change}).").format(
            n=q, m=prev.get("questions", "—"), change=_change(q, prev.get("questions", "—"))
        ),
        _("People who asked: {n}; came back on another day: {r}.").format(
            n=p, r=data["returning_people"]
        ),
        _("Answered without asking for a person (self-service): {rate}.").format(
            rate=_pct(data["self_service_rate"])
        ),
    ]
    parts.append("<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")

    top = _shown_cells(figures, figures.by_topic, 5)
    entries = _shown_cells(figures, figures.by_entry, 5)
    parts.append("<h3>" + _e(_("Top needs")) + "</h3>")
    if top or entries:
        needs = [f"{text.topic(k)}: {n}" for k, n in top]
        needs += [f"{text.entry(k)}: {n}" for k, n in entries]
        parts.append("<ul>" + "".join(f"<li>{_e(x)}</li>" for x in needs) + "</ul>")
    else:
        parts.append("<p>" + _e(_("Too few people to show.")) + "</p>")

    parts.append("<h3>" + _e(_("What grew")) + "</h3>")
    grew = [row for row in figures.growth("by_entry") if row[1] > row[2]][:5]
    before_label = _("before")
    if grew:
        parts.append(
            "<ul>"
            + "".join(
                f"<li>{_e(text.entry(k))}: {now} ({_e(before_label)}: {before})</li>"
                for k, now, before in grew
            )
            + "</ul>"
        )
    else:
        parts.append("<p>" + _e(_("Nothing grew that enough people asked about.")) + "</p>")

    parts.append("<h3>" + _e(_("What the bot could not answer")) + "</h3>")
    parts.append(
        "<p>"
        + _e(
            _("{n} questions; the biggest groups of similar ones:").format(
                n=data["unanswered_questions"]
            )
        )
        + "</p>"
    )
    shown = [c for c in data["unanswered"] if not c.get("rest") and c["examples"]][:3]
    if shown:
        parts.append(
            "<ul>"
            + "".join(f"<li>{_e(c['count'])} × «{_e(c['examples'][0])}»</li>" for c in shown)
            + "</ul>"
        )
    desk = data["desk"]
    parts.append("<h3>" + _e(_("How the desk did")) + "</h3>")
    parts.append(
        "<p>"
        + _e(
            _(
                "Tickets opened: {opened}; first consultant reply in {p50} minutes for half "
                "of them, {p90} for nine in ten; mean rating {mean}; waiting now: {waiting}."
            ).format(
                opened=desk["opened"],
                p50=desk["first_reply_minutes"]["p50"]
                if desk["first_reply_minutes"]["p50"] is not None
                else "—",
                p90=desk["first_reply_minutes"]["p90"]
                if desk["first_reply_minutes"]["p90"] is not None
                else "—",
                mean=desk["ratings"]["mean"] if desk["ratings"]["mean"] is not None else "—",
                waiting=desk["waiting_now"],
            )
        )
        + "</p>"
    )
    return "\n".join(parts)


def render_html(figures: Figures, knowledge: Knowledge, lang: str = "pl") -> str:
    text = Text(lang, knowledge)
    _ = text
    data = figures.to_json()
    title = _("What people asked (Małopolska Otwarta)")
    period = f"{text.date(figures.period.start)} – {text.date(figures.period.end)}"
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
        f"<title>{_e(title)} · {_e(period)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p>{_e(period)}</p>",
        '<p class="note">'
        + _e(
            _(
                "Anonymised: a figure resting on fewer than {k} people is shown as “{hidden}”; "
                "nobody is named, and the examples are masked."
            ).format(k=figures.min_count, hidden=figures.hidden)
        )
        + "</p>",
        "<h2>" + _e(_("Summary")) + "</h2>",
        _summary(figures, data, text),
        "<h2>" + _e(_("Charts")) + "</h2>",
    ]
    for caption, svg in charts(figures, text):
        out.append(f'<figure class="chart"><figcaption>{_e(caption)}</figcaption>{svg}</figure>')
    out.append("<h2>" + _e(_("Tables")) + "</h2>")
    n = _("Questions")
    for heading, key, label in (
        (_("By language"), "by_language", text.language),
        (_("By platform"), "by_platform", text.platform),
        (_("By situation"), "by_audience", text.audience),
        (_("By topic"), "by_topic", text.topic),
    ):
        out.append(f"<h3>{_e(heading)}</h3>")
        out.append(_table([heading, n], [(label(k), v) for k, v in data[key].items()]))
    out.append("<h3>" + _e(_("By entry")) + "</h3>")
    out.append(
        _table(
            [_("Entry"), n, "👍", "👎", _("None of these")],
            [
                (
                    text.entry(k),
                    v,
                    data["feedback"].get(k, {}).get("up", 0),
                    data["feedback"].get(k, {}).get("down", 0),
                    data["feedback"].get(k, {}).get("none_of_these", 0),
                )
                for k, v in data["by_entry"].items()
            ],
        )
    )
    out.append("<h3>" + _e(_("Decisions")) + "</h3>")
    out.append(
        _table([_("Decision"), n], [(text.decision(k), v) for k, v in data["decisions"].items()])
    )
    out.append("<h3>" + _e(_("What the bot could not answer")) + "</h3>")
    out.append(
        _table(
            [n, _("People"), _("Nearest entries"), _("Examples")],
            [
                (
                    c["count"],
                    c["people"],
                    ", ".join(text.entry(e) for e in c["nearest"]),
                    _("Everything else") if c.get("rest") else " · ".join(c["examples"]),
                )
                for c in data["unanswered"]
            ],
        )
    )
    desk = data["desk"]
    out.append("<h3>" + _e(_("The desk")) + "</h3>")
    out.append(
        _table(
            [_("Figure"), _("Value")],
            [
                (_("Tickets opened"), desk["opened"]),
                (_("Opened in working hours"), desk["in_hours"]),
                (_("Opened out of hours"), desk["out_of_hours"]),
                (_("Waiting now"), desk["waiting_now"]),
                (_("First reply, minutes (p50)"), _dash(desk["first_reply_minutes"]["p50"])),
                (_("First reply, minutes (p90)"), _dash(desk["first_reply_minutes"]["p90"])),
                (_("To closing, minutes (p50)"), _dash(desk["close_minutes"]["p50"])),
                (_("To closing, minutes (p90)"), _dash(desk["close_minutes"]["p90"])),
                (_("Mean rating"), _dash(desk["ratings"]["mean"])),
                (_("Comments left (not shown)"), desk["ratings"]["comments"]),
            ],
        )
    )
    out.append(
        _table(
            [_("Closed because"), _("Tickets")],
            [(text.close_reason(k), v) for k, v in desk["closed_by_reason"].items()],
        )
    )
    out.append(
        _table(
            [_("Language"), _("Tickets")],
            [(text.language(k), v) for k, v in desk["by_language"].items()],
        )
    )
    out.append("</body></html>")
    return "\n".join(out)


def _dash(value: Any) -> Any:
    return "—" if value is None else value


# -- csv -----------------------------------------------------------------------------------


def csv_tables(figures: Figures) -> dict[str, list[list[Any]]]:
    """File name -> rows (the first is the header)."""
    data = figures.to_json()
    desk = data["desk"]
    tables: dict[str, list[list[Any]]] = {
        "summary.csv": [
            ["figure", "value"],
            ["from", data["period"]["from"]],
            ["to", data["period"]["to"]],
            ["min_count", data["min_count"]],
            ["questions", data["questions"]],
            ["people", data["people"]],
            ["returning_people", data["returning_people"]],
            ["self_service_rate", data["self_service_rate"]],
            ["unanswered_questions", data["unanswered_questions"]],
        ],
        "series.csv": [["start", "questions", "people"]]
        + [[s["start"], s["questions"], s["people"]] for s in data["series"]],
        "series_by_language.csv": [["start", "language", "questions"]]
        + [[s["start"], k, v] for s in data["series"] for k, v in s["by_language"].items()],
    }
    for key in ("by_language", "by_platform", "by_audience", "by_topic"):
        tables[f"{key}.csv"] = [[key[3:], "questions"]] + [[k, v] for k, v in data[key].items()]
    tables["by_entry.csv"] = [["entry", "questions", "up", "down", "none_of_these"]] + [
        [
            k,
            v,
            data["feedback"].get(k, {}).get("up", 0),
            data["feedback"].get(k, {}).get("down", 0),
            data["feedback"].get(k, {}).get("none_of_these", 0),
        ]
        for k, v in data["by_entry"].items()
    ]
    tables["decisions.csv"] = [["decision", "questions"]] + [
        [k, v] for k, v in data["decisions"].items()
    ]
    tables["unanswered.csv"] = [
        ["count", "people", "nearest", "example_1", "example_2", "example_3", "rest"]
    ] + [
        [
            c["count"],
            c["people"],
            " ".join(c["nearest"]),
            *(c["examples"] + ["", "", ""])[:3],
            "yes" if c.get("rest") else "",
        ]
        for c in data["unanswered"]
    ]
    tables["desk.csv"] = [
        ["figure", "value"],
        ["opened", desk["opened"]],
        ["in_hours", desk["in_hours"]],
        ["out_of_hours", desk["out_of_hours"]],
        ["waiting_now", desk["waiting_now"]],
        ["first_reply_minutes_p50", desk["first_reply_minutes"]["p50"]],
        ["first_reply_minutes_p90", desk["first_reply_minutes"]["p90"]],
        ["close_minutes_p50", desk["close_minutes"]["p50"]],
        ["close_minutes_p90", desk["close_minutes"]["p90"]],
        ["rating_mean", desk["ratings"]["mean"]],
        ["comments", desk["ratings"]["comments"]],
    ]
    tables["desk_closed_by_reason.csv"] = [["reason", "tickets"]] + [
        [k, v] for k, v in desk["closed_by_reason"].items()
    ]
    tables["desk_by_language.csv"] = [["language", "tickets"]] + [
        [k, v] for k, v in desk["by_language"].items()
    ]
    tables["desk_ratings.csv"] = [["score", "ratings"]] + [
        [k, v] for k, v in desk["ratings"]["counts"].items()
    ]
    return tables


def _csv_text(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def write_csv(figures: Figures, path: Path) -> list[Path]:
    """The tables as CSV files in the folder ``path`` (made if needed), or in a zip when
    ``path`` ends in ``.zip``; returns what was written."""
    tables = csv_tables(figures)
    if path.suffix.lower() == ".zip":
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, rows in tables.items():
                archive.writestr(name, _csv_text(rows))
        return [path]
    path.mkdir(parents=True, exist_ok=True)
    written = []
    for name, rows in tables.items():
        target = path / name
        target.write_text(_csv_text(rows), encoding="utf-8")
        written.append(target)
    return written


def render(figures: Figures, knowledge: Knowledge, fmt: str, lang: str) -> str:
    """The report as text (html or json)."""
    if fmt == "json":
        return json.dumps(figures.to_json(), ensure_ascii=False, indent=2)
    if fmt == "html":
        return render_html(figures, knowledge, lang)
    raise ValueError(f"render() makes html or json, not {fmt}")


Writer = Callable[[str], None]
