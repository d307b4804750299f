"""The dashboard page: one self-contained HTML file drawn with plotly.js (inlined from the plotly
package, so viewing it needs no network).

The page holds its data as JSON (`<script id="dashboard-data">`: every chart's series, threshold
lines and alarm transitions, plus its plotly figure). Once plotly has drawn every chart, the page
writes what plotly rendered (each trace's name and the points in plotly's computed data) into
`<pre id="rendered">`, so a headless browser's DOM tells whether every chart drew its series.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

from portfolio.dashboard_data import AlarmView, Chart, TimeRange

STATE_COLOURS = {"ALARM": "#d62728", "OK": "#2ca02c", "INSUFFICIENT_DATA": "#7f7f7f"}


@dataclass(frozen=True)
class PageInfo:
    title: str
    region: str
    when: TimeRange
    generated: datetime


def plotly_js() -> str:
    """plotly.js as the plotly Python package ships it for offline HTML."""
    script = (resources.files("plotly") / "package_data" / "plotly.min.js").read_text("utf-8")
    return script.replace("</script", "<\\/script")  # inlined: must not end its element


def render_page(info: PageInfo, charts: list[Chart], alarms: list[AlarmView]) -> str:
    data = {
        "title": info.title,
        "region": info.region,
        "start": _iso(info.when.start),
        "end": _iso(info.when.end),
        "generated": _iso(info.generated),
        "charts": [_chart_data(number, chart, info.when) for number, chart in enumerate(charts)],
        "alarms": [_alarm_data(alarm) for alarm in alarms],
    }
    # "</" inside the JSON would end the script element early.
    payload = json.dumps(data).replace("</", "<\\/")
    return _TEMPLATE.format(
        title=html.escape(info.title),
        subtitle=html.escape(
            f"{info.region} · {_iso(info.when.start)} to {_iso(info.when.end)} (UTC) · "
            f"generated {_iso(info.generated)}"
        ),
        alarm_rows="\n".join(_alarm_row(alarm) for alarm in alarms),
        chart_divs="\n".join(_chart_div(number, chart) for number, chart in enumerate(charts)),
        plotly=plotly_js(),
        data=payload,
        script=_SCRIPT,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _chart_data(number: int, chart: Chart, when: TimeRange) -> dict[str, Any]:
    return {
        "id": f"chart-{number}",
        "title": chart.widget.title,
        "kind": chart.widget.kind,
        "series": [
            {"label": s.label, "points": len(s.values), "nonzero": sum(1 for v in s.values if v)}
            for s in chart.series
        ],
        "thresholds": [{"label": label, "value": value} for label, value in chart.thresholds],
        "alarm": None if chart.alarm is None else _alarm_data(chart.alarm),
        "figure": figure(chart, when),
    }


def _alarm_data(alarm: AlarmView) -> dict[str, Any]:
    return {
        "name": alarm.name,
        "state": alarm.state,
        "reason": alarm.reason,
        "transitions": [
            {"at": _iso(t.timestamp), "from": t.old_state, "to": t.new_state, "summary": t.summary}
            for t in alarm.transitions
        ],
    }


def figure(chart: Chart, when: TimeRange) -> dict[str, Any]:
    """The plotly figure of one chart: its series, dashed threshold lines, alarm transitions."""
    start, end = _iso(when.start), _iso(when.end)
    traces: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": series.label,
            "x": [_iso(moment) for moment in series.timestamps],
            "y": series.values,
        }
        for series in chart.series
    ]
    traces.extend(_threshold_trace(label, value, start, end) for label, value in chart.thresholds)
    shapes: list[dict[str, Any]] = []
    if chart.alarm is not None:
        traces.append(_transition_trace(chart.alarm))
        shapes = _state_bands(chart.alarm, end)
    layout = _layout(start, end, shapes)
    if not any(series.values for series in chart.series):
        layout["annotations"] = [_NO_DATA]
    return {"data": traces, "layout": layout}


# Said on the chart, so an empty chart is not mistaken for one that failed to draw.
_NO_DATA = {
    "text": "no data in this time range",
    "xref": "paper",
    "yref": "paper",
    "x": 0.5,
    "y": 0.5,
    "showarrow": False,
    "font": {"color": "#888"},
}


def _threshold_trace(label: str, value: float, start: str, end: str) -> dict[str, Any]:
    return {
        "type": "scatter",
        "mode": "lines",
        "name": f"{label} ({value:g})",
        "x": [start, end],
        "y": [value, value],
        "line": {"dash": "dash", "width": 1.5},
    }


def _transition_trace(alarm: AlarmView) -> dict[str, Any]:
    """A marker at each state change, on a hidden 0..1 axis so it sits above the data."""
    return {
        "type": "scatter",
        "mode": "markers+text",
        "name": "alarm state changes",
        "x": [_iso(t.timestamp) for t in alarm.transitions],
        "y": [1.0] * len(alarm.transitions),
        "yaxis": "y2",
        "text": [f"→ {t.new_state}" for t in alarm.transitions],
        "textposition": "bottom center",
        "hovertext": [t.summary for t in alarm.transitions],
        "marker": {
            "symbol": "diamond",
            "size": 11,
            "color": [STATE_COLOURS.get(t.new_state, "#000") for t in alarm.transitions],
        },
    }


def _state_bands(alarm: AlarmView, end: str) -> list[dict[str, Any]]:
    """A red band over every time the alarm was in ALARM."""
    bands = []
    moments = [*alarm.transitions]
    for number, transition in enumerate(moments):
        if transition.new_state != "ALARM":
            continue
        until = _iso(moments[number + 1].timestamp) if number + 1 < len(moments) else end
        bands.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": _iso(transition.timestamp),
                "x1": until,
                "y0": 0,
                "y1": 1,
                "fillcolor": STATE_COLOURS["ALARM"],
                "opacity": 0.15,
                "line": {"width": 0},
            }
        )
    return bands


def _layout(start: str, end: str, shapes: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "height": 320,
        "margin": {"l": 50, "r": 20, "t": 10, "b": 40},
        "xaxis": {"type": "date", "range": [start, end]},
        "yaxis": {"rangemode": "tozero"},
        "yaxis2": {"overlaying": "y", "range": [0, 1.1], "visible": False},
        "legend": {"orientation": "h"},
        "shapes": shapes,
    }


def _alarm_row(alarm: AlarmView) -> str:
    changes = "<br>".join(
        html.escape(f"{_iso(t.timestamp.replace(microsecond=0))}  {t.old_state} → {t.new_state}")
        for t in alarm.transitions
    )
    return (
        f'<tr><td>{html.escape(alarm.name)}</td><td class="state {html.escape(alarm.state)}">'
        f"{html.escape(alarm.state)}</td><td>{html.escape(alarm.reason)}</td>"
        f"<td>{changes or 'no change in this range'}</td></tr>"
    )


def _chart_div(number: int, chart: Chart) -> str:
    state = ""
    if chart.alarm is not None:
        state = f' <span class="state {html.escape(chart.alarm.state)}">{chart.alarm.state}</span>'
    return (
        f'<section class="chart"><h2>{html.escape(chart.widget.title)}{state}</h2>'
        f'<div id="chart-{number}" class="plot"></div></section>'
    )


_SCRIPT = """
(function () {
  const data = JSON.parse(document.getElementById("dashboard-data").textContent);
  const drawn = data.charts.map(function (chart) {
    const div = document.getElementById(chart.id);
    return Plotly.newPlot(div, chart.figure.data, chart.figure.layout,
                          {displaylogo: false, responsive: true});
  });
  Promise.all(drawn).then(function (divs) {
    // What plotly itself computed for each trace: its name and its points with a number.
    const rendered = divs.map(function (div) {
      return {
        id: div.id,
        traces: div._fullData.map(function (trace, i) {
          const points = (div.calcdata[i] || []).filter(function (p) {
            return typeof p.y === "number" && isFinite(p.y);
          });
          return {
            name: trace.name,
            points: points.length,
            nonzero: points.filter(function (p) { return p.y !== 0; }).length
          };
        }),
        svgTraces: div.querySelectorAll("g.trace").length
      };
    });
    document.getElementById("rendered").textContent = JSON.stringify(rendered);
  }, function (error) {
    document.getElementById("rendered").textContent = JSON.stringify({error: String(error)});
  });
})();
"""

_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }}
h1 {{ margin-bottom: 0.1em; }}
.sub {{ color: #666; margin-top: 0; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ddd; padding: 0.3em 0.6em; vertical-align: top; text-align: left; }}
.state {{ font-weight: bold; padding: 0 0.4em; border-radius: 3px; color: white; }}
.state.ALARM {{ background: #d62728; }}
.state.OK {{ background: #2ca02c; }}
.state.INSUFFICIENT_DATA {{ background: #7f7f7f; }}
.charts {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr));
          gap: 1em; }}
.chart h2 {{ font-size: 1em; margin: 0.5em 0; }}
#rendered {{ display: none; }}
</style>
<script>{plotly}</script>
</head>
<body>
<h1>{title}</h1>
<p class="sub">{subtitle}</p>
<h2>Alarms</h2>
<table>
<tr><th>Alarm</th><th>State</th><th>Reason</th><th>State changes</th></tr>
{alarm_rows}
</table>
<div class="charts">
{chart_divs}
</div>
<pre id="rendered"></pre>
<script type="application/json" id="dashboard-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""
